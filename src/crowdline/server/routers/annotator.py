"""The annotator HTTP API: fetch a task suite, submit it, skip it (worker token)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Body, Response

from crowdline.server.deps import CrowdDep, WorkerDep
from crowdline.server.schemas import (
    AnnotatorAssignmentPublic,
    AssignmentStatusPublic,
    NextSuiteRequest,
    ProfileRequest,
    ReplyRequest,
    SubmitRequest,
    SubmitResultPublic,
)

router = APIRouter(prefix="/api/annotator/v1", tags=["annotator"])


# The two hot routes are async: the facade's async calls wait for the database (on SQLite,
# its one writer thread) without a thread-pool hop, and the answer is encoded once with
# orjson (the response model documents it; FastAPI does not re-validate a Response).


def _json(data: object) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


@router.post("/assignments/next", response_model=AnnotatorAssignmentPublic,
             responses={204: {"description": "no more tasks for this worker"}},
             summary="Get the next task suite (or the active one again)")
async def next_suite(worker: WorkerDep, crowd: CrowdDep,
                     body: NextSuiteRequest | None = Body(None)) -> Response:
    suite = await crowd.request_assignment_async(worker.id, body.pool_id if body else None)
    if suite is None:
        return Response(status_code=204)
    return _json(suite.to_dict())


@router.post("/assignments/{assignment_id}/submit", response_model=SubmitResultPublic,
             summary="Submit the solutions of a task suite (committed before the answer)")
async def submit_suite(assignment_id: str, body: SubmitRequest, worker: WorkerDep,
                       crowd: CrowdDep) -> Response:
    solutions = [s.model_dump() for s in body.solutions]
    result = await crowd.submit_assignment_async(worker.id, assignment_id, solutions,
                                                 idempotency_key=body.idempotency_key,
                                                 captcha_answer=body.captcha_answer)
    return _json(result.to_dict())


@router.post("/assignments/{assignment_id}/skip", response_model=AssignmentStatusPublic,
             summary="Skip a task suite (its tasks go back to the queue)")
def skip_suite(assignment_id: str, worker: WorkerDep, crowd: CrowdDep) -> object:
    assignment = crowd.skip_assignment(worker.id, assignment_id)
    return {"id": assignment.id, "status": assignment.status}


@router.get("/profile", summary="The annotator's own name and profile")
def get_profile(worker: WorkerDep, crowd: CrowdDep) -> dict[str, object]:
    return crowd.get_worker(worker.id).to_dict()


@router.put("/profile", summary="Set one's profile (languages, country...) once")
def set_profile(body: ProfileRequest, worker: WorkerDep, crowd: CrowdDep) -> dict[str, object]:
    return crowd.set_worker_profile(worker.id, body.profile, once=True).to_dict()


@router.get("/messages", summary="The annotator's inbox: messages and bonus notes")
def messages(worker: WorkerDep, crowd: CrowdDep) -> list[dict[str, object]]:
    return crowd.worker_messages(worker.id)


@router.post("/messages/{thread_id}/reply", summary="Reply to an answerable message thread")
def reply(thread_id: str, body: ReplyRequest, worker: WorkerDep,
          crowd: CrowdDep) -> dict[str, object]:
    crowd.reply_to_thread(thread_id, body.text, worker_id=worker.id)
    return {"thread_id": thread_id, "status": "SENT"}
