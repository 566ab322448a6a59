"""Aggregation: noisy judgments → labels with confidences (crowd-kit-compatible, vectorised).

See base.py for the answers contract and README.md for the promises. Each class is imported
on first use (PEP 562), so using Dawid-Skene does not load GLAD's or MACE's SciPy optimisers
and statistics (about 50 MB of the process's memory).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {  # class → module of crowdline.aggregate that defines it
    "BinaryRelevance": "binary_relevance",
    "BradleyTerry": "bradley_terry",
    "DawidSkene": "dawid_skene",
    "GLAD": "glad",
    "GoldMajorityVote": "gold_majority_vote",
    "KOS": "kos",
    "MACE": "mace",
    "MMSR": "mmsr",
    "MajorityVote": "majority_vote",
    "NoisyBradleyTerry": "noisy_bt",
    "OneCoinDawidSkene": "dawid_skene",
    "Wawa": "wawa",
    "ZeroBasedSkill": "zero_based_skill",
}

__all__ = [
    "GLAD",
    "KOS",
    "BinaryRelevance",
    "MACE",
    "MMSR",
    "BradleyTerry",
    "DawidSkene",
    "GoldMajorityVote",
    "MajorityVote",
    "NoisyBradleyTerry",
    "OneCoinDawidSkene",
    "Wawa",
    "ZeroBasedSkill",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from crowdline.aggregate.binary_relevance import BinaryRelevance
    from crowdline.aggregate.bradley_terry import BradleyTerry
    from crowdline.aggregate.dawid_skene import DawidSkene, OneCoinDawidSkene
    from crowdline.aggregate.glad import GLAD
    from crowdline.aggregate.gold_majority_vote import GoldMajorityVote
    from crowdline.aggregate.kos import KOS
    from crowdline.aggregate.mace import MACE
    from crowdline.aggregate.majority_vote import MajorityVote
    from crowdline.aggregate.mmsr import MMSR
    from crowdline.aggregate.noisy_bt import NoisyBradleyTerry
    from crowdline.aggregate.wawa import Wawa
    from crowdline.aggregate.zero_based_skill import ZeroBasedSkill
