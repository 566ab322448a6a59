"""Read and write transactions, shared by every part (store, pipelines, crowd).

``write(engine, work)`` runs ``work(conn)`` in one transaction that commits before it returns
(an acknowledged write is on disk) and rolls back on any error (bad input changes nothing); it
runs ``work`` again from the start when the database asks (PostgreSQL serialization failures,
deadlocks, unique-key races; a locked SQLite file). ``work`` must therefore have no effect
outside the connection. On SQLite the work goes to the database's one writer thread, which
commits several requests' work in one transaction (group commit, see ``writer.py``).

``read(engine, work)`` and ``reading(engine)`` open a read transaction that never takes
SQLite's write lock. ``writing(engine)`` is the context-manager form of a write, for work
that cannot be re-run (no retries); on SQLite it queues behind the same process-wide writer.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa

from crowdline.database.engine import SQLITE_BUSY_TIMEOUT_MS
from crowdline.errors import BackendUnavailable

T = TypeVar("T")

# serialization failure, deadlock, unique violation
RETRYABLE_PGCODES = frozenset({"40001", "40P01", "23505"})
ATTEMPTS = 8


def retryable(exc: sa.exc.DBAPIError) -> bool:
    """Whether running the transaction again may succeed."""
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in RETRYABLE_PGCODES:
        return True
    return "database is locked" in str(exc.orig)


def unavailable(exc: sa.exc.OperationalError) -> BackendUnavailable:
    return BackendUnavailable(f"the database failed: {exc.orig}",
                              hint="check the database is reachable and not full")


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _group_commits(engine: sa.Engine) -> bool:
    """SQLite files go through the writer thread; an in-memory database cannot (each thread
    would see a database of its own)."""
    return is_sqlite(engine) and engine.url.database not in (None, "", ":memory:")


_writer_locks: dict[tuple[int, str], threading.Lock] = {}
_registry_lock = threading.Lock()


@contextlib.contextmanager
def writer_lock(engine: sa.Engine) -> Iterator[None]:
    """SQLite takes one writer at a time: this process's writers queue on one lock per database
    file instead of polling SQLite's busy handler, which starves some writers for seconds.
    Waiting is bounded like SQLite's own busy timeout: a write nested in another write of the
    same thread fails with BackendUnavailable instead of hanging."""
    if not is_sqlite(engine):
        yield
        return
    database = (os.getpid(), str(engine.url.database))  # a forked child gets its own lock
    with _registry_lock:
        lock = _writer_locks.setdefault(database, threading.Lock())
    if not lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise BackendUnavailable(
            f"the SQLite database {engine.url.database} stayed locked by another write of this "
            f"process for {SQLITE_BUSY_TIMEOUT_MS // 1000} s",
            hint="a write waits for itself when it is started inside another write; pass the "
                 "connection down instead")
    try:
        yield
    finally:
        lock.release()


def write(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work(conn)`` in one committed transaction, again from the start when asked."""
    if _group_commits(engine):
        from crowdline.database.writer import writer_for

        return writer_for(engine).submit(work).result()
    return write_here(engine, work)


def write_here(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """``write`` on the calling thread (its own connection and transaction)."""
    for attempt in range(ATTEMPTS):
        try:
            with writer_lock(engine), engine.begin() as conn:
                return work(conn)
        except sa.exc.DBAPIError as exc:
            if not retryable(exc) or attempt == ATTEMPTS - 1:
                if isinstance(exc, sa.exc.OperationalError):
                    raise unavailable(exc) from exc
                raise
            time.sleep(0.005 * (2 ** attempt))
    raise AssertionError("unreachable")


async def write_async(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """``write`` for an event loop: on SQLite it awaits the writer thread without occupying a
    thread of its own; elsewhere it runs in the thread pool."""
    if _group_commits(engine):
        from crowdline.database.writer import writer_for

        return await writer_for(engine).submit_async(work)
    if is_sqlite(engine):  # in memory: only this thread's connection sees the database
        return write_here(engine, work)
    return await _in_thread(engine, write_here, engine, work)


_limiters: dict[tuple[int, int], Any] = {}


def _in_thread(engine: sa.Engine, function: Callable[..., T], *args: object) -> Awaitable[T]:
    """Run in a worker thread, at most as many at once as the engine's pool holds
    connections: more would open and close overflow connections on every request."""
    import asyncio

    import anyio
    from anyio import to_thread

    where = (id(engine), id(asyncio.get_running_loop()))
    limiter = _limiters.get(where)
    if limiter is None:
        size = getattr(engine.pool, "size", None)
        size = size() if callable(size) else 10
        limiter = _limiters.setdefault(where, anyio.CapacityLimiter(max(1, size)))
    return to_thread.run_sync(function, *args, limiter=limiter)


def read(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work(conn)`` in a read transaction (DEFERRED on SQLite: no write lock)."""
    with reading(engine) as conn:
        return work(conn)


@contextlib.contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read transaction; on SQLite a DEFERRED one, so readers never take the write lock."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="DEFERRED")
        with conn.begin():
            yield conn


@contextlib.contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One write transaction around a block (no retries: a block cannot be re-run)."""
    try:
        with writer_lock(engine), engine.begin() as conn:
            yield conn
    except sa.exc.OperationalError as exc:
        raise unavailable(exc) from exc
