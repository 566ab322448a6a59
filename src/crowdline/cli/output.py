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
from rich.markup import escape
from rich.table import Table
from rich.text import Text

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
    total: int | None = None,
) -> None:
    """Print ``data`` (one record or a list of records) as a table or as JSON.

    Tables round numbers and show sizes, durations and times for people; JSON keeps full
    precision. ``total``: how many there are when ``data`` is one page of them.
    """
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
            table.add_row(Text(key), Text(human(value, key)))
        console.print(table)
        return
    cols = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=escape(title) if title else title)
    for col in cols:
        table.add_column(col)
    for row in rows:
        # cells are user text (names, paths, comments): Text, so "[...]" in them is not markup
        table.add_row(*(Text(_short_id(human(row.get(col), col))) for col in cols))
    console.print(table)
    if total is not None and total > len(rows):
        err_console.print(f"showing {len(rows)} of {total:,} (use --limit to see more)")


def _short_id(text: str) -> str:
    """Full ids in lists are 32 characters; show 8, as git does (every command takes prefixes)."""
    return text[:SHORT_ID] if len(text) == 32 and _HEX_ID.fullmatch(text) else text


_ISO_TIME = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?([+-]00:00|Z)?")


def human(value: Any, column: str = "") -> str:
    """One table cell: rounded numbers, sizes in KiB/MiB, durations in s/min, times to the
    second (UTC)."""
    if value is None:
        return ""
    name = column.lower()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if "bytes" in name or name == "size":
            return human_size(value)
        if name in {"duration", "seconds", "elapsed"} or name.endswith("_seconds"):
            return human_duration(float(value))
        if isinstance(value, float) and ("accuracy" in name or name in {"ratio", "share"}):
            return f"{value:.1%}"
        return human_number(value)
    if isinstance(value, str):
        match = _ISO_TIME.fullmatch(value)
        return f"{match[1]} {match[2]}" if match else value
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        return ", ".join(human(v) for v in value)
    if isinstance(value, dict) and all(not isinstance(v, (list, dict)) for v in value.values()):
        return ", ".join(f"{k}: {human(v, str(k))}" for k, v in value.items())
    return json.dumps(value, default=str)


def human_number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def human_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
