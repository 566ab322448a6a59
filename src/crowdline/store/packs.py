"""Pack files: many small blobs appended to one file, found through a sorted index.

A bulk put (``put_local`` of a folder) writes its small files into one pack instead of one
file per blob, so a 1 KiB file costs the syscalls to read it and a share of one big write.

    <root>/packs/<name>.pack   b"CLPACK1\\n", then records: digest (32 bytes), length
                               (8 bytes, little-endian), the blob's bytes
    <root>/packs/<name>.idx    written once the pack is complete and fsync'd ("sealed"):
                               b"CLPIDX1\\n", count (u64), fanout (256 x u32: how many
                               digests start with a byte <= i), the digests sorted, then
                               (offset u64, length u64) of each, in the same order

Crash safety: a record is written (one ``write`` per slice of records, appended under a
lock) before any staging row names its digest, and the commit is published only after the
pack is sealed. A pack whose writer died has no index; readers scan its records (a torn
last record is ignored), so blobs of an abandoned commit stay readable and the rest is
garbage, never a wrong blob. ``fsck`` re-hashes packed blobs like loose ones.
"""

from __future__ import annotations

import bisect
import mmap
import os
import struct
import threading
import time
import uuid
from collections.abc import Sequence

PACK_MAGIC = b"CLPACK1\n"
INDEX_MAGIC = b"CLPIDX1\n"
_RECORD_HEAD = struct.Struct("<32sQ")  # digest, length
_ENTRY = struct.Struct("<32sQQ")  # digest, offset of the blob's bytes, length
_LOCATION = struct.Struct("<QQ")
_DIGEST = 32
_FANOUT = struct.Struct("<256I")
_INDEX_HEAD = len(INDEX_MAGIC) + 8 + _FANOUT.size
_BUCKETS = 4096  # PackWriter's buckets, by the first 12 bits of the digest


class SealedPack:
    """One pack's index, memory-mapped: lookups cost a fanout read and a binary search."""

    def __init__(self, pack_path: str, index_path: str) -> None:
        self.pack_path = pack_path
        with open(index_path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if (len(self._map) < _INDEX_HEAD
                or self._map[:len(INDEX_MAGIC)] != INDEX_MAGIC):
            raise ValueError(f"{index_path} is not a crowdline pack index")
        self.count = struct.unpack_from("<Q", self._map, len(INDEX_MAGIC))[0]
        self._fanout = _FANOUT.unpack_from(self._map, len(INDEX_MAGIC) + 8)
        if (len(self._map) != _INDEX_HEAD + self.count * _ENTRY.size
                or self._fanout[-1] != self.count):
            raise ValueError(f"{index_path} is cut short or damaged")

    def _digest_at(self, i: int) -> bytes:
        start = _INDEX_HEAD + i * _ENTRY.size
        return self._map[start:start + _DIGEST]

    def find(self, digest: bytes) -> tuple[int, int] | None:
        first = digest[0]
        lo = self._fanout[first - 1] if first else 0
        hi = self._fanout[first]
        i = bisect.bisect_left(_Keys(self), digest, lo, hi)
        if i < hi and self._digest_at(i) == digest:
            return _LOCATION.unpack_from(self._map, _INDEX_HEAD + i * _ENTRY.size + _DIGEST)
        return None

    def digests(self) -> list[bytes]:
        return [self._digest_at(i) for i in range(self.count)]


class _Keys(Sequence[bytes]):
    """The sorted digests of a sealed pack as a sequence ``bisect`` can search."""

    def __init__(self, pack: SealedPack) -> None:
        self._pack = pack

    def __len__(self) -> int:
        return self._pack.count

    def __getitem__(self, i):  # type: ignore[no-untyped-def,override]
        return self._pack._digest_at(i)


class OpenPack:
    """A pack without an index (being written, or its writer died): found by scanning."""

    def __init__(self, pack_path: str) -> None:
        self.pack_path = pack_path
        self.records: dict[bytes, tuple[int, int]] = {}
        self._scanned = len(PACK_MAGIC)

    def scan(self) -> None:
        """Read records appended since the last scan; stop at a torn (incomplete) one."""
        try:
            with open(self.pack_path, "rb") as handle:
                if handle.read(len(PACK_MAGIC)) != PACK_MAGIC:
                    return
                size = os.fstat(handle.fileno()).st_size
                offset = self._scanned
                while offset + _RECORD_HEAD.size <= size:
                    handle.seek(offset)
                    head = handle.read(_RECORD_HEAD.size)
                    digest, length = _RECORD_HEAD.unpack(head)
                    start = offset + _RECORD_HEAD.size
                    if start + length > size:
                        break
                    self.records.setdefault(digest, (start, length))
                    offset = start + length
                self._scanned = offset
        except FileNotFoundError:
            pass

    def find(self, digest: bytes) -> tuple[int, int] | None:
        return self.records.get(digest)


class PackSet:
    """Every pack under ``<root>/packs``, as seen by one process; refreshed on a miss."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.sealed: dict[str, SealedPack] = {}
        self.open: dict[str, OpenPack] = {}
        self._bad: set[str] = set()  # packs whose index would not load
        self._lock = threading.Lock()
        self.refresh(scan_open=False)

    def refresh(self, *, scan_open: bool) -> None:
        """Load indexes sealed since the last look; ``scan_open`` also reads the records
        of packs without an index (a writer's, or one left by a crash)."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        with self._lock:
            for name in sorted(names):
                stem, _, ext = name.rpartition(".")
                pack_path = os.path.join(self.folder, f"{stem}.pack")
                if ext == "idx" and stem not in self.sealed and stem not in self._bad:
                    try:
                        self.sealed[stem] = SealedPack(pack_path,
                                                       os.path.join(self.folder, name))
                        self.open.pop(stem, None)
                    except (OSError, ValueError):  # a damaged index: scan the pack instead
                        self._bad.add(stem)
                if (scan_open and ext == "pack" and stem not in self.sealed
                        and (f"{stem}.idx" not in names or stem in self._bad)):
                    self.open.setdefault(stem, OpenPack(pack_path)).scan()

    def find_sealed(self, digest: bytes) -> tuple[str, int, int] | None:
        for pack in tuple(self.sealed.values()):  # a copy: another thread may refresh
            found = pack.find(digest)
            if found is not None:
                return pack.pack_path, found[0], found[1]
        return None

    def find(self, digest: bytes) -> tuple[str, int, int] | None:
        """(pack file, offset, length) of a blob, or None; looks at unsealed packs too."""
        found = self.find_sealed(digest)
        if found is not None:
            return found
        for pack in list(self.open.values()):
            location = pack.find(digest)
            if location is not None:
                return pack.pack_path, location[0], location[1]
        return None


def read_blob(location: tuple[str, int, int]) -> bytes:
    pack_path, offset, length = location
    fd = os.open(pack_path, os.O_RDONLY)
    try:
        data = os.pread(fd, length, offset)
    finally:
        os.close(fd)
    if len(data) != length:
        raise OSError(f"{pack_path} ends inside the blob at offset {offset}")
    return data


class PackWriter:
    """Appends blobs to one new pack; threads may call ``append`` concurrently.

    What it wrote is kept as index entries (48 bytes each) in 4,096 buckets by digest
    prefix, not as a dict (about 50 bytes a blob instead of 170): a blob repeated within
    the put is found by a search of one small bucket and written once, and ``seal`` sorts
    bucket by bucket to write the index."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.name = f"{time.time_ns():x}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.path = os.path.join(folder, f"{self.name}.pack")
        self._buckets = [bytearray() for _ in range(_BUCKETS)]
        self.count = 0
        self._fd: int | None = None
        self._size = 0
        self._lock = threading.Lock()

    def holds(self, digest: bytes) -> bool:
        bucket = self._buckets[digest[0] << 4 | digest[1] >> 4]
        at = bucket.find(digest)
        while at >= 0 and at % _ENTRY.size:  # a match across two records: look further
            at = bucket.find(digest, at + 1)
        return at >= 0

    def append(self, blobs: Sequence[tuple[bytes, bytes]]) -> None:
        """Write the (digest, data) pairs not yet in this pack, in one write."""
        with self._lock:
            if self._fd is None:
                if not blobs:
                    return  # no pack file until there is something to put in it
                os.makedirs(self.folder, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                _write_all(self._fd, PACK_MAGIC)
                self._size = len(PACK_MAGIC)
            parts: list[bytes] = []
            offset = self._size
            for digest, data in blobs:
                if self.holds(digest):
                    continue
                parts.append(_RECORD_HEAD.pack(digest, len(data)))
                parts.append(data)
                offset += _RECORD_HEAD.size
                bucket = self._buckets[digest[0] << 4 | digest[1] >> 4]
                bucket += _ENTRY.pack(digest, offset, len(data))
                self.count += 1
                offset += len(data)
            if parts:
                _write_all(self._fd, b"".join(parts))
                self._size = offset

    def seal(self) -> None:
        """fsync the pack, then write its index (temp file, fsync, rename): from here on
        the blobs are durable and found without scanning."""
        with self._lock:
            if self._fd is None:
                return
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
            fanout = [0] * 256
            for i, bucket in enumerate(self._buckets):
                fanout[i >> 4] += len(bucket) // _ENTRY.size
            for i in range(1, 256):
                fanout[i] += fanout[i - 1]
            index = os.path.join(self.folder, f"{self.name}.idx")
            tmp = f"{index}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                _write_all(fd, INDEX_MAGIC + struct.pack("<Q", self.count)
                           + _FANOUT.pack(*fanout))
                size = _ENTRY.size
                for i, bucket in enumerate(self._buckets):
                    # entries differ in their digests, so sorting whole entries sorts those
                    entries = sorted(bucket[at:at + size] for at in range(0, len(bucket), size))
                    _write_all(fd, b"".join(entries))
                    self._buckets[i] = bytearray()
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, index)
            _fsync_folder(self.folder)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
