"""Packed blobs (store/packs.py): a bulk put of small files writes one pack and its index;
reads, dedup, crash recovery and fsck see packed blobs like loose ones."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crowdline.database import make_engine, upgrade_schema
from crowdline.store import Store
from crowdline.store.blobs import PACK_MAX, PACK_MIN_FILES
from crowdline.store.packs import PACK_MAGIC, SealedPack

FILES = PACK_MIN_FILES + 44  # enough for the put to be packed


@pytest.fixture
def local_store(database_url: str, tmp_path: Path):
    engine = make_engine(database_url)
    upgrade_schema(engine)
    store = Store(engine=engine, storage_url=(tmp_path / "objects").as_uri())
    store.create_repo("raw")
    yield store
    engine.dispose()


def _folder(root: Path, count: int, tag: str = "f") -> Path:
    sub = root / "sub"
    sub.mkdir(parents=True)
    for i in range(count):
        (root if i % 2 else sub).joinpath(f"{tag}{i:05d}.txt").write_bytes(
            f"{tag} row {i}\n".encode() * (1 + i % 7))
    return root


def _packs(store: Store, ext: str) -> list[Path]:
    return sorted(Path(store.blobs.root, "packs").glob(f"*.{ext}"))


def _loose(store: Store) -> list[Path]:
    return [p for p in Path(store.blobs.root, "blake3").rglob("*") if p.is_file()]


def _local_contents(folder: Path) -> dict[str, bytes]:
    return {"/in/" + p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


def test_a_bulk_put_packs_small_files_and_keeps_big_ones_loose(local_store: Store,
                                                               tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in", FILES)
    big = os.urandom(PACK_MAX + 1)
    (folder / "big.bin").write_bytes(big)
    (folder / "empty.txt").write_bytes(b"")
    with local_store.commit("raw") as commit:
        assert commit.put_local(folder, "/in") == FILES + 2
    assert len(_packs(local_store, "pack")) == 1
    assert len(_packs(local_store, "idx")) == 1
    assert [p.read_bytes() for p in _loose(local_store)] == [big]  # only the big file
    index = SealedPack(str(_packs(local_store, "pack")[0]), str(_packs(local_store, "idx")[0]))
    assert index.count == FILES + 1  # the small files and the empty one, each once
    assert index.digests() == sorted(index.digests())
    for path, data in _local_contents(folder).items():
        assert local_store.get_file("raw", "master", path) == data
        with local_store.open_file("raw", "master", path) as handle:
            assert handle.read() == data
    for info in local_store.walk_files("raw", "master"):
        assert local_store.blobs.exists(info.hash)
    assert local_store.fsck().ok


def test_packed_blobs_read_back_from_a_new_store_object(local_store: Store,
                                                        tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in", FILES)
    with local_store.commit("raw") as commit:
        commit.put_local(folder, "/in")
    reopened = Store(engine=local_store.engine, storage_url=local_store.storage_url)
    for path, data in _local_contents(folder).items():
        assert reopened.get_file("raw", "master", path) == data
    assert reopened.fsck().ok


def test_a_pack_sealed_by_another_store_object_is_found_by_a_reader_that_loaded_before(
        local_store: Store, tmp_path: Path) -> None:
    reader = Store(engine=local_store.engine, storage_url=local_store.storage_url)
    with local_store.commit("raw") as commit:
        commit.put_file("/first", b"loaded before the pack existed")
    assert reader.get_file("raw", "master", "/first") == b"loaded before the pack existed"
    folder = _folder(tmp_path / "in", FILES)
    with local_store.commit("raw") as commit:
        commit.put_local(folder, "/in")
    assert reader.get_file("raw", "master", "/in/f00001.txt") == b"f row 1\n" * 2


def test_content_already_stored_is_not_written_again(local_store: Store, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in", FILES)
    for i in range(50):  # copies of one file inside the same put
        (folder / f"copy{i:02d}.txt").write_bytes(b"same bytes\n")
    with local_store.commit("raw") as commit:
        commit.put_file("/loose.txt", b"f row 0\n")  # loose; the folder holds it too
        commit.put_local(folder, "/in")
    (pack,) = _packs(local_store, "pack")
    index = SealedPack(str(pack), str(_packs(local_store, "idx")[0]))
    assert index.count == FILES + 1 - 1  # + the copied content once, - the loose one
    size = pack.stat().st_size
    with local_store.commit("raw") as commit:  # the same files again, in another commit
        commit.put_local(folder, "/again")
    assert _packs(local_store, "pack") == [pack]  # nothing new: no second pack at all
    assert pack.stat().st_size == size
    assert local_store.get_file("raw", "master", "/again/copy49.txt") == b"same bytes\n"
    assert local_store.get_file("raw", "master", "/again/sub/f00000.txt") == b"f row 0\n"
    assert len(local_store.list_files("raw", "master", "/again")) == len(
        local_store.list_files("raw", "master", "/in"))


def test_a_small_put_stays_loose(local_store: Store, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in", PACK_MIN_FILES - 1)
    with local_store.commit("raw") as commit:
        commit.put_local(folder, "/in")
    assert _packs(local_store, "pack") == []
    assert len(_loose(local_store)) == PACK_MIN_FILES - 1


def _flip_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


def test_fsck_reports_a_flipped_byte_and_a_cut_pack(local_store: Store, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in", FILES)
    with local_store.commit("raw") as commit:
        commit.put_local(folder, "/in")
    (pack,) = _packs(local_store, "pack")
    (victim,) = [f for f in local_store.walk_files("raw", "master")
                 if f.path == "/in/f00003.txt"]
    _, offset, length = local_store.blobs.packs.find_sealed(bytes.fromhex(victim.hash))
    _flip_byte(pack, offset + length // 2)
    report = Store(engine=local_store.engine, storage_url=local_store.storage_url).fsck()
    assert not report.ok
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"blob {victim.hash} is corrupt")
    assert report.problems[0].endswith("(used by raw:/in/f00003.txt)")
    last = max(local_store.walk_files("raw", "master"),
               key=lambda f: local_store.blobs.packs.find_sealed(bytes.fromhex(f.hash))[1])
    os.truncate(pack, pack.stat().st_size - 1)  # the last blob loses its last byte
    problems = Store(engine=local_store.engine, storage_url=local_store.storage_url).fsck()
    assert len(problems.problems) == 2
    assert any(p.startswith(f"blob {last.hash} is missing") for p in problems.problems)


SLOW_PUT = textwrap.dedent("""
    import sys
    from crowdline.database import make_engine
    from crowdline.store import Store

    db, storage, folder = sys.argv[1:4]
    store = Store(engine=make_engine(db), storage_url=storage)
    commit = store.start_commit("raw", message="never finished")
    store.put_local("raw", commit.id, folder, "/big",
                    progress=lambda n: print("staged", n, flush=True))
    print("put done", flush=True)
    sys.stdin.read()  # wait to be killed
""")


@pytest.mark.slow
def test_kill_9_during_a_packed_put_leaves_a_consistent_store(local_store: Store,
                                                              tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in", 6000)
    database = local_store.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen([sys.executable, "-c", SLOW_PUT, database,
                              local_store.storage_url, str(folder)],
                             stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.startswith("staged"), line  # rows of the first batch are staged
    finally:
        child.kill()
        child.wait(timeout=30)
    # the open commit's pack has no index; its staged blobs are found by scanning it
    (unsealed,) = _packs(local_store, "pack")
    assert not unsealed.with_suffix(".idx").exists()
    assert unsealed.read_bytes().startswith(PACK_MAGIC)
    assert local_store.list_commits("raw") == []
    (opened,) = local_store.list_open_commits("raw")
    assert local_store.fsck().ok
    local_store.abort_commit("raw", opened.id)
    with local_store.commit("raw", message="after the crash") as commit:
        commit.put_local(folder, "/big")
    assert len(local_store.list_files("raw", "master", "/big/sub")) == 3000
    assert local_store.get_file("raw", "master", "/big/sub/f05998.txt") == (
        b"f row 5998\n" * (1 + 5998 % 7))
    assert local_store.fsck().ok


def test_a_torn_record_at_the_end_of_an_unsealed_pack_is_ignored(local_store: Store,
                                                                 tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in", FILES)
    commit = local_store.start_commit("raw")
    local_store.put_local("raw", commit.id, folder, "/in")
    (pack,) = _packs(local_store, "pack")
    index = pack.with_suffix(".idx")
    index.unlink()  # as if the writer died before sealing
    with open(pack, "ab") as handle:  # and in the middle of writing one more record
        handle.write(os.urandom(32) + (5000).to_bytes(8, "little") + b"only part")
    reader = Store(engine=local_store.engine, storage_url=local_store.storage_url)
    assert reader.get_file("raw", commit.id, "/in/f00001.txt") == b"f row 1\n" * 2
    assert reader.fsck().ok


def test_a_damaged_index_falls_back_to_scanning_its_pack(local_store: Store,
                                                         tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in", FILES)
    with local_store.commit("raw") as commit:
        commit.put_local(folder, "/in")
    (index,) = _packs(local_store, "idx")
    os.truncate(index, index.stat().st_size - 48)  # one entry short
    reader = Store(engine=local_store.engine, storage_url=local_store.storage_url)
    for path, data in _local_contents(folder).items():
        assert reader.get_file("raw", "master", path) == data
    assert reader.fsck().ok
