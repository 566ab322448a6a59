"""Authentication and authorization dependencies, shared by every router (and the Toloka API).

APIs (JSON and uploads) read tokens from the Authorization header only, never from a cookie,
so a cross-site request cannot carry credentials there: requesters
``Authorization: OAuth <token>`` | ``ApiKey <token>`` | ``Bearer <token>``, workers
``Authorization: Bearer <token>``. Pages also accept the HttpOnly cookie set by the dashboard's
sign-in page or a worker's invite link ``/join/<token>``; their forms are guarded by
``csrf.require_csrf``. Tokens are checked against their stored SHA-256 hashes by the crowd
facade (a worker's for at most once a minute, see WorkerCache). Failed attempts are counted
per client address (AuthThrottle): past ``auth_failures_per_minute`` the address gets 429
with Retry-After until its minute is over.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from crowdline.crowd import Crowd, Requester, Worker
from crowdline.errors import AuthenticationFailed, RateLimited
from crowdline.workspace import Workspace

REQUESTER_COOKIE = "crowdline_requester"
WORKER_COOKIE = "crowdline_worker"
_REQUESTER_SCHEMES = ("oauth", "apikey", "bearer")

# Declared so that OpenAPI documents how to authenticate; the checks are below.
_authorization = APIKeyHeader(name="Authorization", auto_error=False,
                              description="`OAuth <requester token>` or `Bearer <token>`")


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


def requester_from(request: Request, *, cookie: bool = True) -> Requester | None:
    """The requester the request authenticates as, or None when it carries no valid requester
    token (a page: header or cookie; an API, ``cookie=False``: the header only)."""
    token = _header_token(request.headers.get("authorization"), _REQUESTER_SCHEMES)
    if not token and cookie:
        token = request.cookies.get(REQUESTER_COOKIE)
    if not token:
        return None
    throttle(request).check(request)
    try:
        return get_crowd(request).authenticate_requester(token)
    except AuthenticationFailed:
        throttle(request).failed(request)
        return None


def _worker_token(request: Request, cookie: bool = True) -> str | None:
    token = _header_token(request.headers.get("authorization"), ("bearer",))
    if not token and cookie:
        token = request.cookies.get(WORKER_COOKIE)
    return token


def cached_worker(request: Request, *, cookie: bool = True) -> Worker | None:
    """The worker of a token authenticated a moment ago, without touching the database."""
    token = _worker_token(request, cookie)
    return request.app.state.worker_cache.get(token) if token else None


def worker_from(request: Request, *, cookie: bool = True) -> Worker | None:
    """The worker the request authenticates as, or None (blocking: may ask the database)."""
    token = _worker_token(request, cookie)
    if not token:
        return None
    cache: WorkerCache = request.app.state.worker_cache
    worker = cache.get(token)
    if worker is not None:
        return worker
    throttle(request).check(request)
    try:
        worker = get_crowd(request).authenticate_worker(token)
    except AuthenticationFailed:
        throttle(request).failed(request)
        return None
    cache.put(token, worker)
    return worker


def throttle(request: Request) -> AuthThrottle:
    state = request.app.state
    found = getattr(state, "auth_throttle", None)
    if found is None:
        found = state.auth_throttle = AuthThrottle(
            state.workspace.settings.auth_failures_per_minute)
    return found


class AuthThrottle:
    """Failed authentications per client address in the current minute; past the limit the
    address is refused (429, Retry-After) until its minute is over. In process memory: each
    server process counts its own (``serve --workers N`` allows up to N times the limit)."""

    WINDOW = 60.0

    def __init__(self, per_minute: int, max_addresses: int = 100_000) -> None:
        self.limit, self.max_addresses = per_minute, max_addresses
        self._failures: dict[str, tuple[float, int]] = {}  # address -> (window start, count)
        self._lock = threading.Lock()

    @staticmethod
    def address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def check(self, request: Request) -> None:
        """Raise RateLimited while the client's address is over the limit."""
        if self.limit <= 0:
            return
        with self._lock:
            start, count = self._failures.get(self.address(request), (0.0, 0))
        wait = start + self.WINDOW - time.monotonic()
        if count >= self.limit and wait > 0:
            raise RateLimited(f"too many failed sign-in attempts from {self.address(request)}",
                              retry_after=max(1, math.ceil(wait)),
                              hint="wait for the Retry-After seconds, then use a valid token")

    def failed(self, request: Request) -> None:
        if self.limit <= 0:
            return
        now, address = time.monotonic(), self.address(request)
        with self._lock:
            if len(self._failures) >= self.max_addresses:
                self._failures = {a: v for a, v in self._failures.items()
                                  if v[0] + self.WINDOW > now}
            start, count = self._failures.get(address, (now, 0))
            if start + self.WINDOW <= now:
                start, count = now, 0
            self._failures[address] = (start, count + 1)


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
                            ) -> Requester:
    """FastAPI dependency of the APIs: the requester of the Authorization header, else 401
    AUTHENTICATION_ERROR (a cookie is not accepted here)."""
    requester = await run_in_threadpool(requester_from, request, cookie=False)
    if requester is None:
        raise AuthenticationFailed(
            "a valid requester token is required in the Authorization header",
            hint="send 'Authorization: OAuth <token>' (create one with `crowdline token "
                 "create`); the dashboard's sign-in cookie works only for its pages")
    return requester


async def require_worker(request: Request,
                         _header: Annotated[str | None, Depends(_authorization)]) -> Worker:
    """FastAPI dependency of the annotator API: the worker of the Authorization header
    (never a cookie), else 401."""
    worker = cached_worker(request, cookie=False)
    if worker is None:
        worker = await run_in_threadpool(worker_from, request, cookie=False)
    if worker is None:
        raise AuthenticationFailed(
            "a valid worker token is required in the Authorization header",
            hint="send 'Authorization: Bearer <worker token>'; the invite link's cookie "
                 "works only for the annotator pages")
    return worker


RequesterDep = Annotated[Requester, Depends(require_requester)]
WorkerDep = Annotated[Worker, Depends(require_worker)]
CrowdDep = Annotated[Crowd, Depends(crowd_dep)]
