"""Majority Vote: the label with the most votes (or the largest sum of worker skills)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from crowdline.aggregate.base import (
    VOTES_SORTED,
    Aggregator,
    EncodedAnswers,
    empty_labels,
    encode_answers,
    lay_out,
    worker_accuracy_against,
)
from crowdline.errors import InvalidInput

OnMissingSkill = Literal["error", "ignore", "value"]
ON_MISSING_SKILL = ("error", "ignore", "value")


def skills_by_worker(encoded: EncodedAnswers, skills: pd.Series, *,
                     what: str = "skills") -> np.ndarray:
    """The skill of each worker in the answers (NaN where ``skills`` has none)."""
    if not isinstance(skills, pd.Series):
        raise InvalidInput(f"{what} must be a pandas Series indexed by worker, got "
                           f"{type(skills).__name__}", hint="pass e.g. Wawa().fit(a).skills_")
    unique = skills[~skills.index.duplicated(keep="last")]
    return unique.reindex(encoded.workers).to_numpy(dtype=float, copy=True)


def worker_weights(encoded: EncodedAnswers, skills: pd.Series, *,
                   what: str = "skills") -> np.ndarray:
    """The skill of each answer's worker; every worker in the answers must have one."""
    by_worker = skills_by_worker(encoded, skills, what=what)
    unknown = np.isnan(by_worker)
    if unknown.any():
        missing = list(encoded.workers[unknown][:5])
        raise InvalidInput(f"{int(unknown.sum())} workers in the answers have no skill, e.g. "
                           f"{missing}", hint=f"give every worker a value in {what}, or drop "
                           "their answers (MajorityVote(on_missing_skill='ignore'))")
    return by_worker[encoded.worker]


def vote(encoded: EncodedAnswers, weights: np.ndarray | None = None) -> np.ndarray:
    """(tasks × classes) vote shares: counts, or sums of ``weights``, normalised per task
    (in place: one tasks × classes array)."""
    shares = encoded.task_label_counts(weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares /= shares.sum(axis=1, keepdims=True)
    return shares


def drop_unskilled(answers: pd.DataFrame, encoded: EncodedAnswers,
                   skills: pd.Series) -> pd.DataFrame:
    """``answers`` without the rows of workers who have no skill (``on_missing_skill="ignore"``);
    every task must keep at least one answer."""
    known = ~np.isnan(skills_by_worker(encoded, skills))[encoded.worker]
    kept = np.bincount(encoded.task[known], minlength=encoded.n_tasks)
    if (kept == 0).any():
        raise InvalidInput(f"{int((kept == 0).sum())} tasks have no answer from a worker with a "
                           "known skill", hint="give a skill to at least one worker of every "
                           "task, or use on_missing_skill='value' with a default_skill")
    return answers[known]


class MajorityVote(Aggregator):
    """Each task gets its most frequent label; ``fit(answers, skills)`` weighs votes by skill.

    ``skills_`` is each worker's agreement with the aggregated labels (workers sorted).
    ``on_missing_skill`` says what to do with answers of workers missing from ``skills``:
    ``"error"`` (default) refuses them, ``"ignore"`` drops them (every task must keep one),
    ``"value"`` weighs them by ``default_skill``. As in crowd-kit.

    >>> MajorityVote().fit(answers).labels_          # doctest: +SKIP
    """

    skills_: pd.Series

    def __init__(self, default_skill: float | None = None,
                 on_missing_skill: OnMissingSkill = "error") -> None:
        if on_missing_skill not in ON_MISSING_SKILL:
            raise InvalidInput(f"on_missing_skill must be one of {list(ON_MISSING_SKILL)}, got "
                               f"{on_missing_skill!r}", hint="'error' is the default")
        self.default_skill = default_skill
        self.on_missing_skill = on_missing_skill

    def _weights(self, answers: pd.DataFrame, encoded: EncodedAnswers, skills: pd.Series,
                 what: str) -> tuple[EncodedAnswers, np.ndarray]:
        if self.default_skill is not None and self.on_missing_skill != "value":
            raise InvalidInput("default_skill is used but on_missing_skill is not 'value'",
                               hint="pass on_missing_skill='value' with a default_skill")
        if self.on_missing_skill == "value":
            if self.default_skill is None:
                raise InvalidInput("on_missing_skill='value' needs a default_skill",
                                   hint="e.g. MajorityVote(on_missing_skill='value', "
                                   "default_skill=0.5)")
            by_worker = skills_by_worker(encoded, skills)
            by_worker[np.isnan(by_worker)] = float(self.default_skill)
            return encoded, by_worker[encoded.worker]
        if self.on_missing_skill == "ignore":
            encoded = encode_answers(drop_unskilled(answers, encoded, skills))
        return encoded, worker_weights(encoded, skills, what=what)

    def fit(self, answers: pd.DataFrame, skills: pd.Series | None = None) -> MajorityVote:
        return self._fit(answers, skills)

    def _fit(self, answers: pd.DataFrame, skills: pd.Series | None,
             what: str = "skills") -> MajorityVote:
        encoded = encode_answers(answers)
        weights = None
        if skills is not None:
            encoded, weights = self._weights(answers, encoded, skills, what)
        if encoded.empty:
            self.probas_ = pd.DataFrame(index=pd.Index([], name="task"),
                                        columns=pd.Index([], name="label"))
            self.labels_ = empty_labels("object")
            self.skills_ = pd.Series(dtype=float, name="skill").rename_axis("worker")
            return self
        # crowd-kit: value_counts().unstack() for plain votes, groupby().sum() (sorted) for
        # weighted ones
        sort = VOTES_SORTED or weights is not None
        results = lay_out(encoded, vote(encoded, weights), sort_tasks=sort, sort_labels=sort)
        self.probas_ = results.probas
        self.labels_ = results.labels
        self.skills_ = worker_accuracy_against(encoded, results.codes, sort=True)
        return self
