"""Who labels a pool: `config/crowd.json` names the back-end (`backend`).

"simulated" runs the configured synthetic annotators on the pool as soon as it opens, in
process; "builtin" is people in the web UI (`crowdline serve`), and the label step waits for
them; "toloka" sends the pool to Toloka (or another crowdline server standing in for it) with
the URL and token of the pipelines' secret `toloka` (`crowdline secret create toloka
url=... token=-`). All three implement `crowdline.crowd.backends.LabelingBackend`.

The simulated annotators keep their identity across pools (found by name), so a ban at
project scope follows them from batch to batch, and their answers are seeded per pool so a
resumed run answers the same way.
"""

from __future__ import annotations

import json
import random
import warnings
from typing import Any

from crowdline.crowd import Crowd
from crowdline.crowd.backends import BuiltinBackend, LabelingBackend, backend_for
from crowdline.crowd.simulate import (
    InProcessRunner,
    SimulatedClock,
    SimulatedWorker,
    WorkerProfile,
    truth_from_column,
)
from crowdline.errors import InvalidInput
from crowdline.workspace import Workspace
from crowdline_examples.clickbait.flow import simulation_truth

BACKENDS = ("simulated", "builtin", "toloka")
NAME_PREFIX = "sim-"


def crowd_config(workspace: Workspace) -> dict[str, Any]:
    config = json.loads(workspace.store.get_file("config", "master", "/crowd.json"))
    backend = config.setdefault("backend", "builtin")
    if backend not in BACKENDS:
        raise InvalidInput(f"crowd.json names an unknown backend {backend!r}",
                           hint=f"use one of {', '.join(BACKENDS)}")
    return config


def make_backend(workspace: Workspace, config: dict[str, Any]) -> LabelingBackend:
    """The labeling back-end `crowd.json` names."""
    if config["backend"] == "simulated":
        return SimulatedBackend(workspace, config)
    return backend_for(workspace, {**config.get("params", {}), "backend": config["backend"]})


class SimulatedBackend(BuiltinBackend):
    """The built-in crowd, with the configured synthetic annotators working a pool as soon
    as it opens (so the label step never has to wait)."""

    name = "simulated"

    def __init__(self, workspace: Workspace, config: dict[str, Any]) -> None:
        super().__init__(workspace.crowd)
        self.workspace, self.config = workspace, config

    def open_pool(self, pool_id: str) -> None:
        super().open_pool(pool_id)
        simulate_pool(self.workspace, pool_id, self.config)

    def wait_params(self) -> dict[str, Any]:
        return {"backend": "builtin"}  # what is left to wait for is the built-in pool


def _profile(spec: dict[str, Any], *, in_training: bool) -> WorkerProfile:
    seconds = float(spec.get("seconds_per_task", 5.0))
    if spec.get("kind") in ("spammer", "random"):
        # A spammer passes the exam carefully, then clicks at random in the real pool.
        if in_training:
            return WorkerProfile("good", accuracy=0.95, median_seconds=5.0)
        return WorkerProfile("random", median_seconds=seconds, sigma=0.2)
    kind = "mediocre" if spec.get("kind") == "mediocre" else "good"
    return WorkerProfile(kind, accuracy=float(spec.get("accuracy", 0.9)),
                         median_seconds=seconds)


def simulated_workers(crowd: Crowd, config: dict[str, Any], pool_id: str, *,
                      in_training: bool) -> list[SimulatedWorker]:
    by_name = {w.name: w for w in crowd.list_workers()}
    seed = config.get("random_seed", 0)
    workers = []
    for spec in config["workers"]:
        name = NAME_PREFIX + spec["name"]
        worker = by_name.get(name) or crowd.invite_worker(name)[0]
        workers.append(SimulatedWorker(
            id=worker.id, name=name, token="", profile=_profile(spec, in_training=in_training),
            rng=random.Random(f"{seed}/{pool_id}/{name}"),
        ))
    return workers


def simulate_pool(workspace: Workspace, pool_id: str, config: dict[str, Any]) -> None:
    """Let the configured synthetic annotators do the training pool, then this pool."""
    clock = SimulatedClock()
    crowd = Crowd(engine=workspace.engine, store=workspace.store, clock=clock)
    known = simulation_truth(workspace)
    truth = truth_from_column(known, "headline")
    _warn_about_unknown_items(crowd, pool_id, known)
    requirement = crowd.get_pool(pool_id).training_requirement or {}
    training_pool_id = requirement.get("training_pool_id")
    if training_pool_id:
        trainees = simulated_workers(crowd, config, training_pool_id, in_training=True)
        InProcessRunner(crowd, trainees, truth, clock=clock).run(str(training_pool_id))
    workers = simulated_workers(crowd, config, pool_id, in_training=False)
    InProcessRunner(crowd, workers, truth, clock=clock).run(pool_id)


def _warn_about_unknown_items(crowd: Crowd, pool_id: str, known: dict[str, str]) -> None:
    """The simulated crowd can only answer what it has truth for; say so, loudly."""
    real = [t for t in crowd.list_tasks(pool_id) if not t.known_solutions]
    unknown = sum(1 for t in real if str(t.input_values.get("headline")) not in known)
    if unknown:
        warnings.warn(
            f"the simulated crowd has no truth for {unknown} of {len(real)} headlines in pool "
            f"{pool_id}: it answers them at random, and their rows say labeled_by=simulated. "
            'To have people label them, set "backend": "builtin" in config/crowd.json '
            "(README, tour step 4)", UserWarning, stacklevel=2)
