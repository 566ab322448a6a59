"""crowd-kit 0.0.x's ``DawidSkene`` as the seed calls it: answers with columns ``task``,
``performer`` (crowd-kit's name before 1.0) and ``label``; backed by crowdline.aggregate."""

from __future__ import annotations

import pandas as pd

from crowdline.aggregate import DawidSkene as _CrowdlineDawidSkene


class DawidSkene:
    def __init__(self, n_iter: int = 100) -> None:
        self.n_iter = n_iter

    def fit_predict(self, data: pd.DataFrame) -> pd.Series:
        answers = data.rename(columns={"performer": "worker"})[["task", "worker", "label"]]
        return _CrowdlineDawidSkene(n_iter=self.n_iter).fit(answers).labels_
