"""Bad answers raise a clear InvalidInput naming the problem, and leave the input unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crowdline.aggregate import (
    GLAD,
    DawidSkene,
    GoldMajorityVote,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
)
from crowdline.errors import InvalidInput

GOOD = pd.DataFrame({"task": ["t1", "t1", "t2", "t2"], "worker": ["a", "b", "a", "b"],
                     "label": ["x", "y", "x", "x"]})
GOLD = pd.Series({"t1": "x"})


def fitters() -> list:
    return [lambda a: MajorityVote().fit(a), lambda a: Wawa().fit(a),
            lambda a: GoldMajorityVote().fit_predict(a, GOLD), lambda a: DawidSkene().fit(a),
            lambda a: OneCoinDawidSkene().fit(a), lambda a: GLAD(n_iter=2).fit(a)]


FITTERS = pytest.mark.parametrize("fit", fitters(), ids=["mv", "wawa", "gold-mv", "ds",
                                                         "one-coin-ds", "glad"])


def bad(**columns: list) -> pd.DataFrame:
    frame = GOOD.copy()
    for name, values in columns.items():
        frame[name] = pd.Series(values, dtype=object)
    return frame


CASES = {
    "missing column": (GOOD.drop(columns="worker"), "lack the columns ['worker']"),
    "NaN label": (bad(label=["x", np.nan, "x", "y"]), "1 answers have no label"),
    "None worker": (bad(worker=["a", None, "a", "b"]), "1 answers have no worker"),
    "mixed worker ids": (bad(worker=["a", 2, "a", 2]), "the worker column holds mixed"),
    "float worker ids": (GOOD.assign(worker=[1.5, 2.5, 1.5, 2.5]), "holds floating values"),
    "float labels": (GOOD.assign(label=[0.5, 1.0, 0.5, 0.5]), "label column holds floating"),
    "not a frame": (GOOD.to_dict(), "must be a pandas DataFrame"),
}


@FITTERS
@pytest.mark.parametrize("case", list(CASES))
def test_bad_answers_are_refused_and_left_unchanged(fit, case: str) -> None:
    answers, message = CASES[case]
    before = answers.copy() if isinstance(answers, pd.DataFrame) else dict(answers)
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        fit(answers)
    if isinstance(answers, pd.DataFrame):
        pd.testing.assert_frame_equal(answers, before)


@pytest.mark.parametrize("model", [DawidSkene, OneCoinDawidSkene, GLAD])
def test_models_accept_a_single_label_like_crowdkit(model) -> None:
    # crowd-kit fits one label (as BinaryRelevance's columns can be): every task gets it
    fitted = model().fit(GOOD.assign(label="x"))
    assert fitted.labels_.to_dict() == {"t1": "x", "t2": "x"}
    assert fitted.probas_["x"].tolist() == [1.0, 1.0]


def test_majority_vote_accepts_one_class() -> None:
    labels = MajorityVote().fit(GOOD.assign(label="x")).labels_
    assert labels.to_dict() == {"t1": "x", "t2": "x"}


def test_gold_majority_vote_needs_gold_for_every_worker() -> None:
    answers = pd.concat([GOOD, pd.DataFrame({"task": ["t2"], "worker": ["c"], "label": ["y"]})])
    with pytest.raises(InvalidInput, match=r"1 workers in the answers have no skill, e.g. \['c'\]"):
        GoldMajorityVote().fit_predict(answers, GOLD)


def test_weighted_vote_needs_a_skill_for_every_worker() -> None:
    with pytest.raises(InvalidInput, match="no skill"):
        MajorityVote().fit(GOOD, pd.Series({"a": 0.9}))


def test_dawid_skene_refuses_gold_labels_nobody_can_answer() -> None:
    with pytest.raises(InvalidInput, match="true_labels are not among the labels"):
        DawidSkene().fit(GOOD, pd.Series({"t1": "zebra"}))


def test_dawid_skene_refuses_a_malformed_initial_error() -> None:
    with pytest.raises(InvalidInput, match="indexed by \\(worker, label\\)"):
        DawidSkene().fit(GOOD, initial_error=pd.DataFrame({"x": [1.0]}))
    earlier = DawidSkene().fit(GOOD).errors_
    with pytest.raises(InvalidInput, match="error matrix in initial_error should be 1.0"):
        DawidSkene().fit(GOOD, initial_error=earlier * 0.5)
    with pytest.raises(InvalidInput, match="'assign' or 'addition'"):
        DawidSkene(initial_error_strategy="replace").fit(GOOD, initial_error=earlier)


@pytest.mark.parametrize("settings", [{"n_iter": -1}])
def test_bad_settings(settings: dict) -> None:
    with pytest.raises(InvalidInput, match="n_iter must be >= 0"):
        DawidSkene(**settings)
    with pytest.raises(InvalidInput, match="n_iter must be >= 0"):
        GLAD(**settings)
