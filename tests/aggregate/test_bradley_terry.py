"""Bradley-Terry: what it promises, and equality with crowd-kit 1.4.2 (oracle venv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from crowd_simulation import assert_table_equal, pair, run_both, simulated_comparisons
from scipy.stats import spearmanr

from crowdline.aggregate import BradleyTerry
from crowdline.errors import InvalidInput


def comparisons(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame([("w", *row) for row in rows], columns=["worker", "left", "right", "label"])


def test_scores_rank_items_by_their_true_strength() -> None:
    data, strength = simulated_comparisons(seed=1)
    model = BradleyTerry(n_iter=500).fit(data)
    assert model.scores_.sum() == pytest.approx(1.0)
    assert list(model.scores_.index) == sorted(strength.index)
    assert spearmanr(model.scores_, strength.reindex(model.scores_.index)).statistic > 0.9
    assert model.loss_history_[-1] < 1e-5  # stopped on convergence
    assert len(model.loss_history_) < 499


def test_a_cycle_gives_equal_scores_and_a_dominant_item_wins() -> None:
    cycle = comparisons([("a", "b", "a"), ("b", "c", "b"), ("c", "a", "c")])
    assert BradleyTerry(n_iter=50).fit(cycle).scores_.to_numpy() == pytest.approx([1 / 3] * 3)
    chain = comparisons([("a", "b", "a"), ("b", "c", "b"), ("c", "a", "a")])
    scores = BradleyTerry(n_iter=10, tol=0).fit(chain).scores_
    assert scores.idxmax() == "a"
    assert scores["c"] == 0.0  # never chosen


def test_ties_and_answers_naming_neither_side_count_for_nobody() -> None:
    base = comparisons([("a", "b", "a"), ("b", "a", "b"), ("a", "b", "a")])
    with_ties = pd.concat([base, comparisons([("a", "b", "tie")] * 5)])
    expected = BradleyTerry(n_iter=20).fit(base).scores_
    got = BradleyTerry(n_iter=20).fit(with_ties).scores_
    assert got.to_numpy() == pytest.approx(expected.to_numpy())


def test_zero_iterations_and_empty_input() -> None:
    cycle = comparisons([("a", "b", "a"), ("b", "c", "b")])
    assert BradleyTerry(n_iter=0).fit(cycle).scores_.to_dict() == pytest.approx(
        {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    empty = BradleyTerry(n_iter=5).fit(comparisons([])).scores_
    assert empty.empty
    assert empty.name == "agg_score"


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="columns"):
        BradleyTerry(n_iter=1).fit(pd.DataFrame({"left": ["a"], "right": ["b"]}))
    with pytest.raises(InvalidInput, match="no label"):
        BradleyTerry(n_iter=1).fit(comparisons([("a", "b", None)]))
    with pytest.raises(InvalidInput, match="sorted"):
        BradleyTerry(n_iter=1).fit(comparisons([("a", 1, "a")]))
    with pytest.raises(InvalidInput):
        BradleyTerry(n_iter=-1)


def decided(comparisons: pd.DataFrame) -> pd.DataFrame:
    return comparisons[comparisons["label"] != "tie"]


def test_ties_are_left_out_where_crowdkit_would_make_them_an_item() -> None:
    data, _ = simulated_comparisons(12, 600, seed=9, tie_share=0.2)
    with_ties = BradleyTerry(n_iter=50, tol=0).fit(data)
    without = BradleyTerry(n_iter=50, tol=0).fit(decided(data))
    assert "tie" not in with_ties.scores_.index
    pd.testing.assert_series_equal(with_ties.scores_, without.scores_)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    frames = {"plain": simulated_comparisons(seed=2)[0],
              "ties": decided(simulated_comparisons(40, 5000, seed=3, tie_share=0.1)[0])}
    jobs = [{"name": f"{key}-{n}", "method": "BradleyTerry", "answers": key,
             "params": {"n_iter": n, "tol": 0}} for key in frames for n in (0, 1, 10, 200)]
    return run_both(tmp_path_factory.mktemp("bt"), [jobs], frames)


@pytest.mark.slow
@pytest.mark.parametrize("data", ["plain", "ties"])
@pytest.mark.parametrize("n_iter", [0, 1, 10, 200])
def test_equals_crowdkit_with_tol_zero(results: dict, data: str, n_iter: int) -> None:
    # crowd-kit stops after two iterations whenever tol > 0 (see the README): compare at 0.
    oracle, ours = pair(results, f"{data}-{n_iter}")
    assert assert_table_equal(oracle, ours, "scores", tolerance=1e-12, ordered=True) >= 0
    assert np.isclose(ours.table("scores").sum(), 1.0)
