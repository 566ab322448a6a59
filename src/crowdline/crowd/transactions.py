"""The crowd part's transactions (``database.write`` / ``read``) and its public-id helpers.

Every facade call runs in one transaction: it commits before it returns (an acknowledged
answer is on disk), and an error rolls everything back (bad input changes nothing). The
transactions themselves, retries and SQLite's group-committing writer, live in
``crowdline.database``.
"""

from __future__ import annotations

from crowdline.database.transactions import read, write, write_async
from crowdline.errors import NotFound

__all__ = ["MAX_ID", "key", "missing", "read", "write", "write_async"]

MAX_ID = 2**63 - 1


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
