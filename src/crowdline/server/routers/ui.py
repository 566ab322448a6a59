"""Annotator pages: invite link sign-in, pool list, instructions, one task suite at a time.

Pages are rendered on the server with autoescaping Jinja2; a small script adds the keyboard
(1-9 label, X unsure, Enter submit, S skip, U undo). Pages only ever see
``AnnotatorAssignment``, which carries no known solutions or hints; after a wrong answer in a
TRAINING pool the feedback shows the item, the hint and the right answer (never for a control
task of a regular pool). When there is no suite, the page says why (``Crowd.worker_standing``).
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt
from starlette.concurrency import run_in_threadpool

from crowdline.crowd import AnnotatorAssignment, Worker
from crowdline.crowd.projects import labels_of
from crowdline.crowd.tasks import label_of
from crowdline.errors import (
    AssignmentNotActive,
    AuthenticationFailed,
    InvalidInput,
    PermissionDenied,
)
from crowdline.server.csrf import require_csrf
from crowdline.server.deps import WORKER_COOKIE, CrowdDep, get_crowd, throttle, worker_from

router = APIRouter(tags=["annotator pages"], include_in_schema=False)


@functools.cache
def _markdown() -> MarkdownIt:
    # Raw HTML in instructions is shown as text: annotators' pages run no requester markup.
    # markdown-it also refuses javascript:/data: links. Tables are GitHub's pipe tables.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_instructions(text: str) -> str:
    return _markdown().render(text or "")


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200,
          ) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context,
                                                        status_code=status)


def _signed_in(request: Request) -> Worker | Response:
    worker = worker_from(request)
    if worker is None:
        return _page(request, "signin_needed.html", {}, status=401)
    return worker


@router.get("/join/{token}")
def join(token: str, request: Request, crowd: CrowdDep) -> Response:
    """An invite link: check the token, keep it in an HttpOnly cookie, go to the pools."""
    throttle(request).check(request)
    try:
        crowd.authenticate_worker(token)
    except AuthenticationFailed:
        throttle(request).failed(request)
        raise  # the 401 page: the link is not valid
    response = RedirectResponse("/annotate", status_code=303)
    response.set_cookie(WORKER_COOKIE, token, httponly=True, samesite="lax",
                        max_age=60 * 60 * 24 * 365, path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/annotate/signout", dependencies=[Depends(require_csrf)])
def signout() -> Response:
    response = RedirectResponse("/annotate", status_code=303)
    response.delete_cookie(WORKER_COOKIE, path="/")
    return response


@router.get("/annotate")
def pools(request: Request, crowd: CrowdDep) -> Response:
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    open_pools = []
    for pool in crowd.list_pools(status="OPEN"):
        standing = crowd.worker_standing(worker.id, pool.id)
        if standing.get("state") == "unavailable":
            continue  # banned here, or the pool's filter leaves this worker out
        project = crowd.get_project(pool.project_id)
        open_pools.append({"id": pool.id, "name": project.public_name,
                           "description": project.public_description,
                           "training": pool.type == "TRAINING", "standing": standing})
    return _page(request, "pools.html", {"worker": worker, "pools": open_pools,
                                         "messages": len(crowd.worker_messages(worker.id))})


@router.get("/annotate/profile")
def profile(request: Request, crowd: CrowdDep) -> Response:
    """The annotator's profile (languages, country): shown, or a form to set it once."""
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    return _page(request, "profile.html", {"worker": worker,
                                           "profile": crowd.get_worker(worker.id).profile})


@router.post("/annotate/profile", dependencies=[Depends(require_csrf)])
async def set_profile(request: Request) -> Response:
    form = await request.form()
    languages = [part.strip() for part in str(form.get("languages") or "").split(",")
                 if part.strip()]
    country = str(form.get("country") or "").strip() or None
    return await run_in_threadpool(_set_profile, request, languages, country)


def _set_profile(request: Request, languages: list[str], country: str | None) -> Response:
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    profile = {"languages": languages or None, "country": country}
    get_crowd(request).set_worker_profile(
        worker.id, {k: v for k, v in profile.items() if v is not None}, once=True)
    return RedirectResponse("/annotate/profile", status_code=303)


@router.get("/annotate/messages")
def messages(request: Request, crowd: CrowdDep) -> Response:
    """The worker's inbox: the requester's message threads and bonus notes."""
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    return _page(request, "messages.html", {"worker": worker,
                                            "threads": crowd.worker_messages(worker.id)})


@router.get("/annotate/pools/{pool_id}")
def instructions(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    pool = crowd.get_pool(pool_id)
    if pool.status != "OPEN" or crowd.worker_standing(
            worker.id, pool.id).get("state") == "unavailable":
        raise PermissionDenied(f"pool {pool.id} is not open to you",
                               hint="pick one of the pools listed at /annotate")
    project = crowd.get_project(pool.project_id)
    return _page(request, "instructions.html", {
        "worker": worker, "pool_id": pool.id, "name": project.public_name,
        "training": pool.type == "TRAINING",
        "instructions": render_instructions(project.public_instructions)})


@router.get("/annotate/pools/{pool_id}/work")
def work(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    """The worker's active suite in this pool (a reload shows the same one) or a new one;
    without one, the page that says why (training first, result, unavailable, finished...)."""
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    undo = _undo(request, crowd, worker)
    suite = crowd.request_assignment(worker.id, pool_id)
    if suite is None:
        return _page(request, "standing.html", {
            "worker": worker, "s": crowd.worker_standing(worker.id, pool_id), "undo": undo})
    return _page(request, "suite.html", {
        "worker": worker, "suite": suite, "undo": undo,
        "progress": crowd.worker_progress(worker.id, suite.pool_id),
        "field": _field(suite), "restore": _restore(request, suite),
        "labels": [{"value": v, "title": t, "key": k} for v, t, k in suite.labels],
        "multi": _field_type(suite) == "array_string",
        "instructions": render_instructions(crowd.get_project(suite.project_id)
                                            .public_instructions),
        "idempotency_key": uuid.uuid4().hex})


def _undo(request: Request, crowd: Any, worker: Worker) -> dict[str, Any] | None:
    """The undo banner for the suite named by ``?undo=`` while it can still be undone."""
    assignment_id = request.query_params.get("undo", "")
    if not assignment_id.isdigit():
        return None
    return crowd.undo_window(worker.id, assignment_id)


def _restore(request: Request, suite: AnnotatorAssignment) -> dict[str, list[str]]:
    """Answers to fill in again after an undo: ``?restore=`` {task id: value} (only ticks
    boxes; the submit checks the values as always)."""
    try:
        values = json.loads(request.query_params.get("restore") or "{}")
    except ValueError:
        return {}
    if not isinstance(values, dict):
        return {}
    ids = {task["id"] for task in suite.tasks}
    return {str(k): [_as_form(x) for x in (v if isinstance(v, list) else [v])]
            for k, v in values.items() if str(k) in ids}


def _as_form(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _field(suite: AnnotatorAssignment) -> str:
    return next(iter(suite.output_spec))


def _field_type(suite: AnnotatorAssignment) -> str:
    return str(suite.output_spec[_field(suite)].get("type", "string"))


def _form_value(raw: list[str], field_type: str) -> Any:
    if field_type == "array_string":
        return raw
    if not raw:
        return None
    value = raw[0]
    if field_type == "boolean":
        return value.lower() == "true"
    if field_type == "integer":
        try:
            return int(value)
        except ValueError:
            return value  # the facade rejects it as an unknown label
    return value


@router.post("/annotate/assignments/{assignment_id}/submit", dependencies=[Depends(require_csrf)])
async def submit(assignment_id: str, request: Request) -> Response:
    form = await request.form()
    pool_id = str(form.get("pool_id") or "")
    field = str(form.get("field") or "")
    field_type = str(form.get("field_type") or "string")
    count_text = str(form.get("task_count") or "")
    count = int(count_text) if count_text.isdigit() else 0
    if not field or count <= 0 or not pool_id:
        raise InvalidInput("the answer form is incomplete", hint="reload the page and answer again")
    solutions, skipped = [], []
    for index in range(count):
        if form.get(f"unsure-{index}"):
            skipped.append(str(form.get(f"task_id-{index}") or ""))
            continue
        value = _form_value([str(v) for v in form.getlist(f"answer-{index}")], field_type)
        if value is None:
            raise InvalidInput(f"task {index + 1} has no answer",
                               hint="pick a label for every task (or mark it unsure), then "
                                    "submit")
        solutions.append({"output_values": {field: value}})
    key = str(form.get("idempotency_key") or "") or None
    captcha_answer = str(form.get("captcha_answer") or "") or None
    # the facade calls block: run them in the thread pool, as sync routes are
    return await run_in_threadpool(_submit, request, assignment_id, pool_id, solutions,
                                   skipped, key, captcha_answer)


def _submit(request: Request, assignment_id: str, pool_id: str, solutions: list[dict[str, Any]],
            skipped: list[str], key: str | None, captcha_answer: str | None = None) -> Response:
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    crowd = get_crowd(request)
    if skipped and not solutions:  # every task unsure: that is skipping the suite
        return _skip(request, assignment_id, pool_id)
    if skipped:
        try:
            crowd.skip_tasks(worker.id, assignment_id, skipped)
        except AssignmentNotActive:
            pass  # a retried submit: the first one went through; submit answers its result
    result = crowd.submit_assignment(worker.id, assignment_id, solutions,
                                     idempotency_key=key, captcha_answer=captcha_answer)
    wrong = [f for f in result.training_feedback if not f.get("correct")]
    if wrong:
        return _page(request, "feedback.html", {
            "worker": worker, "pool_id": pool_id,
            "feedback": training_feedback(crowd, assignment_id, result.training_feedback)})
    return RedirectResponse(f"/annotate/pools/{pool_id}/work?undo={result.assignment_id}",
                            status_code=303)


def training_feedback(crowd: Any, assignment_id: str,
                      feedback: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feedback items with the task's text, the worker's answer and — for a TRAINING pool's
    tasks only — the right answer (Toloka's hints; a regular pool's control tasks never)."""
    assignment = crowd.get_assignment(assignment_id)
    pool = crowd.get_pool(assignment.pool_id)
    if pool.type != "TRAINING":
        return feedback
    project = crowd.get_project(pool.project_id)
    field = next(iter(project.task_spec["output_spec"]))
    titles = {str(v): t for v, t, _ in labels_of(project.task_spec)}
    tasks = {task["id"]: task for task in assignment.tasks}
    given = [label_of(field, (s or {}).get("output_values")) for s in assignment.solutions or []]
    items = []
    for index, item in enumerate(feedback):
        task = tasks.get(str(item["task_id"]), {})
        known = task.get("known_solutions") or []
        answer = label_of(field, known[0].get("output_values")) if known else None
        mine = given[index] if index < len(given) else None
        items.append({**item, "input_values": task.get("input_values") or {},
                      "given": _title(titles, mine),
                      "answer": None if item.get("correct") else _title(titles, answer)})
    return items


def _title(titles: dict[str, str], value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(titles.get(str(v), str(v)) for v in value)
    return titles.get(str(value), str(value))


@router.post("/annotate/assignments/{assignment_id}/skip", dependencies=[Depends(require_csrf)])
async def skip(assignment_id: str, request: Request) -> Response:
    form = await request.form()
    pool_id = str(form.get("pool_id") or "")
    return await run_in_threadpool(_skip, request, assignment_id, pool_id)


def _skip(request: Request, assignment_id: str, pool_id: str) -> Response:
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    assignment = get_crowd(request).skip_assignment(worker.id, assignment_id)
    return RedirectResponse(f"/annotate/pools/{pool_id or assignment.pool_id}/work",
                            status_code=303)


@router.post("/annotate/assignments/{assignment_id}/undo", dependencies=[Depends(require_csrf)])
def undo(assignment_id: str, request: Request, crowd: CrowdDep) -> Response:
    """Take back the suite just submitted (within its grace period): it comes back filled in."""
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    undone = crowd.undo_submission(worker.id, assignment_id)
    assignment = crowd.get_assignment(assignment_id)
    field = None
    restore: dict[str, Any] = {}
    for task, solution in zip(assignment.tasks, undone["solutions"], strict=False):
        values = (solution or {}).get("output_values") or {}
        field = field or next(iter(values), None)
        if field is not None and field in values:
            restore[task["id"]] = values[field]
    target = f"/annotate/pools/{undone['pool_id']}/work"
    if restore:
        target += "?" + urlencode({"restore": json.dumps(restore)})
    return RedirectResponse(target, status_code=303)
