"""Task and assignment searches run in SQL (filter, sort, page), with ids compared as strings
as toloka-kit compares them; the page query is an index range scan."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from toloka_projects import create_text_project

from crowdline.crowd import tables as t
from crowdline.crowd.search import TASK_FIELDS
from crowdline.crowd.toloka_backend import import_toloka

toloka = import_toloka()


def make_project(client: Any) -> Any:
    """A project of one text input and a label "a" or "b"."""
    return create_text_project(client, input_field="text", output_field="label",
                               labels=["a", "b"], name="p", description="p")


def make_pool(client: Any) -> Any:
    project = make_project(client)
    pool = toloka.Pool(project_id=project.id, private_name="p", reward_per_assignment=0.01,
                       may_contain_adult_content=False, assignment_max_duration_seconds=60,
                       defaults=toloka.Pool.Defaults(default_overlap_for_new_tasks=1))
    pool.set_mixer_config(real_tasks_count=1)
    return client.create_pool(pool)


def test_pages_of_tasks_and_assignments(toloka_server: Any) -> None:
    client = toloka_server.client()
    pool = make_pool(client)
    other = make_pool(client)
    # 25 tasks: ids cross a digit boundary, where string and number order differ
    created = client.create_tasks([toloka.Task(pool_id=pool.id, input_values={"text": str(i)})
                                   for i in range(25)], allow_defaults=True, open_pool=True)
    assert len(created.items) == 25  # toloka-kit fetches them back by string id range
    client.create_tasks([toloka.Task(pool_id=other.id, input_values={"text": "x"})],
                        allow_defaults=True)
    paged = [task.id for task in client.get_tasks(pool_id=pool.id, batch_size=7)]
    assert paged == sorted(paged)  # string order, as toloka-kit pages
    assert sorted(paged, key=int) == sorted((t.id for t in created.items.values()), key=int)
    newest = client.find_tasks(pool_id=pool.id, sort=["-id"], limit=3)
    assert [task.id for task in newest.items] == sorted(paged, reverse=True)[:3]
    assert newest.has_more
    crowd = toloka_server.workspace.crowd
    worker, _ = crowd.invite_worker("w")
    for _ in range(12):
        suite = crowd.request_assignment(worker.id, pool.id)
        crowd.submit_assignment(worker.id, suite.id, [{"output_values": {"label": "a"}}])
    assignments = list(client.get_assignments(pool_id=pool.id, status="ACCEPTED",
                                              batch_size=5))
    assert len(assignments) == 12
    by_task = client.find_assignments(task_id=assignments[0].tasks[0].id)
    assert [a.id for a in by_task.items] == [assignments[0].id]


def test_a_page_is_an_index_range_scan(toloka_server: Any) -> None:
    engine = toloka_server.workspace.engine
    query = (sa.select(t.tasks).where(TASK_FIELDS["pool_id"] == 1, TASK_FIELDS["id"] > "123")
             .order_by(TASK_FIELDS["id"]).limit(51))
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: force the choice
            plan = " ".join(str(row) for row in conn.exec_driver_sql("EXPLAIN " + sql))
    assert "ix_crowd_tasks_pool_idtext" in plan
