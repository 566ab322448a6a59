"""Annotator pages: invite link sign-in, pool list, instructions, one task suite at a time.

Pages are rendered on the server with autoescaping Jinja2; a small script adds the keyboard
(1-9 label, Enter submit, S skip). Pages only ever see ``AnnotatorAssignment``, which carries no
known solutions or hints; training hints are shown only after a wrong answer.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt
from starlette.concurrency import run_in_threadpool

from crowdline.crowd import AnnotatorAssignment, Worker
from crowdline.errors import InvalidInput
from crowdline.server.deps import WORKER_COOKIE, CrowdDep, get_crowd, worker_from

router = APIRouter(tags=["annotator pages"], include_in_schema=False)


@functools.cache
def _markdown() -> MarkdownIt:
    # Raw HTML in instructions is shown as text: annotators' pages run no requester markup.
    return MarkdownIt("commonmark", {"html": False})


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
    crowd.authenticate_worker(token)  # 401 page when the link is not valid
    response = RedirectResponse("/annotate", status_code=303)
    response.set_cookie(WORKER_COOKIE, token, httponly=True, samesite="lax",
                        max_age=60 * 60 * 24 * 365, path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/annotate/signout")
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
        project = crowd.get_project(pool.project_id)
        open_pools.append({"id": pool.id, "name": project.public_name,
                           "description": project.public_description,
                           "training": pool.type == "TRAINING"})
    return _page(request, "pools.html", {"worker": worker, "pools": open_pools})


@router.get("/annotate/pools/{pool_id}")
def instructions(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    pool = crowd.get_pool(pool_id)
    project = crowd.get_project(pool.project_id)
    return _page(request, "instructions.html", {
        "worker": worker, "pool_id": pool.id, "name": project.public_name,
        "training": pool.type == "TRAINING",
        "instructions": render_instructions(project.public_instructions)})


@router.get("/annotate/pools/{pool_id}/work")
def work(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    """The worker's active suite in this pool (a reload shows the same one) or a new one."""
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    suite = crowd.request_assignment(worker.id, pool_id)
    done = len(crowd.list_assignments(pool_id=pool_id, worker_id=worker.id, status="SUBMITTED"))
    done += len(crowd.list_assignments(pool_id=pool_id, worker_id=worker.id, status="ACCEPTED"))
    if suite is None:
        return _page(request, "no_tasks.html", {"worker": worker, "done": done})
    return _page(request, "suite.html", {
        "worker": worker, "suite": suite, "done": done, "field": _field(suite),
        "labels": [{"value": v, "title": t, "key": k} for v, t, k in suite.labels],
        "multi": _field_type(suite) == "array_string",
        "instructions": render_instructions(crowd.get_project(suite.project_id)
                                            .public_instructions),
        "idempotency_key": uuid.uuid4().hex})


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


@router.post("/annotate/assignments/{assignment_id}/submit")
async def submit(assignment_id: str, request: Request) -> Response:
    form = await request.form()
    pool_id = str(form.get("pool_id") or "")
    field = str(form.get("field") or "")
    field_type = str(form.get("field_type") or "string")
    count_text = str(form.get("task_count") or "")
    count = int(count_text) if count_text.isdigit() else 0
    if not field or count <= 0 or not pool_id:
        raise InvalidInput("the answer form is incomplete", hint="reload the page and answer again")
    solutions = []
    for index in range(count):
        value = _form_value([str(v) for v in form.getlist(f"answer-{index}")], field_type)
        if value is None:
            raise InvalidInput(f"task {index + 1} has no answer",
                               hint="pick a label for every task, then submit")
        solutions.append({"output_values": {field: value}})
    key = str(form.get("idempotency_key") or "") or None
    # the facade calls block: run them in the thread pool, as sync routes are
    return await run_in_threadpool(_submit, request, assignment_id, pool_id, solutions, key)


def _submit(request: Request, assignment_id: str, pool_id: str, solutions: list[dict[str, Any]],
            key: str | None) -> Response:
    worker = _signed_in(request)
    if isinstance(worker, Response):
        return worker
    result = get_crowd(request).submit_assignment(worker.id, assignment_id, solutions,
                                                  idempotency_key=key)
    wrong = [f for f in result.training_feedback if not f.get("correct")]
    if wrong:
        return _page(request, "feedback.html", {"worker": worker, "pool_id": pool_id,
                                                "feedback": result.training_feedback})
    return RedirectResponse(f"/annotate/pools/{pool_id}/work", status_code=303)


@router.post("/annotate/assignments/{assignment_id}/skip")
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
