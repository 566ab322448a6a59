"""The dashboard's actions, as HTML forms for the signed-in requester (cookie session; every
form carries the CSRF field): invite a worker, ban / unban, open / close a pool, upload a
task file, export a pool's answers or labels (CSV, JSONL or Parquet download)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from crowdline.errors import InvalidInput
from crowdline.server.csrf import require_csrf
from crowdline.server.deps import CrowdDep, get_crowd
from crowdline.server.routers.dashboard import page, signed_in
from crowdline.server.routers.extras import invite_url, upload_limits

router = APIRouter(tags=["dashboard actions"], include_in_schema=False)

BAN_SCOPES = ("POOL", "PROJECT", "ALL_PROJECTS")
EXPORT_FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson",
                  "parquet": "application/vnd.apache.parquet"}
EXPORT_WHAT = ("answers", "labels")
TASK_FILE_FORMATS = ("csv", "tsv", "json", "jsonl")


def _back(request: Request, fallback: str) -> RedirectResponse:
    # only a path on this site (never an absolute URL from the form)
    target = str(request.query_params.get("next") or "")
    if not target.startswith("/dashboard") or target.startswith("//"):
        target = fallback
    return RedirectResponse(target, status_code=303)


@router.post("/dashboard/pools/{pool_id}/open", dependencies=[Depends(require_csrf)])
def open_pool(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    crowd.open_pool(pool_id)
    return RedirectResponse(f"/dashboard/pools/{pool_id}", status_code=303)


@router.post("/dashboard/pools/{pool_id}/close", dependencies=[Depends(require_csrf)])
def close_pool(pool_id: str, request: Request, crowd: CrowdDep) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    crowd.close_pool(pool_id)
    return RedirectResponse(f"/dashboard/pools/{pool_id}", status_code=303)


@router.post("/dashboard/pools/{pool_id}/upload", dependencies=[Depends(require_csrf)])
async def upload_tasks(pool_id: str, request: Request,
                       file: UploadFile = File(...)) -> Response:  # noqa: B008
    """A task file (Toloka's CSV/TSV columns, JSON or JSONL) into the pool; the report lists
    the rows it refused and why."""
    name = file.filename or ""
    fmt = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return await run_in_threadpool(_upload, request, pool_id, name, fmt, file)


def _upload(request: Request, pool_id: str, name: str, fmt: str, file: UploadFile) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    if fmt not in TASK_FILE_FORMATS:
        raise InvalidInput(f"cannot tell the format of task file {name!r}",
                           hint="name it *.csv, *.tsv, *.json or *.jsonl")
    crowd = get_crowd(request)
    pool = crowd.get_pool(pool_id)
    report = crowd.import_task_file(pool_id, file.file, format=fmt,
                                    limits=upload_limits(request, file))
    errors = [{"row": k, "errors": v} for k, v in sorted(
        (report.validation_errors or {}).items(), key=lambda kv: str(kv[0]))]
    return page(request, "upload_report.html", {
        "requester": requester, "pool": pool, "file": name,
        "created": len(report.items), "errors": errors})


@router.post("/dashboard/workers/invite", dependencies=[Depends(require_csrf)])
def invite(request: Request, crowd: CrowdDep, name: str = Form("")) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    worker, token = crowd.invite_worker(name.strip())
    link = invite_url(request, token)
    banned = {r.user_id for r in crowd.list_restrictions()}
    workers = [{"id": w.id, "name": w.name, "banned": w.id in banned}
               for w in crowd.list_workers()]
    return page(request, "workers.html", {"requester": requester, "workers": workers,
                                          "invite": {"worker": worker, "link": link}})


@router.post("/dashboard/workers/{worker_id}/ban", dependencies=[Depends(require_csrf)])
def ban(worker_id: str, request: Request, crowd: CrowdDep, scope: str = Form("POOL"),
        pool_id: str = Form(""), comment: str = Form(""), days: str = Form("")) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    if scope not in BAN_SCOPES:
        raise InvalidInput(f"ban scope {scope!r} is not one of {', '.join(BAN_SCOPES)}")
    options: dict[str, Any] = {"private_comment": comment.strip() or "banned by the requester"}
    if scope in ("POOL", "PROJECT"):
        if not pool_id:
            raise InvalidInput("a pool ban needs a pool", hint="pick the pool in the form")
        pool = crowd.get_pool(pool_id)
        if scope == "POOL":
            options["pool_id"] = pool.id
        else:
            options["project_id"] = pool.project_id
    if days.strip():
        if not days.strip().isdigit() or int(days) < 1:
            raise InvalidInput(f"ban length {days!r} is not a whole number of days",
                               hint="leave it empty for a permanent ban")
        options["duration_seconds"] = int(days) * 86400
    crowd.set_restriction(worker_id, scope, **options)
    return _back(request, f"/dashboard/workers/{worker_id}")


@router.post("/dashboard/restrictions/{restriction_id}/unban", dependencies=[Depends(require_csrf)])
def unban(restriction_id: str, request: Request, crowd: CrowdDep) -> Response:
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    crowd.delete_restriction(restriction_id)
    return _back(request, "/dashboard/workers")


@router.get("/dashboard/pools/{pool_id}/export.{fmt}")
def export(pool_id: str, fmt: str, request: Request, crowd: CrowdDep,
           what: str = "answers") -> Response:
    """A download of the pool's answers (control answers flagged, with their known label) or
    its aggregated labels (with confidence), as CSV, JSONL or Parquet."""
    requester = signed_in(request)
    if isinstance(requester, Response):
        return requester
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"export format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    if what not in EXPORT_WHAT:
        raise InvalidInput(f"export {what!r} is not one of {', '.join(EXPORT_WHAT)}")
    crowd.get_pool(pool_id)  # 404 before any work
    data = crowd.export_answers(pool_id, fmt) if what == "answers" \
        else crowd.export_labels(pool_id, fmt)
    return Response(data, media_type=EXPORT_FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="pool-{pool_id}-{what}.{fmt}"'})
