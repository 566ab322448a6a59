"""The operations store behind Toloka's asynchronous calls, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from crowdline.crowd.operations import (
    FAIL,
    PENDING,
    SUCCESS,
    AggregatedSolution,
    Operations,
    WorkResult,
    operations_table,
)
from crowdline.database import make_engine, upgrade_schema
from crowdline.errors import Conflict, InvalidInput, OperationAlreadyExists, OperationNotFound


@pytest.fixture
def operations(database_url: str) -> Iterator[Operations]:
    engine = make_engine(database_url)
    upgrade_schema(engine)
    yield Operations(engine)
    engine.dispose()


def test_run_records_success_with_details_and_log(operations: Operations) -> None:
    op = operations.run("POOL.CLONE", {"pool_id": "7"},
                        lambda: WorkResult(details={"pool_id": "8"},
                                           log=[{"type": "X", "success": True}]))
    assert op.status == SUCCESS
    assert op.progress == 100
    again = operations.get(op.id)
    assert again.details == {"pool_id": "8"}
    assert again.log == [{"type": "X", "success": True}]
    body = again.to_dict()
    assert body["type"] == "POOL.CLONE"
    assert body["parameters"] == {"pool_id": "7"}
    assert "T" in body["submitted"]
    assert "+" not in body["submitted"]
    assert body["started"] <= body["finished"]


def test_work_errors_become_fail_with_the_message(operations: Operations) -> None:
    def broken() -> WorkResult:
        raise InvalidInput("pool 7 has no mixer_config")

    op = operations.run("POOL.OPEN", {"pool_id": "7"}, broken)
    assert op.status == FAIL
    assert op.details["code"] == "VALIDATION_ERROR"
    assert "mixer_config" in op.details["message"]

    failed = operations.run("TASK.BATCH_CREATE", {}, lambda: WorkResult(
        log=[{"type": "TASK_VALIDATE", "success": False}], failed=True))
    assert failed.status == FAIL
    assert failed.log[0]["type"] == "TASK_VALIDATE"


def test_operation_id_is_idempotent(operations: Operations) -> None:
    operation_id = str(uuid.uuid4())
    calls = []
    first = operations.run("TASK.BATCH_CREATE", {}, lambda: calls.append(1) or WorkResult(),
                           operation_id=operation_id)
    assert first.id == operation_id
    with pytest.raises(OperationAlreadyExists) as caught:
        operations.run("TASK.BATCH_CREATE", {}, lambda: calls.append(2) or WorkResult(),
                       operation_id=operation_id)
    assert caught.value.code == "OPERATION_ALREADY_EXISTS"
    assert calls == [1]  # the second submission did nothing
    with pytest.raises(InvalidInput, match="not a UUID"):
        operations.create("TASK.BATCH_CREATE", {}, operation_id="not-a-uuid")


def test_submit_returns_pending_and_the_executor_finishes_it(operations: Operations) -> None:
    gate = threading.Event()

    def slow() -> WorkResult:
        gate.wait(10)
        return WorkResult(details={"done": True})

    with ThreadPoolExecutor(max_workers=1) as executor:
        op = operations.submit("SOLUTION.AGGREGATE", {"pool_id": "1"}, slow, executor=executor)
        assert op.status == PENDING
        assert operations.get(op.id).status in (PENDING, "RUNNING")
        gate.set()
    assert operations.get(op.id).status == SUCCESS


def test_transitions_are_guarded(operations: Operations) -> None:
    op = operations.run("POOL.OPEN", {}, WorkResult)
    with pytest.raises(Conflict, match="SUCCESS"):
        operations.execute(op.id, WorkResult)
    with pytest.raises(OperationNotFound):
        operations.get("no-such-operation")


def test_fail_abandoned_only_touches_old_unfinished(operations: Operations) -> None:
    stale = operations.create("POOL.OPEN", {})
    fresh = operations.create("POOL.OPEN", {})
    done = operations.run("POOL.OPEN", {}, WorkResult)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    with operations.engine.begin() as conn:
        conn.execute(operations_table.update().where(operations_table.c.id.in_(
            [stale.id, done.id])).values(submitted=old))
    assert operations.fail_abandoned(older_than=dt.timedelta(hours=1)) == 1
    assert operations.get(stale.id).status == FAIL
    assert operations.get(fresh.id).status == PENDING
    assert operations.get(done.id).status == SUCCESS


def test_aggregated_solutions_page_by_task_id(operations: Operations) -> None:
    op = operations.run("SOLUTION.AGGREGATE", {"pool_id": "1"}, WorkResult)
    ids = ["10", "11", "9", "100"]
    assert operations.save_aggregated(op.id, [
        AggregatedSolution(pool_id="1", task_id=t, confidence=0.5, output_values={"x": t})
        for t in ids]) == 4
    everything = operations.find_aggregated(op.id)
    assert [s.task_id for s in everything] == sorted(ids)  # string order, as toloka-kit pages
    page = operations.find_aggregated(op.id, task_id_gt="10", limit=2)
    assert [s.task_id for s in page] == ["100", "11"]
    assert operations.find_aggregated(op.id, task_id_gte="9")[0].output_values == {"x": "9"}
    with pytest.raises(OperationNotFound):
        operations.find_aggregated("missing")
    with operations.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from crowd_aggregated_solutions")) \
            .scalar_one() == 4
