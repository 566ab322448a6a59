"""Moving labels in and out: answers and labels as CSV, JSONL or Parquet, and Label Studio's
JSON export format both ways (tasks with their annotations).

Label Studio's export is a list of tasks, each ``{"id", "data": {...}, "annotations": [{
"completed_by", "result": [{"from_name", "to_name", "type": "choices", "value": {"choices":
[...]}}], "created_at", "lead_time"}]}``. Importing one makes a project (input fields from
``data``, the labels seen in ``choices``), a closed pool, its tasks, one worker per annotator
and their answers as accepted assignments — so crowdline's aggregation, agreement figures and
exports work on work done in Label Studio. Only classification (``choices``) results are read.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.models import iso, now, utc
from crowdline.crowd.pools import get_pool
from crowdline.crowd.projects import get_project
from crowdline.crowd.tasks import output_field
from crowdline.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from crowdline.crowd import Crowd

FILE_FORMATS = ("csv", "jsonl", "parquet")
LS_WORKER_PREFIX = "label-studio annotator "


def frame_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """A data frame as a file of one of FILE_FORMATS."""
    if fmt not in FILE_FORMATS:
        raise InvalidInput(f"export format {fmt!r} is not one of {', '.join(FILE_FORMATS)}",
                           hint="e.g. --format csv")
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:  # dicts and lists: JSON text in every format
            frame[column] = frame[column].map(
                lambda v: json.dumps(v, default=str) if isinstance(v, (dict, list)) else v)
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, date_format="iso").encode()
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def labels_frame(crowd: Crowd, pool_id: str) -> pd.DataFrame:
    """One row per real task with answers: its inputs, the aggregated label (Dawid-Skene),
    confidence and answer count (``Crowd.aggregate_pool``)."""
    labels = crowd.aggregate_pool(pool_id)
    inputs = {task.id: task.input_values for task in crowd.list_tasks(pool_id)}
    labels.insert(1, "input_values", [inputs.get(str(task)) for task in labels["task"]])
    return labels


# -- Label Studio ---------------------------------------------------------------------------


def to_label_studio(conn: sa.Connection, pool_id: str) -> list[dict[str, Any]]:
    """The pool's real tasks with every submitted answer as a Label Studio annotation."""
    pool = get_pool(conn, pool_id)
    project = get_project(conn, pool.project_id)
    field, _ = output_field(project)
    to_name = next(iter(project.task_spec.get("input_spec") or {"text": None}))
    a, c = t.answers.c, t.tasks.c
    tasks: dict[int, dict[str, Any]] = {}
    for row in conn.execute(sa.select(c.id, c.input_values).where(
            c.pool_id == int(pool.id), c.kind == "REAL").order_by(c.id)):
        tasks[row.id] = {"id": row.id, "data": dict(row.input_values), "annotations": [],
                         "meta": {"crowdline_pool": pool.id}}
    names = dict(conn.execute(sa.select(t.workers.c.id, t.workers.c.name)).all())
    for row in conn.execute(sa.select(a.task_id, a.worker_id, a.output_values, a.submitted)
                            .where(a.pool_id == int(pool.id), a.kind == "REAL",
                                   a.submitted.is_not(None)).order_by(a.submitted, a.task_id)):
        if row.task_id not in tasks or not row.output_values:
            continue
        value = row.output_values.get(field)
        choices = value if isinstance(value, list) else [value]
        name = names.get(row.worker_id, "")
        completed_by = (int(name[len(LS_WORKER_PREFIX):]) if name.startswith(LS_WORKER_PREFIX)
                        and name[len(LS_WORKER_PREFIX):].isdigit() else row.worker_id)
        tasks[row.task_id]["annotations"].append({
            "completed_by": completed_by,
            "result": [{"from_name": field, "to_name": to_name, "type": "choices",
                        "value": {"choices": [str(v) for v in choices]}}],
            "created_at": iso(utc(row.submitted)),
            "meta": {"crowdline_worker": str(row.worker_id), "crowdline_worker_name": name},
        })
    return list(tasks.values())


@dataclass
class LabelStudioImport:
    project_id: str
    pool_id: str
    tasks: int
    answers: int
    workers: int
    skipped_results: int  # results that are not single-choice classifications

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_label_studio(tasks: Any) -> tuple[str, list[str], list[dict[str, Any]]]:
    """Check a Label Studio export: (output field, labels, tasks). Raises InvalidInput
    naming the task that is malformed; nothing is written before this passes."""
    if not isinstance(tasks, list) or not tasks:
        raise InvalidInput("a Label Studio export is a non-empty JSON list of tasks",
                           hint="export with Label Studio's JSON format (not JSON-MIN or CSV)")
    fields: set[str] = set()
    labels: dict[str, None] = {}
    for number, task in enumerate(tasks):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict) \
                or not task["data"]:
            raise InvalidInput(f"task #{number} has no 'data' object",
                               hint="each task needs its inputs under 'data'")
        for annotation in task.get("annotations") or []:
            if not isinstance(annotation, dict) or not isinstance(annotation.get("result"),
                                                                  list):
                raise InvalidInput(f"task #{number}: an annotation has no 'result' list")
            for result in annotation["result"]:
                choices = (result.get("value") or {}).get("choices") \
                    if isinstance(result, dict) else None
                if result.get("type") == "choices" and isinstance(choices, list) and choices:
                    fields.add(str(result.get("from_name") or "label"))
                    labels.update((str(choice), None) for choice in choices)
    if not labels:
        raise InvalidInput("the export has no 'choices' annotations to import",
                           hint="crowdline imports classification (choices) labelings")
    if len(fields) > 1:
        raise InvalidInput(f"the export labels several fields ({', '.join(sorted(fields))})",
                           hint="import one classification field at a time")
    return fields.pop(), list(labels), tasks


def import_label_studio(crowd: Crowd, tasks: Any, *, name: str) -> LabelStudioImport:
    """A project, a closed pool with the tasks, and the annotators' answers."""
    field, labels, tasks = read_label_studio(tasks)
    input_names = sorted({key for task in tasks for key in task["data"]})
    project = crowd.create_project({
        "public_name": name,
        "public_description": f"Imported from Label Studio ({len(tasks)} tasks)",
        "task_spec": {
            "input_spec": {key: {"type": "json", "required": False} for key in input_names},
            "output_spec": {field: {"type": "string", "allowed_values": labels}},
            "view_spec": {"type": "classification", "interface": "text"},
        },
    })
    pool = crowd.create_pool({
        "project_id": project.id, "private_name": name, "reward_per_assignment": 0.0,
        "assignment_max_duration_seconds": 600,
        "defaults": {"default_overlap_for_new_tasks": 1,
                     "default_overlap_for_new_task_suites": 1},
        "mixer_config": {"real_tasks_count": 1, "golden_tasks_count": 0,
                         "training_tasks_count": 0},
    })
    workers = {w.name: w.id for w in crowd.list_workers()}
    annotators = sorted({str(a.get("completed_by", "unknown")) for task in tasks
                         for a in task.get("annotations") or []})
    for annotator in annotators:
        if LS_WORKER_PREFIX + annotator not in workers:
            worker, _ = crowd.invite_worker(LS_WORKER_PREFIX + annotator)
            workers[worker.name] = worker.id
    created = crowd.create_tasks([{"pool_id": pool.id, "input_values": task["data"],
                                   "overlap": max(1, len(task.get("annotations") or []))}
                                  for task in tasks], allow_defaults=True)
    if created.validation_errors:
        row, errors = next(iter(created.validation_errors.items()))
        raise InvalidInput(f"task #{row} was refused: {errors}")
    task_ids = [task.id for task in crowd.list_tasks(pool.id)]
    answers, skipped = [], 0
    for task_id, task in zip(task_ids, tasks, strict=True):
        for annotation in task.get("annotations") or []:
            picked = [r for r in annotation["result"] if isinstance(r, dict)
                      and r.get("type") == "choices" and (r.get("value") or {}).get("choices")]
            if len(picked) != 1 or len(picked[0]["value"]["choices"]) != 1:
                skipped += 1
                continue
            worker = workers[LS_WORKER_PREFIX + str(annotation.get("completed_by", "unknown"))]
            answers.append((task_id, worker, str(picked[0]["value"]["choices"][0]),
                            _when(annotation.get("created_at"))))
    from crowdline.crowd.transactions import write

    write(crowd.engine, lambda conn: record_answers(conn, pool.id, field, answers))
    return LabelStudioImport(project_id=project.id, pool_id=pool.id, tasks=len(task_ids),
                             answers=len(answers), workers=len(annotators),
                             skipped_results=skipped)


def record_answers(conn: sa.Connection, pool_id: str,  field: str,
                   answers: Sequence[tuple[str, str, str, dt.datetime]]) -> None:
    """Answers collected elsewhere, as ACCEPTED one-task assignments (one per task and
    worker: a second answer of the same worker to the same task is refused)."""
    seen: set[tuple[str, str]] = set()
    for task_id, worker_id, label, when in answers:
        if (task_id, worker_id) in seen:
            raise InvalidInput(f"worker {worker_id} answered task {task_id} twice",
                               hint="keep one annotation per annotator and task")
        seen.add((task_id, worker_id))
        solution = {"output_values": {field: label}}
        assignment = conn.execute(t.assignments.insert().values(
            pool_id=int(pool_id), worker_id=int(worker_id), status="ACCEPTED",
            task_ids=[int(task_id)], solutions=[solution], reward=0.0, mixed=False, created=when,
            expires_at=when, submitted=when, accepted=when).returning(t.assignments.c.id)
        ).scalar_one()
        conn.execute(t.answers.insert().values(
            task_id=int(task_id), worker_id=int(worker_id), assignment_id=assignment,
            pool_id=int(pool_id), kind="REAL", output_values=solution["output_values"],
            submitted=when))
        conn.execute(t.tasks.update().where(t.tasks.c.id == int(task_id)).values(
            issued=t.tasks.c.issued + 1, available=sa.false()))


def _when(text: Any) -> dt.datetime:
    if isinstance(text, str):
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return now()
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return now()
