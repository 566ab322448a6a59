"""Content-addressed blobs: BLAKE3 hex names, deduplicated across repos and commits.

Local folders are written with plain ``os`` (temp file + rename: a reader never sees a
half blob, and a crash leaves at most a stray ``.tmp`` file); any other fsspec URL (S3...)
goes through fsspec. Blobs live at ``<root>/blake3/<2 hex>/<62 hex>``.
"""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

import blake3

from crowdline.errors import BackendUnavailable, ConfigError, FileNotFound

_CHUNK = 1 << 20
_IN_MEMORY = 16 << 20  # smaller files are hashed and written from memory
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

    def _missing(self, digest: str) -> FileNotFound:
        return FileNotFound(f"blob {digest} is missing from the object store",
                            hint="run `crowdline fsck` to see what else is damaged")


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._made_dirs: set[str] = set()
        self._lock = threading.Lock()

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
        try:
            with open(self._path(digest), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise self._missing(digest) from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self._path(digest), "rb")
        except FileNotFoundError:
            raise self._missing(digest) from None

    def exists(self, digest: str) -> bool:
        return os.path.exists(self._path(digest))


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
