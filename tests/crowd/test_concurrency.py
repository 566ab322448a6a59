"""Real concurrency: threads, each with its own engine (its own connections), labeling one pool
on SQLite and PostgreSQL; then the database is checked against the guarantees."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from crowd_helpers import answer, golden_tasks, pool_config, project_config, real_tasks

from crowdline.crowd import Crowd
from crowdline.database import make_engine

WORKERS = 12
TASKS = 40
OVERLAP = 3


def _in_threads(count: int, target: Callable[[int], Any]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_annotators_never_exceed_overlap_and_lose_nothing(
        crowd: Crowd, database_url: str) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id, mixer_config={
        "real_tasks_count": 2, "golden_tasks_count": 1}, defaults={
        "default_overlap_for_new_tasks": OVERLAP}))
    crowd.create_tasks(real_tasks(pool.id, TASKS) + golden_tasks(pool.id, 10), open_pool=True)
    workers = [crowd.invite_worker(f"w{i}")[0] for i in range(WORKERS)]
    acknowledged: list[tuple[str, str, list[str]]] = []
    lock = threading.Lock()

    def label(i: int) -> None:
        engine = make_engine(database_url)
        own = Crowd(engine=engine)
        worker = workers[i]
        try:
            while (suite := own.request_assignment(worker.id, pool.id)) is not None:
                labels = ["clickbait" if (i + n) % 3 else "notclickbait"
                          for n in range(len(suite.tasks))]
                own.submit_assignment(worker.id, suite.id, [answer(x) for x in labels],
                                      idempotency_key=f"{suite.id}-once")
                with lock:  # only what the facade acknowledged (returned) is recorded
                    acknowledged.append((suite.id, worker.id, labels))
        finally:
            engine.dispose()

    assert _in_threads(WORKERS, label) == []
    with crowd.engine.connect() as conn:
        over = conn.execute(sa.text(
            "SELECT a.task_id, count(*) FROM crowd_answers a JOIN crowd_tasks t ON "
            "t.id = a.task_id JOIN crowd_assignments s ON s.id = a.assignment_id "
            "WHERE t.kind = 'REAL' AND s.status <> 'EXPIRED' AND s.status <> 'SKIPPED' "
            "GROUP BY a.task_id HAVING count(*) <> :overlap"), {"overlap": OVERLAP}).all()
        assert over == []  # every real task got exactly its overlap, never more
        issued = conn.execute(sa.text(
            "SELECT count(*) FROM crowd_tasks WHERE kind = 'REAL' AND issued <> :o"),
            {"o": OVERLAP}).scalar_one()
        assert issued == 0
    frame = crowd.answers_frame(pool.id, include_golden=True)
    stored = {(row.assignment, row.worker) for row in frame.itertuples()}
    assert {(a, w) for a, w, _ in acknowledged} == stored
    for assignment_id, _, labels in acknowledged:
        solutions = crowd.get_assignment(assignment_id).solutions
        assert [s["output_values"]["category"] for s in solutions] == labels
    assert len(frame[~frame["is_golden"]]) == TASKS * OVERLAP
    assert not frame.duplicated(["task", "worker"]).any()
    assert crowd.is_pool_complete(pool.id)


def test_two_tabs_of_one_worker_get_one_suite_and_one_submit(crowd: Crowd,
                                                            database_url: str) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    crowd.create_tasks(real_tasks(pool.id, 10), open_pool=True)
    worker, _ = crowd.invite_worker("tabs")
    suites: list[str] = []
    results: list[Any] = []

    def fetch(_: int) -> None:
        engine = make_engine(database_url)
        try:
            suites.append(Crowd(engine=engine).request_assignment(worker.id, pool.id).id)
        finally:
            engine.dispose()

    assert _in_threads(4, fetch) == []
    assert len(set(suites)) == 1

    def submit(_: int) -> None:
        engine = make_engine(database_url)
        try:
            results.append(Crowd(engine=engine).submit_assignment(
                worker.id, suites[0], [answer("clickbait")] * 2, idempotency_key="same"))
        finally:
            engine.dispose()

    assert _in_threads(4, submit) == []
    assert len({r.status for r in results}) == 1
    assert len(crowd.answers_frame(pool.id)) == 2


def test_no_more_tasks_is_never_said_while_tasks_are_left(crowd: Crowd, database_url: str) -> None:
    # overlap = number of workers: each worker must label every task, so a worker told
    # "nothing left" while other requests briefly hold the free tasks leaves slots empty
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id, mixer_config={"real_tasks_count": 1},
                                         defaults={"default_overlap_for_new_tasks": 6}))
    crowd.create_tasks(real_tasks(pool.id, 15), open_pool=True)
    workers = [crowd.invite_worker(f"w{i}")[0] for i in range(6)]

    def label(i: int) -> None:
        engine = make_engine(database_url)
        own = Crowd(engine=engine)
        try:
            while (suite := own.request_assignment(workers[i].id, pool.id)) is not None:
                own.submit_assignment(workers[i].id, suite.id, [answer("clickbait")])
        finally:
            engine.dispose()

    assert _in_threads(6, label) == []
    assert len(crowd.answers_frame(pool.id)) == 15 * 6
    assert crowd.is_pool_complete(pool.id)
