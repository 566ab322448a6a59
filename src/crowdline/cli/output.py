"""Rendering for the CLI: rich tables for people, ``--output json`` for scripts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from crowdline.workspace import Workspace

SHORT_ID = 8
_HEX_ID = re.compile(r"[0-9a-f]{32}")

console = Console()
err_console = Console(stderr=True)


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"


OUTPUT_OPTION = typer.Option(OutputFormat.table, "--output", "-o", help="table or json")


def open_workspace() -> Workspace:
    """The workspace of $CROWDLINE_HOME or ./.crowdline (error with the fix when missing)."""
    from crowdline.workspace import Workspace

    return Workspace.open()


def to_plain(value: Any) -> Any:
    """Dataclasses, pydantic models, enums, paths and datetimes as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "model_dump"):
        return to_plain(value.model_dump())
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def render(
    data: Any,
    output: OutputFormat,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Print ``data`` (one record or a list of records) as a table or as JSON."""
    plain = to_plain(data)
    if output == OutputFormat.json:
        typer.echo(json.dumps(plain, indent=2, default=str))
        return
    rows: Iterable[Mapping[str, Any]] = plain if isinstance(plain, list) else [plain]
    rows = list(rows)
    if isinstance(plain, Mapping) and columns is None:
        table = Table(title=title, show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for key, value in plain.items():
            table.add_row(key, _cell(value))
        console.print(table)
        return
    cols = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title)
    for col in cols:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_short_id(_cell(row.get(col))) for col in cols))
    console.print(table)


def _short_id(text: str) -> str:
    """Full ids in lists are 32 characters; show 8, as git does (every command takes prefixes)."""
    return text[:SHORT_ID] if len(text) == 32 and _HEX_ID.fullmatch(text) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)
