"""The store's contract, run on every back-end pair (SQLite/PostgreSQL x local/S3)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from crowdline.errors import (
    BadName,
    BadPath,
    BranchMoved,
    BranchNotFound,
    CommitFinished,
    CommitNotFound,
    Conflict,
    FileNotFound,
    InvalidInput,
    RepoExists,
    RepoNotFound,
)
from crowdline.store import CommitRef, Store


def _put(store: Store, repo: str, files: dict[str, bytes], *, branch: str = "master",
         message: str = "", **kwargs) -> str:
    with store.commit(repo, branch, message=message, **kwargs) as commit:
        for path, data in files.items():
            commit.put_file(path, data)
    return commit.info.id


def test_repo_lifecycle(store: Store) -> None:
    info = store.create_repo("raw", "raw rows")
    assert (info.name, info.description, info.size_bytes, info.branches) == ("raw", "raw rows",
                                                                             0, [])
    store.create_repo("other")
    assert [r.name for r in store.list_repos()] == ["other", "raw"]
    with pytest.raises(RepoExists):
        store.create_repo("raw")
    with pytest.raises(BadName):
        store.create_repo("bad name!")
    _put(store, "raw", {"/a": b"12345"})
    assert store.inspect_repo("raw").size_bytes == 5
    assert store.inspect_repo("raw").branches == ["master"]
    store.delete_repo("raw")
    assert [r.name for r in store.list_repos()] == ["other"]
    with pytest.raises(RepoNotFound):
        store.inspect_repo("raw")
    with pytest.raises(RepoNotFound):
        store.delete_repo("raw")


def test_commits_are_versions_and_finished_ones_are_immutable(store: Store) -> None:
    store.create_repo("raw")
    first = _put(store, "raw", {"/a.txt": b"one", "/b.txt": b"bee"}, message="first",
                 author="ann", metadata={"batch": 1})
    second = _put(store, "raw", {"/a.txt": b"two!"}, message="second")
    assert store.get_file("raw", first, "/a.txt") == b"one"
    assert store.get_file("raw", "master", "/a.txt") == b"two!"
    assert store.get_file("raw", "master^", "/a.txt") == b"one"
    assert store.get_file("raw", "master", "/b.txt") == b"bee"
    assert store.resolve("raw", "master") == second
    log = store.list_commits("raw", "master")
    assert [c.id for c in log] == [second, first]
    assert log[0].parent == first
    assert log[1].parent is None
    assert log[0].seq > log[1].seq
    assert (log[1].message, log[1].author, log[1].metadata) == ("first", "ann", {"batch": 1})
    assert [c.size_bytes for c in log] == [7, 6]
    assert all(c.state == "finished" and c.finished_at is not None for c in log)
    with pytest.raises(CommitFinished):
        store.put_file("raw", first, "/c.txt", b"x")
    with pytest.raises(CommitFinished):
        store.delete_file("raw", second, "/a.txt")
    with pytest.raises(CommitFinished):
        store.finish_commit("raw", second)
    assert store.get_file("raw", first, "/a.txt") == b"one"
    assert len(store.list_commits("raw")) == 2


def test_since_seq_finds_only_newer_commits(store: Store) -> None:
    store.create_repo("raw")
    store.create_repo("other")
    first = _put(store, "raw", {"/a": b"1"})
    seen = store.inspect_commit("raw", first).seq
    _put(store, "other", {"/x": b"x"})
    second = _put(store, "raw", {"/b": b"2"})
    newer = store.list_commits("raw", "master", since_seq=seen)
    assert [c.id for c in newer] == [second]
    assert store.list_commits("raw", "master", since_seq=newer[0].seq) == []
    assert [c.id for c in store.list_commits("raw", limit=1)] == [second]


def test_list_walk_and_glob(store: Store) -> None:
    store.create_repo("raw")
    commit = _put(store, "raw", {
        "/a.csv": b"a", "/b.txt": b"bb", "/data/x.csv": b"xxx", "/data/y.json": b"y",
        "/data/deep/z.csv": b"zz", "/data.old": b"o", "/data-2/w.csv": b"w",
    })
    root = store.list_files("raw", "master")
    assert [(f.path, f.type) for f in root] == [
        ("/a.csv", "file"), ("/b.txt", "file"), ("/data", "dir"), ("/data-2", "dir"),
        ("/data.old", "file")]
    assert {f.commit_id for f in root} == {commit}
    data = store.list_files("raw", commit, "/data")
    assert [(f.path, f.type, f.size) for f in data] == [
        ("/data/deep", "dir", 0), ("/data/x.csv", "file", 3), ("/data/y.json", "file", 1)]
    assert [f.path for f in store.list_files("raw", "master", "/data/x.csv")] == ["/data/x.csv"]
    with pytest.raises(FileNotFound):
        store.list_files("raw", "master", "/nope")
    walked = [f.path for f in store.walk_files("raw", "master", "/data")]
    assert walked == ["/data/deep/z.csv", "/data/x.csv", "/data/y.json"]
    assert len(list(store.walk_files("raw", "master"))) == 7
    assert [f.path for f in store.glob_files("raw", "master", "/*.csv")] == ["/a.csv"]
    assert [f.path for f in store.glob_files("raw", "master", "/data/*")] == [
        "/data/deep", "/data/x.csv", "/data/y.json"]
    assert [f.path for f in store.glob_files("raw", "master", "/**.csv")] == [
        "/a.csv", "/data/deep/z.csv", "/data/x.csv", "/data-2/w.csv"]
    top = store.glob_files("raw", "master", "/*")
    assert [(f.path, f.type) for f in top] == [
        ("/a.csv", "file"), ("/b.txt", "file"), ("/data", "dir"), ("/data-2", "dir"),
        ("/data.old", "file")]
    assert [(f.path, f.type) for f in store.glob_files("raw", "master", "/")] == [("/", "dir")]


def test_diff_reports_added_modified_deleted(store: Store) -> None:
    store.create_repo("raw")
    first = _put(store, "raw", {"/keep": b"k", "/change": b"old", "/gone": b"g"})
    with store.commit("raw") as commit:
        commit.put_file("/change", b"newer")
        commit.delete_file("/gone")
        commit.put_file("/added", b"a")
        commit.put_file("/keep", b"k")  # same content: not a change
    changes = store.diff("raw", "master")
    assert [(c.path, c.status, c.old_size, c.new_size) for c in changes] == [
        ("/added", "added", None, 1), ("/change", "modified", 3, 5), ("/gone", "deleted", 1, None)]
    assert store.diff("raw", "master", first) == changes
    backwards = store.diff("raw", first, "master")
    assert [(c.path, c.status) for c in backwards] == [
        ("/added", "deleted"), ("/change", "modified"), ("/gone", "added")]
    assert [(c.path, c.status) for c in store.diff("raw", first)] == [
        ("/change", "added"), ("/gone", "added"), ("/keep", "added")]


def test_delete_folder_and_abort(store: Store) -> None:
    store.create_repo("raw")
    _put(store, "raw", {"/d/a": b"1", "/d/e/b": b"2", "/d.txt": b"3", "/z": b"4"})
    with store.commit("raw") as commit:
        commit.delete_file("/d")
        with pytest.raises(FileNotFound):
            commit.delete_file("/not-there")
    assert [f.path for f in store.walk_files("raw", "master")] == ["/d.txt", "/z"]
    opened = store.start_commit("raw")
    store.put_file("raw", opened.id, "/tmp", b"t")
    store.abort_commit("raw", opened.id)
    with pytest.raises(CommitNotFound):
        store.inspect_commit("raw", opened.id)
    def failing_writer() -> None:
        with store.commit("raw") as commit:
            commit.put_file("/half", b"h")
            raise RuntimeError("caller failed")

    with pytest.raises(RuntimeError):
        failing_writer()
    assert [f.path for f in store.walk_files("raw", "master")] == ["/d.txt", "/z"]
    assert len(store.list_commits("raw")) == 2


def test_open_commit_reads_its_own_writes(store: Store) -> None:
    store.create_repo("raw")
    _put(store, "raw", {"/a": b"a", "/dir/b": b"b"})
    opened = store.start_commit("raw")
    assert opened.state == "open"
    assert opened.seq is None
    store.put_file("raw", opened.id, "/dir/c", io.BytesIO(b"streamed"))
    store.delete_file("raw", opened.id, "/a")
    assert store.get_file("raw", opened.id, "/dir/c") == b"streamed"
    with pytest.raises(FileNotFound):
        store.get_file("raw", opened.id, "/a")
    assert [f.path for f in store.list_files("raw", opened.id, "/")] == ["/dir"]
    assert [f.path for f in store.walk_files("raw", opened.id)] == ["/dir/b", "/dir/c"]
    assert store.get_file("raw", "master", "/a") == b"a"  # not visible until finished
    assert len(store.list_commits("raw")) == 1
    store.finish_commit("raw", opened.id)
    assert [f.path for f in store.walk_files("raw", "master")] == ["/dir/b", "/dir/c"]


def test_bad_input_is_refused_and_changes_nothing(store: Store) -> None:
    store.create_repo("raw")
    head = _put(store, "raw", {"/a": b"a"})
    opened = store.start_commit("raw")
    for bad in ("../etc/passwd", "/a/../../b", "/x\x00y", "/"):
        with pytest.raises(BadPath):
            store.put_file("raw", opened.id, bad, b"evil")
    with pytest.raises(RepoNotFound):
        store.get_file("nope", "master", "/a")
    with pytest.raises(BranchNotFound):
        store.get_file("raw", "dev", "/a")
    with pytest.raises(CommitNotFound):
        store.get_file("raw", "0" * 32, "/a")
    with pytest.raises(CommitNotFound):
        store.get_file("raw", "master^", "/a")
    with pytest.raises(BadName):
        store.start_commit("raw", "bad/branch")
    with pytest.raises(BadName):
        store.create_branch("raw", "a" * 32)
    with pytest.raises(RepoNotFound):
        store.start_commit("raw", provenance=[("ghost", "master")])
    with pytest.raises(InvalidInput):
        store.put_file("raw", opened.id, "/a", "not bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        store.get_file("raw", "master", "/")
    store.finish_commit("raw", opened.id)
    assert store.diff("raw", "master") == []
    assert [f.path for f in store.walk_files("raw", "master")] == ["/a"]
    assert [c.id for c in store.list_commits("raw")][1] == head
    assert store.list_branches("raw")[0].name == "master"


def test_provenance_and_delete_guard(store: Store) -> None:
    for name in ("raw", "labels", "dataset"):
        store.create_repo(name)
    raw = _put(store, "raw", {"/rows.csv": b"r"})
    labels = _put(store, "labels", {"/l.csv": b"l"}, origin="auto",
                  provenance=[("raw", "master")])
    dataset = _put(store, "dataset", {"/d.csv": b"d"}, origin="auto",
                   provenance=[CommitRef("labels", labels), ("raw", raw)])
    info = store.inspect_commit("dataset", "master")
    assert info.origin == "auto"
    assert info.provenance == [CommitRef("labels", labels), CommitRef("raw", raw)]
    assert [(c.repo, c.id) for c in store.provenance("dataset", dataset)] == [
        ("labels", labels), ("raw", raw)]
    assert [(c.repo, c.id) for c in store.subvenance("raw", raw)] == [
        ("dataset", dataset), ("labels", labels)]
    assert store.list_commits("dataset")[0].provenance == info.provenance
    with pytest.raises(Conflict):
        store.delete_repo("raw")
    assert store.inspect_repo("raw").name == "raw"
    store.delete_repo("raw", force=True)
    assert store.inspect_commit("labels", labels).provenance == []


def test_blobs_are_deduplicated_across_repos_and_commits(store: Store, count_blobs) -> None:
    store.create_repo("one")
    store.create_repo("two")
    _put(store, "one", {"/a": b"same", "/b": b"same"})
    _put(store, "two", {"/c": b"same", "/d": b"other"})
    _put(store, "one", {"/e": b"other"})
    assert count_blobs(store) == 2
    a = store.list_files("one", "master", "/a")[0]
    with store.commit("two") as commit:
        linked = commit.link_file("/linked", content_hash=a.hash, size=a.size)
        with pytest.raises(FileNotFound):
            commit.link_file("/ghost", content_hash="f" * 64, size=1)
    assert linked.hash == a.hash
    assert store.get_file("two", "master", "/linked") == b"same"
    assert count_blobs(store) == 2


def test_put_local_folder_and_download(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "src"
    for rel, data in {"a.txt": b"a", "sub/b.bin": bytes(range(256)), "sub/deep/c": b""}.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_bytes(data)
    store.create_repo("raw")
    batches: list[int] = []
    with store.commit("raw") as commit:
        assert commit.put_local(source, "/in", progress=batches.append) == 3
        assert commit.put_local(source / "a.txt", "/copies/") == 1
    assert sum(batches) == 3
    assert [f.path for f in store.walk_files("raw", "master")] == [
        "/copies/a.txt", "/in/a.txt", "/in/sub/b.bin", "/in/sub/deep/c"]
    written = store.download("raw", "master", "/in", tmp_path / "out")
    assert len(written) == 3
    assert (tmp_path / "out/in/sub/b.bin").read_bytes() == bytes(range(256))
    assert (tmp_path / "out/in/sub/deep/c").read_bytes() == b""
    with store.open_file("raw", "master", "/in/sub/b.bin") as handle:
        assert handle.read() == bytes(range(256))


def test_branches_fork_without_touching_master(store: Store) -> None:
    store.create_repo("raw")
    base = _put(store, "raw", {"/a": b"a", "/b": b"b"})
    dev = store.create_branch("raw", "dev", head="master")
    assert dev.head == base
    _put(store, "raw", {"/m": b"m"})
    _put(store, "raw", {"/d": b"d"}, branch="dev")  # dev forks from a non-tip commit
    _put(store, "raw", {"/d2": b"d2"}, branch="dev")
    assert [f.path for f in store.walk_files("raw", "master")] == ["/a", "/b", "/m"]
    assert [f.path for f in store.walk_files("raw", "dev")] == ["/a", "/b", "/d", "/d2"]
    assert [(c.path, c.status) for c in store.diff("raw", "dev", "master")] == [
        ("/d", "added"), ("/d2", "added"), ("/m", "deleted")]
    assert [(c.path, c.status) for c in store.diff("raw", "dev^")] == [("/d", "added")]
    assert [b.name for b in store.list_branches("raw")] == ["dev", "master"]
    assert [c.branch for c in store.list_commits("raw", "dev")] == ["dev", "dev"]
    empty = store.create_branch("raw", "empty")
    assert empty.head is None
    with pytest.raises(CommitNotFound):
        store.list_files("raw", "empty")


def test_concurrent_writers_reparent_or_fail_cleanly(store: Store) -> None:
    store.create_repo("raw")
    _put(store, "raw", {"/shared": b"0"})
    first = store.start_commit("raw")
    second = store.start_commit("raw")
    store.put_file("raw", first.id, "/one", b"1")
    store.put_file("raw", second.id, "/two", b"2")
    store.finish_commit("raw", first.id)
    done = store.finish_commit("raw", second.id)  # disjoint paths: re-parented, nothing lost
    assert done.parent == first.id
    assert [f.path for f in store.walk_files("raw", "master")] == ["/one", "/shared", "/two"]
    assert [(c.path, c.status) for c in store.diff("raw", "master")] == [("/two", "added")]
    third = store.start_commit("raw")
    fourth = store.start_commit("raw")
    store.put_file("raw", third.id, "/shared", b"3")
    store.put_file("raw", fourth.id, "/shared", b"4")
    store.finish_commit("raw", third.id)
    with pytest.raises(BranchMoved):
        store.finish_commit("raw", fourth.id)  # same path: would lose an update
    with pytest.raises(CommitNotFound):
        store.inspect_commit("raw", fourth.id)
    assert store.get_file("raw", "master", "/shared") == b"3"
    with store.commit("raw") as retry:
        retry.put_file("/shared", b"4")
    assert store.get_file("raw", "master", "/shared") == b"4"


def test_fsck_finds_missing_and_corrupt_blobs(store: Store, damage_blob) -> None:
    store.create_repo("raw")
    _put(store, "raw", {"/good": b"good", "/bad": b"bad", "/lost": b"lost"})
    report = store.fsck()
    assert report.ok
    assert report.problems == []
    assert report.blobs_checked == 3
    files = {f.path: f for f in store.walk_files("raw", "master")}
    damage_blob(store, files["/bad"].hash, b"tampered")
    damage_blob(store, files["/lost"].hash, None)
    report = store.fsck()
    assert not report.ok
    assert len(report.problems) == 2
    assert any("corrupt" in p and "raw:/bad" in p for p in report.problems)
    assert any("missing" in p and "raw:/lost" in p for p in report.problems)
    with pytest.raises(FileNotFound):
        store.get_file("raw", "master", "/lost")


def test_schema_has_indexes_for_since_seq_and_paths(store: Store) -> None:
    indexes = {ix["name"] for ix in sa.inspect(store.engine).get_indexes("store_commits")}
    assert "ix_store_commits_repo_branch_seq" in indexes
    entry_indexes = {ix["name"] for ix in sa.inspect(store.engine).get_indexes("store_entries")}
    assert {"ix_store_entries_path", "ix_store_entries_dir", "ix_store_entries_added",
            "ix_store_entries_removed"} <= entry_indexes
