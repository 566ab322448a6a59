"""The crowdline server: requester REST API, Toloka-compatible API, annotator UI, dashboard.

    from crowdline.server import create_app
    app = create_app(Workspace.open())     # then serve it with uvicorn (`crowdline serve`)
"""

from __future__ import annotations

from crowdline.server.app import create_app

__all__ = ["create_app"]
