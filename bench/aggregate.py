"""Benchmark: crowdline's Majority Vote and Dawid-Skene beside crowd-kit 1.4.2's, same run.

    python bench/aggregate.py [--tasks 1000000] [--overlap 5] [--classes 10] [--workers 2000]

Data: a synthetic crowd (tasks × overlap answers, worker accuracy U(0.5, 0.95), wrong answers
uniform over the other classes) and the real sets in ../shared/data/crowd/ when present. Each
(data, method, implementation) runs in its own process (tests/aggregate/run_aggregator.py):
crowd-kit with .venv-oracle's interpreter (`make oracle`), crowdline with this one. Seconds are
measured inside that process around fit alone; peak memory is the process's peak RSS (it
includes reading the answers). Accuracy is against the truth (synthetic) or gold (real);
"same_labels" is the share of tasks where both implementations chose the same label.
Writes bench/results/aggregate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aggregate_new_methods
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "aggregate.json"
RUNNER = ROOT / "tests" / "aggregate" / "run_aggregator.py"
ORACLE_PYTHON = ROOT / ".venv-oracle" / "bin" / "python"
CROWD_DATA = ROOT.parent / "shared" / "data" / "crowd"
METHODS = {"MajorityVote": {}, "DawidSkene": {"n_iter": 100}}


def synthetic_crowd(n_tasks: int, overlap: int, n_classes: int, n_workers: int,
                    seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_tasks)
    # distinct workers per task: a random start and a random stride through the worker ring
    start = rng.integers(0, n_workers, n_tasks)[:, None]
    stride = rng.integers(1, n_workers // overlap, n_tasks)[:, None]
    workers = (start + stride * np.arange(overlap)[None, :]) % n_workers
    accuracy = rng.uniform(0.5, 0.95, n_workers)
    right = rng.random(workers.shape) < accuracy[workers]
    wrong = (truth[:, None] + rng.integers(1, n_classes, workers.shape)) % n_classes
    labels = np.where(right, truth[:, None], wrong)
    answers = pd.DataFrame({"task": np.repeat(np.arange(n_tasks), overlap),
                            "worker": workers.ravel(), "label": labels.ravel()})
    return answers, pd.Series(truth, index=np.arange(n_tasks))


def run(implementation: str, method: str, answers_path: Path, out: Path) -> dict:
    job = {"name": f"{implementation}-{method}", "method": method, "params": METHODS[method],
           "answers": str(answers_path)}
    jobs_path = out / f"{job['name']}.json"
    jobs_path.write_text(json.dumps([job]))
    python = ORACLE_PYTHON if implementation == "crowdkit" else Path(sys.executable)
    began = time.perf_counter()
    completed = subprocess.run([str(python), str(RUNNER), implementation, str(jobs_path),
                                str(out)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1]}
    meta = json.loads((out / job["name"] / "meta.json").read_text())
    labels = pd.read_parquet(out / job["name"] / "labels.parquet")
    return {"seconds": round(meta["seconds"], 3), "iterations": meta["iterations"],
            "peak_rss_mb": round(meta["peak_rss_mb"]), "process_seconds": round(wall, 2),
            "labels": labels.set_index(labels["task"].astype(str))["label"]}


def bench_data(name: str, answers: pd.DataFrame, truth: pd.Series, tmp: Path,
               implementations: list[str]) -> dict:
    folder = tmp / name
    folder.mkdir()
    answers_path = folder / "answers.parquet"
    answers.to_parquet(answers_path)
    truth = pd.Series(truth.astype(str).to_numpy(), index=truth.index.astype(str))
    entry: dict = {"answers": len(answers), "tasks": int(answers["task"].nunique()),
                   "workers": int(answers["worker"].nunique()),
                   "classes": int(answers["label"].nunique()), "methods": {}}
    for method in METHODS:
        row: dict = {}
        for implementation in implementations:
            result = run(implementation, method, answers_path, folder)
            labels = result.pop("labels", None)
            if labels is not None:
                result["accuracy"] = round(float((labels.reindex(truth.index) == truth).mean()), 4)
                row[f"_{implementation}_labels"] = labels
            row[implementation] = result
            print(f"{name:10s} {method:13s} {implementation:9s} {result}", flush=True)
        ours, theirs = row.pop("_crowdline_labels", None), row.pop("_crowdkit_labels", None)
        if ours is not None and theirs is not None:
            row["same_labels"] = round(float((ours.reindex(theirs.index) == theirs).mean()), 6)
            if "seconds" in row["crowdkit"] and row["crowdline"]["seconds"] > 0:
                row["speedup"] = round(row["crowdkit"]["seconds"] / row["crowdline"]["seconds"], 1)
        entry["methods"][method] = row
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--overlap", type=int, default=5)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--only-new", action="store_true",
                        help="run only the newer methods' rows (aggregate_new_methods.py) and "
                        "merge them into the results")
    parser.add_argument("--skip-new", action="store_true", help="leave out the newer methods")
    args = parser.parse_args()
    if args.only_new:
        aggregate_new_methods.main()
        return
    implementations = ["crowdline"] + (["crowdkit"] if ORACLE_PYTHON.exists() else [])
    if len(implementations) == 1:
        print(f"crowd-kit oracle missing at {ORACLE_PYTHON} (run `make oracle`): ours only")

    report: dict = {
        "benchmark": "aggregate",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_start": os.getloadavg()},
        "crowdkit": "crowd-kit 1.4.2, scikit-learn<1.6, in .venv-oracle",
        "settings": {"MajorityVote": {}, "DawidSkene": {"n_iter": 100, "tol": 1e-5}},
        "data": {},
    }
    with tempfile.TemporaryDirectory(prefix="crowdline-bench-aggregate-") as tmp:
        answers, truth = synthetic_crowd(args.tasks, args.overlap, args.classes, args.workers)
        name = f"synthetic_{args.tasks}x{args.overlap}_k{args.classes}"
        report["data"][name] = bench_data(name, answers, truth, Path(tmp), implementations)
        del answers, truth
        for real in ("product", "dogs"):
            folder = CROWD_DATA / real
            if not (folder / "answers.csv").exists():
                print(f"{real}: not found at {folder}, skipped")
                continue
            answers = pd.read_csv(folder / "answers.csv")
            gold = pd.read_csv(folder / "gold.csv").set_index("task")["label"]
            report["data"][real] = bench_data(real, answers, gold, Path(tmp), implementations)
        if not args.skip_new:
            pythons = {"crowdline": Path(sys.executable)}
            if ORACLE_PYTHON.exists():
                pythons["crowdkit"] = ORACLE_PYTHON
            report["new_methods"] = {"data": aggregate_new_methods.bench_new_methods(
                Path(tmp), RUNNER, pythons, CROWD_DATA)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
