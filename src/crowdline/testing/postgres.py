"""A throw-away PostgreSQL server on loopback, from the machine's PostgreSQL binaries.

    with PostgresServer(tmp_path) as server:
        url = server.create_database("t1")   # postgresql://postgres@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from crowdline.errors import BackendUnavailable
from crowdline.testing.ports import free_port, wait_for_port


def find_pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    """initdb + pg_ctl in a private folder; runs as the ``postgres`` user when we are root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.data = self.root / "pgdata"
        self.port = free_port()
        self.bin = find_pg_bin()
        self._as_user: list[str] = []

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as_user, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> PostgresServer:
        if self.bin is None:
            raise BackendUnavailable(
                "PostgreSQL binaries (pg_ctl) not found",
                hint="install Debian's postgresql package (make test does this)",
            )
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise BackendUnavailable("running as root without runuser to drop to postgres")
            self._as_user = [runuser, "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "--no-sync", "-E", "UTF8")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c max_connections=300")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "server.log"), "-w", "start")
        if not wait_for_port(self.port):
            raise BackendUnavailable(f"PostgreSQL did not listen on port {self.port}")
        return self

    def stop(self) -> None:
        if self.bin is not None and self.data.exists():
            subprocess.run([*self._as_user, str(self.bin / "pg_ctl"), "-D", str(self.data),
                            "-m", "immediate", "stop"], capture_output=True, timeout=60)

    def create_database(self, name: str | None = None) -> str:
        import sqlalchemy as sa

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine("postgresql+psycopg://" + self.admin_url.split("://", 1)[1],
                                  isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
