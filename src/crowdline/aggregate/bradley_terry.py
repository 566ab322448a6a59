"""Pairwise comparisons → item scores: the Bradley-Terry model (Hunter's MM algorithm).

Comparisons are a DataFrame with one row per judgment: ``worker``, ``left``, ``right`` (the two
items shown) and ``label`` (the item the worker chose: equal to ``left`` or ``right``; any
other value — a tie, "can't tell" — is no win for either side and is ignored by
Bradley-Terry). Results follow crowd-kit: ``scores_``, a Series by item (items sorted),
summing to 1, where P(i beats j) = p_i / (p_i + p_j).

    >>> BradleyTerry(n_iter=100).fit(comparisons).scores_.sort_values()   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crowdline.aggregate.base import require_columns
from crowdline.errors import InvalidInput

COMPARISON_COLUMNS = ("left", "right", "label")
TIE = -1  # the label names neither side


@dataclass(frozen=True)
class EncodedComparisons:
    """Item codes (into the sorted ``items``) of each comparison's two sides and choice."""

    left: np.ndarray
    right: np.ndarray
    label: np.ndarray
    items: pd.Index

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def left_won(self) -> np.ndarray:
        return self.label == self.left

    @property
    def right_won(self) -> np.ndarray:
        return self.label == self.right

    def without_ties(self) -> EncodedComparisons:
        keep = self.label != TIE
        return EncodedComparisons(self.left[keep], self.right[keep], self.label[keep], self.items)

    def win_matrix(self) -> np.ndarray:
        """(items × items): entry (i, j) = how often i was chosen over j."""
        n = self.n_items
        flat = np.bincount(self.left[self.left_won] * n + self.right[self.left_won],
                           minlength=n * n)
        flat += np.bincount(self.right[self.right_won] * n + self.left[self.right_won],
                            minlength=n * n)
        return flat.reshape(n, n)


def encode_comparisons(comparisons: pd.DataFrame, *, columns: tuple[str, ...] = COMPARISON_COLUMNS
                       ) -> EncodedComparisons:
    """Check ``comparisons`` and code their items (sorted, as crowd-kit's ``np.unique``); a
    label that names neither side is coded ``TIE``. Items are the values of ``left`` and
    ``right`` only: crowd-kit also makes every other label value an item, which turns a tie
    into a phantom item (Bradley-Terry scores all NaN) or, in Noisy BT, a right-side win."""
    require_columns(comparisons, "comparisons", columns)
    for column in columns:
        empty = int(comparisons[column].isna().sum())
        if empty:
            raise InvalidInput(f"{empty} comparisons have no {column} (NaN/None)",
                               hint=f"drop the rows without a {column} first")
    sides = comparisons[["left", "right"]].to_numpy().ravel()
    try:
        items, codes = np.unique(sides, return_inverse=True)
    except TypeError as error:
        raise InvalidInput(f"the items cannot be sorted: {error}",
                           hint="give every item an id of one type (all str or all int)") from error
    codes = codes.reshape(-1, 2).astype(np.int64)
    label = comparisons["label"].to_numpy()
    chosen = np.where(label == comparisons["left"].to_numpy(), codes[:, 0],
                      np.where(label == comparisons["right"].to_numpy(), codes[:, 1], TIE))
    return EncodedComparisons(left=codes[:, 0], right=codes[:, 1], label=chosen,
                              items=pd.Index(items))


class BradleyTerry:
    """Bradley-Terry scores by the MM algorithm: p_i ← wins_i / Σ_j n_ij / (p_i + p_j), then
    normalised to sum 1, from p = 1/n, for ``n_iter`` iterations or until the scores move by
    less than ``tol`` (L1). The comparison graph should be strongly connected; an item that
    never wins gets score 0.

    Equal to crowd-kit 1.4.2 with ``tol=0``. With ``tol > 0`` crowd-kit stops after the second
    iteration whatever the change (it compares the scores with themselves); this class stops
    when they have converged (a deliberate difference, listed in the README).
    """

    scores_: pd.Series
    loss_history_: list[float]

    def __init__(self, n_iter: int, tol: float = 1e-5) -> None:
        if n_iter < 0:
            raise InvalidInput(f"n_iter must be >= 0, got {n_iter}", hint="e.g. 100")
        self.n_iter = n_iter
        self.tol = tol

    def fit(self, comparisons: pd.DataFrame) -> BradleyTerry:
        encoded = encode_comparisons(comparisons)
        self.loss_history_ = []
        if encoded.n_items == 0:
            self.scores_ = pd.Series([], dtype=np.float64, name="agg_score")
            return self
        wins = encoded.win_matrix()
        pairs = (wins + wins.T).astype(float)
        active = pairs > 0
        rows, cols = np.nonzero(active)
        won = wins.sum(axis=1).astype(float)
        scores = np.full(encoded.n_items, 1.0 / encoded.n_items)
        weights = np.zeros_like(pairs)
        for iteration in range(self.n_iter):
            with np.errstate(divide="ignore", invalid="ignore"):
                weights[rows, cols] = pairs[rows, cols] / (scores[cols] + scores[rows])
                new = won / weights.sum(axis=0)
                new /= new.sum()
            change = float(np.abs(new - scores).sum())
            scores = new
            if iteration > 0:  # as in crowd-kit, the first step is never the last
                self.loss_history_.append(change)
                if change < self.tol:
                    break
        self.scores_ = pd.Series(scores, index=encoded.items, name="agg_score")
        return self

    def fit_predict(self, comparisons: pd.DataFrame) -> pd.Series:
        return self.fit(comparisons).scores_
