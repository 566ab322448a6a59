"""Set up the clickbait flow in a workspace: input repos, configs, pipelines, new batches.

    from crowdline_examples.clickbait import flow
    flow.set_up(workspace, backend="simulated")      # or "builtin" for people in the web UI
    flow.commit_batch(workspace, Path("my_headlines.csv"))
    workspace.pipelines.run()

Copy this folder to start your own project: change the configs, the data and the steps.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from crowdline.workspace import Workspace

EXAMPLE_DIR = Path(__file__).resolve().parent
DATA_DIR = EXAMPLE_DIR / "data"
CONFIG_DIR = EXAMPLE_DIR / "configs"
PIPELINE_DIR = EXAMPLE_DIR / "pipelines"

# Repos people commit to; every other repo is a pipeline's output.
INPUT_REPOS = {
    "config": "project, pool and training configs, routing thresholds, crowd back-end",
    "golden": "already-labeled headlines used as honeypots (control tasks)",
    "labels_seed": "labels made before the flow started: the model's first training set",
    "evaluation": "held-out labeled headlines the model is evaluated on",
    "headlines": "new unlabeled headlines: commit a CSV with a 'headline' column to label it",
    "simulation": "what the simulated crowd answers from (ground truth); demo and benchmarks only",
}
# 0.95 is where routing starts: a calibrated word+character model is right ~99.5% of the time
# above it on the clickbait headlines. 5% of rows from confidence 0.8 up are audited by people
# (model not voting), and after each batch the models step moves the threshold to the lowest
# one whose audited accuracy's lower bound reaches target_accuracy (model/thresholds.py).
# model_vote: rows sent to people carry the model's label as a voter for dynamic overlap;
# audited rows (people only, the yardstick) start at audit_overlap answers, not the pool's 1.
ROUTING = {"threshold": 0.95, "audit_rate": 0.05, "seed": 7, "audit_floor": 0.8,
           "target_accuracy": 0.985, "min_audits": 200, "bound_confidence": 0.95,
           "model_vote": True, "audit_overlap": 3}
CROWD_BACKENDS = ("simulated", "builtin")


def set_up(workspace: Workspace, *, backend: str = "simulated",
           routing: dict | None = None, data_dir: Path = DATA_DIR,
           crowd_config: dict | None = None, people: int | None = None) -> list[str]:
    """Create the input repos, commit configs and reference data, create the pipelines.

    ``data_dir`` holds golden.csv, training.csv, seed_labeled.csv and test.csv (see the
    shipped sample); ``crowd_config`` replaces configs/crowd.json (the simulated annotators).
    ``people``: how many annotators will label (``demo --humans --workers N``); the pool's
    overlap and ban rules are fitted to so few. Returns what was changed, in words.
    """
    pool_config, adapted = fit_pool_to_crowd(
        json.loads((CONFIG_DIR / "pool.json").read_text()), people)
    store = workspace.store
    existing = {repo.name for repo in store.list_repos()}
    for name, description in INPUT_REPOS.items():
        if name not in existing:
            store.create_repo(name, description)
    crowd_config = dict(crowd_config or json.loads((CONFIG_DIR / "crowd.json").read_text()))
    crowd_config["backend"] = backend
    with store.commit("config", "master", message="clickbait flow configs") as commit:
        for name in ("project.json", "training_pool.json"):
            commit.put_file(f"/{name}", (CONFIG_DIR / name).read_bytes())
        commit.put_file("/pool.json", json.dumps(pool_config, indent=2).encode())
        commit.put_file("/training.csv", (data_dir / "training.csv").read_bytes())
        commit.put_file("/crowd.json", json.dumps(crowd_config, indent=2).encode())
        commit.put_file("/routing.json", json.dumps(routing or ROUTING, indent=2).encode())
    with store.commit("golden", "master", message="honeypots") as commit:
        commit.put_file("/golden.csv", (data_dir / "golden.csv").read_bytes())
    with store.commit("labels_seed", "master", message="seed labels") as commit:
        commit.put_file("/seed.csv", (data_dir / "seed_labeled.csv").read_bytes())
    with store.commit("evaluation", "master", message="held-out evaluation set") as commit:
        commit.put_file("/test.csv", (data_dir / "test.csv").read_bytes())
    if backend == "simulated":
        truth = pd.concat([
            pd.read_csv(data_dir / "golden.csv", dtype=str)[["headline", "label"]],
            pd.read_csv(data_dir / "training.csv", dtype=str)[["headline", "label"]],
        ])
        with store.commit("simulation", "master", message="truth for the simulated crowd") as c:
            c.put_file("/truth/reference.csv", truth.to_csv(index=False).encode())
    known = {p.name for p in workspace.pipelines.list_pipelines()}
    for spec in sorted(PIPELINE_DIR.glob("*.yaml")):
        name = spec.stem.split("-", 1)[1]
        if name not in known:
            workspace.pipelines.create_pipeline(spec)
    return adapted


def fit_pool_to_crowd(config: dict, people: int | None) -> tuple[dict, list[str]]:
    """The pool config for a crowd of ``people`` annotators (None: as configured).

    A task cannot get more answers than there are people, and with fewer than three a ban
    would leave nobody to finish the pool; Toloka would wait for new workers, a demo cannot.
    """
    if people is None:
        return config, []
    notes = []
    defaults = config.setdefault("defaults", {})
    overlap = min(int(defaults.get("default_overlap_for_new_tasks", 1)), people)
    if overlap != defaults.get("default_overlap_for_new_tasks"):
        defaults["default_overlap_for_new_tasks"] = overlap
        defaults["default_overlap_for_new_task_suites"] = overlap
        notes.append(f"overlap {overlap} (one answer per task from each of {people} people)")
    dynamic = config.get("dynamic_overlap_config")
    if dynamic and int(dynamic.get("max_overlap", 0)) > people:
        if people <= overlap:
            config.pop("dynamic_overlap_config")
            notes.append("no dynamic overlap (nobody left to ask for another answer)")
        else:
            dynamic["max_overlap"] = people
            notes.append(f"dynamic overlap up to {people} answers")
    if people < 3:
        for qc in config.get("quality_control", {}).get("configs", []):
            kept = [r for r in qc.get("rules", [])
                    if not r.get("action", {}).get("type", "").startswith("RESTRICTION")]
            if len(kept) != len(qc.get("rules", [])):
                qc["rules"] = kept
        config["quality_control"]["configs"] = [
            qc for qc in config.get("quality_control", {}).get("configs", []) if qc.get("rules")]
        notes.append("no automatic bans (a ban would leave nobody to finish the pool); "
                     "honeypots are still scored")
    return config, notes


def commit_batch(workspace: Workspace, batch_csv: Path, *, truth_column: str = "truth"):  # type: ignore[no-untyped-def]
    """Commit one CSV of new headlines; a `truth` column goes only to the simulation repo."""
    rows = pd.read_csv(batch_csv, dtype=str, keep_default_na=False)
    store = workspace.store
    if truth_column in rows.columns:
        truth = rows[["headline", truth_column]].rename(columns={truth_column: "label"})
        with store.commit("simulation", "master", message=f"truth for {batch_csv.name}") as c:
            c.put_file(f"/truth/{batch_csv.stem}.csv", truth.to_csv(index=False).encode())
        rows = rows.drop(columns=[truth_column])
    buffer = io.StringIO()
    rows.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    with store.commit("headlines", "master", message=f"new headlines: {batch_csv.name}") as c:
        c.put_file(f"/{batch_csv.stem}.csv", buffer.getvalue().encode())
    return c.info


def simulation_truth(workspace: Workspace) -> dict[str, str]:
    """headline → true label, from every file of the `simulation` repo."""
    truth: dict[str, str] = {}
    store = workspace.store
    for info in store.walk_files("simulation", "master", "/truth"):
        frame = pd.read_csv(io.BytesIO(store.get_file("simulation", "master", info.path)),
                            dtype=str, keep_default_na=False)
        truth.update(zip(frame["headline"], frame["label"], strict=False))
    return truth
