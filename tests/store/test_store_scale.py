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

BIG = 3_000
CHANGE = 200


def _folder(root: Path, count: int, prefix: str) -> Path:
    root.mkdir(parents=True)
    for i in range(count):
        (root / f"{prefix}{i:05d}.csv").write_bytes(f"{prefix},{i}\n".encode())
    return root


class Capture:
    """SQL statements run by an action, and SQLite VM instructions spent on them."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, object]] = []
        self.ticks = 0

    def tick(self) -> int:
        self.ticks += 1
        return 0  # 0 = carry on


def _capture(store: Store, action: Callable[[], object]) -> Capture:
    capture = Capture()
    seen: list = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        capture.statements.append((statement, parameters))
        dbapi = conn.connection.dbapi_connection
        dbapi.set_progress_handler(capture.tick, 100)  # a tick per 100 VM instructions
        seen.append(dbapi)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
        for dbapi in seen:
            dbapi.set_progress_handler(None, 0)
    return capture


def _full_scans(store: Store, capture: Capture) -> list[str]:
    """Statements whose SQLite plan scans store_entries instead of searching an index."""
    bad = []
    with store.engine.connect() as conn:
        for statement, params in capture.statements:
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


def _commit_change(store: Store, repo: str, folder: Path) -> tuple[str, Capture]:
    opened = store.start_commit(repo, message="change")
    store.put_local(repo, opened.id, folder, "/new")
    return opened.id, _capture(store, lambda: store.finish_commit(repo, opened.id))


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
    assert [s for s, _ in big_sql.statements] == [s for s, _ in small_sql.statements]
    assert _full_scans(store, big_sql) == []
    # The work done, not just the plan: a walk over the big repo's live rows would cost
    # several times the small repo's; B-tree depth alone adds a little.
    assert big_sql.ticks < 1.3 * small_sql.ticks + 50

    with store.engine.connect() as conn:
        lineage, pos = conn.exec_driver_sql(
            "SELECT lineage_id, pos FROM store_commits WHERE id = ?", (big_id,)).one()
        rows = conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()
        added = conn.execute(sa.select(sa.func.count()).where(
            entries.c.lineage_id == lineage, entries.c.added_pos == pos)).scalar_one()
    assert rows == BIG + 1 + 2 * CHANGE  # nothing copied or rewritten
    assert added == CHANGE

    for action in ("diff", "list_files", "get_file"):
        def run(repo: str, commit_id: str, action: str = action) -> object:
            if action == "diff":
                return store.diff(repo, commit_id)
            if action == "list_files":
                return store.list_files(repo, commit_id, "/new")
            return store.get_file(repo, commit_id, "/new/n00042.csv")

        on_big = _capture(store, lambda: run("big", big_id))
        on_small = _capture(store, lambda: run("small", small_id))
        assert _full_scans(store, on_big) == []
        assert on_big.ticks < 1.3 * on_small.ticks + 50, action
    assert _full_scans(store, _capture(
        store, lambda: store.list_commits("big", "master", since_seq=1))) == []
    assert len(store.diff("big", big_id)) == CHANGE
    assert [f.path for f in store.list_files("big", big_id)] == ["/new", "/rows"]
    assert store.inspect_commit("big", big_id).size_bytes > store.inspect_commit(
        "small", small_id).size_bytes
