"""Gold Majority Vote: majority vote weighted by each worker's accuracy on honeypots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crowdline.aggregate.base import encode_answers, gold_pairs, worker_accuracy
from crowdline.aggregate.wawa import SkillWeightedVote


class GoldMajorityVote(SkillWeightedVote):
    """``fit(answers, true_labels)`` scores each worker on the tasks with a known label (a
    Series by task; a task may have several, and an answer matching any of them is right);
    ``predict(answers)`` / ``predict_proba(answers)`` weigh every vote by its worker's score,
    so every worker there must have answered a gold task in ``fit``, as in crowd-kit.
    ``fit_predict(answers, true_labels)`` does both on the same answers."""

    skills_come_from = "the honeypot accuracies (answer at least one gold task per worker)"

    def fit(self, answers: pd.DataFrame, true_labels: pd.Series) -> GoldMajorityVote:
        encoded = encode_answers(answers)
        gold_tasks, gold_classes = gold_pairs(encoded, true_labels, what="true_labels")
        has_gold = np.bincount(gold_tasks, minlength=encoded.n_tasks) > 0
        width = max(encoded.n_classes, 1)
        right = np.isin(encoded.task * width + encoded.label,
                        gold_tasks[gold_classes >= 0] * width + gold_classes[gold_classes >= 0])
        self.skills_ = worker_accuracy(encoded, has_gold[encoded.task], right, sort=True)
        return self

    def fit_predict(self, answers: pd.DataFrame,  # type: ignore[override]
                    true_labels: pd.Series) -> pd.Series:
        return self.fit(answers, true_labels).predict(answers)

    def fit_predict_proba(self, answers: pd.DataFrame,  # type: ignore[override]
                          true_labels: pd.Series) -> pd.DataFrame:
        return self.fit(answers, true_labels).predict_proba(answers)
