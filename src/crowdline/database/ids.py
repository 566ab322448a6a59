"""Unique id prefixes, as git, DVC and pachctl accept them (``job inspect 1a978dd5``)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from crowdline.errors import AmbiguousId

HEX_PREFIX = re.compile(r"[0-9a-f]{4,}")
_SHOWN = 5  # candidates listed in an ambiguity error


def expand_prefix(conn: sa.Connection, column: sa.ColumnElement, text: str, *,
                  what: str, where: sa.ColumnElement[bool] | None = None) -> str | None:
    """The one id in ``column`` starting with ``text`` (at least 4 hex digits), or None.

    An exact id is returned as is; a prefix shared by several ids raises AmbiguousId listing
    them, so the user can paste a longer one.
    """
    if not isinstance(text, str) or not HEX_PREFIX.fullmatch(text):
        return None
    query = sa.select(column).where(column.startswith(text, autoescape=True))
    if where is not None:
        query = query.where(where)
    found = conn.execute(query.order_by(column).limit(_SHOWN + 1)).scalars().all()
    if len(found) > 1:
        if text in found:
            return text
        listed = ", ".join(str(f) for f in found[:_SHOWN])
        more = " and more" if len(found) > _SHOWN else ""
        raise AmbiguousId(f"{what} id {text!r} is ambiguous: {listed}{more}",
                          hint="give more characters of the id")
    return str(found[0]) if found else None
