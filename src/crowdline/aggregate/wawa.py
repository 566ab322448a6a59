"""Wawa (worker agreement with aggregate): majority vote weighted by each worker's agreement
with the plain majority vote."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crowdline.aggregate.base import (
    Aggregator,
    encode_answers,
    labels_series,
    probas_frame,
    worker_accuracy_against,
)
from crowdline.aggregate.majority_vote import vote


class Wawa(Aggregator):
    """Skills are agreement with the unweighted majority; labels are the skill-weighted vote."""

    skills_: pd.Series

    def fit(self, answers: pd.DataFrame) -> Wawa:
        encoded = encode_answers(answers)
        majority = np.argmax(vote(encoded), axis=1)
        skills = worker_accuracy_against(encoded, majority)
        probas = vote(encoded, skills.to_numpy()[encoded.worker])
        self.skills_ = skills
        self.probas_ = probas_frame(encoded, probas)
        self.labels_ = labels_series(encoded, probas, ties="sorted")
        return self
