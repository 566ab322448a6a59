"""The dashboard's model panel, read from the workspace's store: model versions with their
metrics (``ModelRegistry`` of repo ``models``; commits that only hold ``/metrics.json`` are read
too), the routing threshold (the model card's, else ``config:/routing.json``), the
production-accuracy estimate from audited items (routing decisions in repo ``routing`` against
the final labels people — or, in a demo, the simulated crowd — gave them in ``dataset``; with
its Wilson interval) and who labeled the dataset (model, people, simulated crowd).

Every source is optional: a workspace without models, decisions or dataset gets an empty panel
that says so, never an error page.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pandas as pd

from crowdline.errors import CrowdlineError
from crowdline.workspace import Workspace

log = logging.getLogger(__name__)

MODELS_REPO, ROUTING_REPO, DATASET_REPO, CONFIG_REPO = "models", "routing", "dataset", "config"
HISTORY = 20  # dataset versions in the "who labeled" chart
_MISSING = (LookupError, CrowdlineError, KeyError, ValueError, OSError)


def _versions(workspace: Workspace) -> list[dict[str, Any]]:
    from crowdline.model.registry import ModelRegistry

    try:
        registered = ModelRegistry(workspace.store, MODELS_REPO).versions()
    except _MISSING:
        registered = []
    if registered:
        return [{"version": v.version, "commit": v.commit_id, "metrics": v.metrics,
                 "thresholds": v.thresholds, "training_data": v.training_data}
                for v in registered]
    store = workspace.store
    try:  # models written by hand (model.bin + metrics.json), oldest first
        commits = list(reversed(store.list_commits(MODELS_REPO, "master")))
    except _MISSING:
        return []
    found, seen = [], set()
    for commit in commits:
        try:
            files = {f.path: f for f in store.list_files(MODELS_REPO, commit.id)}
            model = files.get("/model.bin")
            if model is None or model.hash in seen or "/metrics.json" not in files:
                continue
            seen.add(model.hash)
            metrics = json.loads(store.get_file(MODELS_REPO, commit.id, "/metrics.json"))
        except _MISSING:
            continue
        found.append({"version": len(found) + 1, "commit": commit.id,
                      "metrics": {k: v for k, v in metrics.items()
                                  if isinstance(v, int | float)},
                      "thresholds": {}, "training_data": None})
    return found


def _dataset(workspace: Workspace, ref: str = "master") -> pd.DataFrame:
    store = workspace.store
    frames = []
    try:
        for info in store.walk_files(DATASET_REPO, ref, "/"):
            if info.path.endswith(".csv"):
                frames.append(pd.read_csv(io.BytesIO(store.get_file(
                    DATASET_REPO, ref, info.path)), dtype=str, keep_default_na=False))
    except _MISSING:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _labeled_by_history(workspace: Workspace, limit: int = HISTORY) -> list[dict[str, Any]]:
    """Who labeled the dataset, version by version (its last ``limit`` commits, oldest
    first): the model's share of the labels over time."""
    try:
        commits = workspace.store.list_commits(DATASET_REPO, "master", limit=limit)
    except _MISSING:
        return []
    history = []
    for commit in reversed(commits):
        frame = _dataset(workspace, commit.id)
        if not len(frame) or "labeled_by" not in frame:
            continue
        counts = frame["labeled_by"].value_counts()
        history.append({"commit": commit.id[:8],
                        "parts": {str(k): int(v) for k, v in counts.items() if str(k)}})
    return history


def _decisions(workspace: Workspace) -> pd.DataFrame:
    from crowdline.model.registry import DECISIONS_KIND

    store = workspace.store
    try:
        commits = store.list_commits(ROUTING_REPO, "master")
    except _MISSING:
        return pd.DataFrame()
    frames = []
    for commit in commits:
        meta = commit.metadata or {}
        if meta.get("kind") != DECISIONS_KIND or not meta.get("path"):
            continue
        try:
            frames.append(pd.read_csv(io.BytesIO(store.get_file(
                ROUTING_REPO, commit.id, meta["path"])), dtype={"item_id": str}))
        except _MISSING:
            continue
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _routing_config(workspace: Workspace) -> dict[str, float]:
    """``config@master:/routing.json`` (the clickbait flow's routing settings), if any."""
    try:
        settings = json.loads(workspace.store.get_file(CONFIG_REPO, "master", "/routing.json"))
    except _MISSING:
        return {}
    return {k: float(settings[k]) for k in ("threshold", "audit_rate")
            if isinstance(settings.get(k), int | float)}


def model_panel(workspace: Workspace) -> dict[str, Any]:
    from crowdline.model.monitoring import audit_accuracy

    panel: dict[str, Any] = {"versions": _versions(workspace), "audit": None,
                             "threshold": None, "audit_rate": None, "labeled_by": {},
                             "history": _labeled_by_history(workspace)}
    latest = panel["versions"][-1]["thresholds"] if panel["versions"] else {}
    if not latest.get("threshold"):
        latest = {**_routing_config(workspace), **latest}
    panel["threshold"] = latest.get("threshold")
    panel["audit_rate"] = latest.get("audit_rate")
    dataset = _dataset(workspace)
    if len(dataset) and "labeled_by" in dataset:
        panel["labeled_by"] = {str(k): int(v) for k, v in
                               dataset["labeled_by"].value_counts().items() if str(k)}
    decisions = _decisions(workspace)
    if len(decisions) and {"item_id", "route", "label"} <= set(decisions.columns) \
            and len(dataset) and {"id", "label", "labeled_by"} <= set(dataset.columns):
        # the audited items' final labels came from people (or, in a demo, the simulated crowd)
        by_people = dataset[dataset["labeled_by"].isin(("human", "simulated"))]
        panel["audit_by_simulated"] = bool((by_people["labeled_by"] == "simulated").any())
        people = by_people.drop_duplicates("id", keep="last").set_index("id")["label"]
        audited = decisions[(decisions["route"] == "audit")
                            & decisions["item_id"].isin(people.index)]
        if "threshold" in audited:  # audits below their threshold measured no auto-label
            threshold = pd.to_numeric(audited["threshold"], errors="coerce")
            audited = audited[threshold.isna() | (audited["confidence"] >= threshold)]
        try:
            estimate = audit_accuracy([str(x) for x in audited["label"]],
                                      [str(people[i]) for i in audited["item_id"]])
            panel["audit"] = estimate.as_dict()
        except _MISSING as exc:
            log.info("no audit estimate: %s", exc)
    return panel
