"""The annotator's two hot routes answered at the ASGI level, ahead of FastAPI's machinery.

``POST /api/annotator/v1/assignments/next`` and ``.../{id}/submit`` carry every annotator's
work. FastAPI's per-request machinery (its middleware stack, dependency solving, body and
response handling) costs more CPU than the database work behind them, so ``CrowdlineApp``
answers their common case itself: a ``Bearer`` worker token that the app's ``WorkerCache``
authenticated a moment ago, and a JSON body that validates against the very models the routes
declare (``NextSuiteRequest``, ``SubmitRequest``). Anything else — no token or a cookie, a
token not in the cache, another content type, a body that does not validate — goes to FastAPI
unchanged, with the body replayed, so the routes in ``routers/annotator.py`` stay the documented
and complete implementation. Errors of the crowd facade get the body ``errors.py`` gives them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import ValidationError

from crowdline.errors import CrowdlineError
from crowdline.server.errors import error_body
from crowdline.server.schemas import NextSuiteRequest, SubmitRequest

PREFIX = "/api/annotator/v1/assignments/"
_JSON_HEADERS = [(b"content-type", b"application/json")]
log = logging.getLogger("crowdline.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _route(scope: Scope) -> tuple[str, str | None] | None:
    """("next", None) or ("submit", assignment id) for the hot routes, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if not path.startswith(PREFIX):
        return None
    rest = path[len(PREFIX):]
    if rest == "next":
        return "next", None
    assignment_id, _, verb = rest.partition("/")
    if verb == "submit" and assignment_id and "/" not in assignment_id:
        return "submit", assignment_id
    return None


def _headers(scope: Scope) -> tuple[str | None, bytes | None]:
    """The Bearer token and the content type, if any."""
    token = content_type = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                token = rest.strip()
        elif name == b"content-type":
            content_type = value
    return token, content_type


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ConnectionError("the client went away")
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes | None) -> None:
    headers = [(b"content-length", str(len(body or b"")).encode())]
    if body is not None:
        headers += _JSON_HEADERS
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body or b""})


class CrowdlineApp(FastAPI):
    """FastAPI, with the annotator's hot routes answered first (see the module's docstring)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _route(scope)
        if route is None:
            return await super().__call__(scope, receive, send)
        token, content_type = _headers(scope)
        worker = self.state.worker_cache.get(token) if token else None
        if worker is None or (content_type is not None
                              and not content_type.startswith(b"application/json")):
            return await super().__call__(scope, receive, send)
        try:
            body = await _body(receive)
        except ConnectionError:
            return None
        crowd = self.state.workspace.crowd
        try:
            if route[0] == "next":
                request = (NextSuiteRequest.model_validate_json(body) if body.strip()
                           else None)
                suite = await crowd.request_assignment_async(
                    worker.id, request.pool_id if request else None)
                answer = None if suite is None else orjson.dumps(suite.to_dict())
                return await _send(send, 204 if answer is None else 200, answer)
            submitted = SubmitRequest.model_validate_json(body)
            result = await crowd.submit_assignment_async(
                worker.id, route[1], [s.model_dump() for s in submitted.solutions],
                idempotency_key=submitted.idempotency_key,
                captcha_answer=submitted.captcha_answer)
            return await _send(send, 200, orjson.dumps(result.to_dict()))
        except ValidationError:
            pass  # FastAPI answers it, in its words
        except CrowdlineError as exc:
            message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
            return await _send(send, exc.http_status, orjson.dumps(
                error_body(exc.code, message, exc.payload)))
        except Exception:
            log.exception("annotator request failed")
            return await _send(send, 500, orjson.dumps(error_body(
                "INTERNAL_ERROR", "the server failed; see its log")))
        return await super().__call__(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
