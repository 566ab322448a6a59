"""Nothing outlives a crash: pool workers exit with their runner; the next runner tidies up.

* Every local pool worker runs a watchdog thread that ends the worker as soon as its parent
  (the runner) is gone — ``kill -9`` included. With the workers gone, multiprocessing's
  resource tracker (which only waits for its pipe's writers to close) exits too. Commands the
  workers start die with them (``PR_SET_PDEATHSIG``, see ``sandbox.py``).
* Each worker notes itself in ``<home>/pipelines/workers/``; the next runner ends any worker
  whose runner is dead (should a watchdog not have fired) and removes the batch folders that
  killed workers left in the system temp folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

BATCH_PREFIX = "crowdline-batch-"
WATCH_INTERVAL = 0.5
_watching = False


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells a live process from a reused pid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def alive(pid: int, started: str | None = None) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _zombie(pid):  # killed, not yet reaped by its new parent: it runs nothing any more
        return False
    return started is None or start_time(pid) in (None, started)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def workers_folder(home: str | Path) -> Path:
    return Path(home) / "pipelines" / "workers"


def init_worker(parent: int, home: str | None) -> None:
    """``initializer`` of every local pool worker: watch the runner, note ourselves."""
    global _watching
    if home:
        folder = workers_folder(home)
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            me = os.getpid()
            (folder / f"{me}.json").write_text(json.dumps({
                "worker": me, "worker_started": start_time(me),
                "runner": parent, "runner_started": start_time(parent)}))
    if not _watching:
        _watching = True
        threading.Thread(target=_watch, args=(parent,), name="crowdline-parent-watch",
                         daemon=True).start()


def _watch(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(70)  # the runner is gone; nobody will read our results
        time.sleep(WATCH_INTERVAL)


def reap_orphans(home: str | Path) -> int:
    """End workers whose runner died and drop their notes; returns how many were ended."""
    folder = workers_folder(home)
    ended = 0
    if not folder.exists():
        return 0
    for note in folder.glob("*.json"):
        try:
            data = json.loads(note.read_text())
        except (OSError, ValueError):
            note.unlink(missing_ok=True)
            continue
        if alive(int(data.get("runner", 0)), data.get("runner_started")):
            continue
        worker = int(data.get("worker", 0))
        if alive(worker, data.get("worker_started")) and worker != os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(worker, signal.SIGKILL)
                ended += 1
        note.unlink(missing_ok=True)
    return ended


def batch_folder_prefix() -> str:
    """Batch scratch folders carry their worker's pid, so leftovers can be told apart."""
    return f"{BATCH_PREFIX}{os.getpid()}-"


def sweep_batch_folders() -> int:
    """Remove batch folders of workers that no longer run (killed mid-batch)."""
    removed = 0
    temp = Path(tempfile.gettempdir())
    for folder in temp.glob(f"{BATCH_PREFIX}*-*"):
        pid = folder.name[len(BATCH_PREFIX):].partition("-")[0]
        if pid.isdigit() and not alive(int(pid)) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def clean_up_after_crashes(home: str | Path) -> None:
    """What a killed runner left: its workers, their scratch folders."""
    with contextlib.suppress(OSError):
        reap_orphans(home)
        sweep_batch_folders()
