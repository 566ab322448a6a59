"""Planning costs O(change): a job for a one-file commit reads the store's diff, never the
whole input listing, issues the same SQL whatever the size of the input repo, and finds the
one new datum among the others (counted as skipped)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from pipelines_helpers import contents, put, spec

from crowdline.pipelines.planner import Planner
from crowdline.workspace import Workspace


def statements_to_start_a_job(tmp_path: Path, files: int) -> tuple[list[str], object]:
    ws = Workspace.init(tmp_path / f"ws-{files}")
    try:
        ws.store.create_repo("raw")
        put(ws, "raw", {f"/f{i:05d}.txt": f"row {i}" for i in range(files)})
        ws.pipelines.create_pipeline(spec("up", "raw", "upper"))
        assert not ws.pipelines.run().jobs_failed
        put(ws, "raw", {"/new.txt": "new row", "/f00000.txt": None})
        store = ws.store
        planner = Planner(ws.engine, store, ws.pipelines.staging)
        (job_id,) = planner.create_jobs()
        seen: list[str] = []
        walked: list[str] = []
        real_walk = store.walk_files

        def walk_files(repo: str, ref: str, path: str = "/"):  # type: ignore[no-untyped-def]
            walked.append(path)
            return real_walk(repo, ref, path)

        store.walk_files = walk_files  # type: ignore[method-assign]

        def note(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            seen.append(statement)

        sa.event.listen(ws.engine, "before_cursor_execute", note)
        try:
            started, _ = planner.start_ready_jobs()
        finally:
            sa.event.remove(ws.engine, "before_cursor_execute", note)
        assert started == [job_id]
        assert "/" not in walked  # the input was never listed whole
        job = ws.pipelines.inspect_job(job_id)
        assert not ws.pipelines.run().jobs_failed
        assert "/new.txt.up" in contents(ws, "up")
        assert "/f00000.txt.up" not in contents(ws, "up")  # the deletion propagated
        return seen, job
    finally:
        ws.close()


def test_planning_reads_the_diff_not_the_repo(tmp_path: Path) -> None:
    small, small_job = statements_to_start_a_job(tmp_path, 5)
    large, large_job = statements_to_start_a_job(tmp_path, 1500)
    assert small_job.datums == {"pending": 1, "skipped": 4}
    assert large_job.datums == {"pending": 1, "skipped": 1499}
    assert len(small) == len(large)  # same statements: nothing grows with the repo
