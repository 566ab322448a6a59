"""The jobs of run_aggregator.py for the methods beyond the first six: KOS, MACE, M-MSR,
Zero-Based Skill, Binary Relevance, the pairwise models and the metrics.

Runs in either interpreter (crowd-kit's in .venv-oracle, crowdline's in .venv); a job
{"name", "method", "params", "answers"} writes OUT_DIR/<name>/ files that aggregate_oracle.Result
reads: labels.parquet, probas.parquet, <table>.parquet (key columns + value) and meta.json
(seconds, peak RSS, iterations, and "value" for a metric).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

CLASSIFIERS = ("KOS", "MACE", "MMSR", "ZeroBasedSkill")
PAIRWISE = ("BradleyTerry", "NoisyBradleyTerry")
METRICS = ("alpha_krippendorff", "uncertainty", "consistency", "accuracy_on_aggregates")
NEW_METHODS = (*CLASSIFIERS, *PAIRWISE, "BinaryRelevance", *METRICS)


def load(implementation: str) -> dict:
    if implementation == "crowdkit":
        from crowdkit import aggregation as methods
        from crowdkit.metrics.data import alpha_krippendorff, consistency, uncertainty
        from crowdkit.metrics.workers import accuracy_on_aggregates
    else:
        from crowdline import aggregate as methods
        from crowdline.aggregate.metrics import (
            accuracy_on_aggregates,
            alpha_krippendorff,
            consistency,
            uncertainty,
        )
    names = (*CLASSIFIERS, *PAIRWISE, "BinaryRelevance", "MajorityVote", "DawidSkene", "Wawa")
    found = {name: getattr(methods, name) for name in names if hasattr(methods, name)}
    found.update(alpha_krippendorff=alpha_krippendorff, uncertainty=uncertainty,
                 consistency=consistency, accuracy_on_aggregates=accuracy_on_aggregates)
    return found


def write_table(out: Path, name: str, values: pd.Series | pd.DataFrame | np.ndarray) -> None:
    """A Series by key, a DataFrame (long form: row key, column, value) or a 2-D array."""
    if isinstance(values, np.ndarray):
        values = pd.DataFrame(values)
    if isinstance(values, pd.DataFrame):
        frame = values.copy()
        frame.columns = [str(c) for c in frame.columns]
        frame.index = frame.index.astype(str).rename("key")
        frame = frame.reset_index().melt(id_vars=["key"], var_name="column", value_name="value")
    else:
        frame = values.rename("value").rename_axis("key").reset_index()
        frame["key"] = frame["key"].astype(str)
    frame.to_parquet(out / f"{name}.parquet")


def write_labels(out: Path, labels: pd.Series) -> None:
    frame = labels.rename("label").rename_axis("task").reset_index()
    frame["task"] = frame["task"].astype(str)
    frame["label"] = [",".join(sorted(map(str, v))) if isinstance(v, list | tuple | set)
                      else str(v) for v in frame["label"]]
    frame.to_parquet(out / "labels.parquet")


def run_new_job(methods: dict, job: dict, out: Path, peak_rss_mb: Callable[[], float]) -> None:
    answers = pd.read_parquet(job["answers"])
    if "label_lists" in job:  # multi-label answers are stored as "a,b" strings
        answers["label"] = [v.split(",") if v else [] for v in answers["label"]]
    method, params = job["method"], dict(job.get("params", {}))
    out.mkdir(parents=True, exist_ok=True)
    meta: dict = {}
    began = time.perf_counter()
    if method in METRICS:
        if "aggregator" in params:
            params["aggregator"] = methods[params["aggregator"]]()
        value = methods[method](answers, **params)
        meta["seconds"] = time.perf_counter() - began
        if isinstance(value, pd.Series):
            write_table(out, "value", value)
        else:
            meta["value"] = float(value)
    else:
        if method == "BinaryRelevance":
            params["base_aggregator"] = methods[params.pop("base", "MajorityVote")]()
        aggregator = methods[method](**params)
        result = aggregator.fit_predict(answers)
        meta["seconds"] = time.perf_counter() - began
        if method in PAIRWISE:
            write_table(out, "scores", result)
        else:
            write_labels(out, result)
        probas = getattr(aggregator, "probas_", None)
        if probas is not None:
            write_table(out, "probas", probas)
        for name in ("skills_", "biases_", "scores_", "thetas_", "spamming_"):
            value = getattr(aggregator, name, None)
            if value is not None and not (name == "scores_" and method in PAIRWISE):
                write_table(out, name.rstrip("_"), value)
        history = getattr(aggregator, "loss_history_", None)
        meta["iterations"] = None if history is None else len(history)
    meta["peak_rss_mb"] = peak_rss_mb()
    (out / "meta.json").write_text(json.dumps(meta))
