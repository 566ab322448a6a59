"""A real Dask cluster on loopback: ``dask scheduler`` and ``dask worker`` subprocesses.

    with DaskCluster(workers=2, env={"PYTHONPATH": ...}) as cluster:
        cluster.address            # tcp://127.0.0.1:PORT, for executor_url
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from crowdline.errors import BackendUnavailable
from crowdline.testing.ports import free_port, wait_for_port


class DaskCluster:
    """One scheduler and ``workers`` single-threaded worker processes (``--nworkers 1``)."""

    def __init__(self, workers: int = 2, *, env: dict[str, str] | None = None,
                 log_dir: Path | None = None) -> None:
        self.workers = workers
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.log_dir = log_dir
        self._processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []

    def _dask(self) -> list[str]:
        found = Path(sys.executable).parent / "dask"
        if found.exists():
            return [str(found)]
        if shutil.which("dask"):
            return ["dask"]
        raise BackendUnavailable("the `dask` command is not installed",
                                 hint="pip install 'dask[distributed]'")

    def _spawn(self, *args: str, name: str) -> None:
        log = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = (self.log_dir / f"{name}.log").open("wb")  # type: ignore[assignment]
            self._logs.append(log)
        self._processes.append(subprocess.Popen(
            [*self._dask(), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True))

    def start(self, timeout: float = 60.0) -> DaskCluster:
        self._spawn("scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                    "--no-dashboard", name="scheduler")
        if not wait_for_port(self.port, timeout=timeout):
            self.stop()
            raise BackendUnavailable(f"dask scheduler did not listen on {self.address}")
        for index in range(self.workers):
            self._spawn("worker", self.address, "--nthreads", "1", "--nworkers", "1",
                        "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{index}",
                        name=f"worker-{index}")
        self._wait_for_workers(timeout)
        return self

    def _wait_for_workers(self, timeout: float) -> None:
        from distributed import Client

        deadline = time.monotonic() + timeout
        with Client(self.address, timeout="20s", set_as_default=False) as client:
            while len(client.scheduler_info()["workers"]) < self.workers:
                if time.monotonic() > deadline:
                    self.stop()
                    raise BackendUnavailable(f"{self.workers} dask workers did not join")
                time.sleep(0.2)

    def stop(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> DaskCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
