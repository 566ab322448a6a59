"""Job ids printed by `crowdline job list` can be pasted back as unique prefixes."""

from __future__ import annotations

import pytest
from pipelines_helpers import put, spec

from crowdline.errors import JobNotFound
from crowdline.workspace import Workspace


def test_job_prefix(workspace: Workspace) -> None:
    workspace.store.create_repo("raw")
    workspace.pipelines.create_pipeline(spec("upper", "raw", "upper"))
    put(workspace, "raw", {"/a.txt": "hello"})
    workspace.pipelines.run()
    job = workspace.pipelines.list_jobs("upper")[0]
    assert workspace.pipelines.inspect_job(job.id[:8]).id == job.id
    assert [d.datum_id for d in workspace.pipelines.list_datums(job.id[:5])]
    logs = workspace.pipelines.job_logs(job.id[:6])
    assert all(entry.datum_id for entry in logs)
    with pytest.raises(JobNotFound):
        workspace.pipelines.inspect_job("0000zz")
