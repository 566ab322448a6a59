"""Write transactions for the crowd tables: retried on PostgreSQL deadlocks and on the
unique-key races that the database uses to refuse a double issue.

Every facade call runs in one transaction: it commits before it returns (an acknowledged
answer is on disk), and an error rolls everything back (bad input changes nothing).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from crowdline.errors import BackendUnavailable, NotFound

T = TypeVar("T")

_RETRYABLE_PGCODES = {"40001", "40P01", "23505"}  # serialization, deadlock, unique violation
ATTEMPTS = 8
MAX_ID = 2**63 - 1


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _RETRYABLE_PGCODES:
        return True
    return "database is locked" in str(exc.orig)


_sqlite_writers: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _writer_lock(engine: sa.Engine) -> threading.Lock | contextlib.nullcontext[None]:
    """SQLite takes one writer at a time; threads of this process queue on a lock instead of
    polling SQLite's busy handler, which starves some writers for seconds under load."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    database = str(engine.url.database)
    with _registry_lock:
        return _sqlite_writers.setdefault(database, threading.Lock())


def write(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work(conn)`` in one transaction, again from the start when the database asks."""
    for attempt in range(ATTEMPTS):
        try:
            with _writer_lock(engine), engine.begin() as conn:
                return work(conn)
        except sa.exc.DBAPIError as exc:
            if not _retryable(exc) or attempt == ATTEMPTS - 1:
                if isinstance(exc, sa.exc.OperationalError):
                    raise BackendUnavailable(f"the crowd database failed: {exc.orig}",
                                             hint="check the database is reachable") from exc
                raise
            time.sleep(0.005 * (2 ** attempt))
    raise AssertionError("unreachable")


def read(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    # DEFERRED: a read on SQLite must not take the write lock that BEGIN IMMEDIATE takes.
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        return work(conn)


def key(value: str | int | None, error: type[NotFound], what: str) -> int:
    """The integer key behind a public string id; a malformed id is simply not found."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        number = -1
    if not 1 <= number <= MAX_ID:  # beyond a 64-bit key no row can exist
        raise error(f"{what} {value!r} does not exist",
                    hint=f"{what} ids are the numbers crowdline returned when it created them")
    return number


def missing(error: type[NotFound], what: str, value: object) -> NotFound:
    return error(f"{what} {value} does not exist", hint=f"list them to see the existing {what}s")
