"""Assignments: search, get, accept / reject, and the TSV download behind get_assignments_df."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from fastapi import APIRouter, Request, Response

from crowdline.errors import InvalidInput, NotFound
from crowdline.server.toloka.routing import (
    TolokaRoute,
    crowd_of,
    iso,
    json_body,
    parse_bool,
    parse_search,
    toloka_json,
)
from crowdline.server.toloka.schemas import AssignmentPatch
from crowdline.server.toloka.tasks import LARGE_PAGE

router = APIRouter(route_class=TolokaRoute)
# Mounted at /api/new: toloka-kit downloads the TSV from /api/new/requester/pools/{id}/...
download_router = APIRouter(route_class=TolokaRoute)

STATUSES = frozenset({"ACTIVE", "SUBMITTED", "ACCEPTED", "REJECTED", "SKIPPED", "EXPIRED"})
_DATES = ("created", "submitted", "accepted", "rejected", "skipped", "expired")


def _statuses(value: str | None) -> list[str] | None:
    if not value:
        return None
    statuses = [s.strip() for s in value.split(",") if s.strip()]
    unknown = sorted(set(statuses) - STATUSES)
    if unknown:
        raise InvalidInput(f"unknown assignment status(es): {', '.join(unknown)}",
                           hint=f"use {', '.join(sorted(STATUSES))}")
    return statuses


@router.get("/assignments")
def find_assignments(request: Request) -> dict[str, Any]:
    crowd = crowd_of(request)
    query = request.query_params
    statuses = _statuses(query.get("status"))
    found = parse_search(query, equal=("task_suite_id", "pool_id", "user_id"),
                         consumed=("status", "task_id"), compare=("id", *_DATES),
                         default_limit=LARGE_PAGE)
    if statuses is not None:
        found.equal["status"] = statuses
    page, more = crowd.search_assignments(found, task_id=query.get("task_id"))
    return {"items": [toloka_json(a) for a in page], "has_more": more}


@router.get("/assignments/{assignment_id}")
def get_assignment(assignment_id: str, request: Request) -> dict[str, Any]:
    crowd = crowd_of(request)
    getter = getattr(crowd, "get_assignment", None)
    if getter is not None:
        return toloka_json(getter(assignment_id))
    for assignment in crowd.list_assignments():
        if str(assignment.id) == assignment_id:
            return toloka_json(assignment)
    raise NotFound(f"assignment {assignment_id} does not exist")


@router.patch("/assignments/{assignment_id}")
async def patch_assignment(assignment_id: str, request: Request) -> dict[str, Any]:
    patch = AssignmentPatch.model_validate(await json_body(request) or {})
    crowd = crowd_of(request)
    if patch.status == "ACCEPTED":
        result = crowd.accept_assignment(assignment_id, public_comment=patch.public_comment)
    else:
        if not patch.public_comment:
            raise InvalidInput("rejecting an assignment needs a public_comment",
                               payload={"public_comment": {"code": "VALUE_REQUIRED",
                                                           "message": "say why"}})
        result = crowd.reject_assignment(assignment_id, public_comment=patch.public_comment)
    return toloka_json(result)


# -- TSV download --------------------------------------------------------------------------

# The TSV speaks the web interface's words: APPROVED is the API's ACCEPTED.
_TSV_STATUS = {"APPROVED": "ACCEPTED"}
_TSV_PARAMS = frozenset({"status", "field", "startTimeFrom", "startTimeTo", "excludeBanned",
                         "addRowDelimiter"})
_ASSIGNMENT_FIELDS = ("link", "assignment_id", "task_id", "task_suite_id", "worker_id",
                      "status", "started", "submitted", "accepted", "rejected", "skipped",
                      "expired", "reward")
_DEFAULT_FIELDS = "ASSIGNMENT:link,ASSIGNMENT:assignment_id,ASSIGNMENT:worker_id," \
                  "ASSIGNMENT:status,ASSIGNMENT:started"


def _tsv_fields(value: str) -> list[str]:
    names = []
    for item in (v.strip() for v in value.split(",") if v.strip()):
        prefix, _, name = item.partition(":")
        if prefix != "ASSIGNMENT" or name not in _ASSIGNMENT_FIELDS:
            raise InvalidInput(f"field {item!r} cannot be downloaded",
                               hint="use ASSIGNMENT:<name> with name in "
                                    + ", ".join(_ASSIGNMENT_FIELDS))
        names.append(name)
    return names


def _parse_time(query: Any, name: str) -> dt.datetime | None:
    if not query.get(name):
        return None
    try:
        parsed = dt.datetime.fromisoformat(query[name].replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{name}={query[name]!r} is not an ISO date and time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _aware(value: Any) -> dt.datetime | None:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def banned_workers(crowd: Any, pool: Any) -> set[str]:
    """Workers whose restriction covers this pool now."""
    now = dt.datetime.now(dt.UTC)
    banned = set()
    for restriction in crowd.list_restrictions():
        expires = _aware(getattr(restriction, "will_expire", None))
        if expires is not None and expires <= now:
            continue
        scope = restriction.scope
        if (scope == "ALL_PROJECTS"
                or (scope == "POOL" and str(restriction.pool_id) == str(pool.id))
                or (scope == "PROJECT" and str(restriction.project_id) == str(pool.project_id))):
            banned.add(str(restriction.user_id))
    return banned


@download_router.get("/requester/pools/{pool_id}/assignments.tsv")
def assignments_tsv(pool_id: str, request: Request) -> Response:
    query = request.query_params
    unknown = sorted(set(query) - _TSV_PARAMS)
    if unknown:
        raise InvalidInput(f"unsupported download parameter(s): {', '.join(unknown)}",
                           hint=f"supported: {', '.join(sorted(_TSV_PARAMS))}")
    if parse_bool(query, "addRowDelimiter", False):
        raise InvalidInput("addRowDelimiter=true is not supported",
                           hint="leave it out or pass false")
    wanted = [_TSV_STATUS.get(s, s) for s in (query.get("status") or "APPROVED").split(",")]
    statuses = set(_statuses(",".join(wanted)) or ())
    fields = _tsv_fields(query.get("field") or _DEFAULT_FIELDS)
    start_from, start_to = _parse_time(query, "startTimeFrom"), _parse_time(query, "startTimeTo")

    crowd = crowd_of(request)
    pool = crowd.get_pool(pool_id)
    spec = crowd.get_project(pool.project_id).to_dict().get("task_spec") or {}
    inputs = list((spec.get("input_spec") or {}).keys())
    outputs = list((spec.get("output_spec") or {}).keys())
    excluded = banned_workers(crowd, pool) if parse_bool(query, "excludeBanned", False) else set()
    link_base = str(request.base_url).rstrip("/") + "/api/v1/assignments/"

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow([f"INPUT:{n}" for n in inputs] + [f"OUTPUT:{n}" for n in outputs]
                    + [f"GOLDEN:{n}" for n in outputs] + [f"ASSIGNMENT:{n}" for n in fields])
    for assignment in crowd.list_assignments(pool_id=pool_id):
        data = assignment.to_dict()
        if data["status"] not in statuses or str(data["user_id"]) in excluded:
            continue
        submitted = _aware(data.get("submitted"))
        if start_from and (submitted is None or submitted < start_from):
            continue
        if start_to and (submitted is None or submitted > start_to):
            continue
        solutions = data.get("solutions") or []
        for position, task in enumerate(data.get("tasks") or []):
            values = task.get("input_values") or {}
            answer = (solutions[position].get("output_values") or {}) \
                if position < len(solutions) else {}
            known = (task.get("known_solutions") or [{}])[0].get("output_values") or {}
            meta = {
                "link": link_base + str(data["id"]), "assignment_id": data["id"],
                "task_id": task.get("id"), "task_suite_id": data.get("task_suite_id"),
                "worker_id": data["user_id"],
                "status": "APPROVED" if data["status"] == "ACCEPTED" else data["status"],
                "started": data.get("created"), "reward": data.get("reward"),
                **{name: data.get(name) for name in ("submitted", "accepted", "rejected",
                                                      "skipped", "expired")},
            }
            writer.writerow([_cell(values.get(n)) for n in inputs]
                            + [_cell(answer.get(n)) for n in outputs]
                            + [_cell(known.get(n)) for n in outputs]
                            + [_cell(meta[n]) for n in fields])
    return Response(buffer.getvalue(), media_type="text/tab-separated-values; charset=utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(iso(value))
