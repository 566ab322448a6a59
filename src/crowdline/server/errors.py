"""Errors become responses here, once for the whole app.

API routes answer Toloka's error body ``{"code", "message", "payload"}`` with the error's
``http_status``; page routes (``/annotate``, ``/dashboard``, ``/join``) render an error page.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from crowdline.errors import CrowdlineError

PAGE_PREFIXES = ("/annotate", "/dashboard", "/join")


def error_body(code: str, message: str, payload: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "payload": payload}


def _is_page(request: Request) -> bool:
    return request.url.path.startswith(PAGE_PREFIXES)


def _page(request: Request, status: int, message: str, hint: str | None) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html",
                                      {"status": status, "message": message, "hint": hint},
                                      status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CrowdlineError)
    async def crowdline_error(request: Request, exc: CrowdlineError) -> Response:
        headers = getattr(exc, "headers", None)  # e.g. Retry-After on 429
        if _is_page(request):
            page = _page(request, exc.http_status, exc.message, exc.hint)
            page.headers.update(headers or {})
            return page
        message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
        return JSONResponse(error_body(exc.code, message, exc.payload),
                            status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = {".".join(str(p) for p in e.get("loc", ())): e.get("msg", "")
                    for e in exc.errors()}
        message = "invalid request: " + "; ".join(f"{k}: {v}" for k, v in problems.items())
        if _is_page(request):
            return _page(request, 400, message, "go back and try again")
        return JSONResponse(error_body("VALIDATION_ERROR", message, problems), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "DOES_NOT_EXIST", 405: "METHOD_NOT_ALLOWED"}
        if _is_page(request):
            return _page(request, exc.status_code, str(exc.detail), None)
        return JSONResponse(error_body(codes.get(exc.status_code, "HTTP_ERROR"), str(exc.detail)),
                            status_code=exc.status_code, headers=exc.headers)
