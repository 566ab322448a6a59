"""A labeling step that sends its batch to Toloka (here: a crowdline server standing in).

Imported by pipeline worker processes (tests/toloka is put on their PYTHONPATH).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crowdline.crowd.backends import label_batch
from crowdline.crowd.toloka_backend import TolokaBackend
from crowdline.pipelines import current_datum

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
    """Send each batch to Toloka; the datum waits until its pool is done, then writes."""
    backend = TolokaBackend.from_config(current_datum().workspace())
    (folder,) = inputs.values()
    for path in sorted(folder.glob("*.csv")):
        rows = pd.read_csv(path, dtype=str)
        result = label_batch(
            backend, project=PROJECT, pool={**POOL, "private_name": path.stem},
            rows=[(f"{path.stem}-{i}", {"headline": h}) for i, h in enumerate(rows["headline"])],
            honeypots=[({"headline": h}, {"category": label}) for h, label in HONEYPOTS.items()])
        answers = result.answers
        answers = answers[~answers["is_golden"] & ~answers["worker"].isin(result.bans["worker"])]
        answers[["row_id", "task", "worker", "label", "input:headline"]].to_csv(
            output / f"{path.stem}.answers.csv", index=False)
        result.bans[["worker", "scope", "reason"]].to_csv(
            output / f"{path.stem}.bans.csv", index=False)
