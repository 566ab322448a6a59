"""Stage 1: the labeling project and the training pool, from the `config` repo.

Idempotent: a re-run (a retry, a resumed job, a new config commit) finds what it made
before by name and updates it instead of creating a second one.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from crowdline.crowd.backends import with_row_field
from crowdline.pipelines import current_datum

TRAINING_POOL_NAME = "clickbait training"


def set_up_project(inputs: dict[str, Path], output: Path) -> None:
    config = inputs["config"]
    project_config = json.loads((config / "project.json").read_text())
    crowd = current_datum().workspace().crowd

    project = next(
        (p for p in crowd.list_projects() if p.public_name == project_config["public_name"]), None
    )
    project_config = with_row_field(project_config)  # the label step's tasks carry row ids
    if project is None:
        project = crowd.create_project(project_config)
    else:
        project = crowd.update_project(project.id, project_config)

    training_pool = _training_pool(crowd, project.id, config)
    (output / "setup.json").write_text(
        json.dumps({"project_id": project.id, "training_pool_id": training_pool.id}, indent=2)
    )


def _training_pool(crowd, project_id: str, config: Path):  # type: ignore[no-untyped-def]
    existing = [
        p for p in crowd.list_pools(project_id=project_id)
        if p.private_name == TRAINING_POOL_NAME and p.status != "ARCHIVED"
    ]
    if existing:
        return existing[0]
    pool_config = json.loads((config / "training_pool.json").read_text())
    pool_config.update(project_id=project_id, private_name=TRAINING_POOL_NAME)
    pool = crowd.create_pool(pool_config)
    with (config / "training.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    crowd.create_tasks([
        {
            "pool_id": pool.id,
            "input_values": {"headline": row["headline"]},
            "known_solutions": [{"output_values": {"category": row["label"]}}],
            "message_on_unknown_solution": row["hint"],
            "infinite_overlap": True,
        }
        for row in rows
    ])
    crowd.open_pool(pool.id)
    return pool
