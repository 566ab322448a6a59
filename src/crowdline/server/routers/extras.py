"""crowdline-only requester endpoints (``/api/crowdline/v1``): what Toloka's API lacks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.encoders import jsonable_encoder

from crowdline.crowd.uploads import UploadLimits
from crowdline.errors import InvalidInput, UploadTooLarge
from crowdline.server.deps import CrowdDep, RequesterDep, get_workspace
from crowdline.server.schemas import ExportRequest, InvitePublic, InviteRequest

router = APIRouter(prefix="/api/crowdline/v1", tags=["crowdline requester"])

TASK_FILE_FORMATS = ("csv", "tsv", "json", "jsonl")
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # the default of the upload_max_bytes setting


def upload_limits(request: Request, file: UploadFile) -> UploadLimits:
    """The workspace's upload limits; a file already known to be too large is refused
    before a byte of it is parsed (the upload itself was spooled to disk, not memory)."""
    limits = UploadLimits.from_settings(get_workspace(request).settings)
    if file.size is not None and file.size > limits.max_bytes:
        raise UploadTooLarge(f"the task file has {file.size:,} bytes, more than "
                             f"{limits.max_bytes:,}",
                             hint="split it, or raise upload_max_bytes in crowdline.toml")
    return limits


def invite_url(request: Request, token: str) -> str:
    """The sign-in link of a worker token: on the configured public URL, or else on the
    address this request reached (the default public URL names only the default port)."""
    settings = get_workspace(request).settings
    base = settings.public_url.rstrip("/")
    if base == f"http://{settings.server_host}:{settings.server_port}":
        base = str(request.base_url).rstrip("/")
    return f"{base}/join/{token}"


@router.post("/workers", response_model=InvitePublic, status_code=201,
             summary="Invite an annotator: their token and sign-in link (shown once)")
def invite_worker(body: InviteRequest, request: Request, requester: RequesterDep,
                  crowd: CrowdDep) -> dict[str, Any]:
    worker, token = crowd.invite_worker(body.name, profile=body.profile)
    return {"worker": worker.to_dict(), "token": token, "invite_url": invite_url(request, token)}


@router.get("/workers", summary="List annotators")
def list_workers(requester: RequesterDep, crowd: CrowdDep) -> list[dict[str, Any]]:
    return [w.to_dict() for w in crowd.list_workers()]


@router.post("/pools/{pool_id}/tasks/upload",
             summary="Upload a task file (CSV/TSV with INPUT:/GOLDEN:/HINT: columns, JSON, "
                     "JSONL); answers the created count and the rejected rows with reasons")
def upload_tasks(pool_id: str, request: Request, requester: RequesterDep, crowd: CrowdDep,
                 file: UploadFile = File(..., description="the task file"),
                 format: str | None = Form(None, description="csv, tsv, json or jsonl; "
                                                             "default: from the file name"),
                 ) -> dict[str, Any]:
    fmt = (format or (file.filename or "").rsplit(".", 1)[-1]).lower()
    if fmt not in TASK_FILE_FORMATS:
        raise InvalidInput(f"cannot tell the format of task file {file.filename!r}",
                           hint=f"name it *.csv, *.tsv, *.json or *.jsonl, or pass format= "
                                f"one of {', '.join(TASK_FILE_FORMATS)}")
    report = crowd.import_task_file(pool_id, file.file, format=fmt,
                                    limits=upload_limits(request, file))
    return {"pool_id": pool_id, "created": len(report.items),
            "task_ids": [task.id for task in report.items.values()],
            "rejected": {str(row): errors for row, errors in report.validation_errors.items()}}


@router.get("/pools/{pool_id}/stats",
            summary="Pool statistics: progress, answers and honeypot accuracy per worker, "
                    "bans and why, label distribution")
def pool_stats(pool_id: str, requester: RequesterDep, crowd: CrowdDep) -> dict[str, Any]:
    return crowd.pool_stats(pool_id)


@router.get("/pools/{pool_id}/qc-actions",
            summary="Quality-control actions taken in a pool, with the figures that fired them")
def qc_actions(pool_id: str, requester: RequesterDep, crowd: CrowdDep,
               worker_id: str | None = None) -> list[dict[str, Any]]:
    crowd.get_pool(pool_id)  # 404 for an unknown pool rather than an empty list
    return [a.to_dict() for a in crowd.list_qc_actions(pool_id=pool_id, worker_id=worker_id)]


@router.post("/pools/{pool_id}/export",
             summary="Export a pool's tasks and answers as a commit in a store repo")
def export_pool(pool_id: str, body: ExportRequest, requester: RequesterDep,
                crowd: CrowdDep) -> dict[str, Any]:
    return jsonable_encoder(crowd.export_pool(pool_id, body.repo, body.branch))


@router.get("/webhook-deliveries", summary="The webhook delivery log (newest first)")
def webhook_deliveries(requester: RequesterDep, crowd: CrowdDep,
                       pool_id: str | None = None) -> list[dict[str, Any]]:
    return crowd.webhook_deliveries(pool_id)
