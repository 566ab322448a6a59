"""Aggregating a pool: one verb (``Crowd.aggregate_pool``) for the Toloka route, the flow, the
exports and the dashboard, and one skill-weighted posterior for it and for dynamic overlap.

Methods: DAWID_SKENE and MAJORITY_VOTE (crowdline.aggregate), and WEIGHTED_DYNAMIC_OVERLAP:
each answer weighed by the worker's value of a skill (value / 100 is the worker's accuracy,
see ``skill_accuracy``), the naive-Bayes posterior of the winning label reported as its
confidence, as Toloka's dynamic overlap does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crowdline.crowd.projects import label_values
from crowdline.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from crowdline.crowd import Crowd

METHODS = ("DAWID_SKENE", "MAJORITY_VOTE", "WEIGHTED_DYNAMIC_OVERLAP")
ANSWER_STATUSES = ("SUBMITTED", "ACCEPTED")
RESULT_COLUMNS = ["task", "label", "confidence", "answers"]
# A skill of 0 or 100 would make one answer certain: weights stay inside (1 %, 99 %).
SKILL_FLOOR, SKILL_CEILING = 0.01, 0.99


def skill_accuracy(value: float | None) -> float:
    """A worker's accuracy from a skill value in per cent; no value means no evidence (0.5)."""
    if value is None:
        return 0.5
    return min(max(float(value) / 100.0, SKILL_FLOOR), SKILL_CEILING)


def output_classes(crowd: Crowd, pool_id: str, field: str | None = None
                   ) -> tuple[str, list[Any] | None]:
    """(the output field, its allowed labels) of the pool's project; checks the field."""
    pool = crowd.get_pool(pool_id)
    spec = crowd.get_project(pool.project_id).task_spec or {}
    output_spec = spec.get("output_spec") or {}
    field = field or next(iter(output_spec), None)
    if field not in output_spec:
        raise InvalidInput(f"output field {field!r} is not in the project's output_spec",
                           hint=f"aggregate one of: {', '.join(output_spec) or '(none)'}")
    if field == next(iter(output_spec)):
        return field, label_values(spec) or None
    return field, (output_spec[field] or {}).get("allowed_values")


def pool_answers(crowd: Crowd, pool_id: str, field: str) -> pd.DataFrame:
    """task / worker / label rows of the pool's real tasks (control tasks are left out)."""
    import pandas as pd

    rows = []
    for assignment in crowd.list_assignments(pool_id=pool_id):
        data = assignment.to_dict()
        if data["status"] not in ANSWER_STATUSES:
            continue
        solutions = data.get("solutions") or []
        for position, task in enumerate(data.get("tasks") or []):
            if task.get("known_solutions") or position >= len(solutions):
                continue
            value = (solutions[position].get("output_values") or {}).get(field)
            if value is not None:
                rows.append({"task": str(task["id"]), "worker": str(data["user_id"]),
                             "label": value})
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def aggregate_pool(crowd: Crowd, pool_id: str, *, method: str = "DAWID_SKENE",
                   skill_id: str | None = None, field: str | None = None) -> pd.DataFrame:
    """One row per answered real task: task, label, confidence, answers (count)."""
    import pandas as pd

    if method not in METHODS:
        raise InvalidInput(f"aggregation method {method!r} is not one of {', '.join(METHODS)}")
    if method == "WEIGHTED_DYNAMIC_OVERLAP" and not skill_id:
        raise InvalidInput("WEIGHTED_DYNAMIC_OVERLAP needs a skill id (answer weights)",
                           hint="pass skill_id=... (the skill whose value / 100 is accuracy)")
    field, classes = output_classes(crowd, pool_id, field)
    answers = pool_answers(crowd, pool_id, field)
    if answers.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    counts = answers.groupby("task").size()
    if method == "WEIGHTED_DYNAMIC_OVERLAP":
        rows = _weighted(crowd, answers, str(skill_id), classes)
    else:
        from crowdline.aggregate import DawidSkene, MajorityVote

        model = (DawidSkene(n_iter=100) if method == "DAWID_SKENE" else MajorityVote()).fit(
            answers)
        confidence = model.probas_.max(axis=1)
        rows = [(str(task), label, float(confidence.loc[task]))
                for task, label in model.labels_.items()]
    frame = pd.DataFrame(rows, columns=["task", "label", "confidence"])
    frame["answers"] = counts.reindex(frame["task"]).to_numpy()
    return frame


def _weighted(crowd: Crowd, answers: pd.DataFrame, skill_id: str,
              classes: list[Any] | None) -> list[tuple[str, Any, float]]:
    from crowdline.aggregate.dynamic_overlap import task_posterior

    crowd.get_skill(skill_id)
    values = {str(s.user_id): float(s.to_dict().get("exact_value", s.to_dict().get("value")))
              for s in crowd.get_worker_skills(skill_id=skill_id)}
    labels = classes or sorted(answers["label"].unique().tolist())
    results = []
    for task, group in answers.groupby("task", sort=True):
        accuracies = [skill_accuracy(values.get(w)) for w in group["worker"]]
        posterior = task_posterior(list(group["label"]), accuracies, labels)
        best = max(posterior, key=lambda label: posterior[label])
        results.append((str(task), best, float(posterior[best])))
    return results
