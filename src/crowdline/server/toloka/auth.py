"""Requester authentication as Toloka does it: ``Authorization: OAuth <token>`` or ``ApiKey``."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from crowdline.errors import AuthenticationFailed

_SCHEMES = ("oauth", "apikey", "bearer")


def requester_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in _SCHEMES or not token.strip():
        raise AuthenticationFailed(
            "missing or malformed Authorization header",
            hint="send 'Authorization: OAuth <requester token>' (or 'ApiKey <token>'); "
                 "create one with `crowdline token create`",
        )
    return token.strip()


def require_requester(request: Request) -> Any:
    """FastAPI dependency: the authenticated requester, or a Toloka 401."""
    token = requester_token(request)
    return request.app.state.workspace.crowd.authenticate_requester(token)
