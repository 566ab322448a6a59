"""Transforms the failure-isolation tests run (imported by worker processes too)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crowdline.errors import InvalidInput
from crowdline.pipelines import WaitFor


def _note(label: str) -> None:
    calls = os.environ.get("TESTKIT_CALLS")
    if calls:
        with open(calls, "a") as handle:
            handle.write(label + "\n")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def swallow_everything(inputs: dict[str, Path], output: Path) -> None:
    """User code with a broad ``except Exception`` around a call that waits."""
    for path in _files(next(iter(inputs.values()))):
        _note("swallow:" + path.name)
        try:
            _ask_to_wait()
        except Exception:  # noqa: BLE001 - this is the mistake the test guards against
            (output / path.name).write_text("swallowed")


def _ask_to_wait() -> None:
    raise WaitFor("failure_testkit:never")


def never(workspace: Any, params: dict[str, Any]) -> bool:
    return False


def check_rows(inputs: dict[str, Path], output: Path) -> None:
    """Copies files whose content is not 'bad' or 'boom'; 'bad' is invalid input (never
    retried), 'boom' an ordinary error (retried)."""
    for path in _files(next(iter(inputs.values()))):
        text = path.read_text()
        _note("check:" + path.name)
        print(f"checking {path.name}")
        if text == "bad":
            raise InvalidInput(f"{path.name} holds 'bad'", hint="fix the file")
        if text == "boom":
            raise RuntimeError(f"{path.name} exploded\nsecond line of the error")
        (output / path.name).write_text(text.upper())


def note_failure(inputs: dict[str, Path], output: Path, error: str) -> None:
    """An ``on_error`` hook: records what failed; raising in it means 'not recovered'."""
    for path in _files(next(iter(inputs.values()))):
        _note(f"on_error:{path.name}:{error.splitlines()[0]}".replace(" ", "_"))
        if path.read_text() == "boom":
            raise RuntimeError("cannot recover from boom")


def csv_shout(inputs: dict[str, Path], output: Path) -> None:
    """Each CSV with its `text` column upper-cased (same path)."""
    folder = next(iter(inputs.values()))
    for path in _files(folder):
        lines = path.read_text().splitlines()
        body = [line.upper() if i else line + ",loud" for i, line in enumerate(lines)]
        body = [body[0]] + [f"{line.split(',')[0].lower()},{line.split(',')[1]},yes"
                            for line in body[1:]]
        target = output / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(body) + "\n")


def csv_concat(inputs: dict[str, Path], output: Path) -> None:
    """Every CSV of the input in one file."""
    rows, header = [], ""
    for path in _files(next(iter(inputs.values()))):
        lines = path.read_text().splitlines()
        header = lines[0]
        rows += lines[1:]
    (output / "all.csv").write_text("\n".join([header, *rows]) + "\n")


def lineage_hook(workspace: Any, root: Any, row_id: str) -> dict[str, Any]:
    return {"steps": len(root.walk()), "row": row_id}
