"""Asynchronous operations, as Toloka's API has them: PENDING -> RUNNING -> SUCCESS | FAIL.

Long requests (opening a pool, uploading tasks, aggregating a pool) return an operation at once;
the caller polls ``GET /operations/{id}``. Operations live in SQL, so any server process can
answer for any operation, and a process that dies mid-run leaves it RUNNING until
``fail_abandoned`` marks it FAIL.

    ops = Operations(engine)
    op = ops.run("POOL.OPEN", {"pool_id": "7"}, lambda: WorkResult())  # runs now: SUCCESS
    op = ops.submit("SOLUTION.AGGREGATE", {...}, work, executor=pool) # returns PENDING
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crowdline.database import UtcDateTime, writing
from crowdline.errors import (
    Conflict,
    CrowdlineError,
    InvalidInput,
    OperationAlreadyExists,
    OperationNotFound,
)

log = logging.getLogger(__name__)

PENDING, RUNNING, SUCCESS, FAIL = "PENDING", "RUNNING", "SUCCESS", "FAIL"
# The one place where an operation's status may change.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({RUNNING, FAIL}),
    RUNNING: frozenset({SUCCESS, FAIL}),
    SUCCESS: frozenset(),
    FAIL: frozenset(),
}



@dataclass
class WorkResult:
    """What an operation's work produced: Toloka's ``details`` and OperationLogItem dicts
    (``{type, success, input, output}``); ``failed`` ends the operation as FAIL with them."""

    details: dict[str, Any] | None = None
    log: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False


Work = Callable[[], WorkResult]

_metadata = sa.MetaData()
operations_table = sa.Table(
    "crowd_operations",
    _metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Column("log", sa.JSON, nullable=False),
    sa.Column("progress", sa.Integer, nullable=False),
    sa.Column("submitted", UtcDateTime(), nullable=False),
    sa.Column("started", UtcDateTime(), nullable=True),
    sa.Column("finished", UtcDateTime(), nullable=True),
)
aggregated_table = sa.Table(
    "crowd_aggregated_solutions",
    _metadata,
    sa.Column("operation_id", sa.String(64), primary_key=True),
    sa.Column("task_id", sa.String(64), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("output_values", sa.JSON, nullable=False),
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


@dataclass
class Operation:
    id: str
    type: str
    status: str
    parameters: dict[str, Any]
    submitted: dt.datetime
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    progress: int = 0
    details: dict[str, Any] | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_completed(self) -> bool:
        return self.status in (SUCCESS, FAIL)

    def to_dict(self) -> dict[str, Any]:
        """Toloka's Operation JSON (without the log, which has its own endpoint)."""
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "submitted": _iso(self.submitted),
            "parameters": self.parameters,
            "progress": self.progress,
        }
        if self.started is not None:
            data["started"] = _iso(self.started)
        if self.finished is not None:
            data["finished"] = _iso(self.finished)
        if self.details is not None:
            data["details"] = self.details
        return data


@dataclass
class AggregatedSolution:
    pool_id: str
    task_id: str
    confidence: float
    output_values: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"pool_id": self.pool_id, "task_id": self.task_id,
                "confidence": self.confidence, "output_values": self.output_values}


def _row_to_operation(row: sa.Row[Any]) -> Operation:
    return Operation(
        id=row.id, type=row.type, status=row.status, parameters=row.parameters,
        submitted=row.submitted, started=row.started, finished=row.finished,
        progress=row.progress, details=row.details, log=list(row.log or []),
    )


class Operations:
    """Create, run and look up asynchronous operations stored in the crowd database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- creating and running ------------------------------------------------------------

    def create(self, type: str, parameters: dict[str, Any], *,
               operation_id: str | None = None) -> Operation:
        """Record a PENDING operation; a reused ``operation_id`` raises OperationAlreadyExists."""
        if operation_id is not None:
            try:
                operation_id = str(uuid.UUID(str(operation_id)))
            except ValueError as exc:
                raise InvalidInput(f"operation_id {operation_id!r} is not a UUID",
                                   hint="pass an RFC 4122 UUID or leave it out") from exc
        op = Operation(id=operation_id or str(uuid.uuid4()), type=type, status=PENDING,
                       parameters=dict(parameters), submitted=_now())
        with writing(self.engine) as conn:
            exists = conn.execute(sa.select(operations_table.c.id).where(
                operations_table.c.id == op.id)).first()
            if exists is not None:
                raise OperationAlreadyExists(
                    f"operation {op.id} was already submitted",
                    hint="get it with GET /api/v1/operations/{id} instead of submitting again",
                )
            conn.execute(operations_table.insert().values(
                id=op.id, type=op.type, status=op.status, parameters=op.parameters,
                details=None, log=[], progress=0, submitted=op.submitted))
        return op

    def _transition(self, operation_id: str, new_status: str, **values: Any) -> None:
        with writing(self.engine) as conn:
            row = conn.execute(sa.select(operations_table.c.status).where(
                operations_table.c.id == operation_id)).first()
            if row is None:
                raise OperationNotFound(f"operation {operation_id} does not exist")
            if new_status not in TRANSITIONS[row.status]:
                raise Conflict(f"operation {operation_id} is {row.status}; it cannot become "
                               f"{new_status}")
            conn.execute(operations_table.update().where(operations_table.c.id == operation_id)
                         .values(status=new_status, **values))

    def execute(self, operation_id: str, work: Work) -> Operation:
        """Run ``work`` for a PENDING operation and record SUCCESS or FAIL (never raises for
        the work's own errors: they become the operation's FAIL details)."""
        self._transition(operation_id, RUNNING, started=_now())
        try:
            result = work()
        except CrowdlineError as exc:
            self._transition(operation_id, FAIL, finished=_now(), details={
                "code": exc.code, "message": exc.message, "payload": exc.payload})
        except Exception as exc:  # noqa: BLE001 - an operation records any failure as FAIL
            log.exception("operation %s failed", operation_id)
            self._transition(operation_id, FAIL, finished=_now(), details={
                "code": "INTERNAL_ERROR", "message": f"{type(exc).__name__}: {exc}"})
        else:
            self._transition(operation_id, FAIL if result.failed else SUCCESS, finished=_now(),
                             progress=100, details=result.details, log=result.log)
        return self.get(operation_id)

    def run(self, type: str, parameters: dict[str, Any], work: Work, *,
            operation_id: str | None = None) -> Operation:
        """Create an operation and run it now, in this thread; returns it completed."""
        op = self.create(type, parameters, operation_id=operation_id)
        return self.execute(op.id, work)

    def submit(self, type: str, parameters: dict[str, Any], work: Work, *, executor: Executor,
               operation_id: str | None = None) -> Operation:
        """Create an operation and run it on ``executor``; returns it PENDING at once."""
        op = self.create(type, parameters, operation_id=operation_id)
        executor.submit(self.execute, op.id, work)
        return op

    def fail_abandoned(self, *, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
        """Mark PENDING/RUNNING operations submitted before ``older_than`` as FAIL (their
        process died); returns how many."""
        cutoff = _now() - older_than
        with writing(self.engine) as conn:
            result = conn.execute(
                operations_table.update()
                .where(operations_table.c.status.in_((PENDING, RUNNING)),
                       operations_table.c.submitted < cutoff)
                .values(status=FAIL, finished=_now(), details={
                    "code": "OPERATION_EXECUTION_ERROR",
                    "message": "the server process running this operation stopped; submit "
                               "the request again"}))
            return int(result.rowcount or 0)

    # -- reading -------------------------------------------------------------------------

    def get(self, operation_id: str) -> Operation:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(operations_table).where(
                operations_table.c.id == operation_id)).first()
        if row is None:
            raise OperationNotFound(f"operation {operation_id} does not exist",
                                    hint="operation ids come from the call that started it")
        return _row_to_operation(row)

    def list(self, *, type: str | None = None, status: str | None = None,
             after_id: str | None = None, limit: int | None = None) -> list[Operation]:
        query = sa.select(operations_table).order_by(operations_table.c.id)
        if type is not None:
            query = query.where(operations_table.c.type == type)
        if status is not None:
            query = query.where(operations_table.c.status == status)
        if after_id is not None:
            query = query.where(operations_table.c.id > after_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_row_to_operation(row) for row in conn.execute(query)]

    # -- aggregated solutions ------------------------------------------------------------

    def save_aggregated(self, operation_id: str, solutions: Iterable[AggregatedSolution]) -> int:
        rows = [{"operation_id": operation_id, "task_id": s.task_id, "pool_id": s.pool_id,
                 "confidence": float(s.confidence), "output_values": s.output_values}
                for s in solutions]
        if rows:
            with writing(self.engine) as conn:
                conn.execute(aggregated_table.insert(), rows)
        return len(rows)

    def find_aggregated(self, operation_id: str, *, task_id_gt: str | None = None,
                        task_id_gte: str | None = None, task_id_lt: str | None = None,
                        task_id_lte: str | None = None,
                        limit: int | None = None) -> list[AggregatedSolution]:
        """Solutions of one aggregation, ordered by task id (Toloka's paging key)."""
        self.get(operation_id)  # a clear 404 for an unknown operation
        c = aggregated_table.c
        query = sa.select(aggregated_table).where(c.operation_id == operation_id)
        for value, compare in ((task_id_gt, c.task_id.__gt__), (task_id_gte, c.task_id.__ge__),
                               (task_id_lt, c.task_id.__lt__), (task_id_lte, c.task_id.__le__)):
            if value is not None:
                query = query.where(compare(value))
        query = query.order_by(c.task_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [AggregatedSolution(pool_id=r.pool_id, task_id=r.task_id,
                                       confidence=r.confidence, output_values=r.output_values)
                    for r in conn.execute(query)]
