"""Labels in and out: Label Studio's JSON export both ways, and answers/labels as files."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.errors import InvalidInput
from crowdline.workspace import Workspace

LABELS = ["Positive", "Negative", "Neutral"]


def label_studio_export(tasks: int = 12, annotators: int = 3) -> list[dict]:
    rng = random.Random(5)
    export = []
    for i in range(tasks):
        truth = LABELS[i % 3]
        annotations = []
        for who in range(1, annotators + 1):
            if (i + who) % 4 == 0:
                continue  # not everyone labels everything
            choice = truth if rng.random() < 0.85 else rng.choice(LABELS)
            annotations.append({
                "id": i * 10 + who, "completed_by": who, "lead_time": 3.5,
                "created_at": f"2026-11-0{1 + who}T10:00:{i:02d}Z",
                "result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                            "value": {"choices": [choice]}}]})
        export.append({"id": 100 + i, "data": {"text": f"review <b>{i}</b>", "stars": i % 5},
                       "annotations": annotations, "predictions": []})
    return export


def _pairs(tasks: list[dict]) -> dict[str, set[tuple[int, str]]]:
    return {t["data"]["text"]: {(a["completed_by"], a["result"][0]["value"]["choices"][0])
                                for a in t["annotations"]} for t in tasks}


def test_label_studio_round_trip(workspace: Workspace) -> None:
    original = label_studio_export()
    report = workspace.crowd.import_label_studio(original, name="reviews")
    assert (report.tasks, report.workers) == (12, 3)
    assert report.answers == sum(len(t["annotations"]) for t in original)
    exported = workspace.crowd.export_label_studio(report.pool_id)
    assert _pairs(exported) == _pairs(original)
    assert [t["data"] for t in exported] == [t["data"] for t in original]
    labels = pd.read_csv(io.BytesIO(workspace.crowd.export_labels(report.pool_id, "csv")))
    assert len(labels) == 12
    assert set(labels["label"]) <= set(LABELS)
    assert labels["confidence"].between(0, 1).all()
    answers = pd.read_parquet(io.BytesIO(workspace.crowd.export_answers(report.pool_id,
                                                                        "parquet")))
    assert len(answers) == report.answers
    lines = workspace.crowd.export_answers(report.pool_id, "jsonl").decode().splitlines()
    assert {json.loads(line)["label"] for line in lines} <= set(LABELS)
    # Importing again reuses the annotators (same people), with a new project and pool.
    again = workspace.crowd.import_label_studio(original, name="reviews 2")
    assert again.pool_id != report.pool_id
    assert len(workspace.crowd.list_workers()) == 3


@pytest.mark.parametrize("bad", [
    {"not": "a list"}, [], [{"id": 1}], [{"data": {"text": "x"}, "annotations": [{"x": 1}]}],
    [{"data": {"text": "x"}, "annotations": [{"result": [{"type": "labels", "value": {}}]}]}],
])
def test_bad_export_changes_nothing(workspace: Workspace, bad: object) -> None:
    with pytest.raises(InvalidInput):
        workspace.crowd.import_label_studio(bad)
    assert workspace.crowd.list_projects() == []
    assert workspace.crowd.list_workers() == []


def test_cli_import_and_export(workspace: Workspace, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROWDLINE_HOME", str(workspace.settings.home))
    source = tmp_path / "project-1-at-2026.json"
    source.write_text(json.dumps(label_studio_export()))
    runner = CliRunner()
    done = runner.invoke(app, ["pool", "import", str(source)])
    assert done.exit_code == 0, done.output
    assert "imported 12 tasks" in done.output
    out = tmp_path / "labels.parquet"
    done = runner.invoke(app, ["pool", "export", "1", "--what", "labels", "--format", "parquet",
                               "-O", str(out)])
    assert done.exit_code == 0, done.output
    assert len(pd.read_parquet(out)) == 12
    done = runner.invoke(app, ["pool", "export", "1", "--what", "label-studio"])
    assert done.exit_code == 0, done.output
    assert _pairs(json.loads(done.stdout)) == _pairs(label_studio_export())
    bad = runner.invoke(app, ["pool", "export", "1", "--format", "xlsx"])
    assert bad.exit_code != 0
