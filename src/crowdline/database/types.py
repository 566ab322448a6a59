"""Column types shared by every part's tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A point in time, always handed back as an aware UTC datetime.

    PostgreSQL stores ``timestamp with time zone``; SQLite stores text without an offset, so
    values are converted to UTC before they are written (a naive value is taken as UTC) and
    get their UTC offset back when read. Nobody downstream needs a naive-UTC fix-up.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if not isinstance(value, dt.datetime):
            return value
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        else:
            value = value.replace(tzinfo=dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if not isinstance(value, dt.datetime):
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
