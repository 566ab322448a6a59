"""Stage 2: the model in the loop decides who labels each new row.

One datum per CSV committed to `headlines`. The current model (the newest version in the
`ModelRegistry` of repo `models`) scores every row; the router auto-labels confident rows, sends
uncertain ones to people and a random audit sample to people too; the decisions are recorded
with the registry (repo `routing`, one file per batch). The threshold is the one the model
version carries (chosen by the models step from the audits so far, see `train.py`) when
`config/routing.json` sets `target_accuracy`, else the configured `threshold`; the batch's
`threshold.json` says which threshold was used and why. Until a first
model exists the datum waits (no worker held) and wakes when `models` gets a version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from crowdline.model import Router
from crowdline.model.registry import ModelRegistry, ModelVersion
from crowdline.pipelines import WaitFor, current_datum
from crowdline.workspace import Workspace
from crowdline_examples.clickbait.checks import read_csv

MODELS_REPO = "models"
ROUTING_REPO = "routing"


def model_ready(workspace: Workspace, params: dict) -> bool:
    """Wake condition: the `models` repo has a model version."""
    return bool(ModelRegistry(workspace.store, MODELS_REPO).versions())


def route_batch(inputs: dict[str, Path], output: Path) -> None:
    workspace = current_datum().workspace()
    batch_files = sorted(inputs["headlines"].rglob("*.csv"))
    for batch_file in batch_files:
        rows = read_batch(batch_file)
        if not model_ready(workspace, {}):
            raise WaitFor(f"{__name__}:model_ready")
        routed, threshold = route_rows(workspace, rows, batch=batch_file.stem)
        folder = output / batch_file.stem
        folder.mkdir(parents=True, exist_ok=True)
        routed.to_csv(folder / "routing.csv", index=False)
        (folder / "threshold.json").write_text(json.dumps(threshold, indent=2))


def read_batch(path: Path) -> pd.DataFrame:
    """The rows of one committed CSV; a bad file raises InvalidInput naming it and why.

    InvalidInput tells the pipeline the input itself is wrong: the datum is not tried again
    until the file changes, and (``on_datum_failure: skip_datum``) its reason goes to
    ``route@master:/rejected/<file>.json`` while the other files are labeled."""
    rows = read_csv(path, required=("headline",), what="CSV of headlines")
    if "id" not in rows.columns:
        rows.insert(0, "id", [f"{path.stem}-{i:05d}" for i in range(len(rows))])
    return rows


def routing_settings(workspace: Workspace) -> dict[str, Any]:
    return json.loads(workspace.store.get_file("config", "master", "/routing.json"))


def threshold_for(workspace: Workspace, version: ModelVersion, settings: dict[str, Any]
                  ) -> dict[str, Any]:
    """The threshold to route with, where it came from and why."""
    chosen = version.thresholds.get("threshold")
    if settings.get("target_accuracy") is None or chosen is None:
        return {"threshold": float(settings["threshold"]), "source": "config/routing.json"}
    card = f"{MODELS_REPO}@{version.commit_id[:8]}:/threshold.json"
    choice = json.loads(workspace.store.get_file(MODELS_REPO, version.commit_id,
                                                 "/threshold.json"))
    return {"threshold": chosen, "source": f"model version {version.version}, chosen from "
            f"the audits ({card})", "reason": choice.get("reason", ""),
            **{k: v for k, v in version.thresholds.items() if k != "threshold"}}


def route_rows(workspace: Workspace, rows: pd.DataFrame, *, batch: str | None = None
               ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows with the model's label, confidence and decision; and the threshold used."""
    store = workspace.store
    registry = ModelRegistry(store, MODELS_REPO)
    version = registry.get()
    model = registry.load(version.version)
    settings = routing_settings(workspace)
    threshold = threshold_for(workspace, version, settings)
    probabilities = model.predict_proba(rows["headline"].tolist())
    floor = settings.get("audit_floor")
    router = Router(threshold=float(threshold["threshold"]),
                    audit_rate=float(settings["audit_rate"]), seed=int(settings.get("seed", 0)),
                    audit_floor=None if floor is None else min(float(floor),
                                                               threshold["threshold"]))
    decisions = router.route(rows["id"].tolist(), probabilities, list(model.classes_),
                             model_version=version.version)
    if batch is not None and len(decisions):
        source = current_datum().input_commits.get("headlines")
        registry.record_decisions(decisions, repo=ROUTING_REPO, path=f"/decisions/{batch}.csv",
                                  source=("headlines", source) if source else None,
                                  message=f"routing decisions for {batch}")
    routed = rows.copy()
    routed["model_label"] = [d.label for d in decisions]
    routed["model_confidence"] = [round(d.confidence, 6) for d in decisions]
    routed["decision"] = [d.route for d in decisions]
    routed["model_version"] = version.commit_id
    return routed, threshold
