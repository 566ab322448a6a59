"""Reading task files safely and in a stream: the file is decoded and split into rows (CSV,
TSV, JSONL) or items (a JSON list) piece by piece, never held in memory whole, and every
limit is checked on the way with an error that names the byte, row or line where it failed.

    limits = UploadLimits(max_bytes=512 * 2**20, max_cell_bytes=2**20, max_depth=64)
    for row in csv_rows(text_chunks(binary_file, limits), ",", limits): ...

A file larger than ``max_bytes``, a cell (or one JSON task) larger than ``max_cell_bytes``
raise ``UploadTooLarge`` (HTTP 413); text that is not UTF-8, binary junk (NUL bytes),
malformed CSV or JSON and JSON nested deeper than ``max_depth`` raise ``InvalidInput`` (400).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from crowdline.errors import InvalidInput, UploadTooLarge

CHUNK = 64 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """Limits of one task file (settings ``upload_max_bytes``, ``upload_max_cell_bytes``,
    ``upload_max_depth``)."""

    max_bytes: int = 512 * 1024 * 1024
    max_cell_bytes: int = 1024 * 1024
    max_depth: int = 64

    @classmethod
    def from_settings(cls, settings: Any) -> UploadLimits:
        return cls(max_bytes=settings.upload_max_bytes,
                   max_cell_bytes=settings.upload_max_cell_bytes,
                   max_depth=settings.upload_max_depth)

    @property
    def max_line(self) -> int:
        """The longest line (a row of several cells) read before giving up on it."""
        return 16 * self.max_cell_bytes + CHUNK


def text_chunks(binary: IO[bytes], limits: UploadLimits) -> Iterator[str]:
    """UTF-8 text of ``binary`` in pieces (a leading BOM dropped); refuses a file over
    ``max_bytes``, bytes that are not UTF-8 and NUL bytes (binary files), by byte offset."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset, first = 0, True
    while True:
        block = binary.read(CHUNK)
        if not block:
            break
        if offset + len(block) > limits.max_bytes:
            raise UploadTooLarge(f"the task file is larger than {limits.max_bytes:,} bytes "
                                 f"(refused at byte {limits.max_bytes + 1:,})",
                                 hint="split it, or raise upload_max_bytes in crowdline.toml")
        nul = block.find(b"\0")
        if nul >= 0:
            raise InvalidInput(f"the task file holds a NUL byte at byte {offset + nul:,}: it "
                               "is a binary file, not CSV, TSV, JSON or JSONL text",
                               hint="upload the task file itself, saved as UTF-8 text")
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"the task file is not UTF-8 text: byte "
                               f"{offset - pending + exc.start:,} cannot be decoded",
                               hint="save it as UTF-8 (e.g. 'Save as CSV UTF-8')") from exc
        offset += len(block)
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        if text:
            yield text
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the task file ends inside a UTF-8 character (byte {offset:,})",
                           hint="save it as UTF-8") from exc
    if tail:
        yield tail


def lines(chunks: Iterable[str], limits: UploadLimits) -> Iterator[str]:
    """Lines with their "\\n" kept (CSV needs them inside quoted cells); a line longer than
    ``max_line`` is refused before it is gathered whole."""
    pending: list[str] = []
    size, number = 0, 1
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find("\n", start)
            if end < 0:
                pending.append(chunk[start:])
                size += len(chunk) - start
                if size > limits.max_line:
                    raise UploadTooLarge(f"line {number:,} of the task file is longer than "
                                         f"{limits.max_line:,} characters",
                                         hint="a cell may hold at most upload_max_cell_bytes")
                break
            pending.append(chunk[start:end + 1])
            yield "".join(pending)
            pending, size, number, start = [], 0, number + 1, end + 1
    if size:
        yield "".join(pending)


def csv_rows(text: Iterable[str], delimiter: str, limits: UploadLimits,
             ) -> Iterator[list[str]]:
    """CSV / TSV rows (the header first); a malformed row or a cell over ``max_cell_bytes``
    is refused naming its row (1 = the header) and line."""
    if csv.field_size_limit() < limits.max_cell_bytes + 1:
        csv.field_size_limit(limits.max_cell_bytes + 1)  # checked exactly below
    reader = csv.reader(lines(text, limits), delimiter=delimiter)
    row_number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = f"row {row_number + 1:,} (line {reader.line_num:,})"
            if "field larger than field limit" in str(exc):
                raise _cell_too_large(where, limits) from exc
            raise InvalidInput(f"{where} of the task file is not valid CSV: {exc}",
                               hint="check its quotes and separators") from exc
        row_number += 1
        for column, cell in enumerate(row):
            if len(cell) * 4 > limits.max_cell_bytes and \
                    len(cell.encode()) > limits.max_cell_bytes:
                raise _cell_too_large(f"row {row_number:,} (line {reader.line_num:,}), "
                                      f"column {column + 1}", limits)
        yield row


def _cell_too_large(where: str, limits: UploadLimits) -> UploadTooLarge:
    return UploadTooLarge(f"{where} of the task file holds a cell larger than "
                          f"{limits.max_cell_bytes:,} bytes",
                          hint="shorten it, or raise upload_max_cell_bytes in crowdline.toml")


_STRUCTURE = re.compile(r'["\\\[\]{},]')


class _Scanner:
    """Follows a JSON text's strings and nesting one piece at a time (no recursion)."""

    def __init__(self, limits: UploadLimits, top_list: bool) -> None:
        self.limits, self.top_list = limits, top_list
        self.depth, self.in_string, self.escape_at = 0, False, -1
        self.offset = 0  # characters seen before the current piece

    def feed(self, piece: str) -> Iterator[tuple[str, int]]:
        """(event, index in piece): "open" / "close" of the top list, "item-end" at a comma
        or closing bracket that ends one item of the top list."""
        for match in _STRUCTURE.finditer(piece):
            at = match.start()
            char = match.group()
            if self.in_string:
                if self.offset + at == self.escape_at:
                    continue
                if char == "\\":
                    self.escape_at = self.offset + at + 1
                elif char == '"':
                    self.in_string = False
                continue
            if char == '"':
                self.in_string = True
            elif char in "[{":
                self.depth += 1
                if self.depth > self.limits.max_depth + (1 if self.top_list else 0):
                    raise InvalidInput(f"the task file nests JSON deeper than "
                                       f"{self.limits.max_depth} levels (character "
                                       f"{self.offset + at:,})",
                                       hint="flatten the values, or raise upload_max_depth")
                if self.top_list and self.depth == 1:
                    yield "open", at
            elif char in "]}":
                self.depth -= 1
                if self.top_list and self.depth == 0:
                    yield "close", at
            elif char == "," and self.top_list and self.depth == 1:
                yield "item-end", at
        self.offset += len(piece)


def _load(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInput(f"{where} of the task file is not valid JSON: {exc}",
                           hint="check the JSON syntax") from exc


def json_items(chunks: Iterable[str], limits: UploadLimits) -> Iterator[Any]:
    """The items of a JSON list, one at a time; each item at most ``max_cell_bytes``."""
    scanner = _Scanner(limits, top_list=True)
    item: list[str] = []
    size, index, state = 0, 0, "before"
    for chunk in chunks:
        start = 0
        for event, at in scanner.feed(chunk):
            if event == "open" and state == "before":
                if chunk[start:at].strip() or chunk[at] != "[":
                    raise InvalidInput("a JSON task file must hold a list of tasks",
                                       hint='e.g. [{"input_values": {...}}]')
                state, start = "inside", at + 1
            elif event in ("item-end", "close") and state == "inside":
                item.append(chunk[start:at])
                text = "".join(item)
                if len(text) > limits.max_cell_bytes:
                    raise _item_too_large(index, limits)
                if text.strip():
                    yield _load(text, f"task {index}")
                    index += 1
                elif event == "item-end":
                    raise InvalidInput(f"task {index} of the JSON list is empty")
                item, size, start = [], 0, at + 1
                if event == "close":
                    state = "after"
        rest = chunk[start:]
        if state == "before" and rest.strip() and not rest.lstrip().startswith("["):
            raise InvalidInput("a JSON task file must hold a list of tasks",
                               hint='e.g. [{"input_values": {...}}]')
        if state == "inside":
            item.append(rest)
            size += len(rest)
            if size > limits.max_cell_bytes:
                raise _item_too_large(index, limits)
        elif state == "after" and rest.strip():
            raise InvalidInput("the JSON task file has text after its list",
                               hint="one list of tasks per file")
    if state != "after":
        raise InvalidInput("the JSON task file ends before its list is closed"
                           if state == "inside" else "the JSON task file is empty",
                           hint="a JSON task file holds one list: [{...}, {...}]")


def _item_too_large(index: int, limits: UploadLimits) -> UploadTooLarge:
    return UploadTooLarge(f"task {index} of the JSON list is larger than "
                          f"{limits.max_cell_bytes:,} bytes",
                          hint="raise upload_max_cell_bytes in crowdline.toml")


def jsonl_items(chunks: Iterable[str], limits: UploadLimits) -> Iterator[Any]:
    """One JSON task per line; a line over ``max_cell_bytes`` or nested deeper than
    ``max_depth`` is refused naming the line."""
    for number, line in enumerate(lines(chunks, limits), start=1):
        if not line.strip():
            continue
        if len(line) > limits.max_cell_bytes:
            raise UploadTooLarge(f"line {number:,} of the task file is larger than "
                                 f"{limits.max_cell_bytes:,} bytes",
                                 hint="raise upload_max_cell_bytes in crowdline.toml")
        scanner = _Scanner(limits, top_list=False)
        try:
            for _ in scanner.feed(line):
                pass
        except InvalidInput as exc:
            raise InvalidInput(f"line {number:,}: {exc.message}", hint=exc.hint) from exc
        yield _load(line, f"line {number:,}")
