"""Model versions and routing decisions as commits of a real store (embedded workspace)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crowdline.errors import (
    BadTrainingData,
    CrowdlineError,
    InvalidInput,
    ModelVersionNotFound,
)
from crowdline.model import ModelRegistry, Router, TextClassifier, retrain
from crowdline.workspace import Workspace

TEXTS = ["goal team cup", "match striker goal", "league coach season", "bank profit rates",
         "stocks market fund", "bond investor earnings"] * 3
LABELS = (["sport"] * 3 + ["finance"] * 3) * 3


def training_commit(workspace: Workspace) -> str:
    store = workspace.store
    store.create_repo("dataset")
    with store.commit("dataset", message="labels v1") as writer:
        writer.put_file("/train.csv", b"text,label\n")
        return writer.id


@pytest.fixture
def any_workspace(tmp_path: Path, database_url: str) -> Iterator[Workspace]:
    """A workspace on each SQL back-end (SQLite and a real PostgreSQL server)."""
    ws = Workspace.init(tmp_path / "ws", database_url=database_url)
    yield ws
    ws.close()


def test_register_and_load_versions_round_trip(any_workspace: Workspace) -> None:
    workspace = any_workspace
    data_commit = training_commit(workspace)
    registry = ModelRegistry(workspace.store)
    assert registry.versions() == []
    model = TextClassifier().fit(TEXTS, LABELS)
    first = registry.register(model, training_data=f"dataset@{data_commit}",
                              metrics={"accuracy": np.float64(0.95)},
                              thresholds={"route": 0.9, "audit_rate": 0.05})
    second = registry.register(TextClassifier(C=1.0).fit(TEXTS, LABELS),
                               training_data=("dataset", data_commit), message="retrained")
    assert (first.version, second.version) == (1, 2)
    assert first.training_data == f"dataset@{data_commit}"
    assert [v.version for v in registry.versions()] == [1, 2]
    assert registry.get().commit_id == second.commit_id
    assert registry.get(1).metrics == {"accuracy": 0.95}
    assert registry.get(1).thresholds == {"route": 0.9, "audit_rate": 0.05}

    loaded = registry.load(1)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert registry.load().C == 1.0

    info = workspace.store.inspect_commit("models", first.commit_id)
    assert [(ref.repo, ref.id) for ref in info.provenance] == [("dataset", data_commit)]
    assert info.metadata["version"] == 1
    assert info.metadata["classes"] == ["finance", "sport"]


def test_bad_registrations_change_nothing(workspace: Workspace) -> None:
    training_commit(workspace)
    registry = ModelRegistry(workspace.store)
    model = TextClassifier().fit(TEXTS, LABELS)
    with pytest.raises(InvalidInput, match="repo@commit"):
        registry.register(model, training_data="dataset")
    with pytest.raises(InvalidInput, match="not a number"):
        registry.register(model, training_data=None, metrics={"accuracy": "high"})
    with pytest.raises(CrowdlineError):
        registry.register(model, training_data="dataset@0000000000000000")
    assert registry.versions() == []
    with pytest.raises(ModelVersionNotFound, match="no model registered"):
        registry.load()
    registry.register(model, training_data=None)
    with pytest.raises(ModelVersionNotFound, match=r"registered versions: \[1\]"):
        registry.get(7)


def test_routing_decisions_say_who_labeled_each_item_and_which_model(
    workspace: Workspace,
) -> None:
    data_commit = training_commit(workspace)
    registry = ModelRegistry(workspace.store)
    model = TextClassifier().fit(TEXTS, LABELS)
    version = registry.register(model, training_data=f"dataset@{data_commit}")
    items = ["goal cup striker", "profit rates bank", "weather today"]
    decisions = Router(threshold=0.7, audit_rate=0.0).route(
        ["h1", "h2", "h3"], model.predict_proba(items), model.classes_,
        model_version=version.version)
    record = registry.record_decisions(decisions, source=f"dataset@{data_commit}")
    frame = registry.read_decisions(record)
    assert list(frame.item_id) == ["h1", "h2", "h3"]
    assert list(frame.labeled_by) == [d.labeled_by for d in decisions]
    assert set(frame.model_commit) == {version.commit_id}
    assert sum(record.counts.values()) == 3
    info = workspace.store.inspect_commit("routing", record.commit_id)
    assert {(ref.repo, ref.id) for ref in info.provenance} == {
        ("dataset", data_commit), ("models", version.commit_id)}

    unregistered = Router(0.7, 0.0).route(["x"], model.predict_proba(["goal"]), model.classes_,
                                          model_version=9)
    with pytest.raises(ModelVersionNotFound, match=r"\[9\]"):
        registry.record_decisions(unregistered)
    with pytest.raises(InvalidInput, match="no routing decisions"):
        registry.record_decisions([])


def test_retrain_registers_a_version_naming_the_dataset_commit(workspace: Workspace) -> None:
    store = workspace.store
    store.create_repo("dataset")
    rows = pd.DataFrame({"headline": TEXTS * 2, "label": LABELS * 2})
    with store.commit("dataset", message="labels") as writer:
        writer.put_file("/part-1.csv", rows.iloc[:18].to_csv(index=False).encode())
        writer.put_file("/part-2.csv", rows.iloc[18:].to_csv(index=False).encode())
        first_data = writer.id
    version = retrain(store, text_column="headline", thresholds={"route": 0.9})
    assert version.version == 1
    assert version.training_data == f"dataset@{first_data}"
    assert version.metrics["n_train"] == 36
    assert version.metrics["accuracy"] == 1.0
    assert version.thresholds == {"route": 0.9}
    model = ModelRegistry(store).load()
    assert model.predict(["striker goal cup"])[0] == "sport"

    # New labels on the branch: the next version names the new commit.
    with store.commit("dataset", message="more") as writer:
        writer.put_file("/part-3.csv", b"headline,label\nrates bond,finance\n")
        second_data = writer.id
    assert retrain(store, text_column="headline").training_data == f"dataset@{second_data}"

    with pytest.raises(BadTrainingData, match="no column"):
        retrain(store, text_column="title")
    with pytest.raises(BadTrainingData, match="no files match"):
        retrain(store, pattern="/labels/*.csv", text_column="headline")
    assert [v.version for v in ModelRegistry(store).versions()] == [1, 2]
