"""Task files are parsed as a stream: a 10 MB CSV and a 5 MB JSON list go through the
readers with a peak of a few MB of Python memory (the file never sits in memory whole)."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator

from crowdline.crowd.uploads import UploadLimits, csv_rows, json_items, text_chunks


class Generated(io.RawIOBase):
    """A read-only binary file whose bytes are made as they are read."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        self.parts, self.buffer = parts, b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray) -> int:  # type: ignore[override]
        while len(self.buffer) < len(target):
            part = next(self.parts, None)
            if part is None:
                break
            self.buffer += part
        count = min(len(target), len(self.buffer))
        target[:count] = self.buffer[:count]
        self.buffer = self.buffer[count:]
        return count


def _peak(run) -> tuple[int, int]:
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_10_mb_csv_streams() -> None:
    rows = 100_000
    def parts() -> Iterator[bytes]:
        yield b"INPUT:headline,INPUT:body\n"
        for i in range(rows):
            yield f"headline number {i},{'b' * 70}\n".encode()
    limits = UploadLimits()
    count, peak = _peak(lambda: sum(1 for _ in csv_rows(
        text_chunks(io.BufferedReader(Generated(parts())), limits), ",", limits)))
    assert count == rows + 1
    assert peak < 2 * 1024 * 1024, peak  # the file is ~10 MB


def test_a_5_mb_json_list_streams() -> None:
    items = 50_000
    def parts() -> Iterator[bytes]:
        yield b"["
        for i in range(items):
            yield (b"," if i else b"") + b'{"input_values": {"headline": "' + \
                b"h" * 80 + f' {i}"}}}}'.encode()
        yield b"]"
    limits = UploadLimits()
    count, peak = _peak(lambda: sum(1 for _ in json_items(
        text_chunks(io.BufferedReader(Generated(parts())), limits), limits)))
    assert count == items
    assert peak < 2 * 1024 * 1024, peak  # the list is ~5 MB
