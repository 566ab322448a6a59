"""KOS: what it promises, and equality with crowd-kit 1.4.2 (oracle venv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from crowd_simulation import (
    accuracy,
    add_real,
    assert_labels_equal,
    pair,
    real_sets,
    run_both,
    simulated_answers,
)

from crowdline.aggregate import KOS, MajorityVote
from crowdline.errors import InvalidInput


def test_binary_labels_recovered_at_least_as_well_as_majority() -> None:
    answers, truth = simulated_answers(800, n_classes=2, seed=4)
    model = KOS(n_iter=10).fit(answers)
    assert accuracy(model.labels_, truth) >= accuracy(MajorityVote().fit(answers).labels_, truth)
    assert accuracy(model.labels_, truth) > 0.9
    assert set(model.labels_.index) == set(truth.index)
    assert model.labels_.name == "agg_label"
    # the score's sign is the label: positive for the label seen first
    first = answers["label"].iloc[0]
    assert ((model.scores_ > 0) == (model.labels_ == first)).all()


def test_same_seed_same_labels_and_the_seed_matters_to_scores() -> None:
    answers, _ = simulated_answers(200, n_classes=2, seed=8)
    one = KOS(n_iter=5, random_state=1).fit(answers)
    two = KOS(n_iter=5, random_state=1).fit(answers)
    pd.testing.assert_series_equal(one.scores_, two.scores_)
    other = KOS(n_iter=5, random_state=2).fit(answers)
    assert not np.allclose(one.scores_, other.scores_)


def test_bool_labels_and_unanimous_tasks() -> None:
    answers = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2, 3, 3, 3],
                            "worker": ["a", "b", "c"] * 3,
                            "label": [True, True, True, False, False, False, True, True, False]})
    right = {1: True, 2: False, 3: True}
    assert KOS(n_iter=1).fit(answers).labels_.to_dict() == right
    # KOS is symmetric in the sign: on so few answers the messages can converge to the mirror
    # image (crowd-kit gives the same flipped labels from 3 iterations on).
    flipped = {task: not label for task, label in right.items()}
    assert KOS(n_iter=10).fit(answers).labels_.to_dict() in (right, flipped)


def test_more_than_two_labels_is_refused_with_a_value_error() -> None:
    answers, _ = simulated_answers(30, n_classes=3)
    with pytest.raises(InvalidInput, match="binary") as raised:
        KOS().fit(answers)
    assert isinstance(raised.value, ValueError)  # what crowd-kit users catch
    with pytest.raises(InvalidInput):
        KOS(n_iter=-1)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    frames = {"synthetic": simulated_answers(n_classes=2)[0]}
    add_real(frames, "product")
    jobs = [{"name": f"{key}-{n}", "method": "KOS", "answers": key,
             "params": {"n_iter": n, "random_state": seed}}
            for key in frames for n, seed in ((1, 0), (10, 3), (100, 0))]
    return run_both(tmp_path_factory.mktemp("kos"), [jobs], frames)


@pytest.mark.slow
@pytest.mark.parametrize("data", ["synthetic", *real_sets("product")])
@pytest.mark.parametrize("n_iter", [1, 10, 100])
def test_equals_crowdkit(results: dict, data: str, n_iter: int) -> None:
    oracle, ours = pair(results, f"{data}-{n_iter}")
    assert_labels_equal(oracle, ours)


def test_empty_answers_give_empty_results_and_a_missing_column_a_key_error() -> None:
    model = KOS().fit(pd.DataFrame({"task": [], "worker": [], "label": []}))
    assert model.labels_.empty
    assert model.labels_.name == "agg_label"
    with pytest.raises(KeyError):  # MissingColumns, what crowd-kit's users catch
        KOS().fit(pd.DataFrame({"task": ["t"], "label": ["x"]}))
