"""Requester pages: sign in with a token (kept in an HttpOnly cookie), pools with progress
bars, one pool's dashboard (progress by answers with an ETA, refreshed live; throughput and
honeypot accuracy over time; agreement; workers; label chart; bans and why; QC actions;
actions), the task browser, workers and one worker's record, the model panel.

Pages are rendered on the server; ``static/dashboard.js`` only polls the ``*.json`` progress
routes (same-origin GETs with the session cookie) and swaps figures in. The actions are HTML
forms (``routers/dashboard_actions.py``), each carrying the CSRF field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from crowdline.crowd import Requester
from crowdline.crowd.insights import TASK_FILTERS, TASK_SORTS
from crowdline.errors import AuthenticationFailed
from crowdline.server.charts import columns, label_bars, stacked_columns, stacked_share
from crowdline.server.csrf import require_csrf
from crowdline.server.deps import (
    REQUESTER_COOKIE,
    CrowdDep,
    get_workspace,
    requester_from,
    throttle,
)
from crowdline.server.model_panel import model_panel

router = APIRouter(tags=["dashboard pages"], include_in_schema=False)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200,
         ) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context,
                                                        status_code=status)


def signed_in(request: Request) -> Requester | Response:
    requester = requester_from(request)
    if requester is None:
        return RedirectResponse("/dashboard/signin", status_code=303)
    return requester


def signed_in_json(request: Request) -> Requester | Response:
    requester = requester_from(request)
    if requester is None:
        return JSONResponse({"code": "AUTHENTICATION_ERROR",
                             "message": "sign in at /dashboard/signin"}, status_code=401)
    return requester


@router.get("/dashboard/signin")
def signin_form(request: Request) -> Response:
    return page(request, "signin.html", {"error": None})


@router.post("/dashboard/signin", dependencies=[Depends(require_csrf)])
def signin(request: Request, crowd: CrowdDep, token: str = Form("")) -> Response:
    throttle(request).check(request)
    try:
        crowd.authenticate_requester(token.strip())
    except AuthenticationFailed:
        throttle(request).failed(request)
        return page(request, "signin.html",
                    {"error": "That token is not valid. Create one with `crowdline token "
                              "create` and paste its last word."}, status=401)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(REQUESTER_COOKIE, token.strip(), httponly=True, samesite="strict",
                        max_age=60 * 60 * 24 * 30, path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/dashboard/signout", dependencies=[Depends(require_csrf)])
def signout() -> Response:
    response = RedirectResponse("/dashboard/signin", status_code=303)
    response.delete_cookie(REQUESTER_COOKIE, path="/")
    return response


def _pool_rows(crowd: Any) -> list[dict[str, Any]]:
    projects = {p.id: p for p in crowd.list_projects()}
    rows = []
    for pool in crowd.list_pools():
        project = projects.get(pool.project_id)
        rows.append({"id": pool.id, "name": pool.private_name or f"pool {pool.id}",
                     "project": project.public_name if project else pool.project_id,
                     "status": pool.status, "type": pool.type,
                     "progress": crowd.pool_progress(pool.id)})
    return rows


@router.get("/dashboard")
def pools(request: Request, crowd: CrowdDep) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    return page(request, "dashboard.html", {"requester": requester, "pools": _pool_rows(crowd)})


@router.get("/dashboard/progress.json")
def pools_progress(request: Request, crowd: CrowdDep) -> Response:
    """Every pool's progress, for the pools list's live bars."""
    requester = signed_in_json(request)
    if isinstance(requester, Response):
        return requester
    return JSONResponse({"pools": [row["progress"] for row in _pool_rows(crowd)]})


@router.get("/dashboard/pools/{pool_id}/progress.json")
def pool_progress(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    """One pool's progress (answers collected / needed, ETA), polled by the pool page."""
    requester = signed_in_json(request)
    if isinstance(requester, Response):
        return requester
    return JSONResponse(crowd.pool_progress(pool_id))


@router.get("/dashboard/pools/{pool_id}")
def pool_page(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    pool = crowd.get_pool(pool_id)
    stats = crowd.pool_stats(pool_id)
    agreement = crowd.pool_agreement(pool_id)
    names = stats.get("workers", {})
    worker_ids = sorted(set(stats["answers_per_worker"]) | set(stats["golden_accuracy"]),
                        key=lambda w: (-stats["answers_per_worker"].get(w, 0), w))
    banned = {ban["worker_id"] for ban in stats["bans"]}
    workers = []
    for worker_id in worker_ids:
        golden = stats["golden_accuracy"].get(worker_id) or {}
        workers.append({"id": worker_id, "name": names.get(worker_id, worker_id),
                        "answers": stats["answers_per_worker"].get(worker_id, 0),
                        "golden_answers": golden.get("answers", 0),
                        "golden_correct": golden.get("correct", 0),
                        "accuracy": golden.get("accuracy"), "banned": worker_id in banned,
                        "agreement": agreement["workers"].get(worker_id)})
    actions = [a.to_dict() for a in crowd.list_qc_actions(pool_id=pool_id)][-50:]
    timeline = crowd.pool_timeline(pool_id)
    times = [(row["start"] or "")[11:16] for row in timeline]
    return page(request, "pool.html", {
        "requester": requester, "pool": pool, "stats": stats, "workers": workers,
        "progress": crowd.pool_progress(pool_id), "agreement": agreement,
        "throughput": columns([row["answers"] for row in timeline], times),
        "accuracy_chart": columns([row["golden_accuracy"] for row in timeline], times,
                                  top=1.0, percent=True),
        "chart": label_bars(stats["label_distribution"]), "actions": actions})


@router.get("/dashboard/pools/{pool_id}/tasks")
def tasks_page(pool_id: str, request: Request, crowd: CrowdDep, q: str = "",
               status: str = "all", label: str = "", sort: str = "id",
               offset: int = 0) -> Response:
    """The task browser: search the input text, filter, sort; each task's answers, majority
    label and its confidence (control tasks also show their known answer: requesters only)."""
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    pool = crowd.get_pool(pool_id)
    table = crowd.browse_tasks(pool_id, q=q, status=status, label=label, sort=sort,
                               offset=max(0, offset), limit=50)
    labels = sorted(crowd.pool_stats(pool_id)["label_distribution"])
    return page(request, "tasks.html", {
        "requester": requester, "pool": pool, "table": table, "labels": labels,
        "query": {"q": q, "status": status, "label": label, "sort": sort},
        "filters": TASK_FILTERS, "sorts": TASK_SORTS})


@router.get("/dashboard/workers")
def workers_page(request: Request, crowd: CrowdDep) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    banned = {r.user_id for r in crowd.list_restrictions()}
    workers = [{"id": w.id, "name": w.name, "banned": w.id in banned}
               for w in crowd.list_workers()]
    return page(request, "workers.html", {"requester": requester, "workers": workers,
                                          "invite": None})


@router.get("/dashboard/workers/{worker_id}")
def worker_page(worker_id: str, request: Request, crowd: CrowdDep) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    record = crowd.worker_record(worker_id)
    pools = [{"id": p.id, "name": p.private_name or f"pool {p.id}"} for p in crowd.list_pools()]
    return page(request, "worker.html", {"requester": requester, "w": record, "pools": pools})


@router.get("/dashboard/models")
def models_page(request: Request) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    panel = model_panel(get_workspace(request))
    return page(request, "models.html", {
        "requester": requester, "panel": panel,
        "share": stacked_share(panel["labeled_by"]) if panel["labeled_by"] else None,
        "history": stacked_columns(panel["history"]) if len(panel["history"]) > 1 else None})
