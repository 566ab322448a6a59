"""Requester-made task suites: issued whole, in order, within overlap, never twice to a worker
(also with concurrent annotators, each thread on its own engine), golden tasks checked, bad
input refused with nothing changed; pools of mixer-made suites keep working beside them."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from crowd_helpers import LABELS, answer, pool_config, project_config, real_tasks
from test_concurrency import _in_threads

from crowdline.crowd import Crowd
from crowdline.crowd.suites import CLAIM
from crowdline.crowd.tasks import claim_grouping
from crowdline.database import make_engine
from crowdline.errors import InvalidInput, TaskSuiteNotFound

WORKERS = 10
SUITES = 12
OVERLAP = 3


def suite(pool_id: str, n: int, size: int = 3, **extra: Any) -> dict[str, Any]:
    return {"pool_id": pool_id, "tasks": [{"input_values": {"headline": f"s{n} t{i}"}}
                                          for i in range(size)], **extra}


def suites_pool(crowd: Crowd, **overrides: Any) -> Any:
    project = crowd.create_project(project_config())
    return crowd.create_pool(pool_config(project.id, **overrides))


def counts(crowd: Crowd, sql: str, **params: Any) -> list[Any]:
    with crowd.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params).all())


def test_a_suite_goes_whole_in_order_to_overlap_workers_once_each(crowd: Crowd) -> None:
    pool = suites_pool(crowd)
    report = crowd.create_task_suites([suite(pool.id, 0, size=4, overlap=2),
                                       suite(pool.id, 1, overlap=1)], open_pool=True)
    first, second = report.items[0], report.items[1]
    assert first.remaining_overlap == 2
    assert len(first.tasks) == 4
    workers = [crowd.invite_worker(f"w{i}")[0] for i in range(4)]
    got = {}
    for worker in workers:
        view = crowd.request_assignment(worker.id, pool.id)
        if view is None:
            continue
        got[worker.id] = view
        crowd.submit_assignment(worker.id, view.id, [answer("clickbait")] * len(view.tasks))
        # the same worker never gets that suite again
        again = crowd.request_assignment(worker.id, pool.id)
        if again is not None:
            assert crowd.get_assignment(again.id).task_suite_id != \
                crowd.get_assignment(view.id).task_suite_id
            crowd.skip_assignment(worker.id, again.id)
    suite_of = {w: crowd.get_assignment(v.id).task_suite_id for w, v in got.items()}
    assert sorted(suite_of.values()) == sorted([first.id, first.id, second.id])
    for worker_id, view in got.items():
        wanted = first if suite_of[worker_id] == first.id else second
        # the suite's own order (the pool does not ask to shuffle), no known solutions
        assert [task["id"] for task in view.tasks] == [task["id"] for task in wanted.tasks]
    assert crowd.get_task_suite(first.id).remaining_overlap == 0
    assert crowd.is_pool_complete(pool.id)
    frame = crowd.answers_frame(pool.id)
    assert len(frame) == 4 * 2 + 3
    assert not frame.duplicated(["task", "worker"]).any()


def test_issuing_order_override_and_shuffle(crowd: Crowd) -> None:
    pool = suites_pool(crowd, mixer_config={"real_tasks_count": 1,
                                            "shuffle_tasks_in_task_suite": True})
    created = crowd.create_task_suites(
        [suite(pool.id, 0, size=30, overlap=1),
         suite(pool.id, 1, size=30, overlap=1, issuing_order_override=5.5)],
        open_pool=True).items
    worker, _ = crowd.invite_worker("w")
    view = crowd.request_assignment(worker.id, pool.id)
    assert crowd.get_assignment(view.id).task_suite_id == created[1].id  # higher override
    order = [task["id"] for task in view.tasks]
    assert sorted(order) == sorted(task["id"] for task in created[1].tasks)
    assert order != [task["id"] for task in created[1].tasks]  # 30! orders: shuffled


def test_golden_tasks_in_a_suite_are_checked(crowd: Crowd) -> None:
    pool = suites_pool(crowd)
    item = suite(pool.id, 0, size=2, overlap=1)
    item["tasks"].append({"input_values": {"headline": "gold"},
                          "known_solutions": [{"output_values": {"category": LABELS[1]}}]})
    created = crowd.create_task_suites([item], open_pool=True).items[0]
    assert "known_solutions" in created.tasks[2]
    worker, _ = crowd.invite_worker("w")
    view = crowd.request_assignment(worker.id, pool.id)
    assert all("known_solutions" not in task for task in view.tasks)
    crowd.submit_assignment(worker.id, view.id, [answer(LABELS[0])] * 3)
    golden = counts(crowd, "SELECT kind, correct FROM crowd_answers WHERE kind = 'GOLDEN'")
    assert [(kind, bool(ok)) for kind, ok in golden] == [("GOLDEN", False)]


def one_copy_suite(crowd: Crowd) -> tuple[Any, Any, Any, Any]:
    """A pool with one suite of overlap 1, and two workers."""
    pool = suites_pool(crowd)
    created = crowd.create_task_suites([suite(pool.id, 0, overlap=1)], open_pool=True).items[0]
    return pool, created, crowd.invite_worker("a")[0], crowd.invite_worker("b")[0]


def test_skip_and_expiry_give_the_copy_back_to_others_only(crowd: Crowd) -> None:
    pool, created, a, b = one_copy_suite(crowd)
    view = crowd.request_assignment(a.id, pool.id)
    assert view.whole_suite  # the annotator pages offer no per-task skip
    assert crowd.request_assignment(a.id, pool.id).whole_suite  # a reload: the same suite
    assert crowd.request_assignment(b.id, pool.id) is None  # its one copy is taken
    assert crowd.worker_standing(b.id, pool.id)["state"] == "later"  # a holds it
    crowd.skip_assignment(a.id, view.id)
    assert crowd.get_task_suite(created.id).remaining_overlap == 1
    assert crowd.request_assignment(a.id, pool.id) is None  # a skipped it: not again
    assert crowd.worker_standing(a.id, pool.id)["state"] == "finished"
    assert crowd.worker_standing(b.id, pool.id)["state"] == "open"
    other = crowd.request_assignment(b.id, pool.id)
    assert crowd.get_assignment(other.id).task_suite_id == created.id
    with pytest.raises(InvalidInput, match="answered together"):
        crowd.skip_tasks(b.id, other.id, [other.tasks[0]["id"]])
    # b lets it expire: the copy goes to a third worker, never back to b
    later = Crowd(engine=crowd.engine,
                  clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    c, _ = later.invite_worker("c")
    taken = later.request_assignment(c.id, pool.id)
    assert later.get_assignment(other.id).status == "EXPIRED"
    assert later.get_assignment(taken.id).task_suite_id == created.id
    assert later.request_assignment(b.id, pool.id) is None


def test_patch_overlap_and_overlap_or_min(crowd: Crowd) -> None:
    pool, created, a, b = one_copy_suite(crowd)
    view = crowd.request_assignment(a.id, pool.id)
    crowd.submit_assignment(a.id, view.id, [answer("clickbait")] * 3)
    assert crowd.is_pool_complete(pool.id)
    patched = crowd.patch_task_suite(created.id, {"overlap": 2, "issuing_order_override": 3})
    assert (patched.overlap, patched.remaining_overlap, patched.issuing_order_override) == \
        (2, 1, 3.0)
    assert {t.overlap for t in (crowd.get_task(x["id"]) for x in created.tasks)} == {2}
    assert not crowd.is_pool_complete(pool.id)
    stopped = crowd.set_task_suite_overlap_or_min(created.id, 0)
    assert (stopped.overlap, stopped.remaining_overlap) == (1, 0)  # one copy was issued
    assert crowd.request_assignment(b.id, pool.id) is None
    assert crowd.is_pool_complete(pool.id)
    with pytest.raises(InvalidInput, match="overlap"):
        crowd.set_task_suite_overlap_or_min(created.id, -1)
    with pytest.raises(InvalidInput, match="belongs to task suite"):
        crowd.set_task_overlap(created.tasks[0]["id"], 5)
    with pytest.raises(TaskSuiteNotFound):
        crowd.get_task_suite("999999")
    assert crowd.get_task_suite(created.id).overlap == 1  # refusals changed nothing


def test_bad_suites_are_refused_and_change_nothing(crowd: Crowd) -> None:
    pool = suites_pool(crowd)
    other = suites_pool(crowd)
    mixer_pool = suites_pool(crowd)
    crowd.create_tasks(real_tasks(mixer_pool.id, 2, overlap=1))
    cases = {
        "tasks": {"pool_id": pool.id, "tasks": [], "overlap": 1},
        "tasks[0].pool_id": {"pool_id": pool.id, "overlap": 1, "tasks": [
            {"pool_id": other.id, "input_values": {"headline": "x"}}]},
        "overlap": suite(pool.id, 0, overlap=-1),
        "tasks[0].input_values.headline": {"pool_id": pool.id, "overlap": 1, "tasks": [
            {"input_values": {"headline": 7}}]},
        "reserved_for": suite(pool.id, 0, overlap=1, reserved_for=["3"]),
        "mixed": suite(pool.id, 0, overlap=1, mixed=True),
    }
    for field, item in cases.items():
        with pytest.raises(InvalidInput) as raised:
            crowd.create_task_suites([suite(pool.id, 9, overlap=1), item])
        assert field in raised.value.payload["validation_errors"]["1"], field
    with pytest.raises(InvalidInput, match="does not exist"):
        crowd.create_task_suites([suite("987654", 0, overlap=1)])
    with pytest.raises(InvalidInput, match="allow_defaults"):
        crowd.create_task_suites([suite(pool.id, 0)])
    with pytest.raises(InvalidInput, match="mixer"):
        crowd.create_task_suites([suite(mixer_pool.id, 0, overlap=1)])
    assert counts(crowd, "SELECT count(*) FROM crowd_task_suites") == [(0,)]
    assert counts(crowd, "SELECT count(*) FROM crowd_tasks WHERE pool_id <> :p",
                  p=int(mixer_pool.id)) == [(0,)]
    # skip_invalid_items keeps the good ones; defaults come from the pool
    report = crowd.create_task_suites([suite(pool.id, 0), suite(pool.id, 1, overlap=0)],
                                      allow_defaults=True, skip_invalid_items=True)
    assert list(report.items) == [0]
    assert list(report.validation_errors) == [1]
    assert report.items[0].overlap == 3
    # once it holds suites, the pool takes no tasks for the mixer
    with pytest.raises(InvalidInput, match="task suites"):
        crowd.create_tasks(real_tasks(pool.id, 1, overlap=1))


def test_concurrent_annotators_never_exceed_suite_overlap(crowd: Crowd,
                                                          database_url: str) -> None:
    pool = suites_pool(crowd)
    mixer_pool = suites_pool(crowd)  # a mixer pool served by the same workers at once
    crowd.create_tasks(real_tasks(mixer_pool.id, 10, overlap=2), open_pool=True)
    crowd.create_task_suites([suite(pool.id, n, overlap=OVERLAP) for n in range(SUITES)],
                             open_pool=True)
    workers = [crowd.invite_worker(f"w{i}")[0] for i in range(WORKERS)]
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()

    def label(i: int) -> None:
        engine = make_engine(database_url)
        own = Crowd(engine=engine)
        try:
            for pool_id in (pool.id, mixer_pool.id) if i % 2 else (mixer_pool.id, pool.id):
                while (view := own.request_assignment(workers[i].id, pool_id)) is not None:
                    own.submit_assignment(workers[i].id, view.id,
                                          [answer("clickbait")] * len(view.tasks))
                    with lock:
                        acknowledged.append((view.id, workers[i].id))
        finally:
            engine.dispose()

    assert _in_threads(WORKERS, label) == []
    per_suite = counts(crowd, "SELECT suite_id, count(*), count(DISTINCT worker_id) FROM "
                              "crowd_assignments WHERE pool_id = :p GROUP BY suite_id",
                       p=int(pool.id))
    assert len(per_suite) == SUITES
    assert all(n == OVERLAP and distinct == OVERLAP for _, n, distinct in per_suite)
    assert counts(crowd, "SELECT count(*) FROM crowd_task_suites WHERE issued <> :o",
                  o=OVERLAP) == [(0,)]
    frame = crowd.answers_frame(pool.id)
    assert len(frame) == SUITES * 3 * OVERLAP
    assert not frame.duplicated(["task", "worker"]).any()
    mixer_frame = crowd.answers_frame(mixer_pool.id)
    assert len(mixer_frame) == 10 * 2
    assert not mixer_frame.duplicated(["task", "worker"]).any()
    assert crowd.is_pool_complete(pool.id)
    assert crowd.is_pool_complete(mixer_pool.id)
    assert len(acknowledged) == SUITES * OVERLAP + len(
        counts(crowd, "SELECT id FROM crowd_assignments WHERE pool_id = :p",
               p=int(mixer_pool.id)))


def test_the_claim_reads_indexes_only(engine: sa.Engine) -> None:
    """The suite is picked from the index (pool, available, order, id) and "had it before"
    is looked up in the partial index of suites' assignments: no scan, no sort."""
    pick = CLAIM.split("WHERE id IN (", 1)[1].split(") AND (overlap", 1)[0].format(lock="")
    pick = pick.replace(":p", "1").replace(":yes", "true").replace(":w", "1")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + pick))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # empty tables: force the choice
            plan = " ".join(str(row) for row in conn.exec_driver_sql("EXPLAIN " + pick))
    assert "ix_crowd_task_suites_next" in plan
    assert "ix_crowd_assignments_suite" in plan
    assert "TEMP B-TREE" not in plan  # SQLite: no sort step
    assert "Sort" not in plan  # PostgreSQL: no sort step


def test_a_pool_groups_one_way_from_its_first_upload(crowd: Crowd) -> None:
    pool = suites_pool(crowd)
    with pytest.raises(InvalidInput):  # refused whole: the pool stays undecided
        crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": 5}}])
    assert crowd.get_pool(pool.id).grouping is None
    crowd.create_task_suites([suite(pool.id, 0, overlap=1)])
    assert crowd.get_pool(pool.id).grouping == "SUITES"
    # a first upload of the other kind that raced it sees the recorded choice and fails
    with crowd.engine.connect() as conn, pytest.raises(InvalidInput, match="one way"):
        claim_grouping(conn, [int(pool.id)], "MIXER")
    mixer_pool = suites_pool(crowd)
    crowd.create_tasks(real_tasks(mixer_pool.id, 1, overlap=1))
    assert crowd.get_pool(mixer_pool.id).grouping == "MIXER"
