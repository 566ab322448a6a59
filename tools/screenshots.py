"""Screenshots of the annotator pages and the requester dashboard, for docs/screenshots/.

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]

Builds a throw-away workspace in the system temp dir (a clickbait-style project, a training
pool, a pool with honeypots, a few annotators, a registered model), serves it on a free
loopback port, and drives Debian's Chromium through Playwright. Deletes its workspace after.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from crowdline.server import create_app
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.workspace import Workspace

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
LABELS = ["clickbait", "notclickbait"]
HEADLINES = [
    "You won't believe what this cat did next", "Central bank raises rates by 0.25 points",
    "10 tricks doctors don't want you to know", "City council approves new bus lanes",
    "This one weird habit will change your life", "Storm closes schools across the region",
    "She opened the box and couldn't stop crying", "Parliament passes the budget for 2027",
    "What happened next will shock you", "Researchers publish a study on sleep and memory",
    "The secret to a flat stomach revealed", "Train drivers announce a two-day strike",
]
INSTRUCTIONS = """# Is this headline clickbait?

A headline is **clickbait** when it withholds the point to make you click.

| label | when | example |
|---|---|---|
| clickbait | it teases, exaggerates or hides the subject | *You won't believe...* |
| notclickbait | it states the news | *Council approves bus lanes* |

When you are not sure, mark the task **unsure** (`X`): someone else will answer it.
"""


def truth(text: str) -> str:
    return LABELS[0] if HEADLINES.index(text) % 2 == 0 else LABELS[1]


def project_config() -> dict[str, Any]:
    return {"public_name": "Is this headline clickbait?",
            "public_description": "Read a news headline and say whether it is clickbait.",
            "public_instructions": INSTRUCTIONS,
            "task_spec": {"input_spec": {"headline": {"type": "string", "required": True}},
                          "output_spec": {"category": {"type": "string",
                                                       "allowed_values": LABELS}},
                          "view_spec": {"type": "classification", "interface": "text"}}}


def seed(ws: Workspace) -> dict[str, Any]:
    crowd = ws.crowd
    project = crowd.create_project(project_config())
    training = crowd.create_pool({"project_id": project.id, "private_name": "training",
                                  "training_tasks_in_task_suite_count": 2,
                                  "assignment_max_duration_seconds": 600})
    crowd.create_tasks([{"pool_id": training.id, "input_values": {"headline": h},
                         "known_solutions": [{"output_values": {"category": truth(h)}}],
                         "message_on_unknown_solution": "Does it withhold the point?"}
                        for h in HEADLINES[:2]], open_pool=True)
    pool = crowd.create_pool({
        "project_id": project.id, "private_name": "headlines, batch 1",
        "reward_per_assignment": 0.05, "assignment_max_duration_seconds": 900,
        "defaults": {"default_overlap_for_new_tasks": 3,
                     "default_overlap_for_new_task_suites": 3},
        "mixer_config": {"real_tasks_count": 3, "golden_tasks_count": 1,
                         "training_tasks_count": 0}})
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": h}}
                        for h in HEADLINES[2:]]
                       + [{"pool_id": pool.id, "input_values": {"headline": h},
                           "known_solutions": [{"output_values": {"category": truth(h)}}]}
                          for h in HEADLINES[:2]], open_pool=True)
    for name, sloppy in (("Bea", False), ("Chen", False), ("Dmitri", True), ("Esra", False)):
        worker, _ = crowd.invite_worker(name)
        for _ in range(2):
            suite = crowd.request_assignment(worker.id, pool.id)
            if suite is None:
                break
            crowd.submit_assignment(worker.id, suite.id, [
                {"output_values": {"category": LABELS[1] if sloppy
                                   else truth(task["input_values"]["headline"])}}
                for task in suite.tasks])
    closed = crowd.clone_pool(pool.id)
    ann, token = crowd.invite_worker("Ann")
    crowd.set_restriction(ann.id, "POOL", pool_id=closed.id, private_comment="example ban")
    _register_model(ws)
    return {"pool": pool.id, "training": training.id, "closed": closed.id, "token": token,
            "requester": crowd.create_requester_token("screenshots"),
            "worker": next(w.id for w in crowd.list_workers() if w.name == "Dmitri")}


def _register_model(ws: Workspace) -> None:
    try:
        from crowdline.model.registry import ModelRegistry
        from crowdline.model.text import TextClassifier
    except ImportError:
        return
    store = ws.store
    store.create_repo("dataset")
    for batch, every in enumerate((1, 2, 3), start=1):  # the model takes more each batch
        rows = "id,headline,label,labeled_by\n" + "".join(
            f"{batch}-{i},{h},{truth(h)},{'human' if i % (every + 1) == 0 else 'model'}\n"
            for i, h in enumerate(HEADLINES))
        with store.commit("dataset", "master", message=f"labels, batch {batch}") as writer:
            writer.put_file(f"/parts/batch-{batch}.csv", rows.encode())
    head = store.inspect_commit("dataset", "master")
    model = TextClassifier().fit(HEADLINES, [truth(h) for h in HEADLINES])
    registry = ModelRegistry(store)
    for accuracy, f1 in ((0.81, 0.78), (0.87, 0.85)):
        registry.register(model, training_data=f"dataset@{head.id}",
                          metrics={"accuracy": accuracy, "f1": f1},
                          thresholds={"threshold": 0.8, "audit_rate": 0.1})
    from crowdline.model.routing import RoutingDecision

    registry.record_decisions([  # the human-labeled rows were audited: one disagreement
        RoutingDecision(f"1-{i}", "audit",
                        truth(h) if i else LABELS[1 - LABELS.index(truth(h))], 0.9, 2)
        for i, h in enumerate(HEADLINES) if i % 2 == 0])


@contextmanager
def serve(ws: Workspace) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        if not wait_for_port(port):
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def shoot(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="crowdline-uxweb-shots-"))
    saved: list[Path] = []
    try:
        ws = Workspace.init(folder / "ws")
        ids = seed(ws)
        with serve(ws) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
            page = browser.new_page(viewport=VIEWPORT)

            def snap(name: str, full: bool = False) -> None:
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=full)
                saved.append(path)

            page.goto(f"{url}/join/{ids['token']}")
            snap("annotator-pools")
            page.goto(f"{url}/annotate/pools/{ids['pool']}")
            snap("annotator-instructions")
            page.goto(f"{url}/annotate/pools/{ids['pool']}/work")
            page.keyboard.press("1")
            page.keyboard.press("x")
            snap("annotator-suite")
            while page.locator("fieldset.task:not(.done)").count():
                page.keyboard.press("2")
            page.keyboard.press("Enter")
            page.wait_for_selector("#undo-form")
            snap("annotator-undo")
            page.goto(f"{url}/annotate/pools/{ids['training']}/work")
            for text in page.locator("fieldset.task .input-value").all_inner_texts():
                wrong = LABELS[1 - LABELS.index(truth(text.strip()))]
                page.keyboard.press(str(LABELS.index(wrong) + 1))  # feedback needs a mistake
            page.keyboard.press("Enter")
            page.wait_for_selector("#training-feedback")
            snap("annotator-training-feedback")
            page.click("#continue")
            page.wait_for_selector("#training-result")
            snap("annotator-training-result")
            page.goto(f"{url}/annotate/pools/{ids['closed']}/work")
            snap("annotator-not-available")
            ws.crowd.close_pool(ids["pool"])
            page.goto(f"{url}/annotate/pools/{ids['pool']}/work")
            snap("annotator-come-back-later")
            ws.crowd.open_pool(ids["pool"])

            page.goto(f"{url}/dashboard/signin")
            page.fill("#token", ids["requester"])
            page.click("#signin")
            page.wait_for_selector("#pools")
            snap("dashboard-pools")
            page.goto(f"{url}/dashboard/pools/{ids['pool']}")
            snap("dashboard-pool", full=True)
            page.goto(f"{url}/dashboard/pools/{ids['pool']}/tasks?status=disagreement")
            snap("dashboard-tasks")
            page.goto(f"{url}/dashboard/workers/{ids['worker']}")
            snap("dashboard-worker")
            page.goto(f"{url}/dashboard/models")
            snap("dashboard-model", full=True)
            browser.close()
        ws.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent / "docs" / "screenshots")
    args = parser.parse_args()
    for path in shoot(args.out):
        print(path)


if __name__ == "__main__":
    main()
