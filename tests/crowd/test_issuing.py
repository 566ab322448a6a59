"""Issuing guarantees on SQLite and PostgreSQL: overlap, one task per worker once, control tasks
once per worker, expiry back to the queue, bans, filters, bad submissions change nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa
from crowd_helpers import LABELS, answer, golden_tasks, pool_config, project_config, real_tasks

from crowdline.crowd import Crowd
from crowdline.crowd.simulate import SimulatedClock
from crowdline.errors import (
    AssignmentExpired,
    AssignmentNotActive,
    AssignmentNotFound,
    InvalidInput,
    NotYourAssignment,
    PoolClosed,
    UnknownLabel,
)


def _open_pool(crowd: Crowd, n_real: int = 4, n_golden: int = 0, overlap: int = 2,
               **pool_overrides) -> str:
    project = crowd.create_project(project_config())
    mixer = {"real_tasks_count": 2, "golden_tasks_count": 1 if n_golden else 0}
    pool = crowd.create_pool(pool_config(project.id, mixer_config=mixer, defaults={
        "default_overlap_for_new_tasks": overlap}, **pool_overrides))
    crowd.create_tasks(real_tasks(pool.id, n_real) + golden_tasks(pool.id, n_golden),
                       open_pool=True)
    return pool.id


def _snapshot(engine: sa.Engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {name: sorted(map(tuple, conn.execute(sa.text(f"SELECT * FROM {name}")).all()),
                             key=repr)
                for name in ("crowd_tasks", "crowd_assignments", "crowd_answers",
                             "crowd_qc_actions", "crowd_restrictions")}


def test_a_task_never_goes_beyond_its_overlap_nor_twice_to_a_worker(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=5, overlap=2)
    workers = [crowd.invite_worker(f"w{i}")[0] for i in range(4)]
    served: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    for _ in range(10):
        for worker in workers:
            suite = crowd.request_assignment(worker.id, pool_id)
            if suite is None:
                continue
            for task in suite.tasks:
                assert (task["id"], worker.id) not in seen
                seen.add((task["id"], worker.id))
                served[task["id"]] += 1
            crowd.submit_assignment(worker.id, suite.id, [answer("clickbait")] * len(suite.tasks))
    assert served == {str(t.id): 2 for t in crowd.list_tasks(pool_id)}
    assert crowd.is_pool_complete(pool_id)
    assert all(crowd.request_assignment(w.id, pool_id) is None for w in workers)


def test_control_tasks_reach_each_worker_once_and_stop_the_worker(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=30, n_golden=3, overlap=1)
    worker, _ = crowd.invite_worker("ann")
    golden_ids = {t.id for t in crowd.list_tasks(pool_id) if t.known_solutions}
    seen_golden = []
    while (suite := crowd.request_assignment(worker.id, pool_id)) is not None:
        seen_golden += [t["id"] for t in suite.tasks if t["id"] in golden_ids]
        assert all("known_solutions" not in t for t in suite.tasks)
        crowd.submit_assignment(worker.id, suite.id, [answer("clickbait")] * len(suite.tasks))
    # one control task per suite and each once: three suites, then no more for this worker
    assert sorted(seen_golden) == sorted(golden_ids)
    other, _ = crowd.invite_worker("bob")
    assert crowd.request_assignment(other.id, pool_id) is not None


def test_annotator_view_carries_no_golden_answer(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=2, n_golden=2)
    worker, _ = crowd.invite_worker("ann")
    suite = crowd.request_assignment(worker.id, pool_id)
    view = suite.to_dict()
    assert "known_solutions" not in repr(view)
    assert any("golden" in t["input_values"]["headline"] for t in view["tasks"])
    # a task shows its id and input values, nothing else
    assert all(set(t) == {"id", "input_values"} for t in view["tasks"])


def test_expired_suites_go_back_to_the_queue(engine: sa.Engine) -> None:
    clock = SimulatedClock()
    crowd = Crowd(engine=engine, clock=clock)
    pool_id = _open_pool(crowd, n_real=2, overlap=1)
    first, _ = crowd.invite_worker("slow")
    second, _ = crowd.invite_worker("next")
    suite = crowd.request_assignment(first.id, pool_id)
    assert crowd.request_assignment(second.id, pool_id) is None  # all slots are taken
    clock.advance(121)
    with pytest.raises(AssignmentExpired):
        crowd.submit_assignment(first.id, suite.id, [answer("clickbait")] * 2)
    again = crowd.request_assignment(second.id, pool_id)
    assert again is not None
    assert sorted(t["id"] for t in again.tasks) == sorted(t["id"] for t in suite.tasks)
    assert crowd.get_assignment(suite.id).status == "EXPIRED"
    # the slow worker does not get the same tasks again
    assert crowd.request_assignment(first.id, pool_id) is None


def test_skip_returns_tasks_to_others(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=2, overlap=1)
    first, _ = crowd.invite_worker("a")
    second, _ = crowd.invite_worker("b")
    suite = crowd.request_assignment(first.id, pool_id)
    assert crowd.skip_assignment(first.id, suite.id).status == "SKIPPED"
    assert crowd.request_assignment(second.id, pool_id) is not None


def test_a_reload_gets_the_same_active_suite(crowd: Crowd) -> None:
    _open_pool(crowd, n_real=6)
    worker, _ = crowd.invite_worker("a")
    assert crowd.request_assignment(worker.id).id == crowd.request_assignment(worker.id).id


def test_bad_submissions_are_refused_and_change_nothing(crowd: Crowd, engine: sa.Engine) -> None:
    pool_id = _open_pool(crowd, n_real=4, overlap=2)
    owner, _ = crowd.invite_worker("owner")
    stranger, _ = crowd.invite_worker("stranger")
    suite = crowd.request_assignment(owner.id, pool_id)
    before = _snapshot(engine)
    with pytest.raises(UnknownLabel) as excinfo:
        crowd.submit_assignment(owner.id, suite.id, [answer("maybe"), answer("clickbait")])
    assert excinfo.value.http_status == 400
    with pytest.raises(InvalidInput):
        crowd.submit_assignment(owner.id, suite.id, [answer("clickbait")])  # one short
    with pytest.raises(NotYourAssignment) as excinfo:
        crowd.submit_assignment(stranger.id, suite.id, [answer("clickbait")] * 2)
    assert excinfo.value.http_status == 403
    with pytest.raises(AssignmentNotFound):
        crowd.submit_assignment(owner.id, "999999", [answer("clickbait")] * 2)
    with pytest.raises(NotYourAssignment):
        crowd.skip_assignment(stranger.id, suite.id)
    assert _snapshot(engine) == before
    crowd.submit_assignment(owner.id, suite.id, [answer("clickbait")] * 2)
    after_submit = _snapshot(engine)
    with pytest.raises(AssignmentNotActive) as excinfo:
        crowd.submit_assignment(owner.id, suite.id, [answer("notclickbait")] * 2)
    assert excinfo.value.http_status == 409
    assert _snapshot(engine) == after_submit


def test_a_retried_submit_with_the_same_key_is_accepted_once(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=4, overlap=1)
    worker, _ = crowd.invite_worker("a")
    suite = crowd.request_assignment(worker.id, pool_id)
    first = crowd.submit_assignment(worker.id, suite.id, [answer("clickbait")] * 2,
                                    idempotency_key="k-1")
    again = crowd.submit_assignment(worker.id, suite.id, [answer("clickbait")] * 2,
                                    idempotency_key="k-1")
    assert again == first
    assert len(crowd.answers_frame(pool_id)) == 2
    with pytest.raises(AssignmentNotActive):
        crowd.submit_assignment(worker.id, suite.id, [answer("clickbait")] * 2,
                                idempotency_key="k-2")


@pytest.mark.parametrize("scope", ["POOL", "PROJECT", "ALL_PROJECTS"])
def test_a_banned_worker_gets_nothing_from_the_bans_scope(crowd: Crowd, scope: str) -> None:
    pool_id = _open_pool(crowd, n_real=6)
    pool = crowd.get_pool(pool_id)
    sibling = crowd.create_pool(pool_config(pool.project_id))
    crowd.create_tasks(real_tasks(sibling.id, 4), open_pool=True)
    worker, _ = crowd.invite_worker("banned")
    restriction = crowd.set_restriction(worker.id, scope, pool_id=pool_id,
                                        project_id=pool.project_id, private_comment="spam")
    assert crowd.request_assignment(worker.id, pool_id) is None
    other = crowd.request_assignment(worker.id)
    if scope == "POOL":
        assert other is not None
        assert other.pool_id == sibling.id
    else:
        assert other is None
    crowd.delete_restriction(restriction.id)
    assert crowd.request_assignment(worker.id, pool_id) is not None


def test_a_ban_with_a_duration_ends(engine: sa.Engine) -> None:
    clock = SimulatedClock()
    crowd = Crowd(engine=engine, clock=clock)
    pool_id = _open_pool(crowd, n_real=4)
    worker, _ = crowd.invite_worker("a")
    crowd.set_restriction(worker.id, "POOL", pool_id=pool_id, duration_seconds=60)
    assert crowd.request_assignment(worker.id, pool_id) is None
    # restrictions expire on the wall clock; a real minute is not waited for here, so check
    # the stored expiry instead
    (restriction,) = crowd.list_restrictions(worker_id=worker.id)
    assert restriction.will_expire - restriction.created == dt.timedelta(seconds=60)


def test_skill_filters_and_priorities_choose_the_pool(crowd: Crowd) -> None:
    skill = crowd.create_skill("accuracy")
    project = crowd.create_project(project_config())
    expert_pool = crowd.create_pool(pool_config(project.id, priority=10, filter={
        "and": [{"category": "skill", "key": skill.id, "operator": "GTE", "value": 80}]}))
    open_pool = crowd.create_pool(pool_config(project.id, priority=0))
    crowd.create_tasks(real_tasks(expert_pool.id, 2) + real_tasks(open_pool.id, 2),
                       open_pool=True)
    novice, _ = crowd.invite_worker("novice")
    expert, _ = crowd.invite_worker("expert")
    crowd.set_worker_skill(expert.id, skill.id, 90)
    assert crowd.request_assignment(novice.id).pool_id == open_pool.id
    assert crowd.request_assignment(expert.id).pool_id == expert_pool.id
    assert crowd.request_assignment(novice.id, expert_pool.id) is None


def test_closed_pools_issue_nothing_and_archived_pools_refuse_tasks(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=2)
    worker, _ = crowd.invite_worker("a")
    crowd.close_pool(pool_id)
    assert crowd.request_assignment(worker.id, pool_id) is None
    crowd.archive_pool(pool_id)
    with pytest.raises(InvalidInput):
        crowd.create_tasks(real_tasks(pool_id, 1))
    with pytest.raises(PoolClosed):
        crowd.open_pool(pool_id)


def test_manual_review_accepts_and_rejects(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=4, overlap=1, auto_accept_solutions=False)
    worker, _ = crowd.invite_worker("a")
    first = crowd.request_assignment(worker.id, pool_id)
    assert crowd.submit_assignment(worker.id, first.id, [answer(LABELS[0])] * 2).status == \
        "SUBMITTED"
    second = crowd.request_assignment(worker.id, pool_id)
    crowd.submit_assignment(worker.id, second.id, [answer(LABELS[1])] * 2)
    with pytest.raises(InvalidInput):
        crowd.reject_assignment(first.id, "")
    assert crowd.accept_assignment(first.id).status == "ACCEPTED"
    rejected = crowd.reject_assignment(second.id, "wrong on purpose")
    assert rejected.status == "REJECTED"
    assert rejected.public_comment == "wrong on purpose"
    assert set(crowd.answers_frame(pool_id)["assignment"]) == {first.id}
    with pytest.raises(AssignmentNotActive):
        crowd.accept_assignment(second.id)
    statuses = {a.id: a.status for a in crowd.list_assignments(pool_id=pool_id)}
    assert statuses == {first.id: "ACCEPTED", second.id: "REJECTED"}


def test_a_pool_past_its_will_expire_issues_nothing(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=2, will_expire="2000-01-01T00:00:00")
    worker, _ = crowd.invite_worker("late")
    assert crowd.get_pool(pool_id).to_dict()["will_expire"] == "2000-01-01T00:00:00.000"
    assert crowd.request_assignment(worker.id, pool_id) is None
    with pytest.raises(InvalidInput, match="will_expire"):
        _open_pool(crowd, will_expire="next tuesday")


def test_expire_overdue_and_raising_a_tasks_overlap_requeue_it(crowd: Crowd) -> None:
    pool_id = _open_pool(crowd, n_real=2, overlap=1)
    first, second, third = (crowd.invite_worker(n)[0] for n in ("a", "b", "c"))
    suite = crowd.request_assignment(first.id, pool_id)
    assert crowd.expire_overdue() == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=121)
    assert crowd.expire_overdue(now=later) == 1
    assert crowd.get_assignment(suite.id).status == "EXPIRED"
    again = crowd.request_assignment(second.id, pool_id)
    crowd.submit_assignment(second.id, again.id, [answer("clickbait")] * 2)
    assert crowd.is_pool_complete(pool_id)
    task_id = again.tasks[0]["id"]
    assert crowd.set_task_overlap(task_id, 2).overlap == 2
    assert not crowd.is_pool_complete(pool_id)
    assert [t["id"] for t in crowd.request_assignment(third.id, pool_id).tasks] == [task_id]
    with pytest.raises(InvalidInput):
        crowd.set_task_overlap(task_id, 0)
