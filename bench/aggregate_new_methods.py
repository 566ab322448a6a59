"""The rows of bench/aggregate.py for the methods beyond Majority Vote and Dawid-Skene: KOS,
MACE, M-MSR, Zero-Based Skill, Binary Relevance, Bradley-Terry, Noisy BT and the metrics,
each beside crowd-kit 1.4.2 in the same run, on the same data.

Sizes are chosen so that crowd-kit's implementations (pandas row loops, a Python loop per
worker in M-MSR, per comparison in Noisy BT's gradient) finish in about a minute each.
Each (data, method, implementation) runs in its own process (tests/aggregate/run_aggregator.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

CLASSIFICATION = {  # method: settings (the same for both implementations)
    "ZeroBasedSkill": {"n_iter": 100},
    "KOS": {"n_iter": 100},
    "MACE": {"n_iter": 50, "n_restarts": 1},  # crowd-kit's 10 restarts are identical runs
    "MMSR": {},
}
METRICS = {
    "alpha_krippendorff": {},
    "uncertainty": {},
    "consistency": {},
    "accuracy_on_aggregates": {"by": "worker"},
}


def crowd(n_tasks: int, overlap: int, n_classes: int, n_workers: int, seed: int = 1
          ) -> tuple[pd.DataFrame, pd.Series]:
    """Answers with distinct workers per task, accuracy U(0.5, 0.95); ids are strings named so
    that their sorted order is their order of first appearance (where crowd-kit's MACE is
    right)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_tasks)
    workers = np.argsort(rng.random((n_tasks, n_workers)), axis=1)[:, :overlap]
    accuracy = rng.uniform(0.5, 0.95, n_workers)
    right = rng.random(workers.shape) < accuracy[workers]
    wrong = (truth[:, None] + rng.integers(1, n_classes, workers.shape)) % n_classes
    labels = np.where(right, truth[:, None], wrong).ravel()
    worker_ids = workers.ravel()
    first_workers = {w: i for i, w in enumerate(pd.unique(worker_ids))}
    first_labels = {lab: i for i, lab in enumerate(pd.unique(labels))}
    answers = pd.DataFrame({"task": np.repeat(np.arange(n_tasks), overlap),
                            "worker": [f"w{first_workers[w]:05d}" for w in worker_ids],
                            "label": [f"l{first_labels[lab]:02d}" for lab in labels]})
    truth_labels = [f"l{first_labels[lab]:02d}" for lab in truth]
    return answers, pd.Series(truth_labels, index=np.arange(n_tasks).astype(str))


def comparisons(n_items: int, n_rows: int, seed: int = 2) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    strength = rng.gamma(2.0, size=n_items)
    items = np.array([f"item{i:04d}" for i in range(n_items)])
    left = rng.integers(0, n_items, n_rows)
    right = (left + rng.integers(1, n_items, n_rows)) % n_items
    worker = rng.integers(0, 50, n_rows)
    p_left = np.where(worker < 5, 0.5, strength[left] / (strength[left] + strength[right]))
    chosen = np.where(rng.random(n_rows) < p_left, items[left], items[right])
    frame = pd.DataFrame({"worker": [f"w{w:02d}" for w in worker], "left": items[left],
                          "right": items[right], "label": chosen})
    return frame, pd.Series(strength, index=items)


def multilabel(n_tasks: int, seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    objects = np.array(["car", "house", "human", "tree", "sky"])
    present = rng.random((n_tasks, len(objects))) < 0.4
    skill = rng.uniform(0.6, 0.95, 200)
    workers = np.argsort(rng.random((n_tasks, 200)), axis=1)[:, :5]
    seen = np.where(rng.random((n_tasks, 5, len(objects))) < skill[workers][:, :, None],
                    present[:, None, :], ~present[:, None, :])
    answers = pd.DataFrame({"task": np.repeat(np.arange(n_tasks), 5).astype(str),
                            "worker": [f"w{w:03d}" for w in workers.ravel()],
                            "label": [",".join(objects[s]) for s in seen.reshape(-1, 5)]})
    truth = pd.Series([",".join(objects[p]) for p in present],
                      index=np.arange(n_tasks).astype(str))
    return answers, truth


def run(runner: Path, python: Path, implementation: str, job: dict, folder: Path) -> dict:
    name = f"{implementation}-{job['name']}"
    jobs_path = folder / f"{name}.json"
    jobs_path.write_text(json.dumps([{**job, "name": name}]))
    began = time.perf_counter()
    completed = subprocess.run([str(python), str(runner), implementation, str(jobs_path),
                                str(folder)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines()
        return {"error": (lines[-1] if lines else f"exit code {completed.returncode}")[:300]}
    out = folder / name
    meta = json.loads((out / "meta.json").read_text())
    result = {"seconds": round(meta["seconds"], 3), "peak_rss_mb": round(meta["peak_rss_mb"]),
              "process_seconds": round(wall, 2)}
    if meta.get("iterations") is not None:
        result["iterations"] = meta["iterations"]
    if "value" in meta:
        result["value"] = meta["value"]
    for table in ("labels", "scores", "value"):
        if (out / f"{table}.parquet").exists():
            frame = pd.read_parquet(out / f"{table}.parquet")
            key = "task" if table == "labels" else "key"
            column = "label" if table == "labels" else "value"
            if key in frame.columns and "column" not in frame.columns:
                result[f"_{table}"] = frame.set_index(frame[key].astype(str))[column]
    return result


def compare(row: dict, truth: pd.Series | None, kind: str) -> None:
    """Accuracy (or rank correlation) per side; agreement between the sides; speed-up."""
    sides = [s for s in ("crowdline", "crowdkit") if s in row and "error" not in row[s]]
    for side in sides:
        result = row[side]
        if kind == "labels" and truth is not None and "_labels" in result:
            result["accuracy"] = round(float(
                (result["_labels"].reindex(truth.index) == truth).mean()), 4)
        if kind == "scores" and truth is not None and "_scores" in result:
            scores = result["_scores"]
            result["spearman_vs_truth"] = round(float(
                spearmanr(scores, truth.reindex(scores.index)).statistic), 4)
    if len(sides) == 2:
        ours, theirs = row["crowdline"], row["crowdkit"]
        if "_labels" in ours and "_labels" in theirs:
            row["same_labels"] = round(float(
                (ours["_labels"].reindex(theirs["_labels"].index) == theirs["_labels"]).mean()), 6)
        for table in ("_scores", "_value"):
            if table in ours and table in theirs:
                gap = (ours[table].reindex(theirs[table].index) - theirs[table]).abs().max()
                row["max_abs_difference"] = float(gap)
        if "value" in ours and "value" in theirs:
            row["max_abs_difference"] = abs(ours["value"] - theirs["value"])
        if ours["seconds"] > 0:
            row["speedup"] = round(theirs["seconds"] / ours["seconds"], 1)
    for side in sides:
        for key in [k for k in row[side] if k.startswith("_")]:
            del row[side][key]


def bench_new_methods(tmp: Path, runner: Path, pythons: dict[str, Path],
                      crowd_data: Path) -> dict:
    """{data name: {"size": ..., "methods": {method: {crowdline, crowdkit, ...}}}}."""
    plan: list[tuple[str, pd.DataFrame, pd.Series | None, str, list[tuple[str, dict, dict]]]] = []
    binary, binary_truth = crowd(20_000, 5, 2, 500)
    plan.append(("synthetic_20000x5_k2", binary, binary_truth, "labels",
                 [(m, CLASSIFICATION[m], {}) for m in ("ZeroBasedSkill", "KOS", "MACE")]))
    small, small_truth = crowd(5_000, 5, 4, 100)
    plan.append(("synthetic_5000x5_k4", small, small_truth, "labels",
                 [(m, CLASSIFICATION[m], {}) for m in ("ZeroBasedSkill", "MACE", "MMSR")]))
    metric_data, _ = crowd(5_000, 5, 4, 300)
    plan.append(("synthetic_5000x5_k4 (metrics)", metric_data, None, "value",
                 [(m, p, {}) for m, p in METRICS.items()]))
    for real in ("product", "dogs"):
        if (crowd_data / real / "answers.csv").exists():
            answers = pd.read_csv(crowd_data / real / "answers.csv")
            gold = pd.read_csv(crowd_data / real / "gold.csv").set_index("task")["label"]
            gold = pd.Series(gold.astype(str).to_numpy(), index=gold.index.astype(str))
            # product: M-MSR ends with NaN skills in both (ours raises at once; crowd-kit runs
            # its 10,000 iterations, ~20 min): not benchmarked there
            methods = ["ZeroBasedSkill"] + (["KOS"] if real == "product" else ["MMSR"])
            plan.append((real, answers, gold, "labels",
                         [(m, CLASSIFICATION[m], {}) for m in methods]))
            # crowd-kit's uncertainty is a row-wise apply (~2 min on product): dogs only
            plan.append((f"{real} (metrics)", answers, None, "value",
                         [(m, p, {}) for m, p in METRICS.items()
                          if not (real == "product" and m == "uncertainty")]))
    pairs, strength = comparisons(300, 100_000)
    plan.append(("comparisons_300_items_x100000", pairs, strength, "scores",
                 [("BradleyTerry", {"n_iter": 100, "tol": 0}, {})]))
    noisy, noisy_strength = comparisons(50, 10_000, seed=4)
    plan.append(("comparisons_50_items_x10000", noisy, noisy_strength, "scores",
                 [("NoisyBradleyTerry", {"n_iter": 100}, {})]))
    labelled, label_truth = multilabel(5_000)
    plan.append(("multilabel_5000x5_5_labels", labelled, label_truth, "labels",
                 [("BinaryRelevance", {"base": base}, {"label_lists": True})
                  for base in ("MajorityVote", "DawidSkene")]))

    report: dict = {}
    for name, frame, truth, kind, methods in plan:
        folder = tmp / f"new-{len(report)}"
        folder.mkdir()
        path = folder / "answers.parquet"
        frame.to_parquet(path)
        entry: dict = {"rows": len(frame), "methods": {}}
        for method, params, extra in methods:
            label = method if method != "BinaryRelevance" else f"BinaryRelevance({params['base']})"
            job = {"name": label.replace("(", "-").rstrip(")"), "method": method,
                   "params": params, "answers": str(path), **extra}
            row: dict = {"settings": params}
            for implementation, python in pythons.items():
                row[implementation] = run(runner, python, implementation, job, folder)
                shown = {k: v for k, v in row[implementation].items() if not k.startswith("_")}
                print(f"{name:32s} {label:32s} {implementation:9s} {shown}", flush=True)
            compare(row, truth, kind)
            entry["methods"][label] = row
        report[name] = entry
    return report


def main() -> None:
    """Run only these rows and merge them into bench/results/aggregate.json."""
    import os
    import tempfile

    here = Path(__file__).resolve().parent
    root = here.parent
    results = here / "results" / "aggregate.json"
    pythons = {"crowdline": Path(sys.executable)}
    oracle = root / ".venv-oracle" / "bin" / "python"
    if oracle.exists():
        pythons["crowdkit"] = oracle
    with tempfile.TemporaryDirectory(prefix="crowdline-bench-aggnew-") as tmp:
        rows = bench_new_methods(Path(tmp), root / "tests" / "aggregate" / "run_aggregator.py",
                                 pythons, Path(os.environ.get(
                                     "CROWDLINE_SHARED_DATA", root.parent / "shared" / "data"))
                                 / "crowd")
    report = json.loads(results.read_text()) if results.exists() else {}
    report["new_methods"] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                             "data": rows}
    results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {results}")


if __name__ == "__main__":
    main()
