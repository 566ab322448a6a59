"""Task files in Toloka's conventions, so existing material works unchanged.

CSV / TSV with one column per field: ``INPUT:<field>`` (input values), ``GOLDEN:<field>`` (known
solution: the row is a control task, or a training task in a training pool), ``HINT:<field>``
(the hint shown when a training answer is wrong), ``TASK:overlap``. JSON (a list) or JSONL of
Toloka task dicts. An unknown column raises Unsupported naming it; rows that fail validation
come back in the report's ``validation_errors`` by row number (0 = first data row).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from crowdline.crowd.models import Project
from crowdline.crowd.uploads import UploadLimits, csv_rows, json_items, jsonl_items, text_chunks
from crowdline.errors import InvalidInput, Unsupported

FORMATS = ("csv", "tsv", "json", "jsonl")


def _is_path(text: str) -> bool:
    if "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long for the file system is text, not a path
        return False


@contextlib.contextmanager
def open_source(data: bytes | str | Path | IO[bytes]) -> Iterator[tuple[IO[bytes], str | None]]:
    """(binary stream, suffix) of a path, an open binary file, bytes or text."""
    if isinstance(data, Path) or (isinstance(data, str) and _is_path(data)):
        path = Path(data)
        if not path.is_file():
            raise InvalidInput(f"task file {path} does not exist")
        with path.open("rb") as handle:
            yield handle, path.suffix.lstrip(".").lower() or None
    elif isinstance(data, bytes):
        yield io.BytesIO(data), None
    elif isinstance(data, str):
        yield io.BytesIO(data.encode()), None
    else:
        yield data, None


def detect_format(text: str, suffix: str | None, format: str | None) -> str:
    chosen = (format or suffix or "").lower()
    if chosen in FORMATS:
        return chosen
    if chosen and format:
        raise InvalidInput(f"task file format {format!r} is not one of {', '.join(FORMATS)}")
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        return "jsonl"
    first_line = stripped.split("\n", 1)[0]
    return "tsv" if "\t" in first_line else "csv"


def _typed(value: str, spec: dict[str, Any]) -> Any:
    kind = spec.get("type", "string")
    try:
        if kind == "integer":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "boolean":
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            return value
        if kind in ("json", "array_string"):
            return json.loads(value) if value.strip().startswith(("[", "{")) else (
                [v.strip() for v in value.split(",") if v.strip()] if kind == "array_string"
                else value)
    except ValueError:
        return value  # left as text: validation reports it with the row number
    return value


def check_header(header: list[str], project: Project) -> None:
    input_spec = project.task_spec["input_spec"]
    output_spec = project.task_spec["output_spec"]
    for column in header:
        prefix, _, name = column.partition(":")
        if prefix == "TASK" and name == "overlap":
            continue
        if prefix not in ("INPUT", "GOLDEN", "HINT") or not name:
            raise Unsupported(f"task file column {column!r} is not supported",
                              hint="use INPUT:<field>, GOLDEN:<field>, HINT:<field> or "
                                   "TASK:overlap columns")
        spec = input_spec if prefix == "INPUT" else output_spec
        if name not in spec:
            raise InvalidInput(f"task file column {column!r} names a field the project does "
                               f"not have", hint=f"fields: {', '.join(spec)}")


def row_to_task(cells: list[str], header: list[str], pool_id: str,
                project: Project) -> dict[str, Any]:
    input_spec = project.task_spec["input_spec"]
    output_spec = project.task_spec["output_spec"]
    task: dict[str, Any] = {"pool_id": pool_id, "input_values": {}}
    golden: dict[str, Any] = {}
    hints = []
    if len(cells) > len(header):  # more cells than header columns
        task["input_values"]["(extra cells)"] = cells[len(header):]
    for column, value in zip(header, cells, strict=False):
        prefix, _, name = column.partition(":")
        if prefix == "INPUT":
            task["input_values"][name] = _typed(value, input_spec[name])
        elif prefix == "GOLDEN" and value != "":
            golden[name] = _typed(value, output_spec[name])
        elif prefix == "HINT" and value != "":
            hints.append(value)
        elif prefix == "TASK" and value != "":
            task["overlap"] = int(value) if value.strip().isdigit() else value
    for column in header[len(cells):]:  # fewer cells than columns: missing inputs are empty
        prefix, _, name = column.partition(":")
        if prefix == "INPUT":
            task["input_values"][name] = _typed("", input_spec[name])
    if golden:
        task["known_solutions"] = [{"output_values": golden, "correctness_weight": 1}]
    if hints:
        task["message_on_unknown_solution"] = "\n".join(hints)
    return task


def parse_task_file(data: bytes | str | Path | IO[bytes], pool_id: str, project: Project, *,
                    format: str | None = None,
                    limits: UploadLimits | None = None) -> Iterator[dict[str, Any]]:
    """Toloka task dicts (with ``pool_id`` set) from a task file, read as a stream (see
    ``crowd/uploads.py`` for the limits and the errors that name where a file fails)."""
    limits = limits or UploadLimits()
    with open_source(data) as (binary, suffix):
        chunks = text_chunks(binary, limits)
        first = next(chunks, "")
        kind = detect_format(first, suffix, format)
        text = itertools.chain([first], chunks)
        if kind in ("csv", "tsv"):
            rows = csv_rows(text, "\t" if kind == "tsv" else ",", limits)
            header = next(rows, None)
            if not header:
                raise InvalidInput("the task file is empty",
                                   hint="the first row names the columns")
            check_header(header, project)
            for cells in rows:
                if not cells:
                    continue  # a blank line
                yield row_to_task(cells, header, pool_id, project)
            return
        items = json_items(text, limits) if kind == "json" else jsonl_items(text, limits)
        for item in items:
            if isinstance(item, dict):
                if str(item.get("pool_id", pool_id)) != str(pool_id):
                    raise InvalidInput(f"a task in the file names pool {item['pool_id']}, not "
                                       f"{pool_id}", hint="drop pool_id from the file's tasks")
                item = {**item, "pool_id": pool_id}
            yield item
