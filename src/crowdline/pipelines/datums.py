"""Datums: what a pipeline's input selects, one unit of work each (pure).

A datum is one or more *parts* (one per pfs input that contributes), each a path matched by
that input's glob plus the files under it. As in Pachyderm:

* ``datum_id``   = H(name, repo, branch, path of every part) — identity by location;
* ``datum_hash`` = H(datum_id, every file's path and content hash, pipeline salt) — a datum
  whose hash was processed before is skipped and its earlier output carried over.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import blake3

from crowdline.pipelines.globs import expand_capture, select
from crowdline.pipelines.spec import CombinedInput, InputNode, PfsInput

ID_LENGTH = 32  # hex characters (128 bits)


@dataclass(frozen=True)
class InputFile:
    path: str
    hash: str
    size: int


@dataclass(frozen=True)
class InputCommit:
    """The files of one input branch at the commit a job reads."""

    repo: str
    branch: str
    commit: str
    files: tuple[InputFile, ...]


@dataclass(frozen=True)
class DatumPart:
    name: str
    repo: str
    branch: str
    commit: str
    path: str
    files: tuple[InputFile, ...]
    join_key: str = ""


@dataclass(frozen=True)
class Datum:
    parts: tuple[DatumPart, ...]

    @property
    def id(self) -> str:
        return datum_id(self.parts)

    def hash(self, salt: str) -> str:
        return datum_hash(self.parts, salt)


def _feed(hasher: blake3.blake3, *fields: str) -> None:
    for value in fields:
        data = value.encode()
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)


def datum_id(parts: Iterable[DatumPart]) -> str:
    hasher = blake3.blake3()
    for part in parts:
        _feed(hasher, part.name, part.repo, part.branch, part.path)
    return hasher.hexdigest()[:ID_LENGTH]


def datum_hash(parts: Iterable[DatumPart], salt: str) -> str:
    parts = tuple(parts)
    hasher = blake3.blake3()
    _feed(hasher, datum_id(parts))
    for part in parts:
        for item in part.files:
            _feed(hasher, item.path, item.hash)
    _feed(hasher, salt)
    return hasher.hexdigest()[:ID_LENGTH]


def form_datums(node: InputNode, commits: Mapping[tuple[str, str], InputCommit]) -> list[Datum]:
    """Every datum of ``node`` given the files of each input branch ``(repo, branch)``."""
    datums = _form(node, commits)
    unique: dict[str, Datum] = {}
    for datum in datums:
        unique.setdefault(datum.id, datum)
    return list(unique.values())


def _form(node: InputNode, commits: Mapping[tuple[str, str], InputCommit]) -> list[Datum]:
    if isinstance(node, PfsInput):
        return [Datum((part,)) for part in _pfs_parts(node, commits, node.join_on)]
    assert isinstance(node, CombinedInput)
    if node.kind == "union":
        return [d for child in node.children for d in _form(child, commits)]
    if node.kind == "cross":
        lists = [_form(child, commits) for child in node.children]
        return [Datum(tuple(p for d in combo for p in d.parts))
                for combo in itertools.product(*lists)]
    if node.kind == "join":
        return _join(node, commits)
    return _group(node, commits)


def _pfs_parts(node: PfsInput, commits: Mapping[tuple[str, str], InputCommit],
               key_template: str) -> list[DatumPart]:
    commit = commits[(node.repo, node.branch)]
    parts = []
    for path, match, files in select(list(commit.files), _path_of, node.glob):
        key = expand_capture(key_template, match) if key_template else ""
        parts.append(DatumPart(node.input_name, node.repo, node.branch, commit.commit, path,
                               tuple(files), key))
    return parts


def _path_of(item: InputFile) -> str:
    return item.path


def _keyed(node: CombinedInput, commits: Mapping[tuple[str, str], InputCommit], attribute: str
           ) -> list[dict[str, list[DatumPart]]]:
    keyed = []
    for child in node.children:
        assert isinstance(child, PfsInput)
        by_key: dict[str, list[DatumPart]] = {}
        for part in _pfs_parts(child, commits, getattr(child, attribute)):
            by_key.setdefault(part.join_key, []).append(part)
        keyed.append(by_key)
    return keyed


def _join(node: CombinedInput, commits: Mapping[tuple[str, str], InputCommit]) -> list[Datum]:
    """Inner join on ``join_on``; an ``outer_join`` input also keeps its unmatched datums."""
    keyed = _keyed(node, commits, "join_on")
    children = [c for c in node.children if isinstance(c, PfsInput)]
    all_keys = sorted(set().union(*(k.keys() for k in keyed)))
    datums = []
    for key in all_keys:
        present = [i for i, by_key in enumerate(keyed) if key in by_key]
        if len(present) < len(keyed) and not any(children[i].outer_join for i in present):
            continue
        lists = [keyed[i][key] for i in present]
        datums.extend(Datum(tuple(combo)) for combo in itertools.product(*lists))
    return datums


def _group(node: CombinedInput, commits: Mapping[tuple[str, str], InputCommit]) -> list[Datum]:
    """One datum per ``group_by`` key holding every matching path of every input."""
    keyed = _keyed(node, commits, "group_by")
    all_keys = sorted(set().union(*(k.keys() for k in keyed)))
    return [Datum(tuple(p for by_key in keyed for p in by_key.get(key, ()))) for key in all_keys]


@dataclass(frozen=True)
class DatumPlan:
    """What a job does with each datum, given the outputs already committed."""

    to_process: list[tuple[Datum, str]]  # (datum, hash)
    skipped: list[tuple[Datum, str]]
    removed: list[str]  # datum ids whose earlier output must be deleted


def plan_datums(datums: list[Datum], salt: str, committed: Mapping[str, str]) -> DatumPlan:
    """Skip datums whose (id, hash) is already committed; drop outputs of vanished datums.

    ``committed`` maps datum id -> datum hash of the outputs in the current output commit.
    A changed datum (same id, new hash) is processed and its old output replaced.
    """
    to_process, skipped = [], []
    seen = set()
    for datum in datums:
        identity, digest = datum.id, datum.hash(salt)
        seen.add(identity)
        if committed.get(identity) == digest:
            skipped.append((datum, digest))
        else:
            to_process.append((datum, digest))
    removed = sorted(set(committed) - seen)
    return DatumPlan(to_process, skipped, removed)
