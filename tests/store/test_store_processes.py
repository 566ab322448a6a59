"""Real processes: two writers on one branch lose no update; kill -9 leaves no half commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crowdline.database import make_engine, upgrade_schema
from crowdline.store import Store

WRITER = textwrap.dedent("""
    import sys
    from crowdline.database import make_engine
    from crowdline.errors import BranchMoved
    from crowdline.store import Store

    db, storage, name, count = sys.argv[1:5]
    store = Store(engine=make_engine(db), storage_url=storage)
    done = retries = 0
    while done < int(count):
        try:
            with store.commit("raw", message=f"{name} {done}") as commit:
                value = int(store.get_file("raw", commit.id, "/counter"))
                commit.put_file("/counter", str(value + 1).encode())
                commit.put_file(f"/{name}/{done}", name.encode())
            done += 1
        except BranchMoved:
            retries += 1
    print(retries)
""")

SLOW_PUT = textwrap.dedent("""
    import sys
    from crowdline.database import make_engine
    from crowdline.store import Store

    db, storage, folder, stage = sys.argv[1:5]
    store = Store(engine=make_engine(db), storage_url=storage)
    commit = store.start_commit("raw", message="never finished")

    def report(n):
        print("staged", n, flush=True)

    store.put_local("raw", commit.id, folder, "/big", progress=report)
    if stage == "finish":
        print("finishing", flush=True)
        store.finish_commit("raw", commit.id)
        print("finished", flush=True)
    else:
        sys.stdin.read()  # wait to be killed
""")


@pytest.fixture
def shared_store(database_url: str, tmp_path: Path):
    engine = make_engine(database_url)
    upgrade_schema(engine)
    storage = (tmp_path / "objects").as_uri()
    store = Store(engine=engine, storage_url=storage)
    store.create_repo("raw")
    with store.commit("raw", message="start") as commit:
        commit.put_file("/counter", b"0")
    yield store, database_url, storage
    engine.dispose()


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_processes_committing_to_one_branch_lose_no_update(shared_store) -> None:
    store, db, storage = shared_store
    per_writer = 8
    writers = [_spawn(WRITER, db, storage, name, str(per_writer)) for name in ("w1", "w2")]
    for writer in writers:
        out, err = writer.communicate(timeout=240)
        assert writer.returncode == 0, err
    assert store.get_file("raw", "master", "/counter") == str(2 * per_writer).encode()
    for name in ("w1", "w2"):
        assert len(store.list_files("raw", "master", f"/{name}")) == per_writer
    log = store.list_commits("raw", "master")
    assert len(log) == 2 * per_writer + 1
    assert len({c.seq for c in log}) == len(log)
    assert all(newer.parent == older.id for newer, older in zip(log, log[1:], strict=False))
    assert store.fsck().ok


def _make_folder(root: Path, count: int) -> Path:
    root.mkdir()
    for i in range(count):
        (root / f"f{i:05d}.txt").write_bytes(f"row {i}\n".encode())
    return root


def _kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.slow
def test_kill_9_during_put_leaves_no_half_commit(shared_store, tmp_path: Path) -> None:
    store, db, storage = shared_store
    before = store.list_commits("raw")
    folder = _make_folder(tmp_path / "in", 2500)
    child = _spawn(SLOW_PUT, db, storage, str(folder), "put")
    assert child.stdout.readline().startswith("staged")  # first batch is in the open commit
    _kill(child)
    assert store.list_commits("raw") == before
    assert [f.path for f in store.walk_files("raw", "master")] == ["/counter"]
    with store.commit("raw", message="after the crash") as commit:
        commit.put_local(folder, "/big")
    assert len(store.list_files("raw", "master", "/big")) == 2500
    assert store.fsck().ok


@pytest.mark.slow
def test_kill_9_during_finish_is_all_or_nothing(shared_store, tmp_path: Path) -> None:
    store, db, storage = shared_store
    head = store.resolve("raw", "master")
    folder = _make_folder(tmp_path / "in", 2000)
    child = _spawn(SLOW_PUT, db, storage, str(folder), "finish")
    for line in child.stdout:
        if line.startswith("finishing"):
            break
    _kill(child)
    files = [f.path for f in store.walk_files("raw", "master")]
    if store.resolve("raw", "master") == head:  # killed before the publish transaction ended
        assert files == ["/counter"]
    else:
        assert len(files) == 2001
    with store.commit("raw", message="after the crash") as commit:
        commit.put_file("/next", b"n")
    assert store.get_file("raw", "master", "/next") == b"n"
    assert store.fsck().ok
