"""The app factory: one FastAPI app per workspace; nothing is created at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from crowdline.config import Settings
from crowdline.server.csrf import CsrfTemplates
from crowdline.server.csrf import install as install_csrf
from crowdline.server.deps import WorkerCache
from crowdline.server.errors import install_error_handlers
from crowdline.server.fastpath import CrowdlineApp
from crowdline.server.routers import annotator, dashboard, dashboard_actions, extras, ui
from crowdline.workspace import Workspace

HERE = Path(__file__).resolve().parent

DESCRIPTION = """\
crowdline's labeling service.

* **Annotator API** (`/api/annotator/v1`, `Authorization: Bearer <worker token>`): fetch a task
  suite, submit or skip it.
* **Requester API**: Toloka-compatible under `/api/v1` (`Authorization: OAuth <token>`), and
  crowdline's own extras under `/api/crowdline/v1` (invites, task-file upload, statistics,
  quality-control actions, export to the store).
* **Pages**: `/join/<invite token>` then `/annotate` for annotators; `/dashboard` for requesters.

Errors answer `{"code", "message", "payload"}` (Toloka's shape) with a 4xx/5xx status.
"""


def create_app(workspace: Workspace | Settings | None = None) -> FastAPI:
    """The whole server for one workspace (or settings; default: the current workspace)."""
    if workspace is None:
        workspace = Workspace.open()
    elif isinstance(workspace, Settings):
        workspace = Workspace(workspace)
    # CrowdlineApp is FastAPI that answers the annotator's hot routes first (fastpath.py)
    app = CrowdlineApp(title="crowdline", version="0.1.0", description=DESCRIPTION)
    app.state.workspace = workspace
    app.state.worker_cache = WorkerCache()
    templates = CsrfTemplates(directory=str(HERE / "templates"))
    templates.env.autoescape = True  # every .html is autoescaped anyway; be explicit for all
    install_csrf(templates)  # {{ csrf_input() }} in every page form
    app.state.templates = templates
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(annotator.router)
    app.include_router(extras.router)
    app.include_router(ui.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_actions.router)
    _include_toloka_api(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/annotate", status_code=303)

    @app.get("/healthz", tags=["meta"], summary="Liveness probe (no authentication)")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _include_toloka_api(app: FastAPI) -> None:
    try:
        from crowdline.server.toloka import router as toloka_router
    except ImportError:  # the Toloka-compatible API is an optional part of the server
        return
    app.include_router(toloka_router, prefix="/api/v1")
    try:
        from crowdline.server.toloka import DOWNLOAD_PREFIX, download_router
    except ImportError:
        return
    app.include_router(download_router, prefix=DOWNLOAD_PREFIX)
    from crowdline.server.toloka import STAGING_PREFIX, not_implemented, staging_router

    app.include_router(staging_router, prefix=STAGING_PREFIX)
    from crowdline.server.toloka.outreach import ensure_deliverer

    if app.state.workspace.crowd.find_webhook_subscriptions():
        ensure_deliverer(app)  # events of subscriptions made before this server started
    # Last: any other path under /api/ answers Toloka's error body naming route and method.
    app.add_api_route("/api/{path:path}", not_implemented, include_in_schema=False,
                      methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
