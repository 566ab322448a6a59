"""The serving write path: group commit on SQLite, cached worker facts that never go stale
(two facades stand for two server processes), and the async facade calls the server uses."""

from __future__ import annotations

import asyncio
import threading

import pytest
import sqlalchemy as sa
from crowd_helpers import pool_config, project_config, real_tasks

from crowdline.crowd import Crowd
from crowdline.crowd import tables as t
from crowdline.database import make_engine, upgrade_schema, write
from crowdline.database.writer import writer_for
from crowdline.errors import InvalidInput


def _open_pool(crowd: Crowd, tasks: int = 20, **overrides: object) -> str:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id, **overrides))
    crowd.create_tasks(real_tasks(pool.id, tasks), open_pool=True)
    return pool.id


def test_group_commit_acknowledges_only_committed_work_and_isolates_a_failure(
        tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/w.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE items (n INTEGER PRIMARY KEY)")
    start = threading.Barrier(41)
    outcomes: dict[int, object] = {}

    def writer(n: int) -> None:
        def work(conn: sa.Connection) -> int:
            conn.exec_driver_sql(f"INSERT INTO items VALUES ({n})")
            if n == 13:
                raise InvalidInput("thirteen is refused")
            return n

        start.wait()
        try:
            outcomes[n] = write(engine, work)
        except InvalidInput as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join()
    assert isinstance(outcomes.pop(13), InvalidInput)
    assert outcomes == {n: n for n in range(40) if n != 13}
    # a fresh connection (another process would see the same) finds every acknowledged row
    # and nothing of the refused one
    other = make_engine(f"sqlite:///{tmp_path}/w.db")
    with other.connect() as conn:
        rows = {r[0] for r in conn.exec_driver_sql("SELECT n FROM items")}
    assert rows == set(range(40)) - {13}
    writer_stats = writer_for(engine)
    assert writer_stats.jobs == 40  # the CREATE TABLE went around it
    assert writer_stats.batches <= writer_stats.jobs
    other.dispose()
    engine.dispose()


def test_a_write_inside_the_writer_is_refused_not_deadlocked(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/n.db")
    with pytest.raises(RuntimeError, match="inside a write"):
        write(engine, lambda conn: write(engine, lambda inner: 1))
    engine.dispose()


def test_a_ban_from_another_process_stops_issuing_at_once(engine: sa.Engine) -> None:
    server, requester = Crowd(engine=engine), Crowd(engine=engine)  # two caches
    pool_id = _open_pool(server)
    worker, _ = server.invite_worker("ann")
    first = server.request_assignment(worker.id, pool_id)
    assert first is not None  # the server has cached this worker's facts now
    server.submit_assignment(worker.id, first.id, [
        {"output_values": {"category": "clickbait"}}] * len(first.tasks))
    restriction = requester.set_restriction(worker.id, "POOL", pool_id=pool_id)
    assert server.request_assignment(worker.id, pool_id) is None
    requester.delete_restriction(restriction.id)
    assert server.request_assignment(worker.id, pool_id) is not None


def test_a_skill_set_elsewhere_opens_a_filtered_pool_at_once(engine: sa.Engine) -> None:
    server, requester = Crowd(engine=engine), Crowd(engine=engine)
    skill = requester.create_skill("accuracy")
    pool_id = _open_pool(server, filter={"and": [{"category": "skill", "key": skill.id,
                                                  "operator": "GTE", "value": 70}]})
    worker, _ = server.invite_worker("ann")
    assert server.request_assignment(worker.id, pool_id) is None
    requester.set_worker_skill(worker.id, skill.id, 80)
    suite = server.request_assignment(worker.id, pool_id)
    assert suite is not None
    server.skip_assignment(worker.id, suite.id)
    requester.set_worker_skill(worker.id, skill.id, 20)
    assert server.request_assignment(worker.id, pool_id) is None


def test_the_async_calls_commit_before_they_return(engine: sa.Engine) -> None:
    crowd = Crowd(engine=engine)
    pool_id = _open_pool(crowd, tasks=6,
                         defaults={"default_overlap_for_new_tasks": 1})
    workers = [crowd.invite_worker(f"ann {i}")[0] for i in range(4)]

    async def label(worker_id: str) -> int:
        done = 0
        while (suite := await crowd.request_assignment_async(worker_id, pool_id)) is not None:
            await crowd.submit_assignment_async(worker_id, suite.id, [
                {"output_values": {"category": "clickbait"}}] * len(suite.tasks))
            done += len(suite.tasks)
        return done

    async def everyone() -> list[int]:
        return await asyncio.gather(*(label(w.id) for w in workers))

    assert sum(asyncio.run(everyone())) == 6  # overlap 1: each task answered exactly once
    with engine.connect() as conn:
        answered = conn.execute(sa.select(sa.func.count()).select_from(t.answers).where(
            t.answers.c.submitted.is_not(None))).scalar_one()
        over = conn.execute(sa.select(sa.func.count()).select_from(t.tasks).where(
            t.tasks.c.issued > t.tasks.c.overlap)).scalar_one()
    assert (answered, over) == (6, 0)


def test_an_in_memory_database_writes_on_the_calling_thread() -> None:
    engine = make_engine("sqlite://")
    upgrade_schema(engine)
    crowd = Crowd(engine=engine)
    pool_id = _open_pool(crowd, tasks=2)
    worker, _ = crowd.invite_worker("ann")
    suite = asyncio.run(crowd.request_assignment_async(worker.id, pool_id))
    assert suite is not None
    assert crowd.get_assignment(suite.id).status == "ACTIVE"
    engine.dispose()
