"""Reading the CSV files people commit, with errors that name the file and say what is wrong.

A bad file raises ``crowdline.errors.InvalidInput``: the pipeline does not try it again until
the file changes, and a step with ``on_datum_failure: skip_datum`` reports it under
``/rejected/`` of its output while the other files go on.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crowdline.errors import InvalidInput


def read_csv(path: Path, *, required: tuple[str, ...], what: str = "CSV") -> pd.DataFrame:
    """The rows of ``path`` (all strings), refusing an empty, header-only, non-UTF-8 or
    malformed file and one that lacks a ``required`` column."""
    fix = (f"put a corrected file (UTF-8 {what}, a header row with "
           f"{', '.join(repr(c) for c in required)}) or delete it")
    try:
        rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except pd.errors.EmptyDataError as exc:
        raise InvalidInput(f"{path.name} is empty (no header row, no rows)", hint=fix) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name} is not UTF-8 text (byte {exc.start}: {exc.reason})",
                           hint=fix) from exc
    except pd.errors.ParserError as exc:
        raise InvalidInput(f"{path.name} is not a readable CSV: {exc}", hint=fix) from exc
    missing = [column for column in required if column not in rows.columns]
    if missing:
        raise InvalidInput(
            f"{path.name} has no {', '.join(repr(c) for c in missing)} column "
            f"(columns: {', '.join(rows.columns)})", hint=fix)
    if rows.empty:
        raise InvalidInput(f"{path.name} has a header row but no rows", hint=fix)
    return rows
