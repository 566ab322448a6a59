"""A labeling step that sends its batch to Toloka (here: a crowdline server standing in).

Imported by pipeline worker processes (tests/toloka is put on their PYTHONPATH).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crowdline.crowd.toloka_backend import TolokaBackend
from crowdline.pipelines import WaitFor, current_datum

PROJECT = {
    "public_name": "Clickbait via Toloka",
    "public_description": "Is this headline clickbait?",
    "task_spec": {
        "input_spec": {"headline": {"type": "string", "required": True}},
        "output_spec": {"category": {"type": "string", "required": True,
                                     "allowed_values": ["clickbait", "notclickbait"]}},
        "view_spec": {"type": "tb", "config": '{"view": {"type": "view.text", "content": '
                                              '{"type": "data.input", "path": "headline"}}}',
                      "lock": {"core": "1.0.0", "view.text": "1.0.0"}},
    },
}
POOL = {
    "may_contain_adult_content": False,
    "reward_per_assignment": 0.01,
    "assignment_max_duration_seconds": 300,
    "auto_accept_solutions": True,
    "defaults": {"default_overlap_for_new_task_suites": 2, "default_overlap_for_new_tasks": 2},
    "mixer_config": {"real_tasks_count": 2, "golden_tasks_count": 1, "training_tasks_count": 0},
    "quality_control": {"configs": [{
        "collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": 10}},
        "rules": [{
            "conditions": [{"key": "golden_set_answers_count", "operator": "GTE", "value": 2},
                           {"key": "golden_set_correct_answers_rate", "operator": "LT",
                            "value": 50}],
            "action": {"type": "RESTRICTION_V2",
                       "parameters": {"scope": "PROJECT", "duration_unit": "PERMANENT",
                                      "private_comment": "failed control tasks"}},
        }],
    }]},
}
HONEYPOTS = {f"Control {i}: minister resigns": "notclickbait" for i in range(4)}


def label_with_toloka(inputs: dict[str, Path], output: Path) -> None:
    """Every call is idempotent: the datum runs once to send the batch, waits, runs again."""
    backend = TolokaBackend.from_config(current_datum().workspace())
    (folder,) = inputs.values()
    for path in sorted(folder.glob("*.csv")):
        rows = pd.read_csv(path, dtype=str)
        project_id = backend.ensure_project(PROJECT)
        pool_id = backend.ensure_pool(project_id, {**POOL, "private_name": path.stem})
        backend.upload_tasks(
            pool_id, [{"input_values": {"headline": h}} for h in rows["headline"]],
            [{"input_values": {"headline": h},
              "known_solutions": [{"output_values": {"category": label}}]}
             for h, label in HONEYPOTS.items()])
        if not backend.is_pool_complete(pool_id):
            backend.open_pool(pool_id)
            raise WaitFor("crowdline.crowd.toloka_backend:pool_complete", pool_id=pool_id)
        answers = backend.answers_frame(pool_id, include_banned=False)
        answers[["task", "worker", "label", "input:headline"]].to_csv(
            output / f"{path.stem}.answers.csv", index=False)
        backend.bans(pool_id)[["worker", "scope", "reason"]].to_csv(
            output / f"{path.stem}.bans.csv", index=False)
        backend.close_pool(pool_id)  # already closed by itself when complete: a no-op
