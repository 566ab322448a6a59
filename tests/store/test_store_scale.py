"""Commit, list and diff cost O(change), checked structurally on SQLite: the same SQL
statements whatever the repo size, and no full scan of the file-entry table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from crowdline.database import make_engine, upgrade_schema
from crowdline.store import Store
from crowdline.store.tables import entries

BIG = 5_000
CHANGE = 300


def _folder(root: Path, count: int, prefix: str) -> Path:
    root.mkdir(parents=True)
    for i in range(count):
        (root / f"{prefix}{i:05d}.csv").write_bytes(f"{prefix},{i}\n".encode())
    return root


def _capture(store: Store, action: Callable[[], object]) -> list[tuple[str, object]]:
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return statements


def _full_scans(store: Store, statements: list[tuple[str, object]]) -> list[str]:
    """Statements whose SQLite plan scans store_entries instead of searching an index."""
    bad = []
    with store.engine.connect() as conn:
        for statement, params in statements:
            if "store_entries" not in statement or not statement.lstrip().upper().startswith(
                    ("SELECT", "UPDATE", "DELETE", "INSERT")):
                continue
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            if any(row[-1].startswith("SCAN store_entries") for row in plan):
                bad.append(statement)
    return bad


@pytest.fixture
def sqlite_store(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade_schema(engine)
    yield Store(engine=engine, storage_url=(tmp_path / "objects").as_uri())
    engine.dispose()


def _commit_change(store: Store, repo: str, folder: Path) -> tuple[str, list]:
    opened = store.start_commit(repo, message="change")
    store.put_local(repo, opened.id, folder, "/new")
    statements = _capture(store, lambda: store.finish_commit(repo, opened.id))
    return opened.id, statements


@pytest.mark.slow
def test_commit_list_and_diff_cost_does_not_grow_with_the_repo(sqlite_store: Store,
                                                               tmp_path: Path) -> None:
    store = sqlite_store
    change = _folder(tmp_path / "change", CHANGE, "n")
    store.create_repo("big")
    store.create_repo("small")
    with store.commit("big", message="bulk") as bulk:
        bulk.put_local(_folder(tmp_path / "bulk", BIG, "b"), "/rows")
    with store.commit("small", message="tiny") as tiny:
        tiny.put_file("/rows/only.csv", b"x")

    big_id, big_sql = _commit_change(store, "big", change)
    small_id, small_sql = _commit_change(store, "small", change)
    assert [s for s, _ in big_sql] == [s for s, _ in small_sql]
    assert _full_scans(store, big_sql) == []

    with store.engine.connect() as conn:
        lineage, pos = conn.exec_driver_sql(
            "SELECT lineage_id, pos FROM store_commits WHERE id = ?", (big_id,)).one()
        rows = conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()
        added = conn.execute(sa.select(sa.func.count()).where(
            entries.c.lineage_id == lineage, entries.c.added_pos == pos)).scalar_one()
    assert rows == BIG + 1 + 2 * CHANGE  # nothing copied or rewritten
    assert added == CHANGE

    for action in (lambda: store.diff("big", big_id),
                   lambda: store.list_files("big", big_id, "/"),
                   lambda: store.list_commits("big", "master", since_seq=1),
                   lambda: store.get_file("big", big_id, "/rows/b00042.csv")):
        assert _full_scans(store, _capture(store, action)) == []
    assert len(store.diff("big", big_id)) == CHANGE
    assert [f.path for f in store.list_files("big", big_id)] == ["/new", "/rows"]
    assert store.inspect_commit("big", big_id).size_bytes > store.inspect_commit(
        "small", small_id).size_bytes
