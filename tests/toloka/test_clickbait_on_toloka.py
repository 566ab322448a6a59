"""The clickbait flow with `"backend": "toloka"`: the same labeling step sends its pools to
Toloka — here a second crowdline server standing in for it, through the real toloka-kit —
and the labels come back keyed by row, aggregated and merged into the dataset."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from crowdline.crowd import Crowd
from crowdline.crowd.simulate import (
    InProcessRunner,
    SimulatedClock,
    WorkerProfile,
    invite_simulated_workers,
    truth_from_column,
)
from crowdline.workspace import Workspace
from crowdline_examples.clickbait import flow
from crowdline_examples.clickbait.report import batch_labels

CONDITION = "crowdline.crowd.backends:pool_complete"


def _truth() -> dict[str, str]:
    golden = pd.read_csv(flow.DATA_DIR / "golden.csv", dtype=str)
    batch = pd.read_csv(flow.DATA_DIR / "batch_1.csv", dtype=str)
    return {**dict(zip(golden["headline"], golden["label"], strict=True)),
            **dict(zip(batch["headline"], batch["truth"], strict=True))}


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_clickbait_flow_labels_on_toloka(toloka_server: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROWDLINE_PARALLELISM", "1")
    for key in ("TOLOKA_URL", "TOLOKA_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    ws = Workspace.init(tmp_path / "team")
    try:
        ws.pipelines.create_secret("toloka", {"url": toloka_server.url,
                                              "token": toloka_server.token})
        flow.set_up(ws, backend="toloka")
        ws.pipelines.run()
        flow.commit_batch(ws, flow.DATA_DIR / "batch_1.csv")
        first = ws.pipelines.run()
        assert first.waiting == {CONDITION: 1}
        assert not [p for p in ws.crowd.list_pools() if p.type == "REGULAR"]  # nothing local

        remote = toloka_server.workspace
        (pool,) = [p for p in remote.crowd.list_pools() if p.type == "REGULAR"]
        assert pool.private_name == "clickbait batch_1"
        tasks = remote.crowd.list_tasks(pool.id)
        row_ids = {t.input_values.get("row_id") for t in tasks if not t.known_solutions}
        batch = pd.read_csv(flow.DATA_DIR / "batch_1.csv", dtype=str)
        assert row_ids  # tasks carry the caller's row ids
        assert row_ids <= set(batch["id"])

        clock = SimulatedClock()
        crowd = Crowd(engine=remote.engine, store=remote.store, clock=clock)
        people = invite_simulated_workers(
            crowd, [WorkerProfile("good", accuracy=0.95, median_seconds=6.0)] * 5
            + [WorkerProfile("random", median_seconds=5.0)], prefix="remote", seed=4)
        InProcessRunner(crowd, people, truth_from_column(_truth(), "headline"),
                        clock=clock).run(pool.id)
        assert remote.crowd.is_pool_complete(pool.id)

        second = ws.pipelines.run()
        assert second.waiting == {}
        assert not second.jobs_failed
        labels = batch_labels(ws)
        assert sorted(labels["id"]) == sorted(batch["id"])
        by_people = labels[labels["labeled_by"] == "human"]
        assert set(by_people["id"]) == row_ids
        assert by_people["pool_id"].str.startswith("toloka:").all()
        merged = labels.merge(batch, on="id")
        assert (merged["label"] == merged["truth"]).mean() >= 0.85
        answers = pd.read_csv(io.BytesIO(ws.store.get_file(
            "label", "master", "/batch_1/answers.csv")), dtype=str)
        real = answers[answers["is_golden"] == "False"]
        assert set(real["row_id"]) == row_ids  # answers came back keyed by row
        assert remote.crowd.get_pool(pool.id).status == "CLOSED"
    finally:
        ws.close()
