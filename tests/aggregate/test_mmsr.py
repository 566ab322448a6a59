"""M-MSR: what it promises, and equality with crowd-kit 1.4.2 (oracle venv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from aggregate_oracle import crowd_data
from crowd_simulation import (
    accuracy,
    add_real,
    assert_labels_equal,
    assert_table_equal,
    pair,
    real_sets,
    run_both,
    simulated_answers,
)

from crowdline.aggregate import MMSR, MajorityVote
from crowdline.errors import InvalidInput


def test_experts_get_higher_skills_and_labels_beat_majority() -> None:
    answers, truth = simulated_answers(600, seed=31, overlap=7)
    model = MMSR().fit(answers)
    spammers = [f"w{i}" for i in range(34, 40)]
    assert model.skills_[spammers].max() < model.skills_.drop(spammers).median()
    assert list(model.skills_.index) == list(pd.unique(answers["worker"]))  # crowd-kit's order
    assert accuracy(model.labels_, truth) >= accuracy(MajorityVote().fit(answers).labels_, truth)
    assert model.loss_history_[-1] < 1e-10
    assert set(model.scores_.columns) == {"cat", "dog", "fox"}


def test_predict_score_uses_the_fitted_skills() -> None:
    answers, _ = simulated_answers(200, seed=32)
    model = MMSR().fit(answers)
    part = answers[answers["task"].isin(["t1", "t2"])]
    weighted = MajorityVote().fit(part, model.skills_)
    assert model.predict(part).to_dict() == weighted.labels_.to_dict()
    assert np.allclose(model.predict_score(part).to_numpy(), weighted.probas_.to_numpy())
    with pytest.raises(InvalidInput, match="not fitted"):
        MMSR().predict(part)


def test_a_repeated_answer_counts_as_the_last_one() -> None:
    answers, _ = simulated_answers(120, seed=33)
    repeated = pd.concat([answers, answers.iloc[:5].assign(label="fox")], ignore_index=True)
    last_only = pd.concat([answers.drop(index=answers.index[:5]),
                           answers.iloc[:5].assign(label="fox")])
    one, two = MMSR().fit(repeated), MMSR().fit(last_only)
    assert np.allclose(one.skills_.sort_index(), two.skills_.sort_index())


def test_one_label_is_refused() -> None:
    answers = pd.DataFrame({"task": [1, 2], "worker": ["a", "b"], "label": ["x", "x"]})
    with pytest.raises(InvalidInput, match="at least 2"):
        MMSR().fit(answers)
    with pytest.raises(InvalidInput):
        MMSR(n_iter=-1)


@pytest.mark.realdata
def test_fails_clearly_where_crowdkit_ends_with_nan_skills() -> None:
    # product: 3 answers per task; a worker's v reaches 0 and 0/0 follows. crowd-kit 1.4.2's
    # fit ends with NaN skills and its predict raises "Skill value is missing".
    answers, _ = crowd_data("product")
    with pytest.raises(InvalidInput, match="could not estimate") as raised:
        MMSR(n_iter=3).fit(answers)
    assert isinstance(raised.value, ValueError)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    frames = {"synthetic": simulated_answers()[0]}
    add_real(frames, "dogs")
    jobs = [{"name": f"{key}-{n}", "method": "MMSR", "answers": key, "params": {"n_iter": n}}
            for key in frames for n in (1, 3, 10000)]
    return run_both(tmp_path_factory.mktemp("mmsr"), [jobs], frames)


@pytest.mark.slow
@pytest.mark.parametrize(("data", "n_iter"), [("synthetic", 1), ("synthetic", 10000),
                                              *real_sets(("dogs", 3), ("dogs", 10000))])
def test_equals_crowdkit(results: dict, data: str, n_iter: int) -> None:
    oracle, ours = pair(results, f"{data}-{n_iter}")
    assert_labels_equal(oracle, ours)
    assert_table_equal(oracle, ours, "skills", ordered=True)
    assert_table_equal(oracle, ours, "scores")
    assert oracle.meta["iterations"] == ours.meta["iterations"]


def test_empty_answers_give_empty_results_and_a_missing_column_a_key_error() -> None:
    model = MMSR().fit(pd.DataFrame({"task": [], "worker": [], "label": []}))
    assert model.labels_.empty
    assert model.labels_.name == "agg_label"
    with pytest.raises(KeyError):  # MissingColumns, what crowd-kit's users catch
        MMSR().fit(pd.DataFrame({"task": ["t"], "label": ["x"]}))
