"""Gold Majority Vote: majority vote weighted by each worker's accuracy on honeypots."""

from __future__ import annotations

import pandas as pd

from crowdline.aggregate.base import (
    Aggregator,
    encode_answers,
    encode_task_labels,
    labels_series,
    probas_frame,
    worker_accuracy_against,
)
from crowdline.aggregate.majority_vote import vote, worker_weights


class GoldMajorityVote(Aggregator):
    """``fit(answers, true_labels)`` scores workers on the tasks with a known label (a Series
    by task), then weighs every vote by its worker's score. Every worker in ``answers`` must
    have answered at least one gold task, as in crowd-kit."""

    skills_: pd.Series

    def fit(self, answers: pd.DataFrame, true_labels: pd.Series) -> GoldMajorityVote:
        encoded = encode_answers(answers)
        truth = encode_task_labels(encoded, true_labels, what="true_labels")
        skills = worker_accuracy_against(encoded, truth)
        weights = worker_weights(encoded, skills, what="the honeypot accuracies (answer at "
                                 "least one gold task per worker)")
        probas = vote(encoded, weights)
        self.skills_ = skills
        self.probas_ = probas_frame(encoded, probas)
        self.labels_ = labels_series(encoded, probas, ties="sorted")
        return self
