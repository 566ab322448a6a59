"""A crowd back-end that sends pools to Toloka (or any Toloka-compatible server) via toloka-kit.

It does for a pipeline what the built-in crowd does: create the project and the pool, upload
tasks and honeypots, wait without holding a worker, fetch the answers as a task / worker /
label DataFrame, and report the bans. Every step is idempotent (project by public name, pool
by private name, tasks once), so a retried or resumed datum never duplicates work.

    from crowdline.crowd.backends import label_batch
    backend = TolokaBackend.from_config(workspace)          # URL + token: params, secrets, env
    result = label_batch(backend, project=project_json, pool=pool_json,
                         rows=[(row_id, {"headline": ...}), ...], honeypots=[...])
    # first run: raises WaitFor(pool_complete); after the wake: result.answers, result.bans

It implements ``crowdline.crowd.backends.LabelingBackend``: ensure_project, ensure_pool,
upload_tasks, open_pool, is_pool_complete, answers_frame, bans, close_pool.

Configuration, first found wins: ``toloka_url`` / ``toloka_token`` in the params; the
pipelines' secret named ``toloka`` (or params["toloka_secret"]) with keys ``url`` and ``token``
(``crowdline secret create toloka url=https://... token=...``); the ``TOLOKA_URL`` /
``TOLOKA_TOKEN`` environment variables. Keep the token out of WaitFor params: they are stored
in the job records; the wake condition reads the secret store itself.
"""

from __future__ import annotations

import datetime as dt
import os
import types
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from crowdline.errors import BackendUnavailable, ConfigError, InvalidInput

URL_ENV, TOKEN_ENV = "TOLOKA_URL", "TOLOKA_TOKEN"
DEFAULT_SECRET = "toloka"  # a pipelines secret with keys url and token
ANSWER_STATUSES = ("SUBMITTED", "ACCEPTED")


def import_toloka() -> Any:
    """``toloka.client``; toloka-kit 1.2.3 imports pkg_resources, which warns on import."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import toloka.client as toloka_client
    except ImportError as exc:
        raise ConfigError(f"the Toloka back-end needs toloka-kit: {exc}",
                          hint="pip install 'crowdline[toloka]'") from exc
    return toloka_client


def _value(member: Any) -> str:
    """toloka-kit's enum members as their plain string value."""
    return str(getattr(member, "value", member))


def _secret(workspace: Any, secret: str, key: str) -> str | None:
    """``key`` of the pipelines' named secret ``secret`` (``crowdline secret create toloka
    url=... token=...``), when the workspace has pipelines and that secret."""
    store = getattr(getattr(workspace, "pipelines", None), "secrets", None) \
        if workspace is not None else None
    if store is None:
        return None
    from crowdline.pipelines.spec import SecretRef

    try:
        values = store.environment([SecretRef(name=secret, key=key, env_var=key)])
    except LookupError:
        return None
    return values.get(key) or None


class TolokaBackend:
    """Pipelines' crowd back-end over a Toloka-compatible API."""

    name = "toloka"

    def __init__(self, url: str, token: str, *, client: Any = None,
                 secret: str = DEFAULT_SECRET) -> None:
        if not url or not token:
            raise ConfigError("the Toloka back-end needs a URL and a token",
                              hint=f"set {URL_ENV} and {TOKEN_ENV}, or toloka_url / "
                                   "toloka_token in the pipelines' secrets")
        self.url = url
        self.secret = secret
        toloka = import_toloka()
        self._toloka = toloka
        # Few retries: a pipeline datum retries on its own, and a dead URL should fail fast.
        self.client = client or toloka.TolokaClient(token, url=url, retries=2, timeout=30.0)

    @classmethod
    def from_config(cls, workspace: Any = None,
                    params: Mapping[str, Any] | None = None) -> TolokaBackend:
        params = params or {}
        secret = str(params.get("toloka_secret") or DEFAULT_SECRET)
        url = (params.get("toloka_url") or _secret(workspace, secret, "url")
               or os.environ.get(URL_ENV))
        token = (params.get("toloka_token") or _secret(workspace, secret, "token")
                 or os.environ.get(TOKEN_ENV))
        return cls(str(url or ""), str(token or ""), secret=secret)

    def wait_params(self) -> dict[str, Any]:
        """Enough for ``pool_complete`` to find this Toloka again: never the token."""
        return {"backend": self.name, "toloka_secret": self.secret}

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call toloka-kit; its API errors become crowdline errors naming the step."""
        errors = self._toloka.exceptions
        try:
            result = fn(*args, **kwargs)
            # get_* calls return generators that page lazily: read them here, inside the try.
            return list(result) if isinstance(result, types.GeneratorType) else result
        except errors.ValidationApiError as exc:
            raise InvalidInput(f"Toloka refused {what}: {exc.message}",
                               payload=exc.payload) from exc
        except errors.ApiError as exc:
            raise BackendUnavailable(f"Toloka at {self.url} failed to {what}: "
                                     f"{exc.code}: {exc.message}") from exc
        except OSError as exc:
            raise BackendUnavailable(f"cannot reach Toloka at {self.url} to {what}: {exc}",
                                     hint="check the URL and the network") from exc

    # -- project and pool ------------------------------------------------------------------

    def ensure_project(self, config: Mapping[str, Any]) -> str:
        """The id of the active project with this public_name, created from ``config`` once."""
        name = config.get("public_name")
        if not name:
            raise InvalidInput("the project config needs public_name")
        for project in self._call("list projects", self.client.get_projects, status="ACTIVE"):
            if project.public_name == name:
                self._add_missing_inputs(project, config)
                return str(project.id)
        project = self._toloka.Project.structure(dict(config))
        return str(self._call("create the project", self.client.create_project, project).id)

    def _add_missing_inputs(self, project: Any, config: Mapping[str, Any]) -> None:
        """An existing project gets the input fields the config adds (the hidden row id)."""
        wanted = (config.get("task_spec") or {}).get("input_spec") or {}
        have = project.task_spec.input_spec or {}
        if set(wanted) <= set(have):
            return
        data = project.unstructure()
        data["task_spec"]["input_spec"] = {**wanted, **data["task_spec"]["input_spec"]}
        for key in ("id", "status", "created"):
            data.pop(key, None)
        self._call("update the project", self.client.update_project, str(project.id),
                   self._toloka.Project.structure(data))

    def ensure_pool(self, project_id: str, config: Mapping[str, Any]) -> str:
        """The id of the project's pool with this private_name, created from ``config`` once."""
        name = config.get("private_name")
        if not name:
            raise InvalidInput("the pool config needs private_name")
        for pool in self._call("list pools", self.client.get_pools, project_id=project_id):
            if pool.private_name == name and _value(pool.status) != "ARCHIVED":
                return str(pool.id)
        data = {**config, "project_id": project_id}
        data.setdefault("will_expire", (dt.datetime.now(dt.UTC) + dt.timedelta(days=365))
                        .replace(tzinfo=None).isoformat())
        pool = self._toloka.Pool.structure(data)
        return str(self._call("create the pool", self.client.create_pool, pool).id)

    # -- tasks -----------------------------------------------------------------------------

    def upload_tasks(self, pool_id: str, tasks: Sequence[Mapping[str, Any]],
                     honeypots: Sequence[Mapping[str, Any]] = ()) -> int:
        """Upload real tasks (``input_values``) and honeypots (``input_values`` +
        ``known_solutions``) once; returns how many were created now (0 on a rerun)."""
        existing = list(self._call("list tasks", self.client.get_tasks, pool_id=pool_id))
        if existing:
            return 0
        toloka = self._toloka
        batch = []
        for item in [*tasks, *honeypots]:
            known = [toloka.Task.KnownSolution(output_values=dict(s["output_values"]))
                     for s in item.get("known_solutions") or []]
            extra = {k: item[k] for k in ("overlap", "infinite_overlap") if item.get(k)}
            if item.get("baseline_solutions"):
                extra["baseline_solutions"] = [
                    toloka.Task.BaselineSolution(output_values=dict(b["output_values"]),
                                                 confidence_weight=b["confidence_weight"])
                    for b in item["baseline_solutions"]]
            batch.append(toloka.Task(pool_id=pool_id, input_values=dict(item["input_values"]),
                                     known_solutions=known or None, **extra))
        if not batch:
            return 0
        result = self._call("upload tasks", self.client.create_tasks, batch,
                            allow_defaults=True, open_pool=False, skip_invalid_items=False)
        return len(result.items)

    # -- pool state ------------------------------------------------------------------------

    def open_pool(self, pool_id: str) -> None:
        self._call("open the pool", self.client.open_pool, pool_id)

    def close_pool(self, pool_id: str) -> None:
        self._call("close the pool", self.client.close_pool, pool_id)

    def is_pool_complete(self, pool_id: str) -> bool:
        """Every real task has its overlap of finished answers and nothing is in progress
        (or Toloka closed the pool itself because it was done)."""
        pool = self._call("get the pool", self.client.get_pool, pool_id)
        if _value(pool.status) == "CLOSED" and _value(pool.last_close_reason) == "COMPLETED":
            return True
        assignments = list(self._call("list assignments", self.client.get_assignments,
                                      pool_id=pool_id))
        if any(_value(a.status) == "ACTIVE" for a in assignments):
            return False
        done: dict[str, int] = {}
        for assignment in assignments:
            if _value(assignment.status) in ANSWER_STATUSES:
                for task in assignment.tasks or []:
                    done[str(task.id)] = done.get(str(task.id), 0) + 1
        default_overlap = (pool.defaults.default_overlap_for_new_tasks
                           or pool.defaults.default_overlap_for_new_task_suites or 1) \
            if pool.defaults else 1
        real = [t for t in self._call("list tasks", self.client.get_tasks, pool_id=pool_id)
                if not t.known_solutions]
        if not real:
            return False
        return all(done.get(str(t.id), 0) >= (t.overlap or default_overlap) for t in real)

    # -- results ---------------------------------------------------------------------------

    def answers_frame(self, pool_id: str, *, include_golden: bool = False,
                      include_banned: bool = True) -> pd.DataFrame:
        """One row per answer: task, worker, label, assignment, submitted (+ input values as
        ``input:<name>`` columns, and is_golden / golden_label when ``include_golden``)."""
        banned = set() if include_banned else set(self.bans(pool_id)["worker"])
        rows = []
        for assignment in self._call("list assignments", self.client.get_assignments,
                                     pool_id=pool_id, status=list(ANSWER_STATUSES)):
            if str(assignment.user_id) in banned:
                continue
            for task, solution in zip(assignment.tasks or [], assignment.solutions or [],
                                      strict=False):
                golden = bool(task.known_solutions)
                if golden and not include_golden:
                    continue
                values = dict(solution.output_values or {})
                row: dict[str, Any] = {
                    "task": str(task.id), "worker": str(assignment.user_id),
                    "label": next(iter(values.values()), None),
                    "assignment": str(assignment.id), "submitted": assignment.submitted,
                    "row_id": (task.input_values or {}).get("row_id"),
                    **{f"input:{k}": v for k, v in (task.input_values or {}).items()},
                }
                if include_golden:
                    known = task.known_solutions[0].output_values if golden else {}
                    row["is_golden"] = golden
                    row["golden_label"] = next(iter(known.values()), None) if golden else None
                rows.append(row)
        columns = ["task", "worker", "label", "assignment", "submitted"]
        frame = pd.DataFrame(rows)
        return frame if not frame.empty else pd.DataFrame(columns=columns)

    def bans(self, pool_id: str) -> pd.DataFrame:
        """Restrictions that keep a worker out of this pool: worker, scope, reason, until."""
        pool = self._call("get the pool", self.client.get_pool, pool_id)
        rows = []
        for restriction in self._call("list restrictions", self.client.get_user_restrictions):
            scope = _value(restriction.scope)
            applies = (scope == "ALL_PROJECTS"
                       or (scope == "POOL" and str(getattr(restriction, "pool_id", "")) ==
                           str(pool_id))
                       or (scope == "PROJECT" and str(getattr(restriction, "project_id", ""))
                           == str(pool.project_id)))
            if applies:
                rows.append({"worker": str(restriction.user_id), "scope": scope,
                             "reason": restriction.private_comment or "",
                             "until": restriction.will_expire,
                             "restriction_id": str(restriction.id)})
        return pd.DataFrame(rows, columns=["worker", "scope", "reason", "until",
                                           "restriction_id"])


def pool_complete(workspace: Any, params: Mapping[str, Any]) -> bool:
    """Wake condition for a datum waiting on a Toloka pool (``backend`` defaults to toloka)."""
    from crowdline.crowd import backends

    return backends.pool_complete(workspace, {"backend": "toloka", **dict(params)})
