"""A real browser (Debian's Chromium through Playwright) against a real uvicorn on loopback:
an annotator signs in with an invite link, labels suites with the keyboard and meets a
honeypot; a spammer labeling over HTTP is banned by a GOLDEN_SET rule; the requester's
dashboard shows it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from server_helpers import LABELS, golden_label, golden_set_ban_rule, live_server, make_pool, truth

from crowdline.crowd.simulate import HttpRunner, SimulatedWorker, WorkerProfile
from crowdline.workspace import Workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
XSS_HEADLINE = '<img src=x onerror="window.__pwned = 1"> you will not believe'


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page: Any, tmp_path: Path, name: str) -> None:
    """Screenshots go to $CROWDLINE_SCREENSHOTS when set (for people to look at)."""
    folder = Path(os.environ.get("CROWDLINE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def key_for(headline: str) -> str:
    return str(LABELS.index(truth({"headline": headline})) + 1)


def test_annotator_labels_with_the_keyboard_and_a_spammer_is_banned(
        browser: Any, db_workspace: Workspace, tmp_path: Path) -> None:
    crowd = db_workspace.crowd
    pool = make_pool(crowd, real_tasks=8, golden_tasks=6, overlap=2, real=3, golden=1,
                     headline="headline {i}",
                     quality_control=golden_set_ban_rule(history=5, below=60, after=3))
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": XSS_HEADLINE}}])
    ann, ann_token = crowd.invite_worker("Ann")
    spammer, spammer_token = crowd.invite_worker("Spammer")
    requester_token = crowd.create_requester_token("browser-test")

    with live_server(db_workspace) as server:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{server.url}/join/{ann_token}")
        assert page.locator("h1").inner_text() == "Hello, Ann"
        page.click(f"a[href='/annotate/pools/{pool.id}']")
        page.wait_for_selector(".instructions")
        page.click("#start")
        seen: list[str] = []
        for suite_number in range(10):
            page.wait_for_selector("#suite-form, .no-more-tasks")
            if page.locator(".no-more-tasks").count():
                break
            if suite_number == 0:
                assert page.locator("#time-left").inner_text().endswith(" left")
                shot(page, tmp_path, "suite")
            headlines = page.locator("fieldset.task .input-value").all_inner_texts()
            seen += headlines
            for headline in headlines:
                page.keyboard.press(key_for(headline))
            assert page.locator("#answered").inner_text() == str(len(headlines))
            suite_action = page.get_attribute("#suite-form", "action")
            page.keyboard.press("Enter")
            # the next page: another suite, or none (the URL stays /work after the redirect)
            page.wait_for_function(
                "action => { const form = document.querySelector('#suite-form');"
                " return document.querySelector('.no-more-tasks') !== null ||"
                " (form !== null && form.getAttribute('action') !== action); }",
                arg=suite_action)
        assert page.locator(".no-more-tasks").count() == 1
        shot(page, tmp_path, "no-more-tasks")
        assert page.evaluate("window.__pwned") is None  # the headline's markup never ran
        assert XSS_HEADLINE in seen  # ...and it was shown as text
        honeypots = [h for h in seen if h.startswith("golden ")]
        assert honeypots, "the annotator never got a honeypot"

        # the spammer answers every control task wrong, over the annotator HTTP API
        wrong = WorkerProfile("adversarial", accuracy=1.0)
        sim = SimulatedWorker(id=spammer.id, name=spammer.name, token=spammer_token,
                              profile=wrong)
        # (in its own thread: Playwright's sync API keeps an event loop in this one)
        with ThreadPoolExecutor(1) as pool_runner:
            report = pool_runner.submit(HttpRunner(server.url, [sim], truth).run,
                                        pool.id).result()
        assert report.errors == []

        page.goto(f"{server.url}/dashboard/pools/{pool.id}")
        page.fill("#token", requester_token)
        page.click("#signin")
        page.goto(f"{server.url}/dashboard/pools/{pool.id}")
        page.wait_for_selector("#bans")
        shot(page, tmp_path, "dashboard")
        bans = page.locator("tr.ban").all_inner_texts()
        assert len(bans) == 1
        assert "Spammer" in bans[0]
        assert "GOLDEN_SET" in bans[0]
        spammer_row = page.locator(f"tr.worker[data-worker-id='{spammer.id}']").inner_text()
        assert "banned" in spammer_row
        ann_row = page.locator(f"tr.worker[data-worker-id='{ann.id}']").inner_text()
        assert "100%" in ann_row

    # what the browser did is what the database holds
    answers = crowd.answers_frame(pool.id, include_golden=True)
    mine = answers[answers["worker"] == ann.id]
    assert len(mine) == len(seen)
    golden_rows = mine[mine["is_golden"]]
    assert (golden_rows["label"] == golden_rows["golden_label"]).all()
    restrictions = crowd.list_restrictions(worker_id=spammer.id, pool_id=pool.id)
    assert [r.scope for r in restrictions] == ["POOL"]
    actions = crowd.list_qc_actions(pool_id=pool.id, worker_id=spammer.id)
    assert actions[0].collector == "GOLDEN_SET"
    assert crowd.request_assignment(spammer.id, pool.id) is None
    assert golden_label(0) == LABELS[0]
