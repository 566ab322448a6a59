"""Writing the blobs of many local files: the content half of a bulk put.

``write_blobs`` turns a stream of (local file, store path) pairs into batches of
(pairs, [(digest, size)]) for the ``Store`` to stage. It knows nothing of commits or rows:
on a local store the blobs go into one pack (``BlobStore.bulk``), written by threads while
the caller stages the previous batch; on fsspec stores (S3...) each batch is one concurrent
upload, its files in memory.
"""

from __future__ import annotations

import concurrent.futures
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from crowdline.store.blobs import BlobStore

LOCAL_BATCH = 5000
REMOTE_BATCH = 2000
THREADS = 2  # 2 cores in the bench box; more threads mostly add GIL hand-offs (futex)

Pairs = list[tuple[str, str]]


def write_blobs(blobs: BlobStore, files: Iterable[tuple[str, str]],
                count: int) -> Iterator[tuple[Pairs, list[tuple[str, int]]]]:
    """Each batch of ``files`` with its blobs' (digest, size), once they are written."""
    remote = hasattr(blobs, "fs")
    files = iter(files)
    size = REMOTE_BATCH if remote else LOCAL_BATCH
    batches = iter(lambda: list(itertools.islice(files, size)), [])
    if remote:
        for batch in batches:
            yield batch, blobs.put_many(Path(f).read_bytes() for f, _ in batch)
        return
    with blobs.bulk(count) as writer, \
            concurrent.futures.ThreadPoolExecutor(THREADS) as pool:

        def start_writing(batch: Pairs) -> list[Any]:
            # file syscalls and BLAKE3 release the GIL, so threads overlap them; one task
            # per thread and slice, not per file (a future costs more than a small file)
            return [pool.submit(writer.put_files, [f for f, _ in batch[i::THREADS]])
                    for i in range(THREADS)]

        batch = next(batches, None)
        pending = start_writing(batch) if batch else []
        while batch:
            written = [future.result() for future in pending]
            # the next batch's blobs are written while the caller stages this one's rows
            following = next(batches, None)
            pending = start_writing(following) if following else []
            stored: list[Any] = [None] * len(batch)
            for i, results in enumerate(written):
                stored[i::THREADS] = results
            yield batch, stored
            batch = following
