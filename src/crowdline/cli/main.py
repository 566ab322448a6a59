"""``crowdline`` entry point: builds the Typer app from the command-group modules."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.markup import escape

import crowdline.cli
from crowdline.cli.output import err_console
from crowdline.errors import CrowdlineError

app = typer.Typer(
    name="crowdline",
    help="Self-hosted human-in-the-loop data pipelines: versioned data, incremental "
    "pipelines, crowd labeling with honeypots, aggregation and a model in the loop.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from crowdline import __version__

        typer.echo(f"crowdline {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version,
                                       is_eager=True, help="print the version and exit")) -> None:
    """Self-hosted human-in-the-loop data pipelines (see `crowdline COMMAND --help`)."""


@app.command()
def init() -> None:
    """Create a workspace in $CROWDLINE_HOME or ./.crowdline (safe to run again)."""
    from crowdline.workspace import Workspace

    workspace = Workspace.init()
    typer.echo(f"workspace ready at {workspace.settings.home}")
    workspace.close()


def _register_groups() -> None:
    for module_info in sorted(pkgutil.iter_modules(crowdline.cli.__path__), key=lambda m: m.name):
        if module_info.name in {"main", "output"}:
            continue
        module = importlib.import_module(f"crowdline.cli.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_groups()


def main() -> None:
    """Run the CLI; crowdline errors become one clear message and their exit code."""
    try:
        app()
    except CrowdlineError as exc:
        # messages quote user input (names, paths): escaped, so "[/x]" in them is not markup
        err_console.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/yellow] {escape(exc.hint)}", highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
