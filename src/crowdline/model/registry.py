"""Model versions as commits of a store repo (default "models"), and routing records.

Each ``register`` writes one commit holding ``/model.bin`` (the saved model) and
``/model.json`` (its card), with the same card in the commit's metadata and the training-data
commit as its provenance: from any model version a user reaches the exact data it learned from.
``record_decisions`` writes the router's decisions (who labels each item, which model version
and commit) as a commit of another repo (default "routing"), so every label says whether a
person or the model made it, and which model.

    registry = ModelRegistry(ws.store)
    version = registry.register(model, training_data="dataset@3f2a...", metrics={"accuracy": .97},
                                thresholds={"route": 0.9, "audit_rate": 0.05})
    model = registry.load()            # the latest version; registry.load(2) for another

A pipeline step registers without a side commit: ``write_version(output_folder, model, ...)``
puts the same two files into its datum's output, so the pipeline's own output commit (with the
job's provenance) is the version; ``versions()`` reads cards from commit metadata or, failing
that, from ``/model.json`` in the commit.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crowdline.errors import AlreadyExists, BadModelFile, InvalidInput, ModelVersionNotFound
from crowdline.model.protocol import Model
from crowdline.model.routing import RoutingDecision, decisions_frame

MODEL_FILE = "/model.bin"
CARD_FILE = "/model.json"
CARD_KIND = "crowdline.model/1"
DECISIONS_KIND = "crowdline.routing/1"


@dataclass(frozen=True)
class ModelVersion:
    """One registered model: its version number, commit, training data and card."""

    version: int
    repo: str
    commit_id: str
    model_class: str
    training_data: str | None  # "repo@commit" the model was trained on
    metrics: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    message: str = ""

    @property
    def ref(self) -> str:
        return f"{self.repo}@{self.commit_id}"


@dataclass(frozen=True)
class DecisionRecord:
    repo: str
    commit_id: str
    path: str
    counts: dict[str, int]


class ModelRegistry:
    """Register, list and load model versions kept in a store repo (see module docstring)."""

    def __init__(self, store: Any, repo: str = "models", branch: str = "master") -> None:
        self.store = store
        self.repo = repo
        self.branch = branch

    # -- writing ----------------------------------------------------------------------------

    def register(
        self,
        model: Model,
        *,
        training_data: str | tuple[str, str] | None,
        metrics: Mapping[str, float] | None = None,
        thresholds: Mapping[str, float] | None = None,
        message: str = "",
        author: str | None = None,
    ) -> ModelVersion:
        """Store ``model`` as the next version; ``training_data`` is the commit it learned from."""
        metrics = _numbers("metrics", metrics or {})
        thresholds = _numbers("thresholds", thresholds or {})
        provenance = []
        training_ref = None
        if training_data is not None:
            data_repo, data_commit = parse_commit_ref(training_data)
            # Resolve first: a typo must fail before anything is written.
            info = self.store.inspect_commit(data_repo, data_commit)
            provenance = [(data_repo, info.id)]
            training_ref = f"{data_repo}@{info.id}"
        payload = _model_bytes(model)
        self._ensure_repo(self.repo)
        version = max((v.version for v in self.versions()), default=0) + 1
        card = {
            "kind": CARD_KIND,
            "version": version,
            "model_class": f"{type(model).__module__}:{type(model).__qualname__}",
            "training_data": training_ref,
            "metrics": metrics,
            "thresholds": thresholds,
            "classes": [_plain(label) for label in model.classes_],
        }
        with self.store.commit(
            self.repo, self.branch,
            message=message or f"model version {version}",
            author=author, origin="user", provenance=provenance, metadata=card,
        ) as writer:
            writer.put_file(MODEL_FILE, payload)
            writer.put_file(CARD_FILE, json.dumps(card, indent=2, sort_keys=True).encode())
            commit_id = writer.id
        return ModelVersion(version, self.repo, commit_id, card["model_class"], training_ref,
                            metrics, thresholds, message or f"model version {version}")

    def record_decisions(
        self,
        decisions: Sequence[RoutingDecision],
        *,
        repo: str = "routing",
        source: str | tuple[str, str] | None = None,
        path: str | None = None,
        message: str = "",
    ) -> DecisionRecord:
        """Commit the decisions as a CSV (item_id, route, label, confidence, model_version,
        model_commit, labeled_by); provenance: the items' commit and the model commits used."""
        if not decisions:
            raise InvalidInput("no routing decisions to record", hint="route some items first")
        frame = decisions_frame(decisions)
        by_version = {v.version: v for v in self.versions()}
        used = sorted({d.model_version for d in decisions if d.model_version is not None})
        missing = [v for v in used if v not in by_version]
        if missing:
            raise ModelVersionNotFound(
                f"decisions name model version(s) {missing} not registered in repo {self.repo!r}",
                hint="register the model before recording its decisions",
            )
        frame["model_commit"] = [
            by_version[v].commit_id if v is not None and not pd.isna(v) else None
            for v in frame["model_version"]
        ]
        provenance = [(self.repo, by_version[v].commit_id) for v in used]
        if source is not None:
            source_repo, source_commit = parse_commit_ref(source)
            provenance.insert(0, (source_repo, self.store.inspect_commit(source_repo,
                                                                        source_commit).id))
        self._ensure_repo(repo)
        if path is None:
            batch = len(self.store.list_commits(repo)) + 1
            path = f"/decisions/batch-{batch:06d}.csv"
        counts = {route: int((frame["route"] == route).sum()) for route in ("model", "human",
                                                                            "audit")}
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        with self.store.commit(
            repo, self.branch, message=message or f"routing decisions ({len(frame)} items)",
            origin="user", provenance=provenance,
            metadata={"kind": DECISIONS_KIND, "path": path, "counts": counts,
                      "model_versions": used},
        ) as writer:
            writer.put_file(path, buffer.getvalue().encode())
            commit_id = writer.id
        return DecisionRecord(repo, commit_id, path, counts)

    def read_decisions(self, record: DecisionRecord) -> pd.DataFrame:
        data = self.store.get_file(record.repo, record.commit_id, record.path)
        return pd.read_csv(io.BytesIO(data), dtype={"item_id": str})

    def write_version(
        self,
        folder: Path,
        model: Model,
        *,
        training_data: str | tuple[str, str] | None,
        metrics: Mapping[str, float] | None = None,
        thresholds: Mapping[str, float] | None = None,
    ) -> dict[str, Any]:
        """Write the next version's ``model.bin`` and ``model.json`` into ``folder`` (a
        pipeline datum's output): the step's output commit becomes the version. Returns the card.
        """
        metrics = _numbers("metrics", metrics or {})
        thresholds = _numbers("thresholds", thresholds or {})
        training_ref = None
        if training_data is not None:
            data_repo, data_commit = parse_commit_ref(training_data)
            training_ref = f"{data_repo}@{self.store.inspect_commit(data_repo, data_commit).id}"
        card = {
            "kind": CARD_KIND,
            "version": max((v.version for v in self.versions()), default=0) + 1,
            "model_class": f"{type(model).__module__}:{type(model).__qualname__}",
            "training_data": training_ref,
            "metrics": metrics,
            "thresholds": thresholds,
            "classes": [_plain(label) for label in model.classes_],
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE.lstrip("/")).write_bytes(_model_bytes(model))
        (folder / CARD_FILE.lstrip("/")).write_text(json.dumps(card, indent=2, sort_keys=True))
        return card

    # -- reading ----------------------------------------------------------------------------

    def versions(self) -> list[ModelVersion]:
        """Every registered version, oldest first ([] when the repo does not exist yet).

        A version is the first commit carrying its card (later commits of a pipeline's output
        repo keep the same files until the model changes)."""
        try:
            commits = self.store.list_commits(self.repo, self.branch)
        except LookupError:  # no repo or no branch yet: nothing registered
            return []
        found: dict[int, ModelVersion] = {}
        for info in reversed(commits):  # oldest first: the first commit of a version wins
            card = info.metadata or {}
            if card.get("kind") != CARD_KIND:
                card = self._card_file(info.id)
                if card is None:
                    continue
            version = int(card["version"])
            if version in found and found[version].commit_id != info.id and \
                    (info.metadata or {}).get("kind") != CARD_KIND:
                continue
            found[version] = ModelVersion(
                version, self.repo, info.id, card["model_class"],
                card.get("training_data"), dict(card.get("metrics", {})),
                dict(card.get("thresholds", {})), info.message or "",
            )
        return sorted(found.values(), key=lambda v: v.version)

    def _card_file(self, commit_id: str) -> dict[str, Any] | None:
        try:
            card = json.loads(self.store.get_file(self.repo, commit_id, CARD_FILE))
        except (LookupError, ValueError):
            return None
        return card if isinstance(card, dict) and card.get("kind") == CARD_KIND else None

    def get(self, version: int | None = None) -> ModelVersion:
        """One version (the latest when ``version`` is None)."""
        versions = self.versions()
        if not versions:
            raise ModelVersionNotFound(
                f"no model registered in repo {self.repo!r}",
                hint="train a model and call ModelRegistry.register",
            )
        if version is None:
            return versions[-1]
        for candidate in reversed(versions):  # the latest commit wins a (rare) version clash
            if candidate.version == version:
                return candidate
        raise ModelVersionNotFound(
            f"model version {version} not found in repo {self.repo!r}",
            hint=f"registered versions: {[v.version for v in versions]}",
        )

    def load(self, version: int | None = None) -> Model:
        """The model object of a version (the latest when ``version`` is None)."""
        entry = self.get(version)
        data = self.store.get_file(self.repo, entry.commit_id, MODEL_FILE)
        model_class = _import_class(entry.model_class)
        if hasattr(model_class, "from_bytes"):
            return model_class.from_bytes(data)
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "model.bin"
            target.write_bytes(data)
            return model_class.load(target)

    # -- helpers ----------------------------------------------------------------------------

    def _repo_exists(self, repo: str) -> bool:
        try:
            self.store.list_commits(repo)
        except LookupError:
            return False
        return True

    def _ensure_repo(self, repo: str) -> None:
        if self._repo_exists(repo):
            return
        try:
            self.store.create_repo(repo)
        except AlreadyExists:
            pass  # created meanwhile by another writer


def _model_bytes(model: Model) -> bytes:
    if hasattr(model, "to_bytes"):
        return model.to_bytes()
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "model.bin"
        model.save(target)
        return target.read_bytes()


def parse_commit_ref(ref: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(ref, tuple) and len(ref) == 2:
        return str(ref[0]), str(ref[1])
    if isinstance(ref, str) and ref.count("@") == 1 and all(ref.split("@")):
        repo, commit = ref.split("@")
        return repo, commit
    raise InvalidInput(
        f"bad commit reference {ref!r}",
        hint='write it as "repo@commit" (e.g. "dataset@master" or "dataset@<commit id>")',
    )


def _numbers(name: str, values: Mapping[str, Any]) -> dict[str, float]:
    checked = {}
    for key, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{name}[{key!r}] is {value!r}, not a number",
                hint=f"{name} maps names to numbers, e.g. {{'accuracy': 0.95}}",
            ) from None
        if not math.isfinite(number):
            raise InvalidInput(f"{name}[{key!r}] is not finite", hint="pass a real number")
        checked[str(key)] = number
    return checked


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _import_class(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        raise BadModelFile(
            f"model class {path} cannot be imported",
            hint="install the package that defines it in this environment",
        ) from None
    return target
