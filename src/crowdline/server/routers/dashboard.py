"""Requester pages: sign in with a token (kept in an HttpOnly cookie), pools, one pool's
dashboard (progress, answers and honeypot accuracy per worker, bans and why, label chart)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crowdline.crowd import Requester
from crowdline.errors import AuthenticationFailed
from crowdline.server.deps import REQUESTER_COOKIE, CrowdDep, requester_from

router = APIRouter(tags=["dashboard pages"], include_in_schema=False)

CHART_COLORS = ("#2f6fde", "#e07b39", "#1f8a4c", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d")


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200,
          ) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context,
                                                        status_code=status)


def _signed_in(request: Request) -> Requester | Response:
    requester = requester_from(request)
    if requester is None:
        return RedirectResponse("/dashboard/signin", status_code=303)
    return requester


@router.get("/dashboard/signin")
def signin_form(request: Request) -> Response:
    return _page(request, "signin.html", {"error": None})


@router.post("/dashboard/signin")
def signin(request: Request, crowd: CrowdDep, token: str = Form("")) -> Response:
    try:
        crowd.authenticate_requester(token.strip())
    except AuthenticationFailed:
        return _page(request, "signin.html",
                     {"error": "That token is not valid. Create one with `crowdline token "
                               "create` and paste its last word."}, status=401)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(REQUESTER_COOKIE, token.strip(), httponly=True, samesite="strict",
                        max_age=60 * 60 * 24 * 30, path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/dashboard/signout")
def signout() -> Response:
    response = RedirectResponse("/dashboard/signin", status_code=303)
    response.delete_cookie(REQUESTER_COOKIE, path="/")
    return response


@router.get("/dashboard")
def pools(request: Request, crowd: CrowdDep) -> Response:
    requester = _signed_in(request)
    if isinstance(requester, Response):
        return requester
    projects = {p.id: p for p in crowd.list_projects()}
    rows = []
    for pool in crowd.list_pools():
        project = projects.get(pool.project_id)
        rows.append({"id": pool.id, "name": pool.private_name or f"pool {pool.id}",
                     "project": project.public_name if project else pool.project_id,
                     "status": pool.status, "type": pool.type})
    return _page(request, "dashboard.html", {"requester": requester, "pools": rows})


@router.get("/dashboard/pools/{pool_id}")
def pool_page(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    requester = _signed_in(request)
    if isinstance(requester, Response):
        return requester
    pool = crowd.get_pool(pool_id)
    stats = crowd.pool_stats(pool_id)
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
                        "accuracy": golden.get("accuracy"), "banned": worker_id in banned})
    actions = [a.to_dict() for a in crowd.list_qc_actions(pool_id=pool_id)][-50:]
    return _page(request, "pool.html", {
        "requester": requester, "pool": pool, "stats": stats, "workers": workers,
        "chart": label_chart(stats["label_distribution"]), "actions": actions})


def label_chart(distribution: dict[str, int], *, width: int = 560) -> dict[str, Any]:
    """Bars of a horizontal SVG chart: label, count, share and geometry."""
    total = sum(distribution.values())
    top = max(distribution.values(), default=0)
    label_width, bar_room, row = 150, width - 150 - 90, 28
    bars = []
    for i, (label, count) in enumerate(sorted(distribution.items(), key=lambda kv: -kv[1])):
        bars.append({"label": label, "count": count,
                     "share": count / total if total else 0.0,
                     "y": i * row, "width": round(bar_room * count / top, 1) if top else 0,
                     "color": CHART_COLORS[i % len(CHART_COLORS)]})
    return {"bars": bars, "width": width, "height": max(row, row * len(bars)),
            "label_width": label_width, "total": total}
