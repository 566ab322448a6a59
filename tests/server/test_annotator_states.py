"""The annotator's pages when there is no suite (one honest page per situation), training
feedback with the right answer, pool progress, undo within the grace period and per-task skip —
over HTTP, as a browser without JavaScript (tests/server/test_browser_ux.py drives Chromium)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
from server_helpers import LABELS, LiveServer, make_pool, project_config
from test_pages import answer_form, form_fields

from crowdline.crowd import Crowd, Pool
from crowdline.crowd.amend import UNDO_GRACE_SECONDS
from crowdline.errors import Conflict, NotYourAssignment

GOLDEN_ANSWER = "GOLDEN-LABEL-NEVER-SHOWN"


def suite_id(page: str) -> str:
    match = re.search(r'action="/annotate/assignments/(\d+)/submit"', page)
    assert match, "no answer form on the page"
    return match.group(1)


def training_and_pool(crowd: Crowd, *, passing: int = 50, tasks: int = 4,
                      per_suite: int = 2, retry_days: int | None = None) -> tuple[Pool, Pool]:
    """A training pool (truth: every item is LABELS[0]) and a regular pool that needs it."""
    project = crowd.create_project(project_config())
    config: dict[str, Any] = {"project_id": project.id, "private_name": "training",
                              "training_tasks_in_task_suite_count": per_suite,
                              "assignment_max_duration_seconds": 300}
    if retry_days:
        config["retry_training_after_days"] = retry_days
    training = crowd.create_pool(config)
    crowd.create_tasks([
        {"pool_id": training.id, "input_values": {"headline": f"train {i}"},
         "known_solutions": [{"output_values": {"category": LABELS[0]}}],
         "message_on_unknown_solution": f"TRAINING-HINT-{i}"} for i in range(tasks)],
        open_pool=True)
    regular = make_pool(crowd, real_tasks=4, golden_tasks=0, golden=0, overlap=1, real=2)
    crowd.update_pool(regular.id, {**_config(regular), "quality_control": {
        "training_requirement": {"training_pool_id": training.id,
                                 "training_passing_skill_value": passing}}})
    return crowd.get_pool(training.id), crowd.get_pool(regular.id)


def _config(pool: Pool) -> dict[str, Any]:
    data = pool.to_dict()
    return {k: v for k, v in data.items() if k in (
        "project_id", "private_name", "reward_per_assignment", "assignment_max_duration_seconds",
        "defaults", "mixer_config")}


def join(client: httpx.Client, crowd: Crowd, name: str) -> str:
    worker, token = crowd.invite_worker(name)
    client.get(f"/join/{token}")
    return worker.id


def answer_training(client: httpx.Client, training: Pool, label: str) -> list[str]:
    """Answer every training suite with ``label``; the pages seen after each submit."""
    pages = []
    while True:
        page = client.get(f"/annotate/pools/{training.id}/work").text
        if "suite-form" not in page:
            pages.append(page)
            return pages
        pages.append(client.post(f"/annotate/assignments/{suite_id(page)}/submit",
                                 data=answer_form(page, label)).text)


def test_training_first_then_passed_opens_the_pool(client: httpx.Client,
                                                   server: LiveServer) -> None:
    crowd = server.workspace.crowd
    training, regular = training_and_pool(crowd)
    worker_id = join(client, crowd, "Newcomer")
    assert crowd.worker_standing(worker_id, training.id)["state"] == "open"
    listing = client.get("/annotate").text
    assert "complete the training first" in listing
    first = client.get(f"/annotate/pools/{regular.id}/work").text
    assert 'id="training-required"' in first
    assert f'href="/annotate/pools/{training.id}"' in first  # the link to the training
    pages = answer_training(client, training, LABELS[0])
    result = pages[-1]
    assert 'id="training-result"' in result
    assert "Training passed" in result
    assert "100%" in result
    assert f'href="/annotate/pools/{regular.id}"' in result  # the pool it opens
    assert "suite-form" in client.get(f"/annotate/pools/{regular.id}/work").text
    assert "training passed (100%)" in client.get("/annotate").text
    assert crowd.worker_standing(worker_id, regular.id)["state"] == "open"


def test_training_not_passed_says_the_score_and_that_there_is_no_retry(
        client: httpx.Client, server: LiveServer) -> None:
    crowd = server.workspace.crowd
    training, regular = training_and_pool(crowd, passing=80)
    join(client, crowd, "Guesser")
    pages = answer_training(client, training, LABELS[1])
    feedback = pages[0]
    assert 'id="training-feedback"' in feedback
    # the item, what the worker said and the right answer, for training tasks
    assert re.search(r"train \d", feedback)
    assert f'<em class="given">{LABELS[1]}</em>' in feedback
    assert f'<strong class="answer">{LABELS[0]}</strong>' in feedback
    result = client.get(f"/annotate/pools/{regular.id}/work").text
    assert 'id="training-result"' in result
    assert "Training not passed" in result
    assert 'id="training-score">0%' in result
    assert "80% is needed" in result
    assert 'id="retry"' in result
    assert "cannot be retaken" in result


def test_training_not_passed_says_when_to_retry(client: httpx.Client,
                                                server: LiveServer) -> None:
    crowd = server.workspace.crowd
    training, regular = training_and_pool(crowd, passing=80, retry_days=2)
    join(client, crowd, "Second chance")
    answer_training(client, training, LABELS[1])
    result = client.get(f"/annotate/pools/{regular.id}/work").text
    assert "Training not passed" in result
    expected = (crowd.clock() + dt.timedelta(days=2)).strftime("%Y-%m-%d")
    assert f"You can take the training again from <strong>{expected}" in result


def test_banned_worker_sees_not_available_without_the_rule(client: httpx.Client,
                                                          server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=0, golden=0, overlap=1, real=2)
    worker_id = join(client, crowd, "Outsider")
    crowd.set_restriction(worker_id, "POOL", pool_id=pool.id,
                          private_comment="SECRET-RULE-failed honeypots")
    page = client.get(f"/annotate/pools/{pool.id}/work").text
    assert 'id="unavailable"' in page
    assert "SECRET-RULE" not in page
    assert "ban" not in page.lower()


def test_finished_and_come_back_later_pages(client: httpx.Client, server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=2)
    other, _ = crowd.invite_worker("Other")
    held = crowd.request_assignment(other.id, pool.id)  # the only two tasks, in other hands
    assert held is not None
    join(client, crowd, "Late")
    later = client.get(f"/annotate/pools/{pool.id}/work").text
    assert 'id="come-back-later"' in later
    assert "other people" in later
    crowd.skip_assignment(other.id, held.id)  # the tasks come back
    page = client.get(f"/annotate/pools/{pool.id}/work").text
    assert 'id="left">0</span> more tasks after this suite' in page  # pool progress
    done = client.post(f"/annotate/assignments/{suite_id(page)}/submit",
                       data=answer_form(page, LABELS[0]))
    assert 'id="pool-finished"' in done.text
    crowd.close_pool(pool.id)
    pool2 = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=2)
    crowd.close_pool(pool2.id)
    paused = client.get(f"/annotate/pools/{pool2.id}/work").text
    assert 'id="come-back-later"' in paused
    assert "paused" in paused


def test_undo_within_the_grace_period_gives_the_suite_back(client: httpx.Client,
                                                           server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=2, golden=1, overlap=2, real=2)
    join(client, crowd, "Regretful")
    page = client.get(f"/annotate/pools/{pool.id}/work").text
    first = suite_id(page)
    after = client.post(f"/annotate/assignments/{first}/submit",
                        data=answer_form(page, LABELS[1]))
    assert f'action="/annotate/assignments/{first}/undo"' in after.text
    assert len(crowd.answers_frame(pool.id)) == 2
    back = client.post(f"/annotate/assignments/{first}/undo",
                       data={"csrf_token": form_fields(after.text)["csrf_token"]})
    assert back.status_code == 200
    assert suite_id(back.text) == first  # the same suite, filled in with the answers given
    assert back.text.count(f'value="{LABELS[1]}" data-key="2" checked') == 3
    assert crowd.get_assignment(first).status == "ACTIVE"
    assert len(crowd.answers_frame(pool.id)) == 0  # no longer counted anywhere
    assert crowd.pool_stats(pool.id)["golden_accuracy"] == {}
    again = client.post(f"/annotate/assignments/{first}/submit",
                        data=answer_form(back.text, LABELS[0]))
    assert again.status_code == 200
    assert sorted(crowd.answers_frame(pool.id)["label"]) == [LABELS[0], LABELS[0]]


def test_undo_is_refused_after_the_grace_period_and_for_others(client: httpx.Client,
                                                               server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=0, golden=0, overlap=2, real=2)
    join(client, crowd, "Slow")
    page = client.get(f"/annotate/pools/{pool.id}/work").text
    first = suite_id(page)
    client.post(f"/annotate/assignments/{first}/submit", data=answer_form(page, LABELS[0]))
    worker_id = crowd.get_assignment(first).user_id
    other, _ = crowd.invite_worker("Other")
    with pytest.raises(NotYourAssignment):
        crowd.undo_submission(other.id, first)
    later = Crowd(crowd.engine, crowd.store,
                  clock=lambda: crowd.clock() + dt.timedelta(seconds=UNDO_GRACE_SECONDS + 5))
    assert crowd.undo_window(worker_id, first) is not None
    assert later.undo_window(worker_id, first) is None
    with pytest.raises(Conflict, match="seconds to undo a submit are over"):
        later.undo_submission(worker_id, first)
    assert crowd.get_assignment(first).status == "ACCEPTED"  # the refusal changed nothing
    assert len(crowd.answers_frame(pool.id)) == 2


def test_per_task_skip_sends_the_task_to_someone_else(client: httpx.Client,
                                                      server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=3, golden_tasks=0, golden=0, overlap=1, real=3)
    join(client, crowd, "Unsure")
    page = client.get(f"/annotate/pools/{pool.id}/work").text
    fields = answer_form(page, LABELS[0])
    fields["unsure-1"] = "1"
    skipped_task = form_fields(page)["task_id-1"]
    client.post(f"/annotate/assignments/{suite_id(page)}/submit", data=fields)
    frame = crowd.answers_frame(pool.id)
    assert len(frame) == 2
    assert skipped_task not in set(frame["task"])
    other, _ = crowd.invite_worker("Sure")
    suite = crowd.request_assignment(other.id, pool.id)
    assert suite is not None
    assert [task["id"] for task in suite.tasks] == [skipped_task]
    assert crowd.pool_stats(pool.id)["completion"]["tasks_complete"] == 2


def test_instructions_render_markdown_tables_and_keep_html_inert(
        client: httpx.Client, server: LiveServer) -> None:
    crowd = server.workspace.crowd
    project = crowd.create_project(project_config(
        "| label | when |\n|---|---|\n| clickbait | it withholds |\n\n"
        "<script>window.__pwned = 1</script>\n\n[x](javascript:alert(1))"))
    pool = crowd.create_pool({"project_id": project.id, "private_name": "md",
                              "assignment_max_duration_seconds": 60,
                              "mixer_config": {"real_tasks_count": 1, "golden_tasks_count": 0,
                                               "training_tasks_count": 0}})
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": "h"}}],
                       open_pool=True)
    join(client, crowd, "Reader")
    page = client.get(f"/annotate/pools/{pool.id}").text
    assert "<table>" in page
    assert "<td>clickbait</td>" in page
    assert "|---|" not in page
    assert "<script>window" not in page
    assert "&lt;script&gt;" in page
    assert 'href="javascript:' not in page  # shown as text, never a link


def test_standing_undo_skip_and_insights_on_each_back_end(db_workspace: Any) -> None:
    """The same SQL on SQLite and PostgreSQL: standing, progress, per-task skip, undo, the
    dashboard's figures."""
    crowd = db_workspace.crowd
    pool = make_pool(crowd, real_tasks=3, golden_tasks=1, golden=1, overlap=2, real=3)
    ann, _ = crowd.invite_worker("Ann")
    suite = crowd.request_assignment(ann.id, pool.id)
    assert suite is not None
    assert crowd.worker_progress(ann.id, pool.id)["left"] == 3  # 3 tasks x 2 - 3 taken
    real = [t["id"] for t in suite.tasks if not t["input_values"]["headline"].startswith("g")]
    assert crowd.skip_tasks(ann.id, suite.id, [real[0]]) == 3
    result = crowd.submit_assignment(ann.id, suite.id,
                                     [{"output_values": {"category": LABELS[0]}}] * 3)
    assert crowd.pool_progress(pool.id)["collected"] == 2
    assert crowd.undo_window(ann.id, result.assignment_id) is not None
    undone = crowd.undo_submission(ann.id, result.assignment_id)
    assert len(undone["solutions"]) == 3
    assert crowd.pool_progress(pool.id)["collected"] == 0
    crowd.submit_assignment(ann.id, suite.id, [{"output_values": {"category": LABELS[1]}}] * 3)
    table = crowd.browse_tasks(pool.id, status="all")
    assert table["total"] == 4
    assert crowd.worker_record(ann.id)["pools"][0]["skipped_tasks"] == 1
    assert crowd.pool_timeline(pool.id, 4)[0]["answers"] >= 1
    assert crowd.worker_standing(ann.id, pool.id)["state"] in ("finished", "later")
    crowd.set_restriction(ann.id, "ALL_PROJECTS")
    assert crowd.worker_standing(ann.id, pool.id)["state"] == "unavailable"


def test_training_items_come_shuffled(server_workspace: Any) -> None:
    """A training file of 10 of one label then 10 of the other is not handed out in file
    order: first suites of 2 reach into the second half (in file order they never would)."""
    crowd = server_workspace.crowd
    training, _ = training_and_pool(crowd, tasks=20, per_suite=2)
    ids = sorted(int(t.id) for t in crowd.list_tasks(training.id))
    second_half = {str(i) for i in ids[10:]}
    reached = []
    for n in range(8):
        worker, _ = crowd.invite_worker(f"Learner {n}")
        suite = crowd.request_assignment(worker.id, training.id)
        assert suite is not None
        reached += [task["id"] in second_half for task in suite.tasks]
    assert any(reached)  # (all 16 from the first half by chance: p < 1e-5)
