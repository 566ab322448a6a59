"""``crowdline serve``: the web UI, the requester APIs and the pipelines' wake-up loop."""

from __future__ import annotations

import threading

import typer

from crowdline.cli.output import open_workspace

KEEP_ALIVE_SECONDS = 75


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(host: str = typer.Option(None, "--host", help="address to listen on "
                                   "(default: server_host setting, 127.0.0.1)"),
          port: int = typer.Option(None, "--port", "-p", help="port (default: server_port "
                                   "setting, 8765)"),
          pipelines: bool = typer.Option(True, "--pipelines/--no-pipelines",
                                         help="also run pending pipeline jobs in the background"),
          workers: int = typer.Option(1, "--workers", "-w", min=1,
                                      help="server processes (more than 1 is for PostgreSQL)"),
          ) -> None:
    """Serve the annotator UI, the dashboard and the APIs (Ctrl-C stops)."""
    import uvicorn

    from crowdline.server import create_app

    workspace = open_workspace()
    host = host or workspace.settings.server_host
    port = port or workspace.settings.server_port
    stop = threading.Event()
    runner = _start_pipelines(workspace, stop) if pipelines else None
    base = f"http://{host}:{port}"
    typer.echo(f"crowdline serving {workspace.settings.home} at {base}")
    typer.echo(f"  annotators: invite links from `crowdline worker invite NAME` ({base}/annotate)")
    typer.echo(f"  dashboard:  {base}/dashboard   API docs: {base}/docs")
    try:
        # keep-alive longer than uvicorn's 5 s: clients reusing a connection the server is
        # closing at that moment get a read error (browsers and HTTP pools idle for a while)
        options = {"host": host, "port": port, "log_level": "warning", "access_log": False,
                   "timeout_keep_alive": KEEP_ALIVE_SECONDS}
        if workers > 1:
            # each process builds its own app from the same workspace (same cwd and env)
            uvicorn.run("crowdline.server.app:create_app", factory=True, workers=workers,
                        **options)
        else:
            uvicorn.run(create_app(workspace), **options)
    finally:
        stop.set()
        if runner is not None:
            runner.join(timeout=10)
        workspace.close()


def _start_pipelines(workspace: object, stop: threading.Event) -> threading.Thread | None:
    serve_forever = getattr(workspace.pipelines, "serve_forever", None)  # type: ignore[attr-defined]
    if serve_forever is None:
        return None
    thread = threading.Thread(target=serve_forever, args=(stop,), name="crowdline-pipelines",
                              daemon=True)
    thread.start()
    return thread
