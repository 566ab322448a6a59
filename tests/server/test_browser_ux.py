"""The annotator's and the requester's pages in a real browser (Debian's Chromium through
Playwright, a real uvicorn on loopback): every annotator state page, Markdown instructions
(a <script> in them stays inert), per-task skip, undo, Submit on screen at 1280x800; the
dashboard's live progress, task browser filters, worker page and each action."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from server_helpers import LABELS, live_server, make_pool, project_config
from test_annotator_states import training_and_pool
from test_browser import browser  # noqa: F401  (the Chromium fixture)
from test_dashboard import label_some, truthful

from crowdline.workspace import Workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1280, "height": 800}
INSTRUCTIONS = ("# Clickbait?\n\n| label | when |\n|---|---|\n| clickbait | it withholds |\n"
                "| notclickbait | it informs |\n\n<script>window.__pwned = 1</script>\n\n"
                "<img src=x onerror=\"window.__pwned = 2\">")


def wait_for_page(page: Any, selector: str) -> None:
    page.wait_for_selector(selector, timeout=15_000)


def test_annotator_pages_in_chromium(browser: Any, server_workspace: Workspace,  # noqa: F811
                                     ) -> None:
    crowd = server_workspace.crowd
    training, gated = training_and_pool(crowd, passing=80, tasks=2, per_suite=2)
    project = crowd.create_project(project_config(INSTRUCTIONS))
    pool = crowd.create_pool({
        "project_id": project.id, "private_name": "open pool",
        "assignment_max_duration_seconds": 600,
        "defaults": {"default_overlap_for_new_tasks": 1,
                     "default_overlap_for_new_task_suites": 1},
        "mixer_config": {"real_tasks_count": 5, "golden_tasks_count": 0,
                         "training_tasks_count": 0}})
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": f"long headline {i} "
                                                                          + "word " * 40}}
                        for i in range(5)], open_pool=True)
    banned_pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=2)
    paused_pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=2)
    crowd.close_pool(paused_pool.id)
    worker, token = crowd.invite_worker("Ann")
    crowd.set_restriction(worker.id, "POOL", pool_id=banned_pool.id, private_comment="RULE-X")

    with live_server(server_workspace) as server:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{server.url}/join/{token}")
        # Markdown instructions: a real table, and the requester's markup never runs
        page.goto(f"{server.url}/annotate/pools/{pool.id}")
        assert page.locator(".instructions table td").first.inner_text() == "clickbait"
        assert page.evaluate("window.__pwned") is None
        assert "<script>" in page.locator(".instructions").inner_text()  # shown as text

        # a training is required first: the page links to it
        page.goto(f"{server.url}/annotate/pools/{gated.id}/work")
        wait_for_page(page, "#training-required")
        page.click("#go-training")
        page.click("#start")
        wait_for_page(page, "#suite-form")
        assert page.locator("input.unsure-box").count() == 0  # no per-task skip in training
        for _ in range(2):
            page.keyboard.press("2")  # every training item is LABELS[0]: all wrong
        page.keyboard.press("Enter")
        wait_for_page(page, "#training-feedback")
        assert page.locator("strong.answer").all_inner_texts() == [LABELS[0], LABELS[0]]
        page.click("#continue")
        wait_for_page(page, "#training-result")
        assert "Training not passed" in page.locator("h1").inner_text()
        assert page.locator("#training-score").inner_text() == "0%"
        assert page.locator("#retry").count() == 1

        # not available (a ban, its rule not shown) and come back later (paused)
        page.goto(f"{server.url}/annotate/pools/{banned_pool.id}/work")
        wait_for_page(page, "#unavailable")
        assert "RULE-X" not in page.content()
        page.goto(f"{server.url}/annotate/pools/{paused_pool.id}/work")
        wait_for_page(page, "#come-back-later")

        # a long suite at 1280x800: Submit stays on screen
        page.goto(f"{server.url}/annotate/pools/{pool.id}/work")
        wait_for_page(page, "#suite-form")
        box = page.locator("#submit").bounding_box()
        assert box is not None
        assert 0 <= box["y"]
        assert box["y"] + box["height"] <= VIEWPORT["height"]
        assert page.locator("#left").inner_text() == "0"
        # per-task skip: X marks the highlighted task unsure, the others get a label
        headlines = page.locator("fieldset.task .input-value").all_inner_texts()
        page.keyboard.press("x")
        for _ in range(4):
            page.keyboard.press("1")
        assert page.locator("#answered").inner_text() == "5"
        suite_action = page.get_attribute("#suite-form", "action")
        page.keyboard.press("Enter")
        wait_for_page(page, "#undo-form")
        frame = crowd.answers_frame(pool.id)
        assert len(frame) == 4
        skipped = [t.id for t in crowd.list_tasks(pool.id)
                   if t.input_values["headline"] == headlines[0]]
        assert skipped[0] not in set(frame["task"])
        # undo: the suite comes back with its answers ticked, and counts no more
        page.keyboard.press("u")
        wait_for_page(page, "#suite-form")
        assert page.get_attribute("#suite-form", "action") == suite_action
        assert page.locator("input[name^='answer-']:checked").count() == 4
        assert len(crowd.answers_frame(pool.id)) == 0
        page.keyboard.press("Enter")
        wait_for_page(page, "#pool-finished")
        assert len(crowd.answers_frame(pool.id)) == 4
        assert page.evaluate("window.__pwned") is None
        page.close()


def test_dashboard_in_chromium(browser: Any, server_workspace: Workspace,  # noqa: F811
                               tmp_path: Path) -> None:
    crowd = server_workspace.crowd
    pool = make_pool(crowd, real_tasks=6, golden_tasks=3, overlap=2, real=2, golden=1,
                     headline="story {i}")
    ids = label_some(crowd, pool, ["Agreeable", "Contrarian"], truthful)
    token = crowd.create_requester_token("browser")
    with live_server(server_workspace) as server:
        page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
        page.goto(f"{server.url}/dashboard/signin")
        page.fill("#token", token)
        page.click("#signin")
        wait_for_page(page, "#pools")
        assert page.locator("tr.pool-row .collected").inner_text() == "4"

        # live progress: answers arrive, the figures change without a reload
        page.goto(f"{server.url}/dashboard/pools/{pool.id}")
        wait_for_page(page, "#progress")
        assert page.locator("#collected").inner_text() == "4"
        page.evaluate("window.__same_page = true")
        label_some(crowd, pool, ["Late"], truthful)
        page.wait_for_function(
            "document.querySelector('#collected').textContent === '6'", timeout=15_000)
        assert page.evaluate("window.__same_page") is True
        assert page.locator("#charts svg").count() == 2

        # the task browser: search, filter, sort
        page.click("#browse-tasks")
        wait_for_page(page, "#tasks")
        assert page.locator("tr.task-row").count() == 9
        page.select_option("#task-status", "disagreement")
        page.click("#apply-filters")
        wait_for_page(page, "#tasks")
        assert page.locator("tr.task-row").count() == 2
        assert page.locator("tr.task-row .confidence").all_inner_texts() == ["50%", "50%"]
        page.select_option("#task-status", "all")
        page.fill("#task-search", "story 3")
        page.click("#apply-filters")
        wait_for_page(page, "#tasks")
        assert page.locator("tr.task-row").count() == 1
        page.fill("#task-search", "")
        page.select_option("#task-sort", "-id")
        page.click("#apply-filters")
        wait_for_page(page, "#tasks")
        shown = [int(x) for x in page.locator("tr.task-row").evaluate_all(
            "rows => rows.map(r => r.dataset.taskId)")]
        assert shown == sorted(shown, reverse=True)

        # the worker page, reached from the pool page
        page.goto(f"{server.url}/dashboard/pools/{pool.id}")
        page.click(f"tr.worker[data-worker-id='{ids['Contrarian']}'] a")
        wait_for_page(page, "#worker-pools")
        row = page.locator("tr.worker-pool").first.inner_text()
        assert "2" in row
        assert "1/1" in row

        # ban from the worker page, then unban
        page.select_option("#ban-pool", pool.id)
        page.fill("#ban-comment", "disagrees with everyone")
        page.click("#ban")
        wait_for_page(page, "#worker-banned")
        assert "disagrees with everyone" in page.locator("#worker-bans").inner_text()
        assert crowd.request_assignment(ids["Contrarian"], pool.id) is None
        page.click("button.unban")
        wait_for_page(page, "#worker-pools")
        assert page.locator("#worker-banned").count() == 0
        assert crowd.list_restrictions(worker_id=ids["Contrarian"]) == []

        # invite
        page.goto(f"{server.url}/dashboard/workers")
        page.fill("#invite-name", "Newcomer")
        page.click("#invite")
        wait_for_page(page, "#invite-result")
        link = page.locator("#invite-link").input_value()
        assert "/join/" in link
        assert crowd.authenticate_worker(link.rsplit("/", 1)[1]).name == "Newcomer"

        # close, open, upload, export
        page.goto(f"{server.url}/dashboard/pools/{pool.id}")
        page.click("#close-pool")
        wait_for_page(page, "#open-pool")
        assert crowd.get_pool(pool.id).status == "CLOSED"
        page.click("#open-pool")
        wait_for_page(page, "#close-pool")
        assert crowd.get_pool(pool.id).status == "OPEN"
        task_file = tmp_path / "more.tsv"
        task_file.write_text("INPUT:headline\nuploaded one\n\t\n")
        page.set_input_files("#upload-file", str(task_file))
        page.click("#upload")
        wait_for_page(page, "#upload-report")
        assert page.locator("#created").inner_text() == "1"
        page.goto(f"{server.url}/dashboard/pools/{pool.id}")
        with page.expect_download() as download:
            page.click("#export-csv")
        saved = tmp_path / "answers.csv"
        download.value.save_as(saved)
        assert saved.read_text().splitlines()[0].startswith("task,worker,label")
        assert len(saved.read_text().splitlines()) == 1 + 9  # 3 suites x (2 real + 1 control)
        page.close()
