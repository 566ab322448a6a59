"""``crowdline worker invite|list|ban``: annotators of the labeling service."""

from __future__ import annotations

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render

worker_app = typer.Typer(help="Invite, list, ban and unban annotators.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(worker_app, name="worker")


@worker_app.command("invite")
def invite(name: str = typer.Argument(..., help="the annotator's display name"),
           languages: list[str] = typer.Option(None, "--languages", "-l",
                                               help="a language the annotator knows (repeat), "
                                                    "e.g. EN"),
           country: str = typer.Option(None, "--country", help="ISO country code, e.g. GB"),
           client_type: str = typer.Option(None, "--client-type",
                                           help="BROWSER (default) or TOLOKA_APP"),
           adult_allowed: bool = typer.Option(None, "--adult-allowed/--no-adult-allowed",
                                              help="may see adult content"),
           ) -> None:
    """Create an annotator and print their sign-in link (shown once). The profile options
    are what Toloka-style pool filters (languages, country...) look at."""
    profile = {"languages": languages or None, "country": country,
               "client_type": client_type.upper() if client_type else None,
               "adult_allowed": adult_allowed}
    with open_workspace() as ws:
        worker, token = ws.crowd.invite_worker(
            name, profile={k: v for k, v in profile.items() if v is not None})
        base = ws.settings.public_url.rstrip("/")
    typer.echo(f"worker {worker.id} ({worker.name}) invited; send them this link:")
    typer.echo(f"{base}/join/{token}")


@worker_app.command("list")
def list_workers(output: OutputFormat = OUTPUT_OPTION) -> None:
    """List annotators: status (active or their bans), answers, honeypot accuracy, training."""
    with open_workspace() as ws:
        workers = ws.crowd.worker_overview()
    render(workers, output, columns=["id", "name", "status", "answers", "honeypots",
                                     "honeypot_accuracy", "training"])


@worker_app.command("ban")
def ban(worker_id: str = typer.Argument(..., help="worker id"),
        scope: str = typer.Option("POOL", "--scope", help="POOL, PROJECT or ALL_PROJECTS"),
        pool_id: str = typer.Option(None, "--pool", help="pool id (scope POOL)"),
        project_id: str = typer.Option(None, "--project", help="project id (scope PROJECT)"),
        duration: int = typer.Option(None, "--duration", help="seconds; permanent if left out"),
        comment: str = typer.Option("", "--comment", help="private note: why"),
        ) -> None:
    """Restrict a worker (Toloka's user restriction)."""
    with open_workspace() as ws:
        restriction = ws.crowd.set_restriction(
            worker_id, scope.upper(), pool_id=pool_id, project_id=project_id,
            duration_seconds=duration, private_comment=comment)
    typer.echo(f"restriction {restriction.id}: worker {worker_id} banned from {scope}")


@worker_app.command("unban")
def unban(worker_id: str = typer.Argument(..., help="worker id"),
          pool_id: str = typer.Option(None, "--pool", help="only the bans from this pool"),
          project_id: str = typer.Option(None, "--project",
                                         help="only the bans from this project"),
          ) -> None:
    """Lift a worker's restrictions (all of them, or those of one pool or project)."""
    with open_workspace() as ws:
        lifted = ws.crowd.lift_restrictions(worker_id, pool_id=pool_id, project_id=project_id)
    if not lifted:
        typer.echo(f"worker {worker_id} had no matching bans")
        return
    typer.echo(f"worker {worker_id}: lifted {len(lifted)} ban(s) "
               f"({', '.join('restriction ' + r for r in lifted)})")
