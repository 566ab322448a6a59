"""A pipeline's labeling datum sends its batch to Toloka (a crowdline server stands in), waits
without holding a worker, and finishes once the crowd is done."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from toloka_crowd_sim import label_everything_in

from crowdline.workspace import Workspace

STEPS_DIR = Path(__file__).resolve().parent
CONDITION = "crowdline.crowd.backends:pool_complete"


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the API runs on both
def test_labeling_datum_waits_on_toloka_and_resumes(
        toloka_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = os.pathsep.join(p for p in (str(STEPS_DIR), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.syspath_prepend(str(STEPS_DIR))
    monkeypatch.setenv("CROWDLINE_PARALLELISM", "1")
    monkeypatch.delenv("TOLOKA_URL", raising=False)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)

    ws = Workspace.init(tmp_path / "pipelines-ws")  # the team's workspace; Toloka is remote
    try:
        ws.pipelines.create_secret("toloka", {"url": toloka_server.url,
                                              "token": toloka_server.token})
        ws.store.create_repo("batches")
        ws.pipelines.create_pipeline({
            "pipeline": {"name": "label"},
            "input": {"pfs": {"repo": "batches", "glob": "/*"}},
            "transform": {"python": "toloka_pipeline_steps:label_with_toloka"},
        })
        truth = {f"Headline {i}: {'shocking' if i % 2 else 'budget passed'}":
                 "clickbait" if i % 2 else "notclickbait" for i in range(6)}
        with ws.store.commit("batches", "master", message="batch 1") as writer:
            writer.put_file("/batch1.csv", pd.DataFrame({"headline": list(truth)})
                            .to_csv(index=False).encode())

        first = ws.pipelines.run()
        assert first.waiting == {CONDITION: 1}
        (job,) = ws.pipelines.list_jobs("label")
        (datum,) = ws.pipelines.list_datums(job.id)
        assert datum.state == "waiting"
        assert "token" not in str(datum.wait_params)  # the secret stays in the secret store
        assert ws.pipelines.run().waiting == {CONDITION: 1}  # the crowd has not worked yet

        from toloka_pipeline_steps import HONEYPOTS

        ids = label_everything_in(toloka_server.workspace.crowd, {**truth, **HONEYPOTS},
                                  names=("spammer", "ann", "bob"))
        second = ws.pipelines.run()
        assert second.waiting == {}
        assert second.jobs_succeeded == [job.id]
        answers = pd.read_csv(io.BytesIO(
            ws.store.get_file("label", "master", "/batch1.answers.csv")), dtype=str)
        assert set(answers["input:headline"]) == set(truth)
        by_row = dict(zip(answers["row_id"], answers["input:headline"], strict=False))
        assert by_row == {f"batch1-{i}": h for i, h in enumerate(truth)}  # keyed by row id
        assert ids["spammer"] not in set(answers["worker"])
        assert answers.groupby("task").size().min() >= 1  # the spammer's answers are dropped
        bans = pd.read_csv(io.BytesIO(
            ws.store.get_file("label", "master", "/batch1.bans.csv")), dtype=str)
        assert list(bans["worker"]) == [ids["spammer"]]
        pools = toloka_server.workspace.crowd.list_pools()
        assert [p.status for p in pools] == ["CLOSED"]
    finally:
        ws.close()
