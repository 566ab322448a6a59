"""Benchmark: crowdline's aggregators beside crowd-kit 1.4.2's, same run.

    python bench/aggregate.py [--tasks 1000000] [--overlap 5] [--classes 10] [--workers 2000]
                              [--scale-tasks 300000 1000000] [--only DawidSkene ...]

Data: a synthetic crowd (tasks × overlap answers, worker accuracy U(0.5, 0.95), wrong answers
uniform over the other classes) and the real sets in ../shared/data/crowd/ when present. Each
(data, method, implementation) runs in its own process (tests/aggregate/run_aggregator.py):
crowd-kit with .venv-oracle's interpreter (`make oracle`), crowdline with this one. Seconds are
measured inside that process around fit alone; peak memory is the process's peak RSS after
reading the answers and fitting (before the results are written out), fit memory that peak
less the RSS just before fit. Accuracy is against the truth (synthetic) or gold (real);
"same_labels" is the share of tasks where both implementations chose the same label.

Which method runs on which data is the METHODS table (one row per method). Dawid-Skene also
runs at scale (``--scale-tasks`` × overlap answers: 1.5M and 5M by default, issue 15's goal of
≥ 10× crowd-kit's speed at ≤ ½ its peak memory with the same labels); the summary of those runs
is ``dawid_skene_scale`` in the results: speed-up, memory ratio, label agreement, goals met.
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
# One row per method: its settings and the data it runs on ("synthetic": the main synthetic
# crowd; "scale": the Dawid-Skene scale runs; "real": the shared real sets).
METHODS: dict[str, dict] = {
    "MajorityVote": {"params": {}, "data": ("synthetic", "real")},
    "DawidSkene": {"params": {"n_iter": 100, "tol": 1e-5}, "data": ("synthetic", "scale", "real")},
}
SPEED_GOAL, MEMORY_GOAL = 10.0, 0.5  # issue 15: DS >= 10x crowd-kit, <= 1/2 its peak memory


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
    job = {"name": f"{implementation}-{method}", "method": method,
           "params": METHODS[method]["params"], "answers": str(answers_path)}
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
    extra = {} if "rss_before_fit_mb" not in meta else {
        "fit_memory_mb": round(meta["peak_rss_mb"] - meta["rss_before_fit_mb"])}
    return {"seconds": round(meta["seconds"], 3), "iterations": meta["iterations"],
            "peak_rss_mb": round(meta["peak_rss_mb"]), **extra,
            "process_seconds": round(wall, 2),
            "labels": labels.set_index(labels["task"].astype(str))["label"]}


def bench_data(name: str, kinds: set[str], answers: pd.DataFrame, truth: pd.Series, tmp: Path,
               implementations: list[str], only: set[str] | None) -> dict:
    folder = tmp / name
    folder.mkdir()
    answers_path = folder / "answers.parquet"
    answers.to_parquet(answers_path)
    truth = pd.Series(truth.astype(str).to_numpy(), index=truth.index.astype(str))
    entry: dict = {"answers": len(answers), "tasks": int(answers["task"].nunique()),
                   "workers": int(answers["worker"].nunique()),
                   "classes": int(answers["label"].nunique()), "kinds": sorted(kinds),
                   "methods": {}}
    for method, spec in METHODS.items():
        if not kinds & set(spec["data"]) or (only and method not in only):
            continue
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
                row["memory_ratio"] = round(row["crowdline"]["peak_rss_mb"]
                                            / row["crowdkit"]["peak_rss_mb"], 3)
        entry["methods"][method] = row
    return entry


def scale_summary(data: dict) -> dict:
    """Issue 15's Dawid-Skene goal, per scale run: speed-up, memory ratio, same labels."""
    summary = {}
    for entry in data.values():
        row = entry["methods"].get("DawidSkene", {})
        if "scale" not in entry["kinds"] or "speedup" not in row:
            continue
        summary[f"{entry['answers']:,} answers"] = {
            "speedup": row["speedup"], "memory_ratio": row["memory_ratio"],
            "same_labels": row["same_labels"],
            "fit_memory_ratio": round(row["crowdline"]["fit_memory_mb"]
                                      / max(row["crowdkit"]["fit_memory_mb"], 1), 3),
            **{side: {k: row[side][k] for k in ("seconds", "peak_rss_mb", "fit_memory_mb",
                                                 "iterations")}
               for side in ("crowdline", "crowdkit")},
            "goal_met": bool(row["speedup"] >= SPEED_GOAL and row["memory_ratio"] <= MEMORY_GOAL
                             and row["same_labels"] == 1.0)}
    return summary


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
    parser.add_argument("--scale-tasks", type=int, nargs="*", default=[300_000, 1_000_000],
                        help="tasks of each Dawid-Skene scale run (answers = tasks x overlap)")
    parser.add_argument("--only", nargs="*", help="run only these methods (of METHODS)")
    args = parser.parse_args()
    if args.only_new:
        aggregate_new_methods.main()
        return
    only = set(args.only) if args.only else None
    implementations = ["crowdline"] + (["crowdkit"] if ORACLE_PYTHON.exists() else [])
    if len(implementations) == 1:
        print(f"crowd-kit oracle missing at {ORACLE_PYTHON} (run `make oracle`): ours only")

    report: dict = {
        "benchmark": "aggregate",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_start": os.getloadavg()},
        "crowdkit": "crowd-kit 1.4.2, scikit-learn<1.6, in .venv-oracle",
        "settings": {method: spec["params"] for method, spec in METHODS.items()},
        "data": {},
    }
    with tempfile.TemporaryDirectory(prefix="crowdline-bench-aggregate-") as tmp:
        for tasks in [t for t in args.scale_tasks if t != args.tasks]:
            answers, truth = synthetic_crowd(tasks, args.overlap, args.classes, args.workers)
            name = f"ds_scale_{tasks}x{args.overlap}_k{args.classes}"
            report["data"][name] = bench_data(name, {"scale"}, answers, truth, Path(tmp),
                                              implementations, only)
            del answers, truth
        answers, truth = synthetic_crowd(args.tasks, args.overlap, args.classes, args.workers)
        name = f"synthetic_{args.tasks}x{args.overlap}_k{args.classes}"
        kinds = {"synthetic"} | ({"scale"} if args.tasks in args.scale_tasks else set())
        report["data"][name] = bench_data(name, kinds, answers, truth, Path(tmp),
                                          implementations, only)
        del answers, truth
        for real in ("product", "dogs"):
            folder = CROWD_DATA / real
            if not (folder / "answers.csv").exists():
                print(f"{real}: not found at {folder}, skipped")
                continue
            answers = pd.read_csv(folder / "answers.csv")
            gold = pd.read_csv(folder / "gold.csv").set_index("task")["label"]
            report["data"][real] = bench_data(real, {"real"}, answers, gold, Path(tmp),
                                              implementations, only)
        if not args.skip_new:
            pythons = {"crowdline": Path(sys.executable)}
            if ORACLE_PYTHON.exists():
                pythons["crowdkit"] = ORACLE_PYTHON
            report["new_methods"] = {"data": aggregate_new_methods.bench_new_methods(
                Path(tmp), RUNNER, pythons, CROWD_DATA)}
    report["dawid_skene_scale"] = scale_summary(report["data"])
    if args.skip_new and RESULTS.exists():  # keep the newer methods' rows of an earlier run
        earlier = json.loads(RESULTS.read_text()).get("new_methods")
        if earlier is not None:
            report["new_methods"] = earlier
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
