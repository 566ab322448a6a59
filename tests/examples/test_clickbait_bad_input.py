"""A new user's mistakes in the clickbait flow: bad CSVs are rejected with their reason and
do not block the good ones; `crowdline delete file` takes them out again."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crowdline.errors import InvalidInput
from crowdline.workspace import Workspace
from crowdline_examples.clickbait import flow
from crowdline_examples.clickbait.route import read_batch

CLI = [sys.executable, "-m", "crowdline.cli.main"]


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "is empty"),
    (b"headline,source\n", "has a header row but no rows"),
    (b"title,source\nA title,web\n", "has no 'headline' column (columns: title, source)"),
    ("headline\nCaf\u00e9 owner wins prize\n".encode("latin-1"), "is not UTF-8 text"),
])
def test_route_names_the_file_and_what_is_wrong(tmp_path: Path, content: bytes,
                                                reason: str) -> None:
    path = tmp_path / "batch_9.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match="batch_9.csv") as caught:
        read_batch(path)
    assert reason in caught.value.message
    assert "delete it" in caught.value.hint


def _cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _csv(workspace: Workspace, repo: str, path: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(workspace.store.get_file(repo, "master", path)), dtype=str,
                       keep_default_na=False)


@pytest.mark.slow
def test_new_user_puts_two_bad_csvs_and_a_good_one_into_the_demo(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {**os.environ, "CROWDLINE_HOME": str(home)}
    for key in ("CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL", "CROWDLINE_EXECUTOR_URL"):
        env.pop(key, None)
    demo = _cli(env, "demo", "--home", str(home))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    training = pd.read_csv(flow.DATA_DIR / "training.csv", dtype=str)
    (tmp_path / "good.csv").write_text(training[["headline"]].head(12).to_csv(index=False))
    (tmp_path / "wrong.csv").write_text("title\nSome title\nAnother title\n")
    (tmp_path / "empty.csv").write_text("")
    for name in ("wrong.csv", "empty.csv", "good.csv"):
        put = _cli(env, "put", "file", f"headlines@master:/{name}", "-f",
                   str(tmp_path / name))
        assert put.returncode == 0, put.stderr

    run = _cli(env, "run")
    assert run.returncode == 0, run.stdout + run.stderr  # bad files do not fail the flow
    said = run.stdout
    assert ":/wrong.csv" in said
    assert "wrong.csv has no 'headline' column (columns: title)" in said
    assert ":/empty.csv" in said
    assert "empty.csv is empty" in said
    assert "route@master:/rejected/wrong.csv.json" in said
    assert ":/good.csv" not in said

    with Workspace.open(home) as workspace:
        rejected = json.loads(workspace.store.get_file("route", "master",
                                                       "/rejected/empty.csv.json"))
        assert "empty.csv is empty" in rejected["error"]
        assert rejected["inputs"][0]["path"] == "/empty.csv"
        part = _csv(workspace, "dataset", "/parts/good.csv")
        assert sorted(part["headline"]) == sorted(training["headline"].head(12))
        assert set(part["label"]) <= set(training["label"])
        label_files = {f.path for f in workspace.store.walk_files("label", "master")}
        assert not [p for p in label_files if "rejected" in p or "wrong" in p]
        dataset_before = {f.path for f in workspace.store.walk_files("dataset", "master")}
    # one of the new labels, traced back with `crowdline lineage`
    people = part[part["judgments"].astype(int) > 0]
    row = (people if len(people) else part).iloc[0]
    traced = _cli(env, "lineage", "dataset@master:/parts/good.csv", "--row", row["id"],
                  "--hook", "crowdline_examples.clickbait.report:row_lineage")
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert ":/good.csv  (committed)" in traced.stdout  # the raw file the user put
    assert f"row: id={row['id']}, headline={row['headline']}" in traced.stdout
    assert f"raw_row: {{'headline': {row['headline']!r}}}" in traced.stdout  # by position
    assert f"model_version: {row['model_version']}" in traced.stdout
    if len(people):
        assert traced.stdout.count("'worker': 'sim-") == int(row["judgments"])

    for name in ("wrong.csv", "empty.csv"):
        deleted = _cli(env, "delete", "file", f"headlines@master:/{name}")
        assert deleted.returncode == 0, deleted.stderr
    again = _cli(env, "run")
    assert again.returncode == 0, again.stdout + again.stderr
    with Workspace.open(home) as workspace:
        route_files = {f.path for f in workspace.store.walk_files("route", "master")}
        assert not [p for p in route_files if p.startswith("/rejected/")]
        assert {f.path for f in workspace.store.walk_files("dataset", "master")} == \
            dataset_before
        names = {f.path for f in workspace.store.walk_files("headlines", "master")}
        assert "/wrong.csv" not in names
        assert "/empty.csv" not in names


def test_a_bad_seed_file_is_rejected_and_the_dataset_keeps_the_rest(workspace: Workspace
                                                                    ) -> None:
    flow.set_up(workspace, backend="simulated")
    with workspace.store.commit("labels_seed", "master") as commit:
        commit.put_file("/more.csv", b"headline,category\nSome headline,clickbait\n")
    report = workspace.pipelines.run()
    (failure,) = [f for f in report.failures if f["pipeline"] == "dataset"]
    assert "more.csv has no 'label' column (columns: headline, category)" in failure["error"]
    files = {f.path for f in workspace.store.walk_files("dataset", "master")}
    assert {"/parts/seed.csv", "/rejected/more.csv.json"} <= files
    assert workspace.store.list_commits("models", "master"), "the model still trained"
