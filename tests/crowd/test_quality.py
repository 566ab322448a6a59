"""Quality-control rules (collector -> conditions -> action) as answers arrive, on SQLite and
PostgreSQL; plus the pure figure functions."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from crowd_helpers import LABELS, answer, golden_tasks, pool_config, project_config, real_tasks

from crowdline.crowd import Crowd
from crowdline.crowd.quality import (
    conditions_hold,
    golden_set_figures,
    majority_label,
    skipped_in_row_figures,
    submit_time_figures,
    validate_quality_control,
)
from crowdline.crowd.simulate import SimulatedClock
from crowdline.errors import InvalidInput, Unsupported

BAN = {"type": "RESTRICTION_V2", "parameters": {"scope": "POOL", "duration_unit": "PERMANENT",
                                                "private_comment": "bad quality"}}


def _rule(collector: str, conditions: list[tuple[str, str, Any]], action: dict[str, Any],
          **parameters: Any) -> dict[str, Any]:
    return {"collector_config": {"type": collector, "parameters": parameters},
            "rules": [{"conditions": [{"key": k, "operator": o, "value": v}
                                      for k, o, v in conditions], "action": action}]}


def _pool(crowd: Crowd, configs: list[dict[str, Any]], *, n_real: int = 12, n_golden: int = 6,
          overlap: int = 1, golden_per_suite: int = 1, **overrides: Any) -> str:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(
        project.id, quality_control={"configs": configs},
        mixer_config={"real_tasks_count": 2, "golden_tasks_count": golden_per_suite},
        defaults={"default_overlap_for_new_tasks": overlap}, **overrides))
    crowd.create_tasks(real_tasks(pool.id, n_real) + golden_tasks(pool.id, n_golden),
                       open_pool=True)
    return pool.id


def _truth(task: dict[str, Any]) -> str | None:
    headline = task["input_values"]["headline"]
    if headline.startswith("golden "):
        return LABELS[int(headline.split()[1]) % 2]
    return None


def _label_suite(crowd: Crowd, worker_id: str, pool_id: str, *, honest: bool,
                 fixed: str | None = None) -> str | None:
    suite = crowd.request_assignment(worker_id, pool_id)
    if suite is None:
        return None
    labels = []
    for task in suite.tasks:
        true = _truth(task)
        if fixed is not None:
            labels.append(fixed)
        elif true is None:
            labels.append(LABELS[0])
        else:
            labels.append(true if honest else LABELS[1 - LABELS.index(true)])
    crowd.submit_assignment(worker_id, suite.id, [answer(x) for x in labels])
    return suite.id


# -- pure -------------------------------------------------------------------------------------


def test_figures_and_conditions_are_plain_functions() -> None:
    figures = golden_set_figures([True, False, False, False], total_answers=12)
    assert figures["golden_set_correct_answers_rate"] == 25.0
    assert figures["golden_set_answers_count"] == 4
    assert conditions_hold([{"key": "golden_set_correct_answers_rate", "operator": "LT",
                             "value": 50}], figures)
    assert not conditions_hold([{"key": "golden_set_correct_answers_rate", "operator": "LT",
                                 "value": 50}], golden_set_figures([], 0))  # no data yet
    assert majority_label(["a", "a", "b"], None) == "a"
    assert majority_label(["a", "b"], None) is None  # a tie
    assert majority_label(["a", "a", "b", "b", "c"], 3) is None
    assert skipped_in_row_figures(["SKIPPED", "SKIPPED", "SUBMITTED", "SKIPPED"]) == {
        "skipped_in_row_count": 2}
    assert submit_time_figures([1.0, 5.0, 30.0], 10)["fast_submitted_count"] == 2


def test_unsupported_rules_are_named() -> None:
    with pytest.raises(Unsupported, match="INCOME"):
        validate_quality_control({"configs": [_rule("INCOME", [], BAN)]})
    with pytest.raises(Unsupported, match="conditions\\[0\\].key"):
        validate_quality_control({"configs": [_rule("GOLDEN_SET", [("nope", "EQ", 1)], BAN)]})
    with pytest.raises(InvalidInput, match="duration_unit 'WEEKS'"):
        validate_quality_control({"configs": [_rule("GOLDEN_SET", [], {
            "type": "RESTRICTION_V2", "parameters": {"duration": 1, "duration_unit": "WEEKS"}})]})
    with pytest.raises(InvalidInput, match="from_field"):
        validate_quality_control({"configs": [_rule("GOLDEN_SET", [], {
            "type": "SET_SKILL_FROM_OUTPUT_FIELD",
            "parameters": {"skill_id": "1", "from_field": "fast_submitted_count"}})]})
    with pytest.raises(Unsupported, match="BONUS"):
        validate_quality_control({"configs": [_rule(
            "GOLDEN_SET", [], {"type": "BONUS", "parameters": {}})]})


# -- on a database ------------------------------------------------------------------------------


def test_golden_set_bans_a_spammer_and_records_why(crowd: Crowd) -> None:
    pool_id = _pool(crowd, [_rule("GOLDEN_SET", [
        ("golden_set_correct_answers_rate", "LT", 50),
        ("golden_set_answers_count", "GTE", 2)], BAN, history_size=5)])
    spammer, _ = crowd.invite_worker("spammer")
    honest, _ = crowd.invite_worker("honest")
    for _ in range(2):
        _label_suite(crowd, spammer.id, pool_id, honest=False)
        _label_suite(crowd, honest.id, pool_id, honest=True)
    assert crowd.request_assignment(spammer.id, pool_id) is None
    assert crowd.request_assignment(honest.id, pool_id) is not None
    (action,) = crowd.list_qc_actions(pool_id=pool_id)
    assert action.worker_id == spammer.id
    assert action.collector == "GOLDEN_SET"
    assert action.figures["golden_set_correct_answers_rate"] == 0.0
    assert action.figures["golden_set_answers_count"] == 2
    assert action.action["type"] == "RESTRICTION_V2"
    (ban,) = crowd.list_restrictions(worker_id=spammer.id)
    assert ban.private_comment == "bad quality"
    assert ban.will_expire is None
    stats = crowd.pool_stats(pool_id)
    assert stats["bans"][0]["qc"]["figures"]["golden_set_answers_count"] == 2
    assert stats["golden_accuracy"][honest.id]["accuracy"] == 1.0
    banned_out = crowd.answers_frame(pool_id, include_banned=False)
    assert spammer.id not in set(banned_out["worker"])


def test_skill_from_golden_rate(crowd: Crowd) -> None:
    skill = crowd.create_skill("clickbait accuracy")
    pool_id = _pool(crowd, [_rule("GOLDEN_SET", [("golden_set_answers_count", "GTE", 1)], {
        "type": "SET_SKILL_FROM_OUTPUT_FIELD",
        "parameters": {"skill_id": skill.id, "from_field": "golden_set_correct_answers_rate"}},
        history_size=10)])
    worker, _ = crowd.invite_worker("a")
    _label_suite(crowd, worker.id, pool_id, honest=True)
    _label_suite(crowd, worker.id, pool_id, honest=False)
    (value,) = crowd.get_worker_skills(worker_id=worker.id)
    assert value.exact_value == 50.0
    assert [a.action["skill_value"] for a in crowd.list_qc_actions(pool_id=pool_id)] == [
        100.0, 50.0]


def test_majority_vote_bans_who_disagrees_once_overlap_is_complete(crowd: Crowd) -> None:
    pool_id = _pool(crowd, [_rule("MAJORITY_VOTE", [
        ("correct_answers_rate", "LT", 50), ("total_answers_count", "GTE", 2)], BAN,
        answer_threshold=2, history_size=10)], n_real=4, n_golden=0, golden_per_suite=0,
        overlap=3)
    workers = [crowd.invite_worker(n)[0] for n in ("a", "b", "odd")]
    for _ in range(2):
        for worker in workers:
            _label_suite(crowd, worker.id, pool_id, honest=True,
                         fixed=LABELS[1] if worker.name == "odd" else LABELS[0])
    actions = crowd.list_qc_actions(pool_id=pool_id)
    assert [a.worker_id for a in actions] == [workers[2].id]
    assert actions[0].figures == {"total_answers_count": 2, "correct_answers_rate": 0.0,
                                  "incorrect_answers_rate": 100.0}


def test_fast_submits_get_a_ban(engine: sa.Engine) -> None:
    clock = SimulatedClock()
    crowd = Crowd(engine=engine, clock=clock)
    pool_id = _pool(crowd, [_rule("ASSIGNMENT_SUBMIT_TIME", [
        ("fast_submitted_count", "GTE", 2)], BAN, fast_submit_threshold_seconds=10,
        history_size=5)], n_golden=0, golden_per_suite=0)
    fast, _ = crowd.invite_worker("fast")
    careful, _ = crowd.invite_worker("careful")
    for _ in range(2):
        _label_suite(crowd, fast.id, pool_id, honest=True)
        suite = crowd.request_assignment(careful.id, pool_id)
        clock.advance(20)
        crowd.submit_assignment(careful.id, suite.id, [answer(LABELS[0])] * 2)
    assert [a.worker_id for a in crowd.list_qc_actions(pool_id=pool_id)] == [fast.id]
    assert crowd.request_assignment(careful.id, pool_id) is not None


def test_skipping_in_a_row_and_answer_count_limits(crowd: Crowd) -> None:
    pool_id = _pool(crowd, [
        _rule("SKIPPED_IN_ROW_ASSIGNMENTS", [("skipped_in_row_count", "GTE", 2)], BAN),
        _rule("ANSWER_COUNT", [("assignments_accepted_count", "GTE", 2)], BAN),
    ], n_real=20, n_golden=0, golden_per_suite=0)
    skipper, _ = crowd.invite_worker("skipper")
    busy, _ = crowd.invite_worker("busy")
    for _ in range(2):
        suite = crowd.request_assignment(skipper.id, pool_id)
        crowd.skip_assignment(skipper.id, suite.id)
        _label_suite(crowd, busy.id, pool_id, honest=True)
    actions = {a.worker_id: a.collector for a in crowd.list_qc_actions(pool_id=pool_id)}
    assert actions == {skipper.id: "SKIPPED_IN_ROW_ASSIGNMENTS", busy.id: "ANSWER_COUNT"}
    assert crowd.request_assignment(skipper.id, pool_id) is None
    assert crowd.request_assignment(busy.id, pool_id) is None


def test_reject_all_then_reissue_the_rejected_tasks(crowd: Crowd) -> None:
    pool_id = _pool(crowd, [
        _rule("GOLDEN_SET", [("golden_set_correct_answers_rate", "LT", 50),
                             ("golden_set_answers_count", "GTE", 1)],
              {"type": "REJECT_ALL_ASSIGNMENTS", "parameters": {"public_comment": "honeypot"}},
              history_size=5),
        {"collector_config": {"type": "ASSIGNMENTS_ASSESSMENT"}, "rules": [{
            "conditions": [{"key": "assessment_event", "operator": "EQ", "value": "REJECT"}],
            "action": {"type": "CHANGE_OVERLAP", "parameters": {"delta": 1,
                                                                "open_pool": True}}}]},
    ], n_real=2, overlap=1, auto_accept_solutions=False)
    cheat, _ = crowd.invite_worker("cheat")
    suite_id = _label_suite(crowd, cheat.id, pool_id, honest=False)
    assignment = crowd.get_assignment(suite_id)
    assert assignment.status == "REJECTED"
    assert assignment.public_comment == "honeypot"
    real_ids = {t["id"] for t in assignment.tasks if "known_solutions" not in t}
    assert {t.overlap for t in crowd.list_tasks(pool_id) if t.id in real_ids} == {2}
    other, _ = crowd.invite_worker("other")
    again = crowd.request_assignment(other.id, pool_id)
    assert {t["id"] for t in again.tasks} >= real_ids
    kinds = [a.action["type"] for a in crowd.list_qc_actions(pool_id=pool_id)]
    assert kinds == ["CHANGE_OVERLAP", "REJECT_ALL_ASSIGNMENTS"]


def test_a_banned_workers_tasks_are_issued_again(crowd: Crowd) -> None:
    pool_id = _pool(crowd, [
        _rule("GOLDEN_SET", [("golden_set_correct_answers_rate", "LT", 50),
                             ("golden_set_answers_count", "GTE", 2)], BAN, history_size=5),
        {"collector_config": {"type": "USERS_ASSESSMENT"}, "rules": [{
            "conditions": [{"key": "pool_access_revoked_reason", "operator": "EQ",
                            "value": "RESTRICTION"}],
            "action": {"type": "CHANGE_OVERLAP", "parameters": {"delta": 1}}}]},
    ], n_real=4, overlap=1)
    spammer, _ = crowd.invite_worker("spammer")
    _label_suite(crowd, spammer.id, pool_id, honest=False)
    _label_suite(crowd, spammer.id, pool_id, honest=False)
    assert crowd.list_restrictions(worker_id=spammer.id)
    assert crowd.is_pool_complete(pool_id) is False  # the spammer's 4 tasks need new answers
    honest, _ = crowd.invite_worker("honest")
    while _label_suite(crowd, honest.id, pool_id, honest=True):
        pass
    assert crowd.is_pool_complete(pool_id)
    frame = crowd.answers_frame(pool_id, include_banned=False)
    assert set(frame["worker"]) == {honest.id}
    assert len(frame) == 4


def test_approve_all_when_golden_is_good(crowd: Crowd) -> None:
    pool_id = _pool(crowd, [_rule("GOLDEN_SET", [
        ("golden_set_correct_answers_rate", "GTE", 80), ("golden_set_answers_count", "GTE", 2)],
        {"type": "APPROVE_ALL_ASSIGNMENTS", "parameters": {}}, history_size=5)],
        auto_accept_solutions=False)
    worker, _ = crowd.invite_worker("good")
    first = _label_suite(crowd, worker.id, pool_id, honest=True)
    assert crowd.get_assignment(first).status == "SUBMITTED"
    second = _label_suite(crowd, worker.id, pool_id, honest=True)
    assert {crowd.get_assignment(a).status for a in (first, second)} == {"ACCEPTED"}


def _skill_weighted_pool(crowd: Crowd, tasks: int, *, overlap: int, max_overlap: int,
                         min_confidence: float) -> tuple[str, list[dict[str, Any]], list[Any]]:
    """A one-task-per-suite pool with dynamic overlap weighted by a skill that five workers
    hold at 90; returns the pool id, its unsaved tasks, and the workers."""
    skill = crowd.create_skill("weight")
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(
        project.id, mixer_config={"real_tasks_count": 1},
        defaults={"default_overlap_for_new_tasks": overlap},
        dynamic_overlap_config={"type": "BASIC", "max_overlap": max_overlap,
                                "min_confidence": min_confidence,
                                "answer_weight_skill_id": skill.id,
                                "fields": [{"name": "category"}]}))
    workers = [crowd.invite_worker(f"w{i}")[0] for i in range(5)]
    for worker in workers:
        crowd.set_worker_skill(worker.id, skill.id, 90)
    return pool.id, real_tasks(pool.id, tasks), workers


def test_dynamic_overlap_asks_one_more_only_while_a_task_is_uncertain(crowd: Crowd) -> None:
    pytest.importorskip("crowdline.aggregate.dynamic_overlap")
    pool_id, tasks, workers = _skill_weighted_pool(crowd, 2, overlap=2, max_overlap=4,
                                                   min_confidence=0.85)
    pool = crowd.get_pool(pool_id)
    agreed, disputed = crowd.create_tasks(tasks, open_pool=True).items.values()

    def label(worker_id: str, task_id: str, value: str) -> None:
        suite = crowd.request_assignment(worker_id, pool.id)
        assert [t["id"] for t in suite.tasks] == [task_id]
        crowd.submit_assignment(worker_id, suite.id, [answer(value)])

    label(workers[0].id, agreed.id, LABELS[0])
    label(workers[1].id, agreed.id, LABELS[0])  # two 90 % workers agree: 98.8 % -> done
    assert crowd.get_task(agreed.id).overlap == 2
    label(workers[0].id, disputed.id, LABELS[0])
    label(workers[1].id, disputed.id, LABELS[1])  # a tie: one more answer is needed
    assert crowd.get_task(disputed.id).overlap == 3
    assert not crowd.is_pool_complete(pool.id)
    label(workers[2].id, disputed.id, LABELS[0])
    assert crowd.get_task(disputed.id).overlap == 3  # 2 of 3 at 90 %: 90 % >= 85 %
    assert crowd.is_pool_complete(pool.id)
    assert crowd.request_assignment(workers[3].id, pool.id) is None


def test_a_baseline_solution_votes_in_dynamic_overlap_but_only_where_given(crowd: Crowd
                                                                           ) -> None:
    """A model's vote (Toloka's baseline_solutions): people agreeing with it stop a task
    sooner than people-only; people disagreeing with it need more answers than people-only."""
    pool_id, tasks, workers = _skill_weighted_pool(crowd, 3, overlap=1, max_overlap=5,
                                                   min_confidence=0.95)
    pool = crowd.get_pool(pool_id)
    vote = [{"output_values": {"category": LABELS[0]}, "confidence_weight": 0.9}]
    tasks[0]["baseline_solutions"] = vote  # people will agree with the model
    tasks[1]["baseline_solutions"] = vote  # people will disagree with it
    # tasks[2]: an audited row, people only (tasks are issued in this order)
    agree, disagree, audit = crowd.create_tasks(tasks, open_pool=True).items.values()
    assert crowd.get_task(agree.id).baseline_solutions == vote
    assert crowd.get_task(audit.id).baseline_solutions is None

    def answers_until_done(task_id: str, value: str) -> int:
        for worker in workers:
            suite = crowd.request_assignment(worker.id, pool.id)
            assert suite is not None
            assert [t["id"] for t in suite.tasks] == [task_id]
            crowd.submit_assignment(worker.id, suite.id, [answer(value)])
            if crowd.get_task(task_id).overlap == workers.index(worker) + 1:
                return workers.index(worker) + 1
        raise AssertionError(f"task {task_id} was still uncertain after 5 answers")

    # model 0.9 and one 90 % person agree: 98.8 % >= 95 %
    assert answers_until_done(agree.id, LABELS[0]) == 1
    # against the model: 50 %, then 90 %, then 98.8 %
    assert answers_until_done(disagree.id, LABELS[1]) == 3
    # people only: one 90 % answer is 90 %; two agreeing are 98.8 %
    assert answers_until_done(audit.id, LABELS[0]) == 2
    assert crowd.is_pool_complete(pool.id)


def test_a_bad_baseline_solution_is_refused_and_nothing_is_created(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    bad = real_tasks(pool.id, 2)
    bad[0]["baseline_solutions"] = [{"output_values": {"category": LABELS[0]},
                                     "confidence_weight": 1.5}]
    bad[1]["baseline_solutions"] = [{"output_values": {"category": "maybe"},
                                     "confidence_weight": 0.7}]
    with pytest.raises(InvalidInput, match="2 of 2 tasks are not valid") as caught:
        crowd.create_tasks(bad)
    errors = caught.value.payload["validation_errors"]
    assert "number in [0, 1]" in errors["0"]["baseline_solutions[0].confidence_weight"]
    assert "maybe" in errors["1"]["baseline_solutions[0]"]
    assert crowd.count_tasks(pool.id) == 0


def test_set_skill_and_a_timed_restriction_v1(crowd: Crowd) -> None:
    skill = crowd.create_skill("flagged")
    pool_id = _pool(crowd, [
        _rule("ANSWER_COUNT", [("assignments_accepted_count", "GTE", 1)],
              {"type": "SET_SKILL", "parameters": {"skill_id": skill.id, "skill_value": 42}}),
        _rule("ANSWER_COUNT", [("assignments_accepted_count", "GTE", 2)],
              {"type": "RESTRICTION", "parameters": {"scope": "PROJECT", "duration_days": 2,
                                                     "private_comment": "enough"}}),
    ], n_golden=0, golden_per_suite=0)
    worker, _ = crowd.invite_worker("a")
    _label_suite(crowd, worker.id, pool_id, honest=True)
    assert [s.value for s in crowd.get_worker_skills(worker_id=worker.id)] == [42]
    _label_suite(crowd, worker.id, pool_id, honest=True)
    (ban,) = crowd.list_restrictions(worker_id=worker.id)
    assert ban.scope == "PROJECT"
    assert (ban.will_expire - ban.created).days == 2
    # the skill rule fired once: setting the same value again is not a new action
    kinds = [a.action["type"] for a in crowd.list_qc_actions(worker_id=worker.id)]
    assert kinds == ["SET_SKILL", "RESTRICTION"]
