"""Transforms and wake conditions the pipeline tests run (imported by worker processes too:
the tests put this folder on PYTHONPATH)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from crowdline.pipelines import WaitFor, current_datum


def _note_call(label: str) -> None:
    calls = os.environ.get("TESTKIT_CALLS")
    if calls:
        with open(calls, "a") as handle:
            handle.write(label + "\n")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def upper(inputs: dict[str, Path], output: Path) -> None:
    """Each input file, upper-cased, at the same path + '.up'."""
    (folder,) = inputs.values()
    for path in _files(folder):
        relative = path.relative_to(folder)
        _note_call(str(relative))
        target = output / f"{relative}.up"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text().upper())
    print("upper done", current_datum().datum_id)


def count_chars(inputs: dict[str, Path], output: Path) -> None:
    """Second stage: one .n file per input file holding its length."""
    (folder,) = inputs.values()
    for path in _files(folder):
        relative = path.relative_to(folder)
        _note_call("count:" + str(relative))
        (output / f"{relative.name}.n").write_text(str(len(path.read_text())))


def pair_names(inputs: dict[str, Path], output: Path) -> None:
    """For cross/join: one file named after the datum listing every input file."""
    names = sorted(f"{name}:{p.relative_to(folder)}" for name, folder in inputs.items()
                   for p in _files(folder))
    (output / (current_datum().datum_id + ".txt")).write_text("\n".join(names))


def flaky(inputs: dict[str, Path], output: Path) -> None:
    """Fails twice per datum, then succeeds (state kept in TESTKIT_STATE)."""
    (folder,) = inputs.values()
    state = Path(os.environ["TESTKIT_STATE"]) / current_datum().datum_id
    tries = int(state.read_text()) if state.exists() else 0
    state.write_text(str(tries + 1))
    if tries < 2:
        raise RuntimeError(f"flaky failure number {tries + 1}")
    for path in _files(folder):
        (output / path.name).write_text("ok")


def fail_on_bad(inputs: dict[str, Path], output: Path) -> None:
    """Fails for files whose content is 'bad', copies the others."""
    (folder,) = inputs.values()
    for path in _files(folder):
        if path.read_text() == "bad":
            raise ValueError(f"{path.name} is bad")
        (output / path.name).write_text(path.read_text())


def slow_copy(inputs: dict[str, Path], output: Path) -> None:
    (folder,) = inputs.values()
    for path in _files(folder):
        _note_call(path.name)
        time.sleep(float(os.environ.get("TESTKIT_DELAY", "0.2")))
        (output / path.name).write_text(path.read_text())


def wait_for_flag(inputs: dict[str, Path], output: Path) -> None:
    """Waits (without holding a process) until the flag file exists, then copies input."""
    (folder,) = inputs.values()
    flag = Path(os.environ["TESTKIT_FLAG"])
    for path in _files(folder):
        _note_call("wait:" + path.name)
        if not flag.exists():
            raise WaitFor("pipelines_testkit:flag_exists", path=str(flag))
        (output / path.name).write_text(path.read_text() + " labeled by " + flag.read_text())


def flag_exists(workspace: Any, params: dict[str, Any]) -> bool:
    return Path(params["path"]).exists()


def where_am_i(inputs: dict[str, Path], output: Path) -> None:
    (folder,) = inputs.values()
    for path in _files(folder):
        (output / path.name).write_text(json.dumps({"pid": os.getpid(),
                                                    "text": path.read_text()}))


def sleepy(inputs: dict[str, Path], output: Path) -> None:
    time.sleep(30)


def crash(inputs: dict[str, Path], output: Path) -> None:
    os._exit(3)  # a transform that kills its own worker process


def always_wait(inputs: dict[str, Path], output: Path) -> None:
    raise WaitFor("pipelines_testkit:always_true")


def always_true(workspace: Any, params: dict[str, Any]) -> bool:
    return True


def warn_on_empty(inputs: dict[str, Path], output: Path) -> None:
    """upper(), plus a warning (not an error) for each empty file."""
    import warnings

    (folder,) = inputs.values()
    for path in _files(folder):
        if not path.read_text():
            warnings.warn(f"{path.name} is empty", UserWarning, stacklevel=1)
    upper(inputs, output)
