"""Projects: the task type — input/output spec, interface, instructions (Toloka's shape).

The output spec must hold one categorical field (``string`` with ``allowed_values``, or
``array_string`` with ``allowed_values`` for multi-label, or ``boolean``): crowdline's built-in
interface is text or image classification with one button per label. As on Toloka, a field
without ``allowed_values`` takes its labels from the view (``crowdline.crowd.views``).
``view_spec`` may say
``{"type": "classification", "interface": "text" | "image", "labels": [{value, title, key}]}``;
a Toloka ``classic`` / ``tb`` view is kept but rendered by the built-in interface.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from markdown_it import MarkdownIt

from crowdline.crowd import tables as t
from crowdline.crowd.configs import check_project
from crowdline.crowd.models import Project, now, utc
from crowdline.crowd.transactions import key, missing
from crowdline.crowd.views import view_labels
from crowdline.errors import Conflict, InvalidInput, ProjectNotFound

READ_ONLY = {"id", "created", "status", "owner"}
STATUSES = ("ACTIVE", "ARCHIVED")


def check_labels(task_spec: dict[str, Any]) -> None:
    """The (first) output field needs labels: its allowed_values or the view's choices."""
    name, field = next(iter(task_spec["output_spec"].items()))
    if field["type"] in ("string", "array_string", "integer") and not label_values(task_spec):
        raise InvalidInput(f"output field {name!r} has no allowed_values and the view offers "
                           "no choices for it",
                           hint="list the labels annotators may choose, e.g. "
                                '"allowed_values": ["clickbait", "notclickbait"], or bind a '
                                "field.radio-group / button-radio-group / select / "
                                f"checkbox-group with options to data.output {name!r}")


def label_values(task_spec: dict[str, Any]) -> list[Any]:
    """The labels of the (first) output field: its ``allowed_values``, else the choices its
    view offers (Toloka's rule); ``[True, False]`` for a boolean field."""
    name, field = next(iter(task_spec["output_spec"].items()))
    if field.get("type") == "boolean":
        return [True, False]
    if field.get("allowed_values"):
        return list(field["allowed_values"])
    return [value for value, _ in view_labels(task_spec, name)]


def labels_of(task_spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(value, title, keyboard key) per label: titles from view_spec.labels or the view's
    options; values from the allowed values or the view."""
    name = next(iter(task_spec["output_spec"]))
    values = label_values(task_spec)
    titles = {str(value): {"title": title} for value, title in view_labels(task_spec, name)}
    titles.update({str(lab["value"]): lab for lab in (task_spec.get("view_spec") or {}).get(
        "labels") or []})
    result = []
    for position, value in enumerate(values):
        spec = titles.get(str(value), {})
        default_key = str(position + 1) if position < 9 else ""
        result.append((str(value), str(spec.get("title", value)),
                       str(spec.get("key", default_key))))
    return result


@functools.cache
def _markdown() -> MarkdownIt:
    # Instructions are the requester's own (trusted) markup; Toloka's are often HTML.
    return MarkdownIt("commonmark", {"html": True})


def instructions_html(project: Project) -> str:
    return _markdown().render(project.public_instructions or "")


def _normalise(config: dict[str, Any]) -> dict[str, Any]:
    """Validate a Toloka project config (typed by ``crowd.configs``); drop read-only fields."""
    check_project(config)
    check_labels(config["task_spec"])
    return {k: v for k, v in config.items() if k not in READ_ONLY}


def _project(row: sa.Row[Any]) -> Project:
    config = dict(row.config)
    return Project(
        id=str(row.id), public_name=row.public_name,
        public_description=config.pop("public_description", "") or "",
        public_instructions=config.pop("public_instructions", "") or "",
        private_comment=config.pop("private_comment", "") or "",
        task_spec=config.pop("task_spec"), status=row.status, created=utc(row.created),
        extra={k: v for k, v in config.items() if k not in ("public_name",
                                                              "assignments_issuing_type")})


def create_project(conn: sa.Connection, config: dict[str, Any]) -> Project:
    config = _normalise(config)
    new_id = conn.execute(t.projects.insert().values(
        public_name=config["public_name"], status="ACTIVE", config=config,
        created=now())).inserted_primary_key[0]
    return get_project(conn, str(new_id))


def get_project(conn: sa.Connection, project_id: str) -> Project:
    row = conn.execute(sa.select(t.projects).where(
        t.projects.c.id == key(project_id, ProjectNotFound, "project"))).first()
    if row is None:
        raise missing(ProjectNotFound, "project", project_id)
    return _project(row)


def list_projects(conn: sa.Connection, status: str | None = None) -> list[Project]:
    query = sa.select(t.projects).order_by(t.projects.c.id)
    if status is not None:
        query = query.where(t.projects.c.status == status)
    return [_project(r) for r in conn.execute(query)]


def update_project(conn: sa.Connection, project_id: str, config: dict[str, Any]) -> Project:
    """Replace the project's config (Toloka's PUT); the id, status and creation time stay."""
    project = get_project(conn, project_id)
    config = _normalise(config)
    conn.execute(t.projects.update().where(t.projects.c.id == int(project.id)).values(
        public_name=config["public_name"], config=config))
    return get_project(conn, project_id)


def set_project_status(conn: sa.Connection, project_id: str, status: str) -> Project:
    if status not in STATUSES:
        raise InvalidInput(f"project status {status!r} is not one of {STATUSES}")
    project = get_project(conn, project_id)
    conn.execute(t.projects.update().where(t.projects.c.id == int(project.id)).values(
        status=status))
    return get_project(conn, project_id)


def archive_project(conn: sa.Connection, project_id: str) -> Project:
    """Archive a project whose pools are all closed (Toloka refuses while one is open)."""
    project = get_project(conn, project_id)
    open_pool = conn.execute(sa.select(t.pools.c.id).where(
        t.pools.c.project_id == int(project.id), t.pools.c.status == "OPEN").limit(1)).first()
    if open_pool is not None:
        raise Conflict(f"project {project.id} has an open pool ({open_pool.id})",
                       hint="close its pools first")
    return set_project_status(conn, project_id, "ARCHIVED")
