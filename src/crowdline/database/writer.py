"""SQLite's one writer: a thread per database that commits many requests' writes at once.

SQLite lets one transaction write at a time, and each commit costs a WAL append and a
sync. Instead of every request thread queueing on the write lock, requests hand their work
(a function of a connection) to this thread. It takes whatever has queued up (up to
``MAX_BATCH``), runs each piece inside its own SAVEPOINT of one ``BEGIN IMMEDIATE``
transaction, commits once, and only then resolves each request's future: an acknowledged
write is committed, and a piece that fails rolls back to its savepoint alone (bad input
changes nothing) while the rest of the batch commits (group commit).

The thread starts on the first write and stops after ``IDLE_SECONDS`` without work, so an
engine that is no longer used holds no thread.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import sqlalchemy as sa

from crowdline.database.transactions import ATTEMPTS, retryable, unavailable, writer_lock

T = TypeVar("T")

MAX_BATCH = 64
IDLE_SECONDS = 2.0

Job = tuple[Callable[[sa.Connection], Any], "Future[Any]"]


class SqliteWriter:
    """The writer thread of one SQLite engine (see the module's docstring)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._queue: deque[Job] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self.batches = self.jobs = 0  # figures for benchmarks

    def submit(self, work: Callable[[sa.Connection], T]) -> Future[T]:
        """Queue ``work``; the future resolves after the transaction holding it commits."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("a write inside a write: pass the connection down instead")
        future: Future[T] = Future()
        with self._ready:
            self._queue.append((work, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="crowdline-sqlite-writer")
                self._thread.start()
            else:
                self._ready.notify()
        return future

    def _run(self) -> None:
        while True:
            with self._ready:
                if not self._queue:
                    self._ready.wait(IDLE_SECONDS)
                    if not self._queue:
                        self._thread = None
                        return
                batch = [self._queue.popleft()
                         for _ in range(min(len(self._queue), MAX_BATCH))]
            live = [(work, future) for work, future in batch
                    if future.set_running_or_notify_cancel()]
            if live:
                self._commit(live)

    def _commit(self, batch: list[Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        for attempt in range(ATTEMPTS):
            outcomes = []
            try:
                with writer_lock(self.engine), self.engine.begin() as conn:
                    if len(batch) == 1:
                        outcomes.append((True, batch[0][0](conn)))
                    else:
                        for work, _ in batch:
                            outcomes.append(_in_savepoint(conn, work))
                break
            except sa.exc.DBAPIError as exc:
                if retryable(exc) and attempt < ATTEMPTS - 1:
                    time.sleep(0.005 * (2 ** attempt))
                    continue
                error = unavailable(exc) if isinstance(exc, sa.exc.OperationalError) else exc
                outcomes = [(False, error)] * len(batch)
                break
            except Exception as exc:  # one piece's own error, handed back to it
                outcomes = [(False, exc)]
                break
        self.batches += 1
        self.jobs += len(batch)
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


def _in_savepoint(conn: sa.Connection, work: Callable[[sa.Connection], Any]
                  ) -> tuple[bool, Any]:
    savepoint = conn.begin_nested()
    try:
        value = work(conn)
    except Exception as exc:  # handed back to the request that sent it
        savepoint.rollback()
        if isinstance(exc, sa.exc.OperationalError):
            return False, unavailable(exc)
        return False, exc
    savepoint.commit()
    return True, value


_writers: weakref.WeakKeyDictionary[sa.Engine, tuple[int, SqliteWriter]] = (
    weakref.WeakKeyDictionary())
_lock = threading.Lock()


def writer_for(engine: sa.Engine) -> SqliteWriter:
    """The writer of ``engine`` in this process (a forked child gets its own)."""
    with _lock:
        entry = _writers.get(engine)
        if entry is None or entry[0] != os.getpid():
            entry = (os.getpid(), SqliteWriter(engine))
            _writers[engine] = entry
        return entry[1]
