"""Aggregation: noisy judgments → labels with confidences (crowd-kit-compatible, vectorised).

See base.py for the answers contract and README.md for the promises.
"""

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
