"""Failure isolation: what a failed datum leaves behind and when it runs again.

* A datum that fails on **invalid input** (the transform raised ``crowdline.errors.
  InvalidInput`` or a ``cmd`` exited 65, EX_DATAERR) is not tried again in the job, and later
  jobs do not run it again while its input and the pipeline version are unchanged: its
  failure is carried over. ``retry()`` (``crowdline datum retry`` / ``job restart``) lifts that.
* Under ``on_datum_failure: skip_datum`` a failed datum's output is a **report**,
  ``/rejected/<input path>.json`` (inputs, error, last lines of the log), committed with the
  other datums' outputs and tagged with the datum like any output: deleting or fixing the
  input replaces it. Reports are skipped like outputs while the datum is unchanged.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crowdline.errors import DatumNotFound, InvalidInput
from crowdline.pipelines import tables as t
from crowdline.pipelines.states import DatumState
from crowdline.pipelines.transform import DatumResult

if TYPE_CHECKING:
    from crowdline.pipelines.spec import PipelineSpec

REJECTED_FOLDER = "/rejected"
TAIL_LINES = 6
_IN_CHUNK = 500
FAILED_STATES = (DatumState.FAILED.value, DatumState.RECOVERED.value)


_NOISE = re.compile(r"^(--- |\s|Traceback \(|The above exception|During handling|error: |"
                    r"\(invalid input|[a-z_]\w*(\.[a-z_]\w*)*\.[A-Z]\w*: |\w*(Error|Exception): )")


def log_tail(text: str | None, lines: int = TAIL_LINES) -> list[str]:
    """The last lines of a datum's log that say something beyond its error: what the code
    printed. Try markers, tracebacks and exception lines (the error says it) are left out."""
    kept = [line for line in (text or "").splitlines()
            if line.strip() and not _NOISE.match(line)]
    return kept[-lines:]


def inputs_of(parts: list[dict[str, Any]]) -> list[str]:
    """``repo@commit:/path`` of each part of a datum."""
    return [f"{p['repo']}@{str(p.get('commit', ''))[:12]}:{p['path']}" for p in parts]


def report_path(parts: list[dict[str, Any]], datum_id: str) -> str:
    names = [p["path"].strip("/") for p in parts if p["path"].strip("/")]
    return f"{REJECTED_FOLDER}/{'+'.join(names) or 'datum-' + datum_id}.json"


def report_file(job: Any, result: DatumResult, parts: list[dict[str, Any]]
                ) -> tuple[str, bytes]:
    """The report a skipped failed datum leaves in the output commit."""
    document = {
        "pipeline": job.pipeline, "job": job.id, "datum": result.datum_id,
        "inputs": [{"input": p["name"], "repo": p["repo"], "commit": p.get("commit"),
                    "path": p["path"]} for p in parts],
        "error": result.error, "invalid_input": result.permanent,
        "log_tail": log_tail(result.log),
        "what_to_do": "fix the input file (put a corrected version) or delete it "
                      "(crowdline delete file); either replaces this report",
    }
    return report_path(parts, result.datum_id), json.dumps(document, indent=2).encode()


def failure_summary(job: Any, result: DatumResult, parts: list[dict[str, Any]], *,
                    skipped: bool) -> dict[str, Any]:
    return {"pipeline": job.pipeline, "job_id": job.id, "datum_id": result.datum_id,
            "state": result.state, "inputs": inputs_of(parts), "error": result.error,
            "files": [f"{p['repo']}@{p.get('branch') or 'master'}:{p['path']}" for p in parts],
            "log_tail": log_tail(result.log), "permanent": result.permanent,
            "skipped": skipped,
            "report": report_path(parts, result.datum_id) if skipped
            and result.state == DatumState.FAILED else None}


def earlier_permanent_failures(engine: sa.Engine, job: Any, spec: PipelineSpec,
                               pending: list[Any]) -> list[DatumResult]:
    """Pending datums that already failed on invalid input with the same hash and pipeline
    version: their failure is carried over instead of running them again."""
    if spec.reprocess_spec == "every_job" or not pending:
        return []
    wanted = {row.datum_id: row.datum_hash for row in pending}
    found: dict[str, Any] = {}
    ids = sorted(wanted)
    with t.reading(engine) as conn:
        # one cheap look first: most pipelines never failed on invalid input
        earlier = conn.execute(
            sa.select(t.datums.c.datum_id).join(t.jobs, t.jobs.c.id == t.datums.c.job_id)
            .where(t.jobs.c.pipeline == job.pipeline, t.jobs.c.id != job.id,
                   t.datums.c.permanent.is_(True)).limit(1)).first()
        if earlier is None:
            return []
        for start in range(0, len(ids), _IN_CHUNK):
            rows = conn.execute(
                sa.select(t.datums.c.datum_id, t.datums.c.datum_hash, t.datums.c.state,
                          t.datums.c.error, t.datums.c.log, t.datums.c.job_id)
                .join(t.jobs, t.jobs.c.id == t.datums.c.job_id)
                .where(t.jobs.c.pipeline == job.pipeline, t.jobs.c.id != job.id,
                       t.jobs.c.pipeline_version == job.pipeline_version,
                       t.datums.c.permanent.is_(True),
                       t.datums.c.state.in_(FAILED_STATES),
                       t.datums.c.datum_id.in_(ids[start : start + _IN_CHUNK]))
                .order_by(t.jobs.c.created_at)).all()
            for row in rows:
                if wanted.get(row.datum_id) == row.datum_hash:
                    found[row.datum_id] = row  # the newest wins (ordered by creation)
    carried = []
    for datum_id, row in sorted(found.items()):
        note = (f"not run again: it failed on invalid input in job {row.job_id} and neither "
                f"its input nor the pipeline changed since (`crowdline datum retry "
                f"{row.job_id} {datum_id}` runs it again)\n")
        carried.append(DatumResult(datum_id, row.state, log=note + (row.log or ""),
                                   error=row.error or "", tries=0, permanent=True))
    return carried


def retry(engine: sa.Engine, job_id: str, datum_ids: list[str] | None = None) -> list[str]:
    """Let failed (or recovered) datums of a job run again in the pipeline's next job,
    even though their input did not change. Returns the datum ids concerned."""
    with engine.begin() as conn:
        job = conn.execute(sa.select(t.jobs.c.pipeline).where(t.jobs.c.id == job_id)).first()
        if job is None:
            from crowdline.errors import JobNotFound

            raise JobNotFound(f"no job {job_id!r}", hint="see `crowdline job list`")
        query = sa.select(t.datums.c.datum_id, t.datums.c.state).where(
            t.datums.c.job_id == job_id)
        if datum_ids:
            query = query.where(t.datums.c.datum_id.in_(datum_ids))
        rows = conn.execute(query).all()
        unknown = sorted(set(datum_ids or ()) - {r.datum_id for r in rows})
        if unknown:
            raise DatumNotFound(f"job {job_id} has no datum {', '.join(unknown)}",
                                hint=f"see `crowdline datum list {job_id}`")
        not_failed = sorted(r.datum_id for r in rows if r.state not in FAILED_STATES)
        if datum_ids and not_failed:
            raise InvalidInput(f"datum(s) {', '.join(not_failed)} of job {job_id} did not fail",
                               hint="only failed or recovered datums can be retried")
        chosen = sorted(r.datum_id for r in rows if r.state in FAILED_STATES)
        for start in range(0, len(chosen), _IN_CHUNK):
            chunk = chosen[start : start + _IN_CHUNK]
            # forget that they failed on invalid input, in every job of the pipeline
            conn.execute(t.datums.update().where(
                t.datums.c.datum_id.in_(chunk),
                t.datums.c.job_id.in_(sa.select(t.jobs.c.id)
                                      .where(t.jobs.c.pipeline == job.pipeline)),
            ).values(permanent=False))
            # a committed failure report no longer counts as processed
            conn.execute(t.outputs.update().where(
                t.outputs.c.pipeline == job.pipeline, t.outputs.c.datum_id.in_(chunk),
                t.outputs.c.failed.is_(True)).values(datum_hash=""))
        if chosen:
            conn.execute(t.pipelines.update().where(t.pipelines.c.name == job.pipeline)
                         .values(needs_job=True))
    return chosen


def forget_reports(conn: sa.Connection, pipeline: str) -> None:
    """A new pipeline version runs the datums it skipped with a report again."""
    conn.execute(t.outputs.update().where(t.outputs.c.pipeline == pipeline,
                                          t.outputs.c.failed.is_(True)).values(datum_hash=""))
