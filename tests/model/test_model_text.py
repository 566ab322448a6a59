"""The default text classifier: learns, calibrates, survives small data, rejects bad input."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crowdline.errors import BadModelFile, BadTrainingData, InvalidInput, ModelNotFitted
from crowdline.model import Model, TextClassifier, evaluate, expected_calibration_error

SPORT = "match goal team coach league score striker season cup final".split()
FINANCE = "market shares bank profit stocks rates investor bond earnings fund".split()
COMMON = "the a today new report says after big on in".split()


def synthetic(n: int, seed: int = 0, noise: float = 0.0) -> tuple[list[str], list[str]]:
    """Two topics with their own words plus shared filler; ``noise`` flips labels."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        label = rng.choice(["sport", "finance"])
        words = SPORT if label == "sport" else FINANCE
        text = rng.sample(words, 2) + rng.sample(COMMON, 4)
        rng.shuffle(text)
        texts.append(" ".join(text))
        if rng.random() < noise:
            label = "finance" if label == "sport" else "sport"
        labels.append(label)
    return texts, labels


def test_learns_a_synthetic_topic_split() -> None:
    texts, labels = synthetic(400, seed=1)
    test_texts, test_labels = synthetic(200, seed=2)
    model = TextClassifier().fit(texts, labels)
    assert isinstance(model, Model)
    assert list(model.classes_) == ["finance", "sport"]
    assert model.calibrated_
    assert model.calibration_folds_ == 5
    assert evaluate(model, test_texts, test_labels)["accuracy"] >= 0.98
    probabilities = model.predict_proba(test_texts)
    assert probabilities.shape == (200, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_three_classes() -> None:
    rng = random.Random(0)
    words = {"a": ["x1", "x2", "x3", "x4"], "b": ["y1", "y2", "y3", "y4"],
             "c": ["z1", "z2", "z3", "z4"]}
    labels = [rng.choice("abc") for _ in range(90)]
    texts = [" ".join(rng.sample(words[label], 2)) for label in labels]
    model = TextClassifier().fit(texts, labels)
    assert list(model.classes_) == ["a", "b", "c"]
    assert list(model.predict(["x1 x3", "y2 y4", "z2 z4"])) == ["a", "b", "c"]
    assert model.predict_proba(["y1"])[0].argmax() == 1


def test_probabilities_are_calibrated_on_noisy_labels() -> None:
    # 20% of labels flipped: a calibrated model must say ~0.8, not ~1.0, on clear items.
    texts, labels = synthetic(1500, seed=3, noise=0.2)
    test_texts, test_labels = synthetic(1500, seed=4, noise=0.2)
    model = TextClassifier().fit(texts, labels)
    probabilities = model.predict_proba(test_texts)
    confidence = probabilities.max(axis=1).mean()
    accuracy = (model.classes_[probabilities.argmax(axis=1)] == np.array(test_labels)).mean()
    assert 0.7 <= confidence <= 0.85
    assert abs(confidence - accuracy) < 0.05
    assert expected_calibration_error(probabilities, test_labels, model.classes_) < 0.1


def test_small_data_shrinks_folds_then_falls_back_to_uncalibrated() -> None:
    sport = [" ".join(random.Random(i).sample(SPORT, 3)) for i in range(12)]
    three_of_a_kind = sport + ["bond bank", "bond rates", "rates fund"]
    kinds = ["sport"] * 12 + ["finance"] * 3
    model = TextClassifier().fit(three_of_a_kind, kinds)
    assert model.calibrated_
    assert model.calibration_folds_ == 3

    lone = TextClassifier().fit(["goal team", "match cup", "bank profit"],
                                ["sport", "sport", "finance"])
    assert not lone.calibrated_
    assert lone.calibration_folds_ == 0
    assert lone.predict(["goal cup"])[0] == "sport"


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        ([], [], "empty"),
        (["a", "b", "c"], ["x", "x", "x"], "one class"),
        (["a", "b"], ["x"], "2 texts but 1 labels"),
        (["a", None], ["x", "y"], "not str"),
        (["a", "b"], ["x", float("nan")], "missing"),
    ],
)
def test_bad_training_data_is_refused(texts: list, labels: list, message: str) -> None:
    model = TextClassifier()
    with pytest.raises(BadTrainingData, match=message):
        model.fit(texts, labels)
    with pytest.raises(ModelNotFitted):
        model.predict_proba(["a"])


def test_bad_settings_and_prediction_input() -> None:
    with pytest.raises(InvalidInput, match="calibration"):
        TextClassifier(calibration="platt")
    with pytest.raises(InvalidInput, match="max_folds"):
        TextClassifier(max_folds=1)
    with pytest.raises(InvalidInput, match="char_ngram_range"):
        TextClassifier(char_ngram_range=(3, 2))
    model = TextClassifier().fit(*synthetic(40))
    with pytest.raises(InvalidInput, match="position 1"):
        model.predict_proba(["goal", 3])
    assert model.predict_proba([]).shape == (0, 2)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    texts, labels = synthetic(100, seed=6)
    model = TextClassifier(C=2.0).fit(texts, labels)
    model.save(tmp_path / "model.bin")
    loaded = TextClassifier.load(tmp_path / "model.bin")
    assert loaded.C == 2.0
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    (tmp_path / "junk.bin").write_bytes(b"not a model")
    with pytest.raises(BadModelFile, match="not a saved crowdline model"):
        TextClassifier.load(tmp_path / "junk.bin")
    with pytest.raises(BadModelFile, match="no model file"):
        TextClassifier.load(tmp_path / "absent.bin")
    with pytest.raises(ModelNotFitted):
        TextClassifier().save(tmp_path / "unfitted.bin")


@pytest.mark.realdata
def test_learns_the_real_clickbait_data(shared_data: Path) -> None:
    path = shared_data / "clickbait" / "clickbait.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    frame = pd.read_csv(path)
    train, test = frame.iloc[:6000], frame.iloc[-4000:]
    model = TextClassifier().fit(train.headline, train.label)
    metrics = evaluate(model, list(test.headline), list(test.label))
    assert metrics["accuracy"] >= 0.93
    assert metrics["calibration_error"] < 0.05
    # Confident predictions are at least as accurate as they claim, give or take.
    probabilities = model.predict_proba(list(test.headline))
    confident = probabilities.max(axis=1) >= 0.9
    hits = model.classes_[probabilities.argmax(axis=1)] == test.label.to_numpy()
    assert confident.mean() > 0.5
    assert hits[confident].mean() >= 0.95


def test_character_ngrams_tell_apart_words_never_seen_in_training() -> None:
    # Inflections share character n-grams but no word: only the character features can
    # carry "shocking" over to "shocked" and "rates" over to "rated".
    texts = ["shocking news", "shocking truth", "shocking secret", "shocking trick"] * 5 + [
        "rates climbed", "rates fell", "rates held", "rates eased"] * 5
    labels = ["clickbait"] * 20 + ["news"] * 20
    with_chars = TextClassifier().fit(texts, labels)
    words_only = TextClassifier(char_ngram_range=None).fit(texts, labels)
    unseen = ["shocked", "rated"]
    assert list(with_chars.predict(unseen)) == ["clickbait", "news"]
    assert words_only.predict_proba(unseen).max(axis=1).max() < 0.6  # no word it knows
