"""Pipeline specs: crowdline's YAML/JSON shape and Pachyderm's JSON shape, parsed once (pure).

    pipeline: {name: tasks}
    input: {pfs: {repo: headlines, branch: master, glob: "/*.csv"}}   # or cross/union/join/group
    transform: {python: "pkg.mod:fn"}          # or {cmd: [...], stdin: [...], env: {...}}
    parallelism: 4                             # Pachyderm: parallelism_spec.constant
    datum_tries: 3
    datum_timeout: 10m
    on_datum_failure: skip_datum               # default fail_job (Pachyderm's behaviour)
    reprocess_spec: every_job                  # default until_success
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crowdline.errors import BadSpec, Unsupported
from crowdline.pipelines.globs import compile_glob, normalise_glob

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
# Fields of Pachyderm's spec that only make sense on Kubernetes: accepted and ignored.
IGNORED_FIELDS = {
    "resource_requests", "resource_limits", "sidecar_resource_limits", "sidecar_resource_requests",
    "scheduling_spec", "pod_spec", "pod_patch", "tolerations", "autoscaling", "standby",
    "enable_stats", "metadata", "maximum_expected_uptime", "datum_set_spec", "chunk_spec",
    "cache_size", "max_queue_size", "output_branch", "spec_commit", "tf_job", "sidecar",
    "salt",
}
KNOWN_FIELDS = IGNORED_FIELDS | {
    "pipeline", "description", "input", "transform", "parallelism", "parallelism_spec",
    "datum_tries", "datum_timeout", "job_timeout", "update", "reprocess", "reprocess_spec",
    "on_datum_failure",
}
REPROCESS_SPECS = ("until_success", "every_job")
ON_DATUM_FAILURE = ("fail_job", "skip_datum")


@dataclass(frozen=True)
class PfsInput:
    repo: str
    glob: str
    branch: str = "master"
    name: str = ""
    join_on: str = ""
    group_by: str = ""
    outer_join: bool = False

    @property
    def input_name(self) -> str:
        return self.name or self.repo


@dataclass(frozen=True)
class CombinedInput:
    kind: str  # "cross" | "union" | "join" | "group"
    children: tuple[InputNode, ...]


InputNode = PfsInput | CombinedInput


@dataclass(frozen=True)
class SecretRef:
    name: str
    key: str
    env_var: str


@dataclass(frozen=True)
class Transform:
    python: str = ""
    cmd: tuple[str, ...] = ()
    stdin: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    secrets: tuple[SecretRef, ...] = ()
    image: str = ""
    accept_return_code: tuple[int, ...] = ()
    # run when a datum fails every try; if it succeeds the datum is RECOVERED
    err_cmd: tuple[str, ...] = ()
    err_stdin: tuple[str, ...] = ()
    on_error: str = ""  # "pkg.module:function", called fn(inputs, output, error)


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    input: InputNode
    transform: Transform
    description: str = ""
    parallelism: int = 0  # 0 = the executor's default
    datum_tries: int = 3
    datum_timeout: float | None = None  # seconds
    reprocess_spec: str = "until_success"  # or "every_job": never skip a datum
    on_datum_failure: str = "fail_job"  # or "skip_datum": commit the rest, report the failed
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def pfs_inputs(self) -> list[PfsInput]:
        return list(iter_pfs(self.input))

    def input_branches(self) -> list[tuple[str, str]]:
        """Distinct (repo, branch) pairs whose new commits trigger this pipeline."""
        seen: dict[tuple[str, str], None] = {}
        for pfs in self.pfs_inputs():
            seen[(pfs.repo, pfs.branch)] = None
        return list(seen)


def iter_pfs(node: InputNode):  # type: ignore[no-untyped-def]
    if isinstance(node, PfsInput):
        yield node
    else:
        for child in node.children:
            yield from iter_pfs(child)


def load_spec_document(spec: dict[str, Any] | str | Path) -> dict[str, Any]:
    """A dict from a dict, a YAML/JSON file path, or YAML/JSON text."""
    if isinstance(spec, dict):
        return dict(spec)
    text: str
    if isinstance(spec, Path) or (isinstance(spec, str) and "\n" not in spec
                                  and spec.strip().endswith((".yaml", ".yml", ".json"))):
        path = Path(spec)
        if not path.exists():
            raise BadSpec(f"pipeline spec file {path} does not exist", hint="check the path")
        text = path.read_text()
    else:
        text = str(spec)
    try:
        loaded = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise BadSpec(f"pipeline spec is neither valid JSON nor YAML: {exc}",
                      hint="fix the syntax") from exc
    if not isinstance(loaded, dict):
        raise BadSpec("a pipeline spec must be a mapping with `pipeline`, `input` and `transform`",
                      hint="see README section Pipelines")
    return loaded


def parse_spec(spec: dict[str, Any] | str | Path) -> PipelineSpec:
    """Parse a crowdline or Pachyderm pipeline spec; raise BadSpec naming the bad field."""
    raw = load_spec_document(spec)
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise BadSpec(f"unknown pipeline spec field(s): {', '.join(unknown)}",
                      hint="remove them or check the spelling")
    pipeline = raw.get("pipeline")
    name = pipeline.get("name") if isinstance(pipeline, dict) else pipeline
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise BadSpec(f"pipeline.name {name!r} is missing or not a valid name",
                      hint="use letters, digits, '_', '-', '.' (e.g. pipeline: {name: tasks})")
    if "input" not in raw:
        raise BadSpec(f"pipeline {name!r} has no `input`",
                      hint="e.g. input: {pfs: {repo: r, glob: /*}}")
    node = _parse_input(raw["input"], "input")
    _check_names(node)
    return PipelineSpec(
        name=name,
        input=node,
        transform=_parse_transform(raw.get("transform"), name),
        description=str(raw.get("description") or ""),
        parallelism=_parse_parallelism(raw),
        datum_tries=_positive_int(raw.get("datum_tries", 3), "datum_tries"),
        datum_timeout=parse_duration(raw["datum_timeout"], "datum_timeout")
        if raw.get("datum_timeout") not in (None, "") else None,
        reprocess_spec=_choice(raw.get("reprocess_spec") or "until_success", REPROCESS_SPECS,
                               "reprocess_spec"),
        on_datum_failure=_choice(raw.get("on_datum_failure") or "fail_job", ON_DATUM_FAILURE,
                                 "on_datum_failure"),
        raw=raw,
    )


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise BadSpec(f"{where} {value!r} is not one of {', '.join(allowed)}",
                      hint=f"e.g. {where}: {allowed[-1]}")
    return str(value)


def _parse_input(value: Any, where: str) -> InputNode:
    if not isinstance(value, dict) or len(value) != 1:
        raise BadSpec(f"{where} must have exactly one of pfs, cross, union, join, group",
                      hint="e.g. input: {pfs: {repo: r, glob: /*}}")
    kind, body = next(iter(value.items()))
    if kind == "pfs":
        return _parse_pfs(body, f"{where}.pfs")
    if kind in ("cross", "union", "join", "group"):
        if not isinstance(body, list) or not body:
            raise BadSpec(f"{where}.{kind} must be a non-empty list of inputs", hint="see docs")
        children = tuple(_parse_input(child, f"{where}.{kind}[{i}]")
                         for i, child in enumerate(body))
        if kind in ("join", "group"):
            for i, child in enumerate(children):
                if not isinstance(child, PfsInput):
                    raise BadSpec(f"{where}.{kind}[{i}] must be a pfs input", hint="nest pfs only")
                if kind == "join" and not child.join_on:
                    raise BadSpec(f"{where}.join[{i}] has no join_on",
                                  hint='add join_on: "$1" and a ( ) group in its glob')
                if kind == "group" and not child.group_by:
                    raise BadSpec(f"{where}.group[{i}] has no group_by", hint='add group_by: "$1"')
        return CombinedInput(kind, children)
    if kind == "cron":
        raise Unsupported(f"{where}.cron inputs are not supported",
                          hint="commit ticks from a script")
    raise BadSpec(f"{where} has unknown input type {kind!r}",
                  hint="use pfs, cross, union, join or group")


def _parse_pfs(body: Any, where: str) -> PfsInput:
    if not isinstance(body, dict):
        raise BadSpec(f"{where} must be a mapping", hint="e.g. {repo: r, glob: /*}")
    allowed = {"repo", "branch", "glob", "name", "join_on", "group_by", "outer_join", "lazy",
               "empty_files", "project", "commit", "s3", "trigger"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadSpec(f"{where} has unknown field(s): {', '.join(unknown)}", hint="remove them")
    repo = body.get("repo")
    if not isinstance(repo, str) or not NAME_RE.match(repo):
        raise BadSpec(f"{where}.repo {repo!r} is missing or not a repo name", hint="name a repo")
    glob = body.get("glob")
    if not isinstance(glob, str) or not glob.strip():
        raise BadSpec(f"{where}.glob is missing", hint='e.g. glob: "/*"')
    compile_glob(glob)
    name = body.get("name") or ""
    if name and not NAME_RE.match(str(name)):
        raise BadSpec(f"{where}.name {name!r} is not a valid folder name", hint="letters, digits")
    return PfsInput(repo=repo, glob=normalise_glob(glob),
                    branch=str(body.get("branch") or "master"),
                    name=str(name), join_on=str(body.get("join_on") or ""),
                    group_by=str(body.get("group_by") or ""),
                    outer_join=bool(body.get("outer_join", False)))


def _check_names(node: InputNode) -> None:
    """Cross and join children need distinct names (they are separate folders)."""
    if isinstance(node, PfsInput):
        return
    for child in node.children:
        _check_names(child)
    if node.kind in ("cross", "join"):
        names = [p.input_name for child in node.children for p in iter_pfs(child)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise BadSpec(f"{node.kind} inputs share the name(s) {', '.join(duplicates)}",
                          hint="give each input of a cross/join its own `name`")


def _parse_transform(value: Any, pipeline: str) -> Transform:
    if not isinstance(value, dict):
        raise BadSpec(f"pipeline {pipeline!r} has no `transform` mapping",
                      hint='use transform: {python: "pkg.module:function"} or {cmd: [...]}')
    python = value.get("python") or ""
    cmd = value.get("cmd") or ()
    if isinstance(cmd, str):
        cmd = (cmd,)
    if bool(python) == bool(cmd):
        raise BadSpec("transform needs exactly one of `python` or `cmd`",
                      hint='e.g. python: "crowdline_examples.clickbait.route:route_batch"')
    if python and (not isinstance(python, str) or ":" not in python):
        raise BadSpec(f"transform.python {python!r} must look like 'package.module:function'",
                      hint="name the module and the function, separated by ':'")
    env = value.get("env") or {}
    if not isinstance(env, dict):
        raise BadSpec("transform.env must be a mapping of names to values", hint="KEY: value")
    secrets = []
    for i, item in enumerate(value.get("secrets") or ()):
        if not isinstance(item, dict) or not item.get("name") or not item.get("key"):
            raise BadSpec(f"transform.secrets[{i}] needs `name` and `key`", hint="and env_var")
        if item.get("mount_path"):
            raise Unsupported(f"transform.secrets[{i}].mount_path is not supported",
                              hint="use env_var instead")
        secrets.append(SecretRef(str(item["name"]), str(item["key"]),
                                 str(item.get("env_var") or item["key"])))
    stdin = value.get("stdin") or ()
    if isinstance(stdin, str):
        stdin = (stdin,)
    err_cmd = value.get("err_cmd") or ()
    err_stdin = value.get("err_stdin") or ()
    err_cmd, err_stdin = ((v,) if isinstance(v, str) else v for v in (err_cmd, err_stdin))
    on_error = value.get("on_error") or ""
    if on_error and (not isinstance(on_error, str) or ":" not in on_error):
        raise BadSpec(f"transform.on_error {on_error!r} must look like 'package.module:function'",
                      hint="a function called fn(inputs, output, error) when a datum fails")
    if on_error and err_cmd:
        raise BadSpec("transform has both `err_cmd` and `on_error`", hint="keep one of them")
    if err_stdin and not err_cmd:
        raise BadSpec("transform.err_stdin needs transform.err_cmd", hint="e.g. err_cmd: [sh]")
    return Transform(
        python=str(python), cmd=tuple(str(c) for c in cmd), stdin=tuple(str(s) for s in stdin),
        env={str(k): str(v) for k, v in env.items()}, secrets=tuple(secrets),
        image=str(value.get("image") or ""),
        accept_return_code=tuple(int(c) for c in value.get("accept_return_code") or ()),
        err_cmd=tuple(str(c) for c in err_cmd), err_stdin=tuple(str(s) for s in err_stdin),
        on_error=str(on_error),
    )


def _parse_parallelism(raw: dict[str, Any]) -> int:
    if "parallelism" in raw:
        return _positive_int(raw["parallelism"], "parallelism", allow_zero=True)
    spec = raw.get("parallelism_spec")
    if isinstance(spec, dict) and "constant" in spec:
        return _positive_int(spec["constant"], "parallelism_spec.constant", allow_zero=True)
    return 0


def _positive_int(value: Any, where: str, *, allow_zero: bool = False) -> int:
    try:
        number = int(value)  # Pachyderm writes some numbers as strings ("1")
    except (TypeError, ValueError):
        number = -1
    if number < (0 if allow_zero else 1):
        raise BadSpec(f"{where} must be a {'non-negative' if allow_zero else 'positive'} integer, "
                      f"not {value!r}", hint=f"e.g. {where}: 3")
    return number


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any, where: str = "duration") -> float:
    """Seconds from ``90``, ``"10m"``, ``"1h30m"`` or ``"45s"`` (Go-style, as Pachyderm writes)."""
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    text = str(value).strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise BadSpec(f"{where} {value!r} is not a duration", hint='e.g. "30s", "10m", "1h30m"')
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def spec_to_document(spec: PipelineSpec) -> dict[str, Any]:
    """The spec as given (kept for inspect and for the workers)."""
    return dict(spec.raw)
