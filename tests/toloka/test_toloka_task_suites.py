"""Requester-made task suites through the real toloka-kit client against a real server: create
(single, batch, sync and async), get, find / get with filters, sort and paging, patch,
patch_task_suite_overlap_or_min; annotators work the pool over the annotator API until it
completes; assignments name their suites; aggregation runs on the answers; bad input gets
Toloka's error body and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from test_toloka_paging import make_project

from crowdline.crowd.toloka_backend import import_toloka

toloka = import_toloka()
toloka_errors = toloka.exceptions
TRUTH = {f"item {i}": "a" if i % 3 else "b" for i in range(12)}
ANSWERS = {**TRUTH, "gold": "a"}  # what the annotators answer; "gold" is a control task


def make_pool(client: Any, *, mixer: bool = False) -> Any:
    project = make_project(client)
    pool = toloka.Pool(project_id=project.id, private_name="suites", reward_per_assignment=0.01,
                       may_contain_adult_content=False, assignment_max_duration_seconds=60,
                       defaults=toloka.Pool.Defaults(default_overlap_for_new_task_suites=2,
                                                     default_overlap_for_new_tasks=1))
    if mixer:
        pool.set_mixer_config(real_tasks_count=1)
    return client.create_pool(pool)


def task_suite(pool_id: str, texts: list[str], **extra: Any) -> Any:
    return toloka.TaskSuite(pool_id=pool_id, tasks=[
        toloka.task.BaseTask(input_values={"text": text}) for text in texts], **extra)


def work_until_done(url: str, tokens: dict[str, str], pool_id: str) -> list[str]:
    """Every annotator asks for suites until the pool has none for them; returns the suite
    views' task ids in the order each view listed them."""
    seen = []
    active = dict(tokens)
    while active:
        for name, token in list(active.items()):
            headers = {"Authorization": f"Bearer {token}"}
            base = f"{url}/api/annotator/v1/assignments"
            response = httpx.post(f"{base}/next", json={"pool_id": pool_id},
                                  headers=headers, timeout=30)
            if response.status_code == 204:
                del active[name]
                continue
            assert response.status_code == 200, response.text
            view = response.json()
            assert all("known_solutions" not in task for task in view["tasks"])
            seen.append([task["id"] for task in view["tasks"]])
            solutions = [{"output_values": {"label": ANSWERS[task["input_values"]["text"]]}}
                         for task in view["tasks"]]
            done = httpx.post(f"{base}/{view['id']}/submit", json={"solutions": solutions},
                              headers=headers, timeout=30)
            assert done.status_code == 200, done.text
    return seen


def test_suites_through_the_client_until_the_pool_completes(toloka_server: Any) -> None:
    client = toloka_server.client()
    pool = make_pool(client)
    texts = sorted(TRUTH)
    single = client.create_task_suite(task_suite(pool.id, texts[:3], overlap=3))
    assert (single.pool_id, single.overlap, single.remaining_overlap) == (pool.id, 3, 3)
    assert [task.input_values["text"] for task in single.tasks] == texts[:3]
    golden = task_suite(pool.id, texts[3:5])
    golden.tasks.append(toloka.task.BaseTask(
        input_values={"text": "gold"},
        known_solutions=[toloka.task.BaseTask.KnownSolution(output_values={"label": "a"})]))
    batch = client.create_task_suites(
        [golden, task_suite(pool.id, texts[5:8], issuing_order_override=10),
         task_suite(pool.id, texts[8:], overlap=1)], allow_defaults=True, open_pool=True)
    made = [batch.items[str(i)] for i in range(3)]
    assert [suite.overlap for suite in made] == [2, 2, 1]  # defaults from the pool
    assert made[0].tasks[2].known_solutions[0].output_values == {"label": "a"}
    assert client.get_pool(pool.id).status.value == "OPEN"
    # the sync batch path (async_mode=False) answers the same shape
    sync = client.create_task_suites([task_suite(pool.id, ["item 0"], overlap=1)],
                                     async_mode=False)
    assert sync.items["0"].tasks[0].input_values == {"text": "item 0"}

    got = client.get_task_suite(made[1].id)
    assert got.issuing_order_override == 10
    assert len(got.tasks) == 3
    ids = [suite.id for suite in client.get_task_suites(pool_id=pool.id, batch_size=2)]
    assert len(ids) == 5
    assert ids == sorted(ids)
    newest = client.find_task_suites(pool_id=pool.id, sort=["-created", "-id"], limit=2)
    assert [s.id for s in newest.items] == sorted(ids, key=int, reverse=True)[:2]
    assert newest.has_more
    assert {s.id for s in client.get_task_suites(pool_id=pool.id, overlap=2)} == \
        {made[0].id, made[1].id}
    assert [s.id for s in client.get_task_suites(pool_id=pool.id, overlap_gte=3)] == \
        [single.id]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert len(list(client.get_task_suites(pool_id=pool.id, created_gt=past))) == 5
    by_task = client.find_task_suites(task_id=made[2].tasks[0].id)
    assert [s.id for s in by_task.items] == [made[2].id]

    patched = client.patch_task_suite(made[2].id, overlap=2, issuing_order_override=-1.5)
    assert (patched.overlap, patched.issuing_order_override) == (2, -1.5)
    stopped = client.patch_task_suite_overlap_or_min(sync.items["0"].id, overlap=0)
    assert (stopped.overlap, stopped.remaining_overlap) == (0, 0)

    crowd = toloka_server.workspace.crowd
    tokens = {}
    for name in ("ann", "bob", "cat", "dan"):
        _, tokens[name] = crowd.invite_worker(name)
    views = work_until_done(toloka_server.url, tokens, pool.id)
    by_suite = {s.id: [t.id for t in s.tasks] for s in client.get_task_suites(pool_id=pool.id)}
    assert sorted(map(sorted, views)) == sorted(
        sorted(tasks) for suite_id, tasks in by_suite.items()
        for _ in range({single.id: 3, made[0].id: 2, made[1].id: 2,
                        made[2].id: 2}.get(suite_id, 0)))
    assert views[0] == by_suite[made[1].id]  # the highest issuing_order_override first
    assert client.get_pool(pool.id).is_closed()  # complete: it closed itself

    assignments = list(client.get_assignments(pool_id=pool.id))
    assert len(assignments) == 9
    assert {a.task_suite_id for a in assignments} == set(by_suite) - {sync.items["0"].id}
    for assignment in assignments:
        assert [t.id for t in assignment.tasks] == by_suite[assignment.task_suite_id]
    one = client.find_assignments(task_suite_id=single.id)
    assert len(one.items) == 3
    assert len({a.user_id for a in one.items}) == 3
    op = client.wait_operation(client.aggregate_solutions_by_pool(
        type=toloka.aggregation.AggregatedSolutionType.DAWID_SKENE, pool_id=pool.id,
        fields=[toloka.aggregation.PoolAggregatedSolutionRequest.Field(name="label")]),
        disable_progress=True)
    assert op.status.value == "SUCCESS"
    labels = {s.task_id: s.output_values["label"]
              for s in client.get_aggregated_solutions(op.id)}
    text_of = {t.id: t.input_values["text"] for s in client.get_task_suites(pool_id=pool.id)
               for t in s.tasks}
    answered = {t for suite_id, tasks in by_suite.items() if suite_id != sync.items["0"].id
                for t in tasks if text_of[t] != "gold"}
    assert set(labels) == answered
    assert all(labels[t] == TRUTH[text_of[t]] for t in labels)


def test_bad_suites_get_tolokas_error_and_change_nothing(toloka_server: Any) -> None:
    client = toloka_server.client()
    pool = make_pool(client)
    other = make_pool(client)
    mixer_pool = make_pool(client, mixer=True)
    client.create_tasks([toloka.Task(pool_id=mixer_pool.id, input_values={"text": "x"})],
                        allow_defaults=True)
    bad = {
        "empty": (toloka.TaskSuite(pool_id=pool.id, tasks=[], overlap=1), "tasks"),
        "other pool": (toloka.TaskSuite(pool_id=pool.id, overlap=1, tasks=[toloka.Task(
            pool_id=other.id, input_values={"text": "x"})]), "tasks[0].pool_id"),
        "unknown pool": (task_suite("987654", ["x"], overlap=1), "pool_id"),
        "negative overlap": (task_suite(pool.id, ["x"], overlap=-1), "overlap"),
        "mixer pool": (task_suite(mixer_pool.id, ["x"], overlap=1), "pool_id"),
        "reserved_for": (task_suite(pool.id, ["x"], overlap=1, reserved_for=["1"]),
                         "reserved_for"),
    }
    for case, (item, field) in bad.items():
        for async_mode in (True, False):
            with pytest.raises(toloka_errors.ValidationApiError) as refused:
                client.create_task_suites([task_suite(pool.id, ["fine"], overlap=1), item],
                                          async_mode=async_mode)
            assert field in str(refused.value.payload), (case, async_mode)
    assert client.find_task_suites(pool_id=pool.id).items == []
    assert client.get_pool(other.id).status.value == "CLOSED"
    # skip_invalid_items: the valid ones are made, the invalid ones reported by position
    made = client.create_task_suites(
        [task_suite(pool.id, ["fine"], overlap=1), task_suite(pool.id, ["y"], overlap=-1)],
        skip_invalid_items=True, async_mode=False)
    assert list(made.items) == ["0"]
    assert list(made.validation_errors) == ["1"]
    # the message says what is wrong, over plain HTTP too
    response = httpx.post(f"{toloka_server.url}/api/v1/task-suites",
                          json={"pool_id": pool.id, "tasks": [], "overlap": 1},
                          headers={"Authorization": f"OAuth {toloka_server.token}"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert "non-empty list of tasks" in body["message"]
    suite_id = made.items["0"].id
    with pytest.raises(toloka_errors.ValidationApiError, match="overlap"):
        client.patch_task_suite_overlap_or_min(suite_id, overlap=-1)
    with pytest.raises(toloka_errors.ValidationApiError, match="overlap"):
        client.patch_task_suite(suite_id, overlap=0)
    with pytest.raises(toloka_errors.DoesNotExistApiError):
        client.get_task_suite("999999")
    with pytest.raises(toloka_errors.ValidationApiError, match="pool_id or task_id"):
        client.find_task_suites()
    with pytest.raises(toloka_errors.ValidationApiError, match="task suite"):
        client.patch_task(made.items["0"].tasks[0].id, overlap=4)
    with pytest.raises(toloka_errors.ValidationApiError, match="task suites"):
        client.create_tasks([toloka.Task(pool_id=pool.id, input_values={"text": "z"})],
                            allow_defaults=True)
    assert client.get_task_suite(suite_id).overlap == 1  # the refusals changed nothing
