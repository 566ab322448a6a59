"""Pairwise comparisons as a task type: two items side by side, "which is better?", a tie
option — the judgments behind preference data — ranked by Bradley-Terry.

A pairwise project is an ordinary classification project (so issuing, QC, honeypots and the
annotator page work unchanged): inputs ``left`` and ``right`` (the two items, shown as text),
one output ``choice`` with the labels ``left``, ``right`` and, optionally, ``tie``.

    project = crowd.create_project(pairwise_project("Which headline is clearer?"))
    crowd.create_tasks(pairwise_tasks(pool.id, [("a", "b"), ("b", "c")]), open_pool=True)
    ...
    scores = rank(crowd, pool.id)              # Bradley-Terry scores, best first

``comparisons(crowd, pool_id)`` gives the answers in ``crowdline.aggregate``'s pairwise shape
(worker, left, right, label = the chosen item, or ``"tie"``) for any pairwise model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from crowdline.errors import InvalidInput

LEFT, RIGHT, TIE = "left", "right", "tie"
CHOICE = "choice"


def pairwise_project(question: str = "Which is better?", *, allow_tie: bool = True,
                     instructions: str | None = None,
                     titles: tuple[str, str, str] = ("Left is better", "Right is better",
                                                     "About the same")) -> dict[str, Any]:
    """A project config (Toloka's shape) for side-by-side judgments."""
    labels = [LEFT, RIGHT, TIE] if allow_tie else [LEFT, RIGHT]
    keys = {LEFT: "1", RIGHT: "2", TIE: "3"}
    return {
        "public_name": question,
        "public_description": f"{question} Compare the two items side by side.",
        "public_instructions": instructions or (
            f"# {question}\nRead both items, then choose the better one"
            + (", or *About the same* when neither is better." if allow_tie else ".")),
        "task_spec": {
            "input_spec": {"left": {"type": "string", "required": True},
                           "right": {"type": "string", "required": True}},
            "output_spec": {CHOICE: {"type": "string", "allowed_values": labels}},
            "view_spec": {"type": "classification", "interface": "text",
                          "labels": [{"value": label, "title": title, "key": keys[label]}
                                     for label, title in zip(labels, titles, strict=False)]},
        },
    }


def pairwise_tasks(pool_id: str, pairs: Iterable[tuple[str, str]], *,
                   overlap: int | None = None) -> list[dict[str, Any]]:
    """One task per (left item, right item); the items are their ids or texts."""
    tasks = []
    for left, right in pairs:
        if str(left) == str(right):
            raise InvalidInput(f"a pair compares an item with itself: {left!r}",
                               hint="give two different items per pair")
        task: dict[str, Any] = {"pool_id": pool_id,
                                "input_values": {"left": str(left), "right": str(right)}}
        if overlap is not None:
            task["overlap"] = overlap
        tasks.append(task)
    return tasks


def comparisons(crowd: Any, pool_id: str, *, include_banned: bool = False) -> pd.DataFrame:
    """The pool's answers as (worker, left, right, label): label is the chosen item, or
    ``"tie"``; banned workers' answers are left out unless asked for."""
    answers = crowd.answers_frame(pool_id, include_banned=include_banned)
    items = {task.id: task.input_values for task in crowd.list_tasks(pool_id)}
    unknown = set(answers["label"]) - {LEFT, RIGHT, TIE}
    if unknown:
        raise InvalidInput(f"pool {pool_id} is not a pairwise pool: it has the labels "
                           f"{sorted(map(str, unknown))[:5]}",
                           hint="create its project with pairwise_project()")
    left = answers["task"].map(lambda task: items[task]["left"])
    right = answers["task"].map(lambda task: items[task]["right"])
    chosen = answers["label"].map({LEFT: 0, RIGHT: 1, TIE: 2})
    label = left.where(chosen == 0, right.where(chosen == 1, TIE))
    return pd.DataFrame({"worker": answers["worker"], "task": answers["task"],
                         "left": left, "right": right, "label": label})


def rank(crowd: Any, pool_id: str, model: Any = None) -> pd.Series:
    """Scores of the pool's items, best first: ``model`` (default ``BradleyTerry(n_iter=100)``,
    or e.g. ``NoisyBradleyTerry()``) fitted on ``comparisons(crowd, pool_id)``."""
    from crowdline.aggregate import BradleyTerry

    model = BradleyTerry(n_iter=100) if model is None else model
    return model.fit(comparisons(crowd, pool_id)).scores_.sort_values(ascending=False)
