"""Run the same aggregation jobs through crowd-kit (oracle venv) and crowdline, read both back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
RUNNER = HERE / "run_aggregator.py"
ORACLE_PYTHON = REPO_ROOT / ".venv-oracle" / "bin" / "python"
# CROWDLINE_SHARED_DATA points a worktree outside the usual layout at ../shared/data.
SHARED_DATA = Path(os.environ.get("CROWDLINE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
CROWD_DATA = SHARED_DATA / "crowd"


def crowd_data(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """A real crowd data set (answers, gold labels by task); skips the test when absent."""
    folder = CROWD_DATA / name
    if not (folder / "answers.csv").exists():
        pytest.skip(f"crowd data set {name!r} not found at {folder}")
    answers = pd.read_csv(folder / "answers.csv")
    gold = pd.read_csv(folder / "gold.csv").set_index("task")["label"]
    return answers, gold


@dataclass
class Result:
    """One implementation's output of one job, keyed by strings so both sides compare."""

    folder: Path

    @property
    def meta(self) -> dict:
        return json.loads((self.folder / "meta.json").read_text())

    def labels(self) -> pd.Series:
        frame = pd.read_parquet(self.folder / "labels.parquet")
        return frame.set_index(frame["task"].astype(str))["label"].astype(str)

    def probas(self) -> pd.Series:
        frame = pd.read_parquet(self.folder / "probas.parquet")
        index = pd.MultiIndex.from_arrays([frame["task"].astype(str), frame["column"].astype(str)])
        return pd.Series(frame["proba"].to_numpy(), index=index).sort_index()

    def table(self, name: str) -> pd.Series | None:
        path = self.folder / f"{name}.parquet"
        if not path.exists():
            return None
        frame = pd.read_parquet(path)
        keys = [c for c in frame.columns if c not in ("value",)]
        index = pd.MultiIndex.from_arrays([frame[k].astype(str) for k in keys])
        return pd.Series(frame["value"].to_numpy(), index=index).sort_index()


def write_jobs(tmp: Path, jobs: list[dict], frames: dict[str, pd.DataFrame]) -> Path:
    """Write the input frames to parquet and the job list to JSON; jobs name frames by key."""
    for key, frame in frames.items():
        frame.to_parquet(tmp / f"{key}.parquet")
    resolved = []
    for job in jobs:
        job = dict(job)
        for field in ("answers", "gold", "warm_start_from"):
            if job.get(field):
                job[field] = str(tmp / f"{job[field]}.parquet")
        resolved.append(job)
    path = tmp / f"jobs-{len(list(tmp.glob('jobs-*.json')))}.json"
    path.write_text(json.dumps(resolved))
    return path


def start(implementation: str, jobs_path: Path, out: Path) -> subprocess.Popen:
    python = ORACLE_PYTHON if implementation == "crowdkit" else Path(sys.executable)
    return subprocess.Popen([str(python), str(RUNNER), implementation, str(jobs_path), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> None:
    _, stderr = process.communicate(timeout=600)
    if process.returncode != 0:
        raise AssertionError(f"{process.args} failed:\n{stderr[-3000:]}")


def run_both(tmp: Path, job_groups: list[list[dict]], frames: dict[str, pd.DataFrame]
             ) -> dict[str, tuple[Result, Result]]:
    """Run each group of jobs through crowd-kit in its own process (groups run in parallel),
    then through crowdline; return {job name: (crowd-kit result, crowdline result)}."""
    if not ORACLE_PYTHON.exists():
        pytest.skip(f"the crowd-kit oracle venv is missing at {ORACLE_PYTHON}: run `make oracle`")
    paths = [write_jobs(tmp, group, frames) for group in job_groups]
    oracle = [start("crowdkit", path, tmp / "crowdkit") for path in paths]
    for path in paths:
        finish(start("crowdline", path, tmp / "crowdline"))
    for process in oracle:
        finish(process)
    return {job["name"]: (Result(tmp / "crowdkit" / job["name"]),
                          Result(tmp / "crowdline" / job["name"]))
            for group in job_groups for job in group}
