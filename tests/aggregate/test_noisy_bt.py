"""Noisy Bradley-Terry: what it promises, and equality with crowd-kit 1.4.2 (oracle venv)."""

from __future__ import annotations

import pandas as pd
import pytest
from crowd_simulation import assert_table_equal, pair, run_both, simulated_comparisons
from scipy.stats import spearmanr

from crowdline.aggregate import NoisyBradleyTerry
from crowdline.errors import InvalidInput


def test_scores_follow_strength_and_random_clickers_look_less_skilled() -> None:
    data, strength = simulated_comparisons(20, 3000, seed=4)
    model = NoisyBradleyTerry(n_iter=200).fit(data)
    assert spearmanr(model.scores_, strength.reindex(model.scores_.index)).statistic > 0.8
    assert model.scores_.between(0, 1).all()
    assert list(model.skills_.index) == sorted(model.skills_.index)
    assert (model.skills_.name, model.biases_.name, model.scores_.name) == (
        "skill", "bias", "agg_score")
    assert model.scores_.index.name == "label"


def test_same_seed_same_result_and_zero_iterations_keep_the_start() -> None:
    data, _ = simulated_comparisons(8, 300, seed=5)
    one, two = NoisyBradleyTerry(n_iter=20).fit(data), NoisyBradleyTerry(n_iter=20).fit(data)
    pd.testing.assert_series_equal(one.scores_, two.scores_)
    untrained = NoisyBradleyTerry(n_iter=0, random_state=3).fit(data)
    assert set(untrained.scores_.index) == set(data["left"]) | set(data["right"])


def test_bad_input_is_refused() -> None:
    no_worker = pd.DataFrame({"left": ["a"], "right": ["b"], "label": ["a"]})
    with pytest.raises(InvalidInput, match="worker"):
        NoisyBradleyTerry().fit(no_worker)
    with pytest.raises(InvalidInput):
        NoisyBradleyTerry(n_iter=-2)


def decided(comparisons: pd.DataFrame) -> pd.DataFrame:
    return comparisons[comparisons["label"] != "tie"]


def test_ties_are_left_out_where_crowdkit_would_make_them_an_item() -> None:
    data, _ = simulated_comparisons(12, 600, seed=9, tie_share=0.2)
    with_ties = NoisyBradleyTerry(n_iter=50).fit(data)
    without = NoisyBradleyTerry(n_iter=50).fit(decided(data))
    assert "tie" not in with_ties.scores_.index
    pd.testing.assert_series_equal(with_ties.scores_, without.scores_)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    frames = {"plain": simulated_comparisons(15, 1500, seed=6)[0],
              "ties": decided(simulated_comparisons(30, 2500, seed=7, tie_share=0.1)[0])}
    jobs = [{"name": f"{key}-{n}", "method": "NoisyBradleyTerry", "answers": key,
             "params": {"n_iter": n}} for key in frames for n in (0, 5, 100)]
    return run_both(tmp_path_factory.mktemp("nbt"), [jobs], frames)


@pytest.mark.slow
@pytest.mark.parametrize("data", ["plain", "ties"])
@pytest.mark.parametrize("n_iter", [0, 5, 100])
def test_equals_crowdkit(results: dict, data: str, n_iter: int) -> None:
    oracle, ours = pair(results, f"{data}-{n_iter}")
    for table in ("scores", "skills", "biases"):
        assert_table_equal(oracle, ours, table, tolerance=1e-6, ordered=True)
