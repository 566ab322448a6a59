"""Webhook subscriptions, user bonuses (recorded only) and message threads, Toloka's routes."""

from __future__ import annotations

import weakref
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from crowdline.crowd.operations import WorkResult
from crowdline.crowd.webhooks import Deliverer
from crowdline.errors import CrowdlineError, InvalidInput
from crowdline.server.toloka.routing import (
    ID_AND_CREATED,
    TolokaRoute,
    crowd_of,
    error_response,
    json_body,
    operations_of,
    parse_bool,
    search,
)

router = APIRouter(route_class=TolokaRoute)


def ensure_deliverer(app: Any) -> None:
    """One delivery thread per app, started with the first subscription it sees; it ends
    when the app is gone."""
    if getattr(app.state, "webhook_deliverer", None) is not None:
        return
    owner = weakref.ref(app)
    engine = app.state.workspace.engine
    app.state.webhook_deliverer = Deliverer(engine, alive=lambda: owner() is not None).start()


# -- webhook subscriptions ----------------------------------------------------------------


@router.put("/webhook-subscriptions", status_code=201)
async def upsert_webhook_subscriptions(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, list) or not body:
        raise InvalidInput("send a JSON list of subscriptions")
    crowd = crowd_of(request)
    created = crowd.upsert_webhook_subscriptions(body)
    ensure_deliverer(request.app)
    return {"items": {str(i): item for i, item in enumerate(created)},
            "validation_errors": {}}


@router.get("/webhook-subscriptions")
def find_webhook_subscriptions(request: Request) -> dict[str, Any]:
    query = request.query_params
    items = crowd_of(request).find_webhook_subscriptions(
        event_type=query.get("event_type"), pool_id=query.get("pool_id"))
    return search(items, query, equal=("event_type", "pool_id"), compare=ID_AND_CREATED)


@router.get("/webhook-subscriptions/{subscription_id}")
def get_webhook_subscription(subscription_id: str, request: Request) -> dict[str, Any]:
    return crowd_of(request).get_webhook_subscription(subscription_id)


@router.delete("/webhook-subscriptions/{subscription_id}", status_code=204)
def delete_webhook_subscription(subscription_id: str, request: Request) -> Response:
    crowd_of(request).delete_webhook_subscription(subscription_id)
    return Response(status_code=204)


# -- user bonuses -------------------------------------------------------------------------


def _bonus_items(body: Any) -> tuple[list[Any], bool]:
    if isinstance(body, list):
        return body, False
    if isinstance(body, dict):
        return [body], True
    raise InvalidInput("send a bonus object or a list of them")


@router.post("/user-bonuses", status_code=201)
async def create_user_bonuses(request: Request) -> Response:
    """Sync (one object or a list) or ``async_mode=true`` (an operation whose log maps each
    ``__item_idx`` to its ``user_bonus_id``, as toloka-kit expects)."""
    query = request.query_params
    unknown = sorted(set(query) - {"async_mode", "skip_invalid_items", "operation_id"})
    if unknown:
        raise InvalidInput(f"unsupported parameter(s) {', '.join(unknown)}")
    items, single = _bonus_items(await json_body(request))
    crowd = crowd_of(request)
    skip_invalid = parse_bool(query, "skip_invalid_items", False)
    created: dict[int, dict[str, Any]] = {}
    errors: dict[int, dict[str, Any]] = {}
    for index, item in enumerate(items):
        raw = dict(item) if isinstance(item, dict) else item
        if isinstance(raw, dict):
            raw.pop("__item_idx", None)
        try:
            created[index] = crowd.create_user_bonus(raw)
        except CrowdlineError as exc:
            errors[index] = {"code": "VALIDATION_ERROR", "message": str(exc)}
            if not skip_invalid:
                break
    if parse_bool(query, "async_mode", False):
        def work() -> WorkResult:
            log = [{"type": "USER_BONUS_CREATE", "success": i in created,
                    "input": {"__item_idx": str((item or {}).get("__item_idx", i))},
                    "output": ({"user_bonus_id": created[i]["id"]} if i in created
                               else errors.get(i, {}))}
                   for i, item in enumerate(items)]
            return WorkResult(details={"total_count": len(items),
                                       "valid_count": len(created)}, log=log,
                              failed=not created)

        op = operations_of(request).run("USER_BONUS.BATCH_CREATE", {}, work,
                                        operation_id=query.get("operation_id"))
        return JSONResponse(op.to_dict(), status_code=202)
    if errors and (not skip_invalid or not created):
        first = next(iter(errors.values()))
        return error_response(InvalidInput(first["message"],
                                           payload={str(i): e for i, e in errors.items()}))
    if single:
        return JSONResponse(created[0], status_code=201)
    return JSONResponse({"items": {str(i): b for i, b in created.items()},
                         "validation_errors": {str(i): e for i, e in errors.items()}},
                        status_code=201)


@router.get("/user-bonuses")
def find_user_bonuses(request: Request) -> dict[str, Any]:
    items = crowd_of(request).list_user_bonuses(request.query_params.get("user_id"))
    return search(items, request.query_params, equal=("user_id", "private_comment"),
                  compare=ID_AND_CREATED)


@router.get("/user-bonuses/{bonus_id}")
def get_user_bonus(bonus_id: str, request: Request) -> dict[str, Any]:
    return crowd_of(request).get_user_bonus(bonus_id)


# -- message threads ----------------------------------------------------------------------


@router.post("/message-threads/compose", status_code=201)
async def compose(request: Request) -> dict[str, Any]:
    return crowd_of(request).compose_message(await json_body(request))


@router.get("/message-threads")
def find_message_threads(request: Request) -> dict[str, Any]:
    query = request.query_params
    items = crowd_of(request).list_message_threads(query.get("folder"))
    return search(items, query, consumed=("folder", "folder_ne"), compare=ID_AND_CREATED)


@router.post("/message-threads/{thread_id}/reply", status_code=201)
async def reply(thread_id: str, request: Request) -> dict[str, Any]:
    body = await json_body(request)
    return crowd_of(request).reply_to_thread(thread_id, (body or {}).get("text"))


@router.post("/message-threads/{thread_id}/add-to-folders")
async def add_to_folders(thread_id: str, request: Request) -> dict[str, Any]:
    return crowd_of(request).set_thread_folders(thread_id, await json_body(request), add=True)


@router.post("/message-threads/{thread_id}/remove-from-folders")
async def remove_from_folders(thread_id: str, request: Request) -> dict[str, Any]:
    return crowd_of(request).set_thread_folders(thread_id, await json_body(request),
                                                add=False)
