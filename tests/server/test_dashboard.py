"""The requester's dashboard over HTTP: progress by answers with an ETA (and its JSON for the
live refresh), the task browser's filters, a worker's page, agreement, the model panel and
each action (invite, ban/unban, open/close, upload, export). tests/server/test_browser_ux.py
drives the same pages in Chromium."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pandas as pd
import pytest
from server_helpers import LABELS, LiveServer, golden_label, make_pool

from crowdline.crowd import Crowd, Pool
from crowdline.crowd.insights import buckets, eta_seconds, majority, pairwise_agreement
from crowdline.server.routers import dashboard, dashboard_actions

XSS = "<script>window.__pwned = 1</script>"


def sign_in(client: httpx.Client, crowd: Crowd) -> None:
    """Sign in through the form; later posts carry the page's CSRF token as a header."""
    token = crowd.create_requester_token("dash")
    form = client.get("/dashboard/signin").text
    csrf = __import__("re").search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.headers["X-CSRF-Token"] = csrf
    assert client.post("/dashboard/signin", data={"token": token}).status_code == 200


def label_some(crowd: Crowd, pool: Pool, names: list[str], label_for: Any) -> dict[str, str]:
    """Each named worker labels one suite; ``label_for(worker, task input)``; their ids."""
    ids = {}
    for name in names:
        worker, _ = crowd.invite_worker(name)
        ids[name] = worker.id
        suite = crowd.request_assignment(worker.id, pool.id)
        assert suite is not None
        crowd.submit_assignment(worker.id, suite.id, [
            {"output_values": {"category": label_for(name, task["input_values"])}}
            for task in suite.tasks])
    return ids


def truthful(name: str, values: dict[str, Any]) -> str:
    text = values["headline"]
    if text.startswith("golden "):
        return golden_label(int(text.split()[1]))
    return LABELS[1] if name == "Contrarian" else LABELS[0]


def test_pure_figures() -> None:
    assert majority(["a", "b", "a"]) == ("a", pytest.approx(2 / 3))
    assert majority([]) == (None, None)
    assert pairwise_agreement([["a", "a", "b"], ["x"]]) == (pytest.approx(1 / 3), 1)
    assert eta_seconds(10, 2.0) == 5.0
    assert eta_seconds(0, None) == 0.0
    assert eta_seconds(5, None) is None
    import datetime as dt
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = buckets([t0, t0 + dt.timedelta(minutes=10)], [(True, True), (True, False)], 2)
    assert [r["answers"] for r in rows] == [1, 1]
    assert [r["golden_accuracy"] for r in rows] == [1.0, 0.0]


def test_progress_counts_answers_not_finished_tasks(client: httpx.Client,
                                                    server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=6, golden_tasks=2, overlap=3, real=2, golden=1)
    label_some(crowd, pool, ["A", "B"], truthful)
    sign_in(client, crowd)
    live = client.get(f"/dashboard/pools/{pool.id}/progress.json").json()
    assert live["collected"] == 4  # 2 suites x 2 real tasks, though no task is finished
    assert live["needed"] == 18
    assert live["tasks_complete"] == 0
    assert live["eta_seconds"] is not None
    assert live["eta_seconds"] > 0
    page = client.get(f"/dashboard/pools/{pool.id}").text
    assert '<span id="collected">4</span>/<span id="needed">18</span>' in page
    assert 'data-live="/dashboard/pools/' in page
    assert "Honeypot accuracy" in page
    assert "<svg" in page
    listing = client.get("/dashboard").text
    assert 'class="collected">4</span>/<span class="needed">18' in listing
    assert client.get("/dashboard/progress.json").json()["pools"][0]["collected"] == 4


def test_json_progress_needs_the_requester_session(client: httpx.Client,
                                                   server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0)
    assert client.get(f"/dashboard/pools/{pool.id}/progress.json").status_code == 401
    assert client.get("/dashboard/progress.json").status_code == 401
    _, worker_token = crowd.invite_worker("NotARequester")
    client.get(f"/join/{worker_token}")
    assert client.get(f"/dashboard/pools/{pool.id}/progress.json").status_code == 401
    for path in (f"/dashboard/pools/{pool.id}/tasks", "/dashboard/workers", "/dashboard/models",
                 f"/dashboard/pools/{pool.id}/export.csv"):
        assert "Requester sign-in" in client.get(path).text, path


def test_task_browser_search_filter_sort(client: httpx.Client, server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=2, overlap=2, real=4, golden=1,
                     headline="news {i}")
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": XSS}}])
    label_some(crowd, pool, ["Agreeable", "Contrarian"], truthful)
    sign_in(client, crowd)
    every = client.get(f"/dashboard/pools/{pool.id}/tasks").text
    assert every.count('class="task-row"') == 7
    assert XSS not in every
    assert "&lt;script&gt;" in every
    search = client.get(f"/dashboard/pools/{pool.id}/tasks", params={"q": "NEWS 2"}).text
    assert search.count('class="task-row"') == 1
    split = client.get(f"/dashboard/pools/{pool.id}/tasks",
                       params={"status": "disagreement"}).text
    assert split.count('class="task-row"') == 4  # each real task got both labels
    assert '<td class="num confidence">50%</td>' in split
    control = client.get(f"/dashboard/pools/{pool.id}/tasks", params={"status": "control"}).text
    assert control.count('class="task-row"') == 2
    assert "control: " in control  # requesters see the known answer
    complete = client.get(f"/dashboard/pools/{pool.id}/tasks",
                          params={"status": "complete"}).text
    assert complete.count('class="task-row"') == 4
    ordered = client.get(f"/dashboard/pools/{pool.id}/tasks", params={"sort": "-id"}).text
    ids = [int(x) for x in __import__("re").findall(r'data-task-id="(\d+)"', ordered)]
    assert ids == sorted(ids, reverse=True)
    bad = client.get(f"/dashboard/pools/{pool.id}/tasks", params={"status": "nonsense"})
    assert bad.status_code == 400


def test_worker_page_shows_answers_time_honeypots_and_bans(client: httpx.Client,
                                                           server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=2, overlap=2, real=2, golden=1)
    ids = label_some(crowd, pool, ["Worker One"], truthful)
    worker_id = ids["Worker One"]
    crowd.set_restriction(worker_id, "POOL", pool_id=pool.id, private_comment="too fast")
    sign_in(client, crowd)
    page = client.get(f"/dashboard/workers/{worker_id}").text
    row = page[page.index('class="worker-pool"'):]
    assert '<td class="num">2</td>' in row  # two real answers
    assert "1/1" in row  # one honeypot, right
    assert "100%" in row
    assert "too fast" in page
    assert 'id="worker-banned"' in page


def test_actions_invite_ban_unban_open_close_upload_export(client: httpx.Client,
                                                           server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=2, overlap=1, real=2, golden=1)
    label_some(crowd, pool, ["Exporter"], truthful)
    sign_in(client, crowd)
    invited = client.post("/dashboard/workers/invite", data={"name": "New <b>one</b>"})
    assert 'id="invite-result"' in invited.text
    assert "New &lt;b&gt;one&lt;/b&gt;" in invited.text
    link = __import__("re").search(r'id="invite-link" value="([^"]+)"', invited.text).group(1)
    worker = next(w for w in crowd.list_workers() if w.name == "New <b>one</b>")
    assert link.endswith("/join/" + link.rsplit("/", 1)[1])
    assert crowd.authenticate_worker(link.rsplit("/", 1)[1]).id == worker.id

    banned = client.post(f"/dashboard/workers/{worker.id}/ban",
                         data={"scope": "POOL", "pool_id": pool.id, "comment": "spam",
                               "days": "2"})
    assert banned.status_code == 200
    [restriction] = crowd.list_restrictions(worker_id=worker.id)
    assert restriction.private_comment == "spam"
    assert crowd.request_assignment(worker.id, pool.id) is None
    client.post(f"/dashboard/restrictions/{restriction.id}/unban")
    assert crowd.list_restrictions(worker_id=worker.id) == []
    refused = client.post(f"/dashboard/workers/{worker.id}/ban", data={"scope": "GALAXY"})
    assert refused.status_code == 400
    assert crowd.list_restrictions(worker_id=worker.id) == []

    client.post(f"/dashboard/pools/{pool.id}/close")
    assert crowd.get_pool(pool.id).status == "CLOSED"
    client.post(f"/dashboard/pools/{pool.id}/open")
    assert crowd.get_pool(pool.id).status == "OPEN"

    upload = client.post(f"/dashboard/pools/{pool.id}/upload", files={"file": (
        "more.tsv", b"INPUT:headline\nfresh one\nfresh two\n", "text/tab-separated-values")})
    assert 'id="created">2</strong>' in upload.text
    assert len([t for t in crowd.list_tasks(pool.id) if "fresh" in str(t.input_values)]) == 2
    bad_upload = client.post(f"/dashboard/pools/{pool.id}/upload",
                             files={"file": ("tasks.xlsx", b"??", "application/octet-stream")})
    assert bad_upload.status_code == 400

    csv = client.get(f"/dashboard/pools/{pool.id}/export.csv")
    assert csv.headers["content-disposition"].endswith('.csv"')
    frame = pd.read_csv(io.StringIO(csv.text))
    assert set(frame.columns) >= {"task", "worker", "label", "is_golden", "golden_label"}
    assert len(frame) == 3
    jsonl = client.get(f"/dashboard/pools/{pool.id}/export.jsonl").text.splitlines()
    assert len(jsonl) == 3
    assert {"task", "label"} <= set(json.loads(jsonl[0]))
    assert client.get(f"/dashboard/pools/{pool.id}/export.xml").status_code == 400
    parquet = client.get(f"/dashboard/pools/{pool.id}/export.parquet")
    assert len(pd.read_parquet(io.BytesIO(parquet.content))) == 3
    labels = pd.read_csv(io.StringIO(
        client.get(f"/dashboard/pools/{pool.id}/export.csv", params={"what": "labels"}).text))
    assert set(labels["label"]) <= set(LABELS)
    assert len(labels) == 2  # one per real task
    assert "confidence" in labels.columns


def test_model_panel_degrades_and_reads_the_registry(client: httpx.Client,
                                                     server: LiveServer) -> None:
    crowd = server.workspace.crowd
    sign_in(client, crowd)
    empty = client.get("/dashboard/models")
    assert empty.status_code == 200
    assert 'id="no-models"' in empty.text
    pytest.importorskip("sklearn")
    from crowdline.model.registry import ModelRegistry
    from crowdline.model.text import TextClassifier

    store = server.workspace.store
    store.create_repo("dataset")
    with store.commit("dataset", "master", message="labels") as writer:
        writer.put_file("/parts/a.csv", b"id,headline,label,labeled_by\n"
                        b"1,you will not believe,clickbait,human\n"
                        b"2,rates rise,news,human\n3,cats,clickbait,model\n"
                        b"5,shocking cats,news,human\n")
    with store.commit("dataset", "master", message="more labels") as writer:
        writer.put_file("/parts/b.csv", b"id,headline,label,labeled_by\n"
                        b"4,dogs,news,model\n")
    head = store.inspect_commit("dataset", "master")
    model = TextClassifier().fit(["you will not believe", "rates rise", "cats", "dogs"],
                                 ["clickbait", "news", "clickbait", "news"])
    registry = ModelRegistry(store)
    registry.register(model, training_data=f"dataset@{head.id}",
                      metrics={"accuracy": 0.91, "f1": 0.88},
                      thresholds={"threshold": 0.8, "audit_rate": 0.1})
    from crowdline.model.routing import RoutingDecision

    # audited items 1 and 2: people agreed with the model on 1, not on 2; item 5 was audited
    # below the threshold it was routed with (an audit floor): not a model label, not counted
    registry.record_decisions([RoutingDecision("1", "audit", "clickbait", 0.95, 1),
                               RoutingDecision("2", "audit", "clickbait", 0.9, 1),
                               RoutingDecision("3", "model", "clickbait", 0.97, 1),
                               RoutingDecision("5", "audit", "clickbait", 0.7, 1, 0.8)])
    page = client.get("/dashboard/models").text
    assert 'id="audit-accuracy">50%' in page
    assert "from 2 audited items" in page
    assert 'class="model-version"' in page
    assert "91%" in page
    assert "88%" in page
    assert 'id="threshold">0.80' in page
    assert 'id="labeled-by-history"' in page  # two dataset versions: a chart over time
    assert "model 2 (40%)" in page
    assert "human 3 (60%)" in page


def test_every_dashboard_route_refuses_workers_and_strangers(client: httpx.Client,
                                                             server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0)
    worker, worker_token = crowd.invite_worker("Intruder")
    restriction = crowd.set_restriction(worker.id, "ALL_PROJECTS")
    values = {"pool_id": pool.id, "worker_id": worker.id, "restriction_id": restriction.id,
              "fmt": "csv"}
    routes = [(method, route.path)
              for route in [*dashboard.router.routes, *dashboard_actions.router.routes]
              if getattr(route, "path", "").startswith("/dashboard")
              and route.path not in ("/dashboard/signin", "/dashboard/signout")
              for method in getattr(route, "methods", ())]
    assert len(routes) >= 15
    for cookie in (None, worker_token):
        client.cookies.clear()
        if cookie:
            client.get(f"/join/{cookie}")
        # a valid CSRF token of this browser: the refusals below are the sign-in check's
        form = client.get("/dashboard/signin").text
        client.headers["X-CSRF-Token"] = __import__("re").search(
            r'name="csrf_token" value="([^"]+)"', form).group(1)
        for method, path in routes:
            url = path.format(**values)
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"name": "x", "scope": "ALL_PROJECTS"},
                                       files={"file": ("t.csv", b"INPUT:headline\nx\n")})
            refused = response.status_code in (401, 403) or "Requester sign-in" in response.text
            assert refused, (method, url, response.status_code)
    # nothing changed
    assert crowd.get_pool(pool.id).status == "OPEN"
    assert len(crowd.list_tasks(pool.id)) == 2
    assert [w.name for w in crowd.list_workers()] == ["Intruder"]
    assert len(crowd.list_restrictions(worker_id=worker.id)) == 1
