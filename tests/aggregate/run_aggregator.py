"""Run aggregation jobs in this process and write the results to files.

    python run_aggregator.py crowdkit|crowdline JOBS.json OUT_DIR

The equality tests and bench/aggregate.py run it twice on the same inputs: with the oracle
interpreter (.venv-oracle, crowd-kit 1.4.2) and with the project's (crowdline.aggregate), so
both sides are timed the same way, inside their own process. JOBS.json is a list of
{"name", "method", "params", "answers" (a parquet path), "gold" (optional parquet path),
"warm_start_from" (optional parquet path: fit there first, then warm-start DS from it)}.
Each job writes OUT_DIR/<name>/{probas,labels,...}.parquet in long form and meta.json with
seconds, iterations and the peak RSS of the process so far.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import pandas as pd
from run_new_methods import NEW_METHODS, run_new_job
from run_new_methods import load as load_new_methods


def load_methods(implementation: str) -> dict:
    if implementation == "crowdkit":
        from crowdkit.aggregation import (
            GLAD,
            DawidSkene,
            GoldMajorityVote,
            MajorityVote,
            OneCoinDawidSkene,
            Wawa,
        )
    else:
        from crowdline.aggregate import (
            GLAD,
            DawidSkene,
            GoldMajorityVote,
            MajorityVote,
            OneCoinDawidSkene,
            Wawa,
        )
    return {"MajorityVote": MajorityVote, "Wawa": Wawa, "GoldMajorityVote": GoldMajorityVote,
            "OneCoinDawidSkene": OneCoinDawidSkene, "DawidSkene": DawidSkene, "GLAD": GLAD}


def long_frame(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    stacked = frame.copy()
    stacked.columns = [str(c) for c in stacked.columns]
    return stacked.reset_index().melt(id_vars=list(frame.index.names), var_name="column",
                                      value_name=value)


def peak_rss_mb() -> float:
    """Peak RSS of this process's own address space (VmHWM). ru_maxrss would also count the
    parent's memory, which Linux carries over through fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_job(methods: dict, job: dict, out: Path, _: object = None) -> None:
    answers = pd.read_parquet(job["answers"])
    aggregator = methods[job["method"]](**job.get("params", {}))
    args = []
    if job.get("gold"):
        gold = pd.read_parquet(job["gold"])
        args.append(gold.set_index("task")["label"])
    kwargs = {}
    if job.get("warm_start_from"):
        earlier = methods[job["method"]](**job.get("params", {}))
        earlier.fit(pd.read_parquet(job["warm_start_from"]))
        kwargs["initial_error"] = earlier.errors_
    before = current_rss_mb()
    began = time.perf_counter()
    aggregator.fit_predict_proba(answers, *args, **kwargs)  # crowd-kit's Wawa.fit sets no labels_
    seconds = time.perf_counter() - began
    peak = peak_rss_mb()  # reading the answers and fitting; not writing the results out below
    out.mkdir(parents=True, exist_ok=True)
    labels = aggregator.labels_.rename("label").rename_axis("task").reset_index()
    labels["label"] = labels["label"].astype(str)
    labels.to_parquet(out / "labels.parquet")
    long_frame(aggregator.probas_.rename_axis("task"), "proba").to_parquet(out / "probas.parquet")
    for name in ("skills_", "priors_", "alphas_", "betas_"):
        series = getattr(aggregator, name, None)
        if series is not None:
            frame = series.rename("value").rename_axis("key").reset_index()
            frame["key"] = frame["key"].astype(str)
            frame.to_parquet(out / f"{name.rstrip('_')}.parquet")
    errors = getattr(aggregator, "errors_", None)
    if errors is not None:
        flat = long_frame(errors, "value")
        flat["label"] = flat["label"].astype(str)
        flat.to_parquet(out / "errors.parquet")
    history = getattr(aggregator, "loss_history_", None)
    meta = {"seconds": seconds, "iterations": None if history is None else len(history),
            "peak_rss_mb": peak, "rss_before_fit_mb": before}
    (out / "meta.json").write_text(json.dumps(meta))


def main() -> None:
    implementation, jobs_path, out_dir = sys.argv[1:4]
    jobs = json.loads(Path(jobs_path).read_text())
    methods = load_methods(implementation)
    if any(job["method"] in NEW_METHODS for job in jobs):
        methods.update(load_new_methods(implementation))
    for job in jobs:
        run = run_new_job if job["method"] in NEW_METHODS else run_job
        run(methods, job, Path(out_dir) / job["name"], peak_rss_mb)


if __name__ == "__main__":
    main()
