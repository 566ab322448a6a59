"""Where datum batches run: a local process pool (default) or a Dask cluster.

Both take batches of :class:`DatumTask` and yield lists of :class:`DatumResult` as batches
finish, keeping a bounded number in flight so a 100,000-datum job does not queue everything.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from crowdline.errors import BackendUnavailable, ConfigError
from crowdline.pipelines.processes import init_worker
from crowdline.pipelines.transform import DatumResult, DatumTask, run_batch


class Executor(Protocol):
    workers: int

    def run(self, settings: dict[str, Any], batches: Iterable[list[DatumTask]],
            max_in_flight: int = 0) -> Iterator[list[DatumResult]]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """A pool of worker processes started with ``spawn`` (no forked DB connections)."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def _ensure(self, home: str | None = None) -> ProcessPoolExecutor:
        if self._pool is None:
            # Workers watch this process and exit when it dies (even by kill -9).
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=init_worker,
                                             initargs=(os.getpid(), home))
        return self._pool

    def run(self, settings: dict[str, Any], batches: Iterable[list[DatumTask]],
            max_in_flight: int = 0) -> Iterator[list[DatumResult]]:
        home = settings.get("home")
        pool = self._ensure(str(home) if home else None)
        yield from _bounded(lambda batch: pool.submit(run_batch, settings, batch), batches,
                            max_in_flight or self.workers * 2, _wait_local)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _wait_local(futures: set[Any]) -> tuple[set[Any], set[Any]]:
    done, pending = wait(futures, return_when=FIRST_COMPLETED)
    return set(done), set(pending)


class DaskExecutor:
    """Datum batches as tasks on a Dask distributed scheduler (``tcp://host:8786``)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise BackendUnavailable("dask distributed is not installed",
                                     hint="pip install 'dask[distributed]'") from exc
        try:
            self._client = Client(address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise BackendUnavailable(f"cannot reach the Dask scheduler at {address}: {exc}",
                                     hint="start `dask scheduler` or fix executor_url") from exc
        self.workers = max(1, sum(w.get("nthreads", 1) for w in
                                  self._client.scheduler_info()["workers"].values()))

    def run(self, settings: dict[str, Any], batches: Iterable[list[DatumTask]],
            max_in_flight: int = 0) -> Iterator[list[DatumResult]]:
        from distributed import as_completed

        queue = iter(batches)
        limit = max_in_flight or self.workers * 2
        # pure=False: a re-submitted batch (e.g. a woken datum) must run again.
        first = [self._client.submit(run_batch, settings, batch, pure=False)
                 for batch in itertools.islice(queue, limit)]
        if not first:
            return
        finished = as_completed(first, loop=self._client.loop)
        for future in finished:
            yield future.result()
            following = next(queue, None)
            if following is not None:
                finished.add(self._client.submit(run_batch, settings, following, pure=False))

    def close(self) -> None:
        self._client.close()


def _bounded(submit: Any, batches: Iterable[list[DatumTask]], limit: int, wait_any: Any
             ) -> Iterator[list[DatumResult]]:
    queue = iter(batches)
    in_flight: set[Future[Any]] = set()
    for batch in queue:
        in_flight.add(submit(batch))
        if len(in_flight) >= limit:
            break
    while in_flight:
        done, in_flight = wait_any(in_flight)
        for future in done:
            yield future.result()
            following = next(queue, None)
            if following is not None:
                in_flight.add(submit(following))


def make_executor(executor_url: str, parallelism: int = 0) -> Executor:
    """The local pool for ``""``/``local``/``processes``; Dask for ``tcp://`` or ``dask://``."""
    if executor_url in ("", "local", "processes"):
        return LocalExecutor(parallelism)
    if executor_url.startswith(("tcp://", "tls://", "dask://")):
        return DaskExecutor(executor_url.replace("dask://", "tcp://", 1))
    raise ConfigError(f"executor_url {executor_url!r} is not supported",
                      hint='leave it empty for a local process pool, or "tcp://host:8786" for Dask')


def batch_size_for(datum_count: int, workers: int) -> int:
    """Datums per task: enough to amortise dispatch, small enough to spread and resume."""
    return max(1, min(200, datum_count // (workers * 8) or 1))
