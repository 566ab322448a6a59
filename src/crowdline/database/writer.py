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

import asyncio
import logging
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
log = logging.getLogger("crowdline.database")

MAX_BATCH = 64
IDLE_SECONDS = 2.0
CHECKPOINT_EVERY = 200  # commits between two WAL checkpoints (run off the writer's path)

# a job: the work, and where its outcome goes: a concurrent future (a blocking caller), or an
# event loop and an asyncio future (the server), settled on that loop's thread
Job = tuple[Callable[[sa.Connection], Any],
            "Future[Any] | tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]"]


class SqliteWriter:
    """The writer thread of one SQLite engine (see the module's docstring)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._queue: deque[Job] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._checkpointing = threading.Lock()
        self.batches = self.jobs = 0  # figures for benchmarks

    def submit(self, work: Callable[[sa.Connection], T]) -> Future[T]:
        """Queue ``work``; the future resolves after the transaction holding it commits."""
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        self._put((work, future))
        return future

    def submit_async(self, work: Callable[[sa.Connection], T]) -> asyncio.Future[T]:
        """``submit`` for the running event loop: an asyncio future, resolved on the loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._put((work, (loop, future)))
        return future

    def _put(self, job: Job) -> None:
        if threading.current_thread() is self._thread:
            raise RuntimeError("a write inside a write: pass the connection down instead")
        with self._ready:
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="crowdline-sqlite-writer")
                self._thread.start()
            else:
                self._ready.notify()

    def _run(self) -> None:
        conn: sa.Connection | None = None
        try:
            while True:
                with self._ready:
                    if not self._queue:
                        self._ready.wait(IDLE_SECONDS)
                        if not self._queue:
                            self._thread = None
                            return
                    batch = [self._queue.popleft()
                             for _ in range(min(len(self._queue), MAX_BATCH))]
                try:
                    if conn is None or conn.invalidated or conn.closed:
                        conn = self.engine.connect()  # kept while the thread lives
                        # a checkpoint (copying the WAL into the database file, with an
                        # fsync) would stall every request queued behind a commit: see
                        # _checkpoint_soon
                        conn.connection.driver_connection.execute(
                            "PRAGMA wal_autocheckpoint=0")
                    self._commit(conn, batch)
                except Exception as exc:  # never leave a request waiting for ever
                    log.exception("the SQLite writer failed a batch")
                    _deliver(batch, [(False, exc)] * len(batch))
                    if conn is not None:
                        conn.invalidate()
                        conn = None
                    continue
                if self.batches % CHECKPOINT_EVERY == 0:
                    self._checkpoint_soon()
        finally:
            if conn is not None:
                conn.close()

    def _checkpoint_soon(self) -> None:
        """A PASSIVE checkpoint on a connection of its own, in a thread of its own: writers
        go on appending to the WAL meanwhile."""
        if not self._checkpointing.acquire(blocking=False):
            return  # one is running

        def checkpoint() -> None:
            try:
                with self.engine.connect() as conn:
                    conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # the next one catches up; SQLite checkpoints at close anyway
                log.warning("WAL checkpoint failed", exc_info=True)
            finally:
                self._checkpointing.release()

        threading.Thread(target=checkpoint, daemon=True, name="crowdline-sqlite-checkpoint"
                         ).start()

    def _commit(self, conn: sa.Connection, batch: list[Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        for attempt in range(ATTEMPTS):
            outcomes = []
            try:
                with writer_lock(self.engine), conn.begin():
                    if len(batch) == 1:
                        outcomes.append((True, batch[0][0](conn)))
                    else:
                        raw = conn.connection.driver_connection
                        for work, _ in batch:
                            outcomes.append(_in_savepoint(conn, raw, work))
                break
            except sa.exc.DBAPIError as exc:
                if retryable(exc) and attempt < ATTEMPTS - 1:
                    time.sleep(0.005 * (2 ** attempt))
                    continue
                error = unavailable(exc) if isinstance(exc, sa.exc.OperationalError) else exc
                outcomes = [(False, error)] * len(batch)
                break
            except Exception as exc:  # a lone piece's own error, or the batch's (its lock...)
                outcomes = [(False, exc)] * len(batch)
                break
        self.batches += 1
        self.jobs += len(batch)
        _deliver(batch, outcomes)


def _deliver(batch: list[Job], outcomes: list[tuple[bool, Any]]) -> None:
    # one wake-up per event loop for the whole batch, not one per request
    on_loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
    for (_, sink), (ok, value) in zip(batch, outcomes, strict=True):
        if isinstance(sink, Future):
            if sink.done():
                continue
            if ok:
                sink.set_result(value)
            else:
                sink.set_exception(value)
        else:
            on_loops.setdefault(sink[0], []).append((sink[1], ok, value))
    for loop, settled in on_loops.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # that loop is closed: nobody waits any more
            pass


def _settle(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _in_savepoint(conn: sa.Connection, raw: Any, work: Callable[[sa.Connection], Any]
                  ) -> tuple[bool, Any]:
    # plain SQL savepoints on the driver connection: SQLAlchemy's own nested transactions
    # cost more Python than the work they wrap
    raw.execute("SAVEPOINT crowdline_job")
    try:
        value = work(conn)
    except Exception as exc:  # handed back to the request that sent it
        raw.execute("ROLLBACK TO SAVEPOINT crowdline_job")
        raw.execute("RELEASE SAVEPOINT crowdline_job")
        if isinstance(exc, sa.exc.OperationalError):
            return False, unavailable(exc)
        return False, exc
    raw.execute("RELEASE SAVEPOINT crowdline_job")
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
