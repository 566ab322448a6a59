"""Searching tasks and assignments in SQL: filter, sort and page in the database, so a page
of a pool of millions costs what a page of a small pool costs (an index range scan of
``limit + 1`` rows, never a read of the pool).

    found, has_more = search_rows(conn, t.tasks, TASK_FIELDS,
                                  Search(equal={"pool_id": 7}, ranges=[("id", "gt", 1000)],
                                         sort=[("id", False)], limit=50))

``Search`` is what Toloka's search endpoints take (``<field>=``, ``<field>_gt/_gte/_lt/_lte``,
``sort``, ``limit``), already parsed and typed by the caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.errors import InvalidInput

_OPS = {"gt": lambda c, v: c > v, "gte": lambda c, v: c >= v,
        "lt": lambda c, v: c < v, "lte": lambda c, v: c <= v}


@dataclass
class Search:
    equal: dict[str, Any] = field(default_factory=dict)  # a list value means IN
    ranges: list[tuple[str, str, Any]] = field(default_factory=list)  # (field, op, value)
    sort: list[tuple[str, bool]] = field(default_factory=lambda: [("id", False)])  # desc?
    limit: int = 50



def _id_text(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """Ids compare as strings, as toloka-kit compares them (it pages with ``id_gt`` and takes
    ``min``/``max`` of string ids); an expression index (pool, CAST(id AS TEXT)) serves it."""
    return sa.cast(column, sa.Text)


TASK_FIELDS: dict[str, sa.ColumnElement[Any]] = {
    "id": _id_text(t.tasks.c.id), "pool_id": t.tasks.c.pool_id,
    "created": t.tasks.c.created, "overlap": t.tasks.c.overlap}
ASSIGNMENT_FIELDS: dict[str, sa.ColumnElement[Any]] = {
    "id": _id_text(t.assignments.c.id),
    # a copy of a requester-made suite names the suite; a mixer-made suite is the assignment
    "task_suite_id": sa.cast(sa.func.coalesce(t.assignments.c.suite_id, t.assignments.c.id),
                             sa.Text),
    "pool_id": t.assignments.c.pool_id, "user_id": t.assignments.c.worker_id,
    "status": t.assignments.c.status, "created": t.assignments.c.created,
    "submitted": t.assignments.c.submitted, "accepted": t.assignments.c.accepted,
    "rejected": t.assignments.c.rejected, "skipped": t.assignments.c.skipped,
    "expired": t.assignments.c.expired}


def _value(column: sa.ColumnElement[Any], name: str, value: Any) -> Any:
    """A query value as the column's type: ids and counts as ints, times as aware UTC."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):  # e.g. UtcDateTime: its stored type decides
        kind = kind.impl_instance
    if isinstance(kind, sa.Text):
        return str(value)
    try:
        if isinstance(kind, sa.Integer):
            return int(value)
        if isinstance(kind, sa.DateTime):
            parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(
                str(value).replace("Z", "+00:00"))
            return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name}={value!r} is not a valid {kind.python_type.__name__}",
                           hint="ids are numbers here; dates are ISO 8601") from exc
    return value


def search_rows(conn: sa.Connection, table: sa.Table, fields: dict[str, Any], search: Search,
                where: sa.ColumnElement[bool] | None = None) -> tuple[list[Any], bool]:
    """Rows of ``table`` matching ``search`` (and ``where``), and whether more follow."""
    query = sa.select(table)
    if where is not None:
        query = query.where(where)
    for name, value in search.equal.items():
        column = fields[name]
        if isinstance(value, list | tuple):
            query = query.where(column.in_([_value(column, name, v) for v in value]))
        else:
            query = query.where(column == _value(column, name, value))
    for name, op, value in search.ranges:
        column = fields[name]
        query = query.where(_OPS[op](column, _value(column, f"{name}_{op}", value)))
    order = [fields[name].desc() if desc else fields[name].asc() for name, desc in search.sort]
    if "id" not in [name for name, _ in search.sort]:
        order.append(fields["id"].asc())  # a stable order for paging
    rows = conn.execute(query.order_by(*order).limit(search.limit + 1)).all()
    return rows[:search.limit], len(rows) > search.limit
