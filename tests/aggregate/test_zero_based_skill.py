"""Zero-Based Skill: what it promises, and equality with crowd-kit 1.4.2 (oracle venv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
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

from crowdline.aggregate import MajorityVote, ZeroBasedSkill
from crowdline.errors import InvalidInput


def test_skills_separate_experts_from_spammers_and_beat_majority() -> None:
    answers, truth = simulated_answers(600, seed=3)
    model = ZeroBasedSkill().fit(answers)
    spammers = [f"w{i}" for i in range(34, 40)]
    assert model.skills_[spammers].max() < model.skills_.drop(spammers).median()
    assert accuracy(model.labels_, truth) >= accuracy(MajorityVote().fit(answers).labels_, truth)
    assert np.allclose(model.probas_.sum(axis=1), 1.0)
    assert list(model.skills_.index) == sorted(model.skills_.index)  # crowd-kit's order
    assert model.skills_.name == "skill"


def test_zero_iterations_is_a_plain_vote_with_the_starting_skill() -> None:
    answers = pd.DataFrame({"task": ["a", "a", "a", "b", "b"], "worker": [1, 2, 3, 1, 2],
                            "label": ["x", "y", "y", "x", "y"]})
    model = ZeroBasedSkill(n_iter=0).fit(answers)
    assert model.skills_.tolist() == pytest.approx([0.5 + 1e-5] * 3)
    assert model.labels_.to_dict() == {"a": "y", "b": "x"}  # a tie goes to the smallest label
    assert model.probas_.loc["a", "y"] == pytest.approx(2 / 3)


def test_predict_votes_on_new_answers_with_the_fitted_skills() -> None:
    answers, _ = simulated_answers(200, seed=5)
    model = ZeroBasedSkill(n_iter=20).fit(answers)
    skills = model.skills_.copy()
    later = answers[answers["task"].isin(["t1", "t2", "t3"])].assign(task=lambda f: "new-" + f.task)
    labels = model.predict(later)
    assert set(labels.index) == {"new-t1", "new-t2", "new-t3"}
    weighted = MajorityVote().fit(later, skills)
    assert labels.to_dict() == weighted.labels_.to_dict()
    assert model.predict_proba(later).loc["new-t1"].sum() == pytest.approx(1.0)
    pd.testing.assert_series_equal(model.skills_, skills)  # predicting does not refit


def test_predict_refuses_workers_it_has_no_skill_for() -> None:
    answers, _ = simulated_answers(50, seed=5)
    model = ZeroBasedSkill(n_iter=5).fit(answers)
    stranger = pd.DataFrame({"task": ["t1"], "worker": ["nobody"], "label": ["cat"]})
    with pytest.raises(InvalidInput, match="no fitted skill"):
        model.predict(stranger)
    with pytest.raises(InvalidInput, match="not fitted"):
        ZeroBasedSkill().predict(answers)


def test_bad_settings_and_answers_are_refused() -> None:
    with pytest.raises(InvalidInput):
        ZeroBasedSkill(n_iter=-1)
    with pytest.raises(InvalidInput):
        ZeroBasedSkill(lr_steps_to_reduce=0)
    with pytest.raises(InvalidInput):
        ZeroBasedSkill().fit(pd.DataFrame({"task": [1], "label": ["x"]}))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    frames = {"synthetic": simulated_answers()[0]}
    for name in ("dogs", "product"):
        add_real(frames, name)
    jobs = [{"name": f"{key}-{n}", "method": "ZeroBasedSkill", "answers": key,
             "params": {"n_iter": n}} for key in frames for n in (3, 100)]
    return run_both(tmp_path_factory.mktemp("zbs"), [jobs], frames)


@pytest.mark.slow
@pytest.mark.parametrize("data", ["synthetic", *real_sets("dogs", "product")])
@pytest.mark.parametrize("n_iter", [3, 100])
def test_equals_crowdkit(results: dict, data: str, n_iter: int) -> None:
    oracle, ours = pair(results, f"{data}-{n_iter}")
    assert_labels_equal(oracle, ours)
    assert_table_equal(oracle, ours, "probas")
    assert_table_equal(oracle, ours, "skills", ordered=True)


def test_empty_answers_give_empty_results_and_a_missing_column_a_key_error() -> None:
    model = ZeroBasedSkill().fit(pd.DataFrame({"task": [], "worker": [], "label": []}))
    assert model.labels_.empty
    assert model.labels_.name == "agg_label"
    with pytest.raises(KeyError):  # MissingColumns, what crowd-kit's users catch
        ZeroBasedSkill().fit(pd.DataFrame({"task": ["t"], "label": ["x"]}))
