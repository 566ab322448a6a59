"""crowd-kit's API on crowdline's aggregators, without the oracle: predict / predict_proba,
result names, missing columns, empty answers, skills by default, GLAD's settings, cloning by
public settings (what a BinaryRelevance needs) and the pandas-2 tie rule."""

from __future__ import annotations

import pandas as pd
import pytest

from crowdline.aggregate import (
    GLAD,
    DawidSkene,
    GoldMajorityVote,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
    dawid_skene,
    majority_vote,
    wawa,
)
from crowdline.errors import CrowdlineError, InvalidInput, MissingColumns

ANSWERS = pd.DataFrame(
    [("t2", "ann", "cat"), ("t2", "bob", "cat"), ("t2", "cid", "dog"),
     ("t1", "ann", "dog"), ("t1", "bob", "cat"), ("t1", "cid", "dog"),
     ("t3", "ann", "cat"), ("t3", "bob", "dog"), ("t3", "cid", "dog"),
     ("t4", "ann", "dog"), ("t4", "bob", "cat")],
    columns=["task", "worker", "label"])
GOLD = pd.Series({"t1": "dog", "t2": "cat"})


def every_model() -> list:
    return [MajorityVote(), Wawa(), GoldMajorityVote(), DawidSkene(), OneCoinDawidSkene(),
            GLAD(n_iter=3)]


def fit(model, answers: pd.DataFrame):
    if isinstance(model, GoldMajorityVote):
        return model.fit(answers, GOLD)
    return model.fit(answers)


MODELS = pytest.mark.parametrize("model", every_model(), ids=lambda m: type(m).__name__)


def test_gold_majority_vote_fits_skills_then_predicts_any_answers() -> None:
    model = GoldMajorityVote()
    assert model.fit(ANSWERS, GOLD) is model
    # on t1 (dog) and t2 (cat): ann 2/2, bob 1/2, cid 1/2; sorted by worker
    assert model.skills_.to_dict() == {"ann": 1.0, "bob": 0.5, "cid": 0.5}
    assert list(model.skills_.index) == ["ann", "bob", "cid"]
    later = pd.DataFrame({"task": ["x", "x", "y"], "worker": ["cid", "ann", "bob"],
                          "label": ["cat", "dog", "dog"]})
    labels = model.predict(later)
    assert labels is model.labels_
    assert labels.to_dict() == {"x": "dog", "y": "dog"}  # x: ann's 1.0 beats cid's 0.5
    probas = model.predict_proba(later)
    assert probas is model.probas_
    assert probas.loc["x", "cat"] == pytest.approx(0.5 / 1.5)
    assert model.fit_predict(ANSWERS, GOLD).to_dict() == model.predict(ANSWERS).to_dict()


def test_gold_majority_vote_predict_needs_a_fit_and_a_skill_for_every_worker() -> None:
    with pytest.raises(InvalidInput, match="not fitted"):
        GoldMajorityVote().predict(ANSWERS)
    model = GoldMajorityVote().fit(ANSWERS, GOLD)
    stranger = pd.DataFrame({"task": ["x"], "worker": ["eve"], "label": ["cat"]})
    with pytest.raises(InvalidInput, match=r"1 workers in the answers have no skill.*honeypot"):
        model.predict(stranger)


def test_wawa_predicts_other_answers_with_its_fitted_skills() -> None:
    model = Wawa().fit(ANSWERS)
    assert list(model.skills_.index) == ["ann", "bob", "cid"]
    other = pd.DataFrame({"task": ["z", "z"], "worker": ["ann", "cid"], "label": ["cat", "dog"]})
    assert model.predict(other).to_dict() == {"z": "dog" if model.skills_["cid"] >
                                              model.skills_["ann"] else "cat"}
    assert model.predict_proba(other).loc["z"].sum() == pytest.approx(1.0)


@MODELS
def test_fit_predict_returns_the_fitted_attributes_and_names_follow_crowdkit(model) -> None:
    args = (GOLD,) if isinstance(model, GoldMajorityVote) else ()
    labels = model.fit_predict(ANSWERS, *args)
    assert labels is model.labels_
    assert model.fit_predict_proba(ANSWERS, *args) is model.probas_
    assert labels.name == "agg_label"
    assert model.probas_.index.name == "task"
    for name in ("skills_", "priors_", "alphas_", "betas_"):
        value = getattr(model, name, None)
        if value is not None:
            assert value.name == name[:-2], name  # skill, prior, alpha, beta


@MODELS
@pytest.mark.parametrize("column", ["task", "worker", "label"])
def test_a_missing_column_is_a_key_error_and_a_crowdline_error(model, column: str) -> None:
    answers = ANSWERS.drop(columns=column)
    before = answers.copy()
    with pytest.raises(KeyError) as caught:
        fit(model, answers)
    assert isinstance(caught.value, MissingColumns)
    assert isinstance(caught.value, CrowdlineError)
    assert isinstance(caught.value, InvalidInput)
    assert f"lack the columns ['{column}']" in str(caught.value)
    assert str(caught.value).startswith("answers lack")  # not KeyError's quoted repr
    pd.testing.assert_frame_equal(answers, before)


@pytest.mark.parametrize("call", ["predict", "predict_proba"])
def test_gold_majority_vote_predict_raises_key_error_on_a_missing_column(call: str) -> None:
    model = GoldMajorityVote().fit(ANSWERS, GOLD)
    with pytest.raises(KeyError):
        getattr(model, call)(ANSWERS.drop(columns="task"))


@MODELS
def test_empty_answers_give_empty_results(model) -> None:
    empty = pd.DataFrame([], columns=["task", "worker", "label"])
    if isinstance(model, GoldMajorityVote):
        probas = model.fit_predict_proba(empty, pd.Series(dtype=float))
        assert probas.empty
        assert model.skills_.empty
    else:
        fitted = model.fit(empty)
        assert fitted.labels_.empty
        assert fitted.labels_.name == "agg_label"
        assert fitted.probas_.empty
    for name in ("skills_", "errors_", "alphas_", "betas_"):
        value = getattr(model, name, None)
        assert value is None or value.empty, name


def test_majority_vote_skills_are_sorted_by_worker_like_crowdkit() -> None:
    answers = ANSWERS.assign(worker=ANSWERS["worker"].map({"ann": "zed", "bob": "amy",
                                                          "cid": "kim"}))
    assert list(MajorityVote().fit(answers).skills_.index) == ["amy", "kim", "zed"]
    assert list(Wawa().fit(answers).skills_.index) == ["amy", "kim", "zed"]
    # One-coin Dawid-Skene keeps crowd-kit's first-appearance order
    assert list(OneCoinDawidSkene().fit(answers).skills_.index) == ["zed", "amy", "kim"]


def test_majority_vote_on_missing_skill() -> None:
    skills = pd.Series({"ann": 0.2, "bob": 0.3})  # cid has none
    with pytest.raises(InvalidInput, match="1 workers in the answers have no skill"):
        MajorityVote().fit(ANSWERS, skills)
    valued = MajorityVote(on_missing_skill="value", default_skill=10.0).fit(ANSWERS, skills)
    assert valued.labels_["t2"] == "dog"  # cid's 10 outweighs ann + bob
    ignored = MajorityVote(on_missing_skill="ignore").fit(ANSWERS, skills)
    assert "cid" not in ignored.skills_.index
    assert ignored.labels_["t1"] == "cat"  # bob 0.3 > ann 0.2 without cid
    with pytest.raises(InvalidInput, match="have no answer from a worker with a known skill"):
        MajorityVote(on_missing_skill="ignore").fit(ANSWERS, pd.Series(dtype=float))
    with pytest.raises(InvalidInput, match="on_missing_skill='value' needs a default_skill"):
        MajorityVote(on_missing_skill="value").fit(ANSWERS, skills)
    with pytest.raises(InvalidInput, match="default_skill is used but on_missing_skill"):
        MajorityVote(default_skill=0.5).fit(ANSWERS, skills)
    with pytest.raises(InvalidInput, match="on_missing_skill must be one of"):
        MajorityVote(on_missing_skill="skip")


def test_glad_takes_crowdkits_settings(capsys: pytest.CaptureFixture[str]) -> None:
    model = GLAD(n_iter=2, silent=False, labels_priors=pd.Series({"cat": 0.25, "dog": 0.5,
                                                                   "eel": 0.25}),
                 alphas_priors_mean=2.0, betas_priors_mean=pd.Series({"t1": 0.0})).fit(ANSWERS)
    assert model.priors_.to_dict() == {"cat": 0.25, "dog": 0.5, "eel": 0.25}
    assert list(model.probas_.columns) == ["cat", "dog", "eel"]  # eel: a label nobody gave
    assert (model.probas_["eel"] < model.probas_["cat"]).all()
    assert "GLAD iteration 1: Q = " in capsys.readouterr().err
    plain = GLAD().fit(ANSWERS)
    assert plain.priors_.to_dict() == {"cat": 0.5, "dog": 0.5}
    assert list(plain.priors_.index) == ["cat", "dog"]  # first appearance, as crowd-kit
    with pytest.raises(InvalidInput, match="labels_priors lack labels the answers give"):
        GLAD(labels_priors=pd.Series({"cat": 1.0})).fit(ANSWERS)
    with pytest.raises(InvalidInput, match="alphas_priors_mean must be a pandas Series"):
        GLAD(alphas_priors_mean="high").fit(ANSWERS)


@MODELS
def test_public_settings_clone_a_model_for_binary_relevance(model) -> None:
    """crowd-kit's BinaryRelevance clones its base aggregator from its public attributes and
    fits one 0/1 column per label, some of them constant; ours support both."""
    settings = {k: v for k, v in vars(model).items()
                if not k.startswith("_") and not k.endswith("_")}
    clone = type(model)(**settings)
    assert vars(clone) == settings
    for column in ([1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0], [1] * 11):
        binary = ANSWERS.assign(label=column)
        fitted = clone.fit(binary, pd.Series({"t1": column[3]})) if isinstance(
            clone, GoldMajorityVote) else clone.fit(binary)
        if isinstance(fitted, GoldMajorityVote):
            fitted.predict(binary)
        assert set(fitted.labels_.index) == {"t1", "t2", "t3", "t4"}
        assert set(fitted.labels_) <= {0, 1}


@pytest.mark.parametrize("votes_sorted", [False, True], ids=["pandas-3", "pandas-2"])
def test_ties_follow_crowdkit_under_either_pandas_major(monkeypatch: pytest.MonkeyPatch,
                                                        votes_sorted: bool) -> None:
    # crowd-kit's plain vote is value_counts().unstack(): pandas 2 sorts tasks and labels (a
    # tie goes to the smallest label), pandas 3 keeps first appearance (to the label seen first)
    for part in (majority_vote, wawa, dawid_skene):
        monkeypatch.setattr(part, "VOTES_SORTED", votes_sorted)
    answers = ANSWERS.replace({"cat": "zebu"})  # zebu is seen first, dog is smaller
    expected = "dog" if votes_sorted else "zebu"
    plain = MajorityVote().fit(answers)
    assert plain.labels_["t4"] == expected  # t4: one dog, one zebu
    assert list(plain.probas_.columns) == (["dog", "zebu"] if votes_sorted else ["zebu", "dog"])
    assert list(plain.probas_.index) == (["t1", "t2", "t3", "t4"] if votes_sorted
                                         else ["t2", "t1", "t3", "t4"])
    assert DawidSkene(n_iter=0).fit(answers).labels_["t4"] == expected
    # skill-weighted votes are a sorted groupby under both
    equal = pd.Series(1.0, index=["ann", "bob", "cid"])
    assert MajorityVote().fit(answers, equal).labels_["t4"] == "dog"
