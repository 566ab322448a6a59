"""Cross-site request forgery defence for the pages (the only routes that accept cookies).

Every page form carries ``{{ csrf_input() }}``: a hidden ``csrf_token`` that is an HMAC, under
a key derived from the workspace key, of a random per-browser-session cookie
(``crowdline_csrf``, HttpOnly, set with the first page that renders a form). A state-changing
page route depends on ``require_csrf``, which refuses (403) a request whose token (the form
field, or the ``X-CSRF-Token`` header for scripts) does not match its cookie, and one whose
``Origin`` (or, lacking it, ``Referer``) is not this server's own, the configured
``public_url`` or one of ``allowed_origins``. That also closes login CSRF: the sign-in form
needs the token of the browser that shows it.

The JSON and upload APIs never read cookies (tokens travel in the Authorization header, see
``deps.py``), so a cross-site request cannot carry credentials there at all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from starlette.responses import Response

from crowdline.errors import PermissionDenied
from crowdline.keys import derive, workspace_key

CSRF_COOKIE = "crowdline_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"  # the same token for scripts (a cross-site form cannot set it)


def _key(request: Request) -> bytes:
    state = request.app.state
    key = getattr(state, "csrf_key", None)
    if key is None:
        key = derive(workspace_key(state.workspace.settings), "csrf")
        state.csrf_key = key
    return key


def _browser_id(request: Request) -> str:
    """This browser session's random id: its cookie, or a new one set with the response."""
    known = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_new", None)
    if known:
        return known
    request.state.csrf_new = secrets.token_urlsafe(24)
    return request.state.csrf_new


def csrf_token(request: Request) -> str:
    return hmac.new(_key(request), _browser_id(request).encode(), hashlib.sha256).hexdigest()


@pass_context
def csrf_input(context: Any) -> Markup:
    """Jinja global: ``{{ csrf_input() }}`` inside every ``<form method="post">``."""
    token = csrf_token(context["request"])
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">')


class CsrfTemplates(Jinja2Templates):
    """Jinja2Templates that sets the CSRF cookie on a page that issued a new token."""

    def TemplateResponse(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (Starlette's name)
        response = super().TemplateResponse(*args, **kwargs)
        request = kwargs.get("request") or (args[0] if args and isinstance(args[0], Request)
                                            else None)
        if request is not None:
            set_cookie_if_new(request, response)
        return response


def set_cookie_if_new(request: Request, response: Response) -> None:
    new = getattr(request.state, "csrf_new", None)
    if new and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https")


def allowed_origins(request: Request) -> set[str]:
    settings = request.app.state.workspace.settings
    origins = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    for url in [settings.public_url, *(settings.allowed_origins or "").split(",")]:
        parts = urlsplit(url.strip())
        if parts.scheme and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def _origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return origin.lower().rstrip("/")
    if origin == "null":
        return "null"  # sandboxed frames, data: URLs: never ours
    referer = urlsplit(request.headers.get("referer") or "")
    if referer.scheme and referer.netloc:
        return f"{referer.scheme}://{referer.netloc}".lower()
    return None


async def require_csrf(request: Request) -> None:
    """FastAPI dependency of every state-changing page route (forms)."""
    origin = _origin(request)
    if origin is not None and origin not in allowed_origins(request):
        raise PermissionDenied(f"a form was posted from another site ({origin})",
                               hint="open the page on this server and submit it there; a "
                                    "reverse proxy may need allowed_origins in crowdline.toml")
    sent = request.headers.get(CSRF_HEADER) or ""
    if not sent:
        form = await request.form()
        sent = str(form.get(CSRF_FIELD) or "")
    cookie = request.cookies.get(CSRF_COOKIE)
    expected = csrf_token(request) if cookie else ""
    if not cookie or not sent or not hmac.compare_digest(sent, expected):
        raise PermissionDenied("this form is out of date or was not sent from crowdline's page",
                               hint="reload the page and submit it again")


def install(templates: Jinja2Templates) -> None:
    templates.env.globals["csrf_input"] = csrf_input
