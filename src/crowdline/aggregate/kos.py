"""KOS (Karger, Oh and Shah, 2011): message passing between tasks and workers, binary labels.

Each answer a = (task i, worker j) carries a sign A = ±1 (+1 for the label seen first) and two
messages: x (what the other workers of task i say) and y (how reliable worker j looks on the
other tasks). One iteration: x_a = Σ_{a' on i, a' ≠ a} A·y, then y_a = Σ_{a' by j, a' ≠ a} A·x.
Vectorised as per-task and per-worker sums (``np.bincount``) minus the answer's own term.
As in crowd-kit 1.4.2: y starts from N(1, 1) draws of ``np.random.RandomState(random_state)``
(one per answer, in row order), and iterating stops early once a sum exceeds 1e300, so the
labels agree with crowd-kit's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crowdline.aggregate.base import Aggregator, empty_labels, encode_answers, index_order
from crowdline.errors import InvalidInput

LIMIT = 1e300  # crowd-kit's guard against overflow to inf/NaN


class KOS(Aggregator):
    """Binary labels only (exactly two distinct labels). ``labels_`` by task; no probabilities
    (KOS gives a score's sign, not a posterior). ``scores_`` is the final per-task sum
    Σ A·y: positive for the label seen first, negative for the other.

    >>> KOS(n_iter=10).fit(answers).labels_          # doctest: +SKIP
    """

    scores_: pd.Series

    def __init__(self, n_iter: int = 100, random_state: int = 0) -> None:
        if n_iter < 0:
            raise InvalidInput(f"n_iter must be >= 0, got {n_iter}", hint="100 is the default")
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, answers: pd.DataFrame) -> KOS:
        encoded = encode_answers(answers)
        if encoded.empty:
            self.scores_ = pd.Series(dtype=float, name="score")
            self.labels_ = empty_labels("object")
            return self
        if encoded.n_classes != 2:
            raise InvalidInput(f"KOS is for binary labels, but the answers hold "
                               f"{encoded.n_classes} distinct labels {list(encoded.classes)[:5]}",
                               hint="use DawidSkene or MajorityVote for more than two labels")
        sign = np.where(encoded.label == 0, 1.0, -1.0)
        reliability = np.random.RandomState(self.random_state).normal(1, 1, size=len(sign))
        task, worker = encoded.task, encoded.worker
        for _ in range(self.n_iter):
            vote = sign * reliability
            total = np.bincount(task, weights=vote, minlength=encoded.n_tasks)[task]
            if (np.abs(total) > LIMIT).any():
                break
            inferred = total - vote
            vote = sign * inferred
            total = np.bincount(worker, weights=vote, minlength=encoded.n_workers)[worker]
            if (np.abs(total) > LIMIT).any():
                break
            reliability = total - vote
        scores = np.bincount(task, weights=sign * reliability, minlength=encoded.n_tasks)
        order = index_order(encoded.tasks, True)  # crowd-kit's groupby sorts the tasks
        tasks = encoded.tasks if order is None else encoded.tasks[order]
        scores = scores if order is None else scores[order]
        self.scores_ = pd.Series(scores, index=tasks, name="score")
        # A score of exactly 0 (crowd-kit raises KeyError there) goes to the label seen first.
        codes = np.where(scores >= 0, 0, 1)
        self.labels_ = pd.Series(encoded.classes.to_numpy()[codes], index=tasks,
                                 name="agg_label")
        return self
