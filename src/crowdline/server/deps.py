"""Authentication and authorization dependencies, shared by every router (and the Toloka API).

Requesters: ``Authorization: OAuth <token>`` | ``ApiKey <token>`` | ``Bearer <token>``, or the
HttpOnly cookie set by the dashboard's sign-in page. Workers: ``Authorization: Bearer <token>``
or the HttpOnly cookie set by their invite link ``/join/<token>``. Tokens are checked against
their stored hashes by the crowd facade (a worker's for at most once a minute, see WorkerCache).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader
from starlette.concurrency import run_in_threadpool

from crowdline.crowd import Crowd, Requester, Worker
from crowdline.errors import AuthenticationFailed
from crowdline.workspace import Workspace

REQUESTER_COOKIE = "crowdline_requester"
WORKER_COOKIE = "crowdline_worker"
_REQUESTER_SCHEMES = ("oauth", "apikey", "bearer")

# Declared so that OpenAPI documents how to authenticate; the checks are below.
_authorization = APIKeyHeader(name="Authorization", auto_error=False,
                              description="`OAuth <requester token>` or `Bearer <token>`")
_requester_cookie = APIKeyCookie(name=REQUESTER_COOKIE, auto_error=False,
                                 description="set by /dashboard/signin")
_worker_cookie = APIKeyCookie(name=WORKER_COOKIE, auto_error=False,
                              description="set by the invite link /join/<token>")


# The small dependencies are ``async``: a sync one costs a thread-pool hop per request.


async def crowd_dep(request: Request) -> Crowd:
    return request.app.state.workspace.crowd


def get_workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def get_crowd(request: Request) -> Crowd:
    return request.app.state.workspace.crowd


def _header_token(header: str | None, schemes: tuple[str, ...]) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() in schemes and token.strip():
        return token.strip()
    return None


def requester_from(request: Request) -> Requester | None:
    """The requester the request authenticates as, or None when it carries no requester token."""
    token = (_header_token(request.headers.get("authorization"), _REQUESTER_SCHEMES)
             or request.cookies.get(REQUESTER_COOKIE))
    if not token:
        return None
    try:
        return get_crowd(request).authenticate_requester(token)
    except AuthenticationFailed:
        return None


def _worker_token(request: Request) -> str | None:
    return (_header_token(request.headers.get("authorization"), ("bearer",))
            or request.cookies.get(WORKER_COOKIE))


def cached_worker(request: Request) -> Worker | None:
    """The worker of a token authenticated a moment ago, without touching the database."""
    token = _worker_token(request)
    return request.app.state.worker_cache.get(token) if token else None


def worker_from(request: Request) -> Worker | None:
    """The worker the request authenticates as, or None (blocking: may ask the database)."""
    token = _worker_token(request)
    if not token:
        return None
    cache: WorkerCache = request.app.state.worker_cache
    worker = cache.get(token)
    if worker is not None:
        return worker
    try:
        worker = get_crowd(request).authenticate_worker(token)
    except AuthenticationFailed:
        return None
    cache.put(token, worker)
    return worker


class WorkerCache:
    """Recently authenticated worker tokens (keyed by their hash), so that an annotator's
    every fetch and submit does not cost one more database round trip. Worker tokens are never
    revoked (bans are checked when tasks are issued), so a short TTL is safe."""

    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 50_000) -> None:
        self.ttl, self.max_entries = ttl_seconds, max_entries
        self._entries: dict[str, tuple[float, Worker]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Worker | None:
        with self._lock:
            entry = self._entries.get(self._key(token))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, worker: Worker) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[self._key(token)] = (time.monotonic() + self.ttl, worker)


async def require_requester(request: Request,
                            _header: Annotated[str | None, Depends(_authorization)],
                            _cookie: Annotated[str | None, Depends(_requester_cookie)],
                            ) -> Requester:
    """FastAPI dependency: the authenticated requester, else 401 AUTHENTICATION_ERROR."""
    requester = await run_in_threadpool(requester_from, request)
    if requester is None:
        raise AuthenticationFailed(
            "a valid requester token is required",
            hint="send 'Authorization: OAuth <token>' (create one with `crowdline token "
                 "create`), or sign in at /dashboard/signin")
    return requester


async def require_worker(request: Request,
                         _header: Annotated[str | None, Depends(_authorization)],
                         _cookie: Annotated[str | None, Depends(_worker_cookie)]) -> Worker:
    """FastAPI dependency: the authenticated worker (annotator), else 401."""
    worker = cached_worker(request)
    if worker is None:
        worker = await run_in_threadpool(worker_from, request)
    if worker is None:
        raise AuthenticationFailed(
            "a valid worker token is required",
            hint="send 'Authorization: Bearer <worker token>', or open your invite link")
    return worker


RequesterDep = Annotated[Requester, Depends(require_requester)]
WorkerDep = Annotated[Worker, Depends(require_worker)]
CrowdDep = Annotated[Crowd, Depends(crowd_dep)]
