"""Content-addressed blobs: BLAKE3 hex names, deduplicated across repos and commits.

Local folders are written with plain ``os``. A blob is *loose*, one file at
``<root>/blake3/<2 hex>/<62 hex>`` (temp file + rename: a reader never sees a half blob, and
a crash leaves at most a stray ``.tmp`` file), or *packed*: a bulk put of many small files
appends them to one pack under ``<root>/packs/`` (see packs.py). Reads look in both. Any
other fsspec URL (S3...) goes through fsspec, one object per blob at the loose path.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

import blake3

from crowdline.errors import BackendUnavailable, ConfigError, FileNotFound
from crowdline.store.packs import PackSet, PackWriter, read_blob

_CHUNK = 1 << 20
_IN_MEMORY = 16 << 20  # smaller files are hashed and written from memory
PACK_MAX = 1 << 20  # files up to this size go into packs in a bulk put; bigger stay loose
PACK_MIN_FILES = 256  # fewer files than this in one put: loose blobs, no new pack
_PENDING_BYTES = 512 << 10  # a thread hands its records to the pack at least this often
_READ_BUFFER = 64 << 10  # each thread's buffer for reading small files
_tmp_counter = itertools.count()


def hash_bytes(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


class BlobStore:
    """Put, get and check blobs by content hash."""

    def relpath(self, digest: str) -> str:
        return f"blake3/{digest[:2]}/{digest[2:]}"

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        raise NotImplementedError

    def put_many(self, blobs: Iterable[bytes]) -> list[tuple[str, int]]:
        return [self.put_bytes(data) for data in blobs]

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        return self.put_bytes(stream.read())

    def put_local_file(self, path: Path | str) -> tuple[str, int]:
        with open(path, "rb") as handle:
            return self.put_stream(handle)

    def get(self, digest: str) -> bytes:
        raise NotImplementedError

    def open(self, digest: str) -> BinaryIO:
        return io.BytesIO(self.get(digest))

    def exists(self, digest: str) -> bool:
        raise NotImplementedError

    @contextlib.contextmanager
    def bulk(self, files: int) -> Iterator[BulkPut]:
        """A writer for a put of ``files`` local files (``put_files`` from many threads)."""
        yield BulkPut(self)

    def _missing(self, digest: str) -> FileNotFound:
        return FileNotFound(f"blob {digest} is missing from the object store",
                            hint="run `crowdline fsck` to see what else is damaged")


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._made_dirs: set[str] = set()
        self._lock = threading.Lock()
        self._packs: PackSet | None = None

    @property
    def packs(self) -> PackSet:
        if self._packs is None:  # a listing and an mmap a pack: only when first needed
            self._packs = PackSet(os.path.join(self.root, "packs"))
        return self._packs

    def _packed(self, digest: str, *, refresh: bool) -> tuple[str, int, int] | None:
        """Where a packed blob is; ``refresh`` re-lists the packs (new ones, unsealed ones)."""
        try:
            raw = bytes.fromhex(digest)
        except ValueError:
            return None
        if len(raw) != 32:
            return None
        found = self.packs.find_sealed(raw)
        if found is None and refresh:
            self.packs.refresh(scan_open=True)
            found = self.packs.find(raw)
        return found

    def _read_packed(self, digest: str, location: tuple[str, int, int] | None) -> bytes:
        if location is None:
            raise self._missing(digest)
        try:
            return read_blob(location)
        except OSError:  # the pack is gone or cut short
            raise self._missing(digest) from None

    def _path(self, digest: str) -> str:
        return os.path.join(self.root, "blake3", digest[:2], digest[2:])

    def _write(self, digest: str, chunks: Iterable[bytes]) -> None:
        target = self._path(digest)
        if os.path.exists(target):
            return
        folder = os.path.dirname(target)
        if folder not in self._made_dirs:
            os.makedirs(folder, exist_ok=True)
            with self._lock:
                self._made_dirs.add(folder)
        tmp = f"{target}.{os.getpid()}.{next(_tmp_counter)}.tmp"
        # Raw fds: Python's open() adds fstat/ioctl/lseek calls that dominate for small blobs.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, target)

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        digest = hash_bytes(data)
        self._write(digest, [data])
        return digest, len(data)

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        # Hash while spooling to a temp file so big inputs never sit in memory.
        os.makedirs(self.root / "tmp", exist_ok=True)
        tmp = os.path.join(self.root, "tmp", f"{os.getpid()}.{next(_tmp_counter)}.tmp")
        hasher = blake3.blake3()
        size = 0
        try:
            with open(tmp, "wb") as handle:
                while chunk := stream.read(_CHUNK):
                    hasher.update(chunk)
                    handle.write(chunk)
                    size += len(chunk)
            digest = hasher.hexdigest()
            target = self._path(digest)
            if not os.path.exists(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return digest, size

    def put_local_file(self, path: Path | str) -> tuple[str, int]:
        fd = os.open(path, os.O_RDONLY)
        try:
            parts: list[bytes] = []
            size = 0
            while size <= _IN_MEMORY and (chunk := os.read(fd, _CHUNK)):
                parts.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
        if size <= _IN_MEMORY:
            return self.put_bytes(b"".join(parts))
        with open(path, "rb") as handle:  # big: hash while spooling, never all in memory
            return self.put_stream(handle)

    def get(self, digest: str) -> bytes:
        location = self._packed(digest, refresh=False)
        if location is None:
            try:
                with open(self._path(digest), "rb") as handle:
                    return handle.read()
            except FileNotFoundError:
                location = self._packed(digest, refresh=True)
        return self._read_packed(digest, location)

    def open(self, digest: str) -> BinaryIO:
        location = self._packed(digest, refresh=False)
        if location is None:
            try:
                return open(self._path(digest), "rb")
            except FileNotFoundError:
                location = self._packed(digest, refresh=True)
        return io.BytesIO(self._read_packed(digest, location))  # packed blobs are small

    def exists(self, digest: str) -> bool:
        return (self._packed(digest, refresh=False) is not None
                or os.path.exists(self._path(digest))
                or self._packed(digest, refresh=True) is not None)

    @contextlib.contextmanager
    def bulk(self, files: int) -> Iterator[BulkPut]:
        """Many files: small ones into one new pack, sealed (fsync'd, indexed) on exit."""
        if files < PACK_MIN_FILES:
            yield BulkPut(self)
            return
        self.packs.refresh(scan_open=False)  # packs sealed by others count for dedup
        writer = PackWriter(os.path.join(self.root, "packs"))
        try:
            yield PackedPut(self, writer)
        finally:
            writer.seal()
        self.packs.refresh(scan_open=False)


class BulkPut:
    """Stores local files for one bulk put, from many threads: one loose blob a file."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    def put_files(self, local_paths: Sequence[str]) -> list[tuple[str, int]]:
        return [self.store.put_local_file(path) for path in local_paths]


class PackedPut(BulkPut):
    """Files up to PACK_MAX are appended to one new pack unless the store already has the
    blob (in a sealed pack, loose, or earlier in this put): reading a small file costs
    open/read/read/close and its blob a share of one write. Bigger files stay loose."""

    def __init__(self, store: LocalBlobStore, pack: PackWriter) -> None:
        super().__init__(store)
        self.local = store
        self.pack = pack
        self._buffers = threading.local()  # one read buffer a thread, reused
        loose = os.path.join(store.root, "blake3")
        # a loose blob can only exist in a prefix folder that exists: no stat if it does not
        self._loose_prefixes = set(os.listdir(loose)) if os.path.isdir(loose) else set()

    def put_files(self, local_paths: Sequence[str]) -> list[tuple[str, int]]:
        results: list[tuple[str, int]] = []
        fresh: list[tuple[bytes, bytes]] = []  # the pack skips what it already holds
        pending = 0
        buffer = getattr(self._buffers, "buffer", None)
        if buffer is None:
            buffer = self._buffers.buffer = bytearray(_READ_BUFFER)
        look = bool(self.local.packs.sealed or self._loose_prefixes)
        for path in local_paths:
            data = _read_small(path, buffer)
            if data is None:
                results.append(self.store.put_local_file(path))
                continue
            raw = blake3.blake3(data).digest()
            digest = raw.hex()
            results.append((digest, len(data)))
            if look and self._stored(raw, digest):
                continue
            fresh.append((raw, data))
            pending += len(data)
            if pending >= _PENDING_BYTES:
                self.pack.append(fresh)
                fresh, pending = [], 0
        self.pack.append(fresh)
        return results

    def _stored(self, raw: bytes, digest: str) -> bool:
        """Whether the store held the blob before this put began."""
        return (self.local.packs.find_sealed(raw) is not None
                or (digest[:2] in self._loose_prefixes
                    and os.path.exists(self.local._path(digest))))


def _read_small(path: str, buffer: bytearray) -> bytes | None:
    """A file's bytes if it holds at most PACK_MAX bytes, else None.

    Reads into the caller's buffer and copies out exactly the file's bytes: an ``os.read``
    of a big size shrunk to a small file leaves holes that fragment each thread's heap."""
    fd = os.open(path, os.O_RDONLY)
    try:
        got = os.readv(fd, [buffer])
        if got < len(buffer):
            more = os.read(fd, len(buffer))  # a short read need not be the end
            if not more:
                return bytes(memoryview(buffer)[:got])
        else:
            more = b""
        parts = [bytes(memoryview(buffer)[:got]), more]
        size = got + len(more)
        while size <= PACK_MAX and (chunk := os.read(fd, len(buffer))):
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts) if size <= PACK_MAX else None
    finally:
        os.close(fd)


class FsspecBlobStore(BlobStore):
    """Any fsspec file system; S3 endpoint from ``CROWDLINE_S3_ENDPOINT_URL`` when set."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        import fsspec

        options = dict(storage_options or {})
        protocol = urlparse(url).scheme
        endpoint = os.environ.get("CROWDLINE_S3_ENDPOINT_URL")
        if protocol in ("s3", "s3a") and endpoint:
            options.setdefault("client_kwargs", {}).setdefault("endpoint_url", endpoint)
        try:
            self.fs, self.root = fsspec.url_to_fs(url, **options)
        except (ImportError, ValueError) as exc:
            raise ConfigError(f"storage_url {url!r} cannot be opened: {exc}",
                              hint="use file:///path or s3://bucket/prefix") from exc
        self.root = self.root.rstrip("/")
        if protocol in ("s3", "s3a"):
            bucket = self.root.split("/", 1)[0]
            try:
                if not self.fs.exists(bucket):
                    self.fs.mkdir(bucket)
            except Exception as exc:  # noqa: BLE001 - any client error means unreachable
                raise BackendUnavailable(
                    f"object store {url!r} is not reachable: {exc}",
                    hint="check CROWDLINE_S3_ENDPOINT_URL and the AWS_* credentials",
                ) from exc

    def _path(self, digest: str) -> str:
        return f"{self.root}/{self.relpath(digest)}"

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.put_many([data])[0]

    def put_many(self, blobs: Iterable[bytes]) -> list[tuple[str, int]]:
        results: list[tuple[str, int]] = []
        pending: dict[str, bytes] = {}
        for data in blobs:
            digest = hash_bytes(data)
            results.append((digest, len(data)))
            pending[self._path(digest)] = data
        if pending:
            self.fs.pipe(pending)  # s3fs uploads a dict concurrently
        return results

    def get(self, digest: str) -> bytes:
        try:
            return self.fs.cat_file(self._path(digest))
        except FileNotFoundError:
            raise self._missing(digest) from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return self.fs.open(self._path(digest), "rb")
        except FileNotFoundError:
            raise self._missing(digest) from None

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._path(digest)))


def open_blob_store(url: str, storage_options: dict[str, Any] | None = None) -> BlobStore:
    """``file:///path`` or a bare path -> LocalBlobStore; anything else -> fsspec."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = parsed.path if parsed.scheme == "file" else url
        if not path:
            raise ConfigError(f"storage_url {url!r} has no path", hint="e.g. file:///data/objects")
        return LocalBlobStore(Path(path))
    return FsspecBlobStore(url, storage_options)
