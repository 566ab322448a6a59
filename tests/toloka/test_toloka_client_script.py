"""The real toloka-kit 1.2.3 client runs a seed-style requester script against crowdline.

project -> skill -> pool with QC rules, mixer and a skill filter -> tasks + control tasks ->
open -> simulated annotators label over the annotator HTTP API -> the spammer is banned by
the golden-set rule -> accept / reject -> get_assignments_df -> aggregation by the server and
by crowdline.aggregate -> close, archive, clone. Every result is checked.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import time
from typing import Any

import httpx
import pandas as pd
import pytest

from crowdline.crowd.operations import Operations
from crowdline.crowd.toloka_backend import import_toloka

toloka = import_toloka()
from toloka.client import actions, collectors, conditions  # noqa: E402
from toloka.client import exceptions as toloka_errors  # noqa: E402
from toloka.client.aggregation import AggregatedSolutionType  # noqa: E402

LABELS = ("clickbait", "notclickbait")
N_REAL, N_GOLDEN = 20, 8


def headlines() -> tuple[dict[str, str], dict[str, str]]:
    """Real headlines with their (hidden) truth, and control headlines with known answers."""
    real = {f"You won't believe fact number {i}" if i % 2 else f"Council approves budget {i}":
            ("clickbait" if i % 2 else "notclickbait") for i in range(N_REAL)}
    # Every control answer is "notclickbait": a worker who always says clickbait fails them.
    golden = {f"Parliament passes bill {i}": "notclickbait" for i in range(N_GOLDEN)}
    return real, golden


def make_project() -> Any:
    return toloka.Project(
        public_name="Is this headline clickbait?",
        public_description="Read a news headline and say whether it is clickbait.",
        public_instructions="<p>Clickbait teases instead of informing.</p>",
        task_spec=toloka.project.task_spec.TaskSpec(
            input_spec={"headline": toloka.project.StringSpec()},
            output_spec={"category": toloka.project.StringSpec(allowed_values=list(LABELS))},
            view_spec=toloka.project.TemplateBuilderViewSpec(
                view=toloka.project.template_builder.TextViewV1(
                    toloka.project.template_builder.InputData("headline"))),
        ),
    )


def make_pool(project_id: str, skill_id: str) -> Any:
    pool = toloka.Pool(
        project_id=project_id,
        private_name="clickbait batch 1",
        may_contain_adult_content=False,
        will_expire=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=30),
        reward_per_assignment=0.01,
        assignment_max_duration_seconds=600,
        auto_accept_solutions=False,
        defaults=toloka.Pool.Defaults(default_overlap_for_new_task_suites=3,
                                      default_overlap_for_new_tasks=3),
        filter=toloka.filter.Skill(skill_id) >= 50,
    )
    pool.set_mixer_config(real_tasks_count=4, golden_tasks_count=1, training_tasks_count=0)
    pool.quality_control.add_action(
        collector=collectors.GoldenSet(history_size=10),
        conditions=[conditions.GoldenSetAnswersCount >= 2,
                    conditions.GoldenSetCorrectAnswersRate < 50],
        action=actions.RestrictionV2(scope="PROJECT", duration=1, duration_unit="DAYS",
                                     private_comment="golden set accuracy below 50%"),
    )
    pool.quality_control.add_action(
        collector=collectors.AssignmentSubmitTime(history_size=100,
                                                  fast_submit_threshold_seconds=1),
        conditions=[conditions.FastSubmittedCount > 1000],
        action=actions.RestrictionV2(scope="POOL", duration=1, duration_unit="HOURS",
                                     private_comment="too fast"),
    )
    pool.quality_control.add_action(
        collector=collectors.MajorityVote(answer_threshold=2, history_size=10),
        conditions=[conditions.TotalAnswersCount >= 1000, conditions.CorrectAnswersRate < 1],
        action=actions.RestrictionV2(scope="POOL", duration=1, duration_unit="HOURS",
                                     private_comment="disagrees with the majority"),
    )
    pool.quality_control.add_action(
        collector=collectors.SkippedInRowAssignments(),
        conditions=[conditions.SkippedInRowCount >= 3],
        action=actions.RestrictionV2(scope="POOL", duration=1, duration_unit="HOURS",
                                     private_comment="skipped 3 in a row"),
    )
    return pool


class SimulatedCrowd:
    """Annotators working over the annotator HTTP API, as the web UI does."""

    def __init__(self, crowd: Any, url: str, truth: dict[str, str]) -> None:
        self.crowd = crowd
        self.url = url
        self.truth = truth
        self.tokens: dict[str, str] = {}
        # one connection pool: a client per request builds a TLS context (~0.1 s of CPU)
        self.http = httpx.Client(base_url=f"{url}/api/annotator/v1/assignments", timeout=30)

    def invite(self, name: str) -> str:
        worker, token = self.crowd.invite_worker(name)
        self.tokens[name] = token
        return str(worker.id)

    def answer(self, name: str, headline: str, rng: random.Random) -> str:
        if name == "spammer":
            return "clickbait"
        right = self.truth[headline]
        if rng.random() < 0.9:
            return right
        return next(label for label in LABELS if label != right)

    def _post(self, name: str, path: str, body: dict[str, Any]) -> httpx.Response:
        response = self.http.post(f"/{path}", json=body,
                                  headers={"Authorization": f"Bearer {self.tokens[name]}"})
        assert response.status_code in (200, 204), response.text
        return response

    def work(self, pool_id: str, names: list[str], *, skipper: str | None = None) -> dict:
        rng = random.Random(7)
        submitted = {name: 0 for name in names}
        skips = 0
        active = list(names)
        while active:
            for name in list(active):
                response = self._post(name, "next", {"pool_id": pool_id})
                if response.status_code == 204:
                    active.remove(name)
                    continue
                suite = response.json()
                assert all("known_solutions" not in task for task in suite["tasks"])
                if name == skipper:
                    self._post(name, f"{suite['id']}/skip", {})
                    skips += 1
                    continue
                solutions = [{"output_values": {"category": self.answer(
                    name, task["input_values"]["headline"], rng)}} for task in suite["tasks"]]
                self._post(name, f"{suite['id']}/submit", {"solutions": solutions})
                submitted[name] += 1
        return {"submitted": submitted, "skips": skips}


def closed_op_id(client: Any, pool_id: str) -> str:
    """Any operation that is not an aggregation (here: a task upload)."""
    return next(op.id for op in client.get_operations(type="TASK.BATCH_CREATE"))


def wait_pool(client: Any, pool_id: str, *, polls: int = 20) -> Any:
    pool = client.get_pool(pool_id)
    for _ in range(polls):
        if pool.is_closed():
            return pool
        time.sleep(0.2)
        pool = client.get_pool(pool_id)
    raise AssertionError(f"pool {pool_id} is still open after {polls} polls")


@pytest.mark.slow
def test_requester_script_end_to_end(toloka_server: Any) -> None:
    client = toloka_server.client()
    crowd = toloka_server.workspace.crowd

    requester = client.get_requester()
    assert requester.id
    assert requester.public_name["EN"] == "toloka-test"

    project = client.create_project(make_project())
    assert project.id
    assert project.status.value == "ACTIVE"
    assert client.get_project(project.id).task_spec.output_spec["category"].allowed_values == \
        list(LABELS)
    project.public_description = "Say whether a headline is clickbait."
    client.update_project(project.id, project)
    assert client.get_project(project.id).public_description == \
        "Say whether a headline is clickbait."
    assert [p.id for p in client.get_projects(batch_size=1)] == [project.id]

    skill = client.create_skill(name="clickbait accuracy", private_comment="from golden sets")
    assert [s.name for s in client.get_skills()] == ["clickbait accuracy"]

    pool = client.create_pool(make_pool(project.id, skill.id))
    fetched = client.get_pool(pool.id)
    assert fetched.status.value == "CLOSED"
    assert fetched.mixer_config.golden_tasks_count == 1
    assert fetched.defaults.default_overlap_for_new_tasks == 3
    assert fetched.assignment_max_duration_seconds == 600
    assert not fetched.auto_accept_solutions
    rules = fetched.quality_control.configs
    assert [c.collector_config.type.value for c in rules] == [
        "GOLDEN_SET", "ASSIGNMENT_SUBMIT_TIME", "MAJORITY_VOTE", "SKIPPED_IN_ROW_ASSIGNMENTS"]
    assert rules[0].rules[0].action.parameters.scope.value == "PROJECT"
    fetched.reward_per_assignment = 0.02
    fetched.assignment_max_duration_seconds = 900
    updated = client.update_pool(pool.id, fetched)  # the fetched pool, sent back whole
    assert updated.assignment_max_duration_seconds == 900
    assert client.get_pool(pool.id).reward_per_assignment == pytest.approx(0.02)
    assert len(client.get_pool(pool.id).quality_control.configs) == 4

    # -- tasks: real ones asynchronously, control tasks synchronously ----------------------
    real, golden = headlines()
    created = client.create_tasks(
        [toloka.Task(pool_id=pool.id, input_values={"headline": h}) for h in real],
        allow_defaults=True, open_pool=False)
    assert len(created.items) == N_REAL
    assert not created.validation_errors
    control = [toloka.Task(pool_id=pool.id, input_values={"headline": h},
                           known_solutions=[toloka.Task.KnownSolution(
                               output_values={"category": label})])
               for h, label in golden.items()]
    bad = toloka.Task(pool_id=pool.id, input_values={"headline": "x"},
                      reserved_for=["someone"])
    result = client.create_tasks([*control, bad], allow_defaults=True,
                                 skip_invalid_items=True, async_mode=False)
    assert len(result.items) == N_GOLDEN
    assert list(result.validation_errors) == [str(N_GOLDEN)]
    assert "reserved_for" in result.validation_errors[str(N_GOLDEN)]
    tasks = list(client.get_tasks(pool_id=pool.id, batch_size=7))
    assert len(tasks) == N_REAL + N_GOLDEN
    assert len({t.id for t in tasks}) == N_REAL + N_GOLDEN
    assert sum(1 for t in tasks if t.known_solutions) == N_GOLDEN
    headline_of = {t.id: t.input_values["headline"] for t in tasks}

    # -- the crowd: four good annotators, a spammer, one who skips, one without the skill --
    sim = SimulatedCrowd(crowd, toloka_server.url, {**real, **golden})
    names = ["spammer", "ann", "bob", "cat", "dan", "skipper", "outsider"]
    ids = {name: sim.invite(name) for name in names}
    for name in names:
        value = {"outsider": 10, "spammer": 60}.get(name, 90)
        client.set_user_skill(skill_id=skill.id, user_id=ids[name],
                              value=decimal.Decimal(value))
    skills = list(client.get_user_skills(skill_id=skill.id))
    assert {s.user_id: s.value for s in skills}[ids["outsider"]] == 10

    opened = client.open_pool(pool.id)
    assert opened.status.value == "OPEN"
    assert opened.last_started is not None

    stats = sim.work(pool.id, names, skipper="skipper")
    # The seed's wait_pool: poll until the pool closes by itself once every task is done.
    assert wait_pool(client, pool.id).last_close_reason.value == "COMPLETED"
    assert stats["submitted"]["outsider"] == 0  # filtered out by the skill filter
    assert stats["skips"] == 3  # banned from the pool after three skips in a row

    # -- bans: the golden-set rule caught the spammer; the skipper is banned from the pool --
    restrictions = list(client.get_user_restrictions())
    by_user = {r.user_id: r for r in restrictions}
    assert by_user[ids["spammer"]].scope.value == "PROJECT"
    assert by_user[ids["spammer"]].project_id == project.id
    assert "golden" in by_user[ids["spammer"]].private_comment
    assert by_user[ids["skipper"]].scope.value == "POOL"
    assert not {ids[n] for n in ("ann", "bob", "cat", "dan")} & set(by_user)
    assert stats["submitted"]["spammer"] <= 2  # stopped after two failed control tasks

    manual = client.set_user_restriction(toloka.user_restriction.PoolUserRestriction(
        user_id=ids["outsider"], pool_id=pool.id, private_comment="manual ban"))
    assert manual.id in {r.id for r in client.get_user_restrictions(pool_id=pool.id)}
    client.delete_user_restriction(manual.id)
    assert manual.id not in {r.id for r in client.get_user_restrictions()}

    # -- review: reject the spammer's work, accept everyone else's -------------------------
    submitted = list(client.get_assignments(pool_id=pool.id, status="SUBMITTED"))
    assert submitted
    for assignment in submitted:
        if assignment.user_id == ids["spammer"]:
            client.reject_assignment(assignment.id, "Control tasks failed")
        else:
            client.accept_assignment(assignment.id, "Well done")
    statuses = {a.id: (a.user_id, a.status.value)
                for a in client.get_assignments(pool_id=pool.id, batch_size=5)}
    assert {s for u, s in statuses.values() if u == ids["spammer"]} <= {"REJECTED"}
    accepted = [a for a in statuses.values() if a[1] == "ACCEPTED"]
    assert len(accepted) == sum(stats["submitted"].values()) - stats["submitted"]["spammer"]

    # Every real task reached its overlap of 3 (the spammer's rejected answers included).
    everything = client.get_assignments_df(pool.id, status=["APPROVED", "REJECTED"],
                                           field=["ASSIGNMENT:task_id", "ASSIGNMENT:status"])
    real_rows = everything[everything["GOLDEN:category"].isna()]
    assert real_rows.groupby("ASSIGNMENT:task_id").size().min() == 3
    assert set(everything["ASSIGNMENT:status"]) == {"APPROVED", "REJECTED"}
    unbanned = client.get_assignments_df(pool.id, status=["APPROVED", "REJECTED"],
                                         exclude_banned=True, field=["ASSIGNMENT:worker_id"])
    assert set(unbanned["ASSIGNMENT:worker_id"].astype(str)) == {
        ids[n] for n in ("ann", "bob", "cat", "dan")}

    answers = client.get_assignments_df(
        pool.id, status=["APPROVED"],
        field=["ASSIGNMENT:assignment_id", "ASSIGNMENT:task_id", "ASSIGNMENT:worker_id",
               "ASSIGNMENT:status"])
    assert set(answers["ASSIGNMENT:status"]) == {"APPROVED"}
    assert ids["spammer"] not in set(answers["ASSIGNMENT:worker_id"].astype(str))
    is_golden = answers["GOLDEN:category"].notna()
    real_answers = answers[~is_golden]
    assert real_answers.groupby("ASSIGNMENT:task_id").size().min() >= 2
    assert real_answers["ASSIGNMENT:task_id"].nunique() == N_REAL
    assert set(answers.loc[is_golden, "GOLDEN:category"]) == {"notclickbait"}
    assert len(answers) == 5 * len(accepted)  # 4 real + 1 control task per suite

    # -- aggregation by the server, and the same with crowdline.aggregate ------------------
    op = client.aggregate_solutions_by_pool(
        type=AggregatedSolutionType.DAWID_SKENE, pool_id=pool.id,
        fields=[toloka.aggregation.PoolAggregatedSolutionRequest.Field(name="category")])
    op = client.wait_operation(op, disable_progress=True)
    assert op.status.value == "SUCCESS"
    server_labels = {s.task_id: s.output_values["category"]
                     for s in client.get_aggregated_solutions(op.id, batch_size=6)}
    assert len(server_labels) == N_REAL
    correct = sum(server_labels[t] == real[headline_of[t]] for t in server_labels)
    assert correct >= N_REAL - 1

    from crowdline.aggregate import DawidSkene

    frame = pd.DataFrame({"task": real_answers["ASSIGNMENT:task_id"].astype(str),
                          "worker": real_answers["ASSIGNMENT:worker_id"].astype(str),
                          "label": real_answers["OUTPUT:category"]})
    local = DawidSkene(n_iter=100).fit(frame).labels_
    assert {str(t): label for t, label in local.items()} == server_labels

    weighted = client.wait_operation(client.aggregate_solutions_by_pool(
        type=AggregatedSolutionType.WEIGHTED_DYNAMIC_OVERLAP, pool_id=pool.id,
        answer_weight_skill_id=skill.id,
        fields=[toloka.aggregation.PoolAggregatedSolutionRequest.Field(name="category")]),
        disable_progress=True)
    with pytest.raises(toloka_errors.ValidationApiError, match="not an aggregation"):
        client.find_aggregated_solutions(closed_op_id(client, pool.id), limit=1)
    found = client.find_aggregated_solutions(weighted.id, sort="task_id", limit=100)
    assert not found.has_more
    assert len(found.items) == N_REAL
    assert all(0.5 <= s.confidence <= 1 for s in found.items)  # 0.5: a 1-1 tie
    assert sum(s.output_values["category"] == real[headline_of[s.task_id]]
               for s in found.items) >= N_REAL - 1

    # -- overlap, close, archive, clone ----------------------------------------------------
    first = tasks[0]
    patched = client.patch_task_overlap_or_min(first.id, overlap=5)
    assert patched.overlap == 5
    assert client.get_task(first.id).overlap == 5

    closed = client.close_pool(pool.id)
    assert closed.status.value == "CLOSED"
    clone = client.clone_pool(pool.id)
    assert clone.id != pool.id
    assert clone.private_name == pool.private_name
    assert clone.mixer_config.real_tasks_count == 4
    assert len(clone.quality_control.configs) == 4
    assert list(client.get_tasks(pool_id=clone.id)) == []
    archived = client.archive_pool(pool.id)
    assert archived.status.value == "ARCHIVED"
    assert {p.id for p in client.get_pools(project_id=project.id, status="ARCHIVED")} == \
        {pool.id}
    assert {p.id for p in client.get_pools(project_id=project.id, batch_size=1)} == \
        {pool.id, clone.id}


def test_errors_come_back_in_tolokas_shape(toloka_server: Any) -> None:
    client = toloka_server.client()
    with pytest.raises(toloka_errors.AuthenticationApiError):
        toloka_server.client(token="not-a-token").get_requester()
    with pytest.raises(toloka_errors.DoesNotExistApiError) as missing:
        client.get_pool("424242")
    assert missing.value.status_code == 404
    assert "424242" in missing.value.message

    project = client.create_project(make_project())
    pool = make_pool(project.id, client.create_skill(name="s").id)
    pool.quality_control.add_action(
        collector=collectors.Income(),
        conditions=[conditions.IncomeSumForLast24Hours > 1],
        action=actions.RestrictionV2(scope="POOL", duration_unit="PERMANENT"))
    with pytest.raises(toloka_errors.ValidationApiError) as unsupported:
        client.create_pool(pool)
    assert "INCOME" in unsupported.value.message
    assert list(client.get_pools()) == []  # nothing was created

    # A search parameter crowdline does not know is refused by name, never ignored.
    response = httpx.get(f"{toloka_server.url}/api/v1/pools", params={"reward_gt": "1"},
                         headers={"Authorization": f"OAuth {toloka_server.token}"})
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert "reward_gt" in response.json()["message"]
    response = httpx.get(f"{toloka_server.url}/api/v1/pools",
                         headers={"Authorization": f"ApiKey {toloka_server.token}"})
    assert response.json() == {"items": [], "has_more": False}
    # Results of an aggregation still running are refused, not returned half-made.
    pending = Operations(toloka_server.workspace.engine).create("SOLUTION.AGGREGATE",
                                                                {"pool_id": "1"})
    with pytest.raises(toloka_errors.ConflictStateApiError, match="PENDING"):
        client.find_aggregated_solutions(pending.id)
    assert client.get_operation(pending.id).status.value == "PENDING"
    # A Toloka call crowdline lacks: Toloka's error shape, naming the call.
    with pytest.raises(toloka_errors.DoesNotExistApiError) as lacking:
        list(client.get_attachments(pool_id="1"))
    assert "GET /api/v1/attachments" in lacking.value.message
    response = httpx.patch(f"{toloka_server.url}/api/v1/tasks/1/reviews", json={},
                           headers={"Authorization": f"OAuth {toloka_server.token}"})
    assert response.status_code == 404
    assert "PATCH /api/v1/tasks/1/reviews" in response.json()["message"]


def test_create_task_single_and_idempotent_async(toloka_server: Any) -> None:
    client = toloka_server.client()
    project = client.create_project(make_project())
    pool = client.create_pool(make_pool(project.id, client.create_skill(name="s").id))

    one = client.create_task(toloka.Task(pool_id=pool.id, input_values={"headline": "a"}),
                             allow_defaults=True)
    assert one.id
    assert client.get_task(one.id).input_values == {"headline": "a"}

    params = toloka.task.CreateTasksParameters(allow_defaults=True, open_pool=True)
    op = client.create_tasks_async(
        [toloka.Task(pool_id=pool.id, input_values={"headline": h}) for h in ("b", "c")],
        params)
    assert op.status.value == "SUCCESS"
    log = client.get_operation_log(op.id)
    assert [item.success for item in log] == [True, True]
    # The same operation id again: nothing new is created, the first operation comes back.
    again = client.create_tasks_async(
        [toloka.Task(pool_id=pool.id, input_values={"headline": h}) for h in ("b", "c")],
        params)
    assert again.id == op.id
    assert len(list(client.get_tasks(pool_id=pool.id))) == 3
    assert client.get_pool(pool.id).status.value == "OPEN"  # open_pool=True opened it
    assert client.get_operation(op.id).parameters.open_pool is True

    with pytest.raises(toloka_errors.ValidationApiError) as invalid:
        client.create_tasks([toloka.Task(pool_id=pool.id, input_values={"headline": "d"}),
                             toloka.Task(pool_id=pool.id, input_values={"title": "e"})],
                            allow_defaults=True)
    assert "1" in invalid.value.payload or "1" in str(invalid.value)
    assert len(list(client.get_tasks(pool_id=pool.id))) == 3  # all or nothing


def test_dynamic_overlap_pool_through_the_client(toloka_server: Any) -> None:
    client = toloka_server.client()
    crowd = toloka_server.workspace.crowd
    project = client.create_project(make_project())
    skill = client.create_skill(name="accuracy")
    pool = toloka.Pool(
        project_id=project.id, private_name="dynamic", may_contain_adult_content=False,
        reward_per_assignment=0.01, assignment_max_duration_seconds=600,
        auto_accept_solutions=True,
        defaults=toloka.Pool.Defaults(default_overlap_for_new_tasks=1),
        dynamic_overlap_config=toloka.pool.DynamicOverlapConfig(
            type="BASIC", max_overlap=5, min_confidence=0.95, answer_weight_skill_id=skill.id,
            fields=[toloka.pool.DynamicOverlapConfig.Field(name="category")]))
    pool.set_mixer_config(real_tasks_count=2, golden_tasks_count=0)
    pool = client.create_pool(pool)
    config = client.get_pool(pool.id).dynamic_overlap_config
    assert config.max_overlap == 5
    assert config.min_confidence == pytest.approx(0.95)
    assert config.answer_weight_skill_id == skill.id
    assert [f.name for f in config.fields] == ["category"]

    real, _ = headlines()
    some = dict(list(real.items())[:6])
    client.create_tasks([toloka.Task(pool_id=pool.id, input_values={"headline": h})
                         for h in some], allow_defaults=True, open_pool=True)
    sim = SimulatedCrowd(crowd, toloka_server.url, some)
    names = [f"careful{i}" for i in range(6)]
    for name in names:
        client.set_user_skill(skill_id=skill.id, user_id=sim.invite(name),
                              value=decimal.Decimal(90))
    # Careful workers who always agree: every task stops well before max_overlap.
    sim.answer = lambda _name, headline, _rng: some[headline]  # type: ignore[method-assign]
    sim.work(pool.id, names)
    answers = client.get_assignments_df(pool.id, status=["APPROVED"],
                                        field=["ASSIGNMENT:task_id"])
    per_task = answers.groupby("ASSIGNMENT:task_id").size()
    assert len(per_task) == len(some)
    # One answer from a 90%-skill worker gives confidence 0.9 < 0.95; two that agree give
    # 0.988, so every task stops at 2 of the 5 allowed.
    assert set(per_task) == {2}
    assert (answers["OUTPUT:category"] == answers["INPUT:headline"].map(some)).all()
