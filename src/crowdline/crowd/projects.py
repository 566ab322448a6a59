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
from crowdline.crowd.models import Project, now, utc
from crowdline.crowd.transactions import key, missing
from crowdline.crowd.views import view_labels
from crowdline.errors import InvalidInput, ProjectNotFound, Unsupported

READ_ONLY = {"id", "created", "status", "owner"}
PROJECT_FIELDS = {"public_name", "public_description", "public_instructions", "private_comment",
                  "task_spec", "assignments_issuing_type", "metadata",
                  "assignments_automerge_enabled", "max_active_assignments_count"}
INPUT_TYPES = {"string", "url", "integer", "float", "boolean", "json"}
OUTPUT_TYPES = {"string", "array_string", "boolean", "integer"}
STATUSES = ("ACTIVE", "ARCHIVED")


def _unsupported(path: str, hint: str) -> Unsupported:
    return Unsupported(f"field {path!r} is not supported by crowdline", hint=hint)


def check_fields(config: dict[str, Any], known: set[str], where: str) -> None:
    """Raise Unsupported for the first field crowdline does not implement, by name."""
    for name in config:
        if name not in known and name not in READ_ONLY:
            raise _unsupported(f"{where}.{name}" if where else name,
                               "remove it from the config; crowdline would otherwise ignore it")


def _check_spec(spec: Any, where: str, types: set[str]) -> dict[str, Any]:
    if not isinstance(spec, dict) or not spec:
        raise InvalidInput(f"{where} must be a non-empty object of fields",
                           hint='e.g. {"headline": {"type": "string"}}')
    for name, field in spec.items():
        if not isinstance(field, dict) or "type" not in field:
            raise InvalidInput(f"{where}.{name} must be an object with a 'type'",
                               hint=f"types: {', '.join(sorted(types))}")
        if field["type"] not in types:
            raise _unsupported(f"{where}.{name}.type={field['type']}",
                               f"use one of {', '.join(sorted(types))}")
    return spec


def check_task_spec(task_spec: Any) -> dict[str, Any]:
    if not isinstance(task_spec, dict):
        raise InvalidInput("project task_spec is missing",
                           hint="give task_spec with input_spec and output_spec")
    check_fields(task_spec, {"input_spec", "output_spec", "view_spec"}, "task_spec")
    _check_spec(task_spec.get("input_spec"), "task_spec.input_spec", INPUT_TYPES)
    output_spec = _check_spec(task_spec.get("output_spec"), "task_spec.output_spec",
                              OUTPUT_TYPES)
    view = task_spec.get("view_spec") or {}
    if not isinstance(view, dict):
        raise InvalidInput("task_spec.view_spec must be an object")
    name, field = next(iter(output_spec.items()))
    if field["type"] in ("string", "array_string", "integer") and not label_values(task_spec):
        raise InvalidInput(f"output field {name!r} has no allowed_values and the view offers "
                           "no choices for it",
                           hint="list the labels annotators may choose, e.g. "
                                '"allowed_values": ["clickbait", "notclickbait"], or bind a '
                                "field.radio-group / button-radio-group / select / "
                                f"checkbox-group with options to data.output {name!r}")
    interface = view.get("interface", "text")
    if interface not in ("text", "image"):
        raise Unsupported(f"view_spec.interface {interface!r} is not supported",
                          hint="use 'text' or 'image' classification")
    for label in view.get("labels") or []:
        if not isinstance(label, dict) or "value" not in label:
            raise InvalidInput("view_spec.labels items need a 'value'",
                               hint='e.g. {"value": "clickbait", "title": "Clickbait", '
                                    '"key": "1"}')
    return task_spec


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
    if not isinstance(config, dict):
        raise InvalidInput("a project config must be a JSON object")
    check_fields(config, PROJECT_FIELDS, "")
    if config.get("assignments_issuing_type", "AUTOMATED") != "AUTOMATED":
        raise _unsupported(f"assignments_issuing_type={config['assignments_issuing_type']}",
                           "crowdline issues tasks AUTOMATED only")
    name = str(config.get("public_name") or "").strip()
    if not name:
        raise InvalidInput("project public_name is missing",
                           hint="give the name annotators see, e.g. 'Is this clickbait?'")
    check_task_spec(config.get("task_spec"))
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
