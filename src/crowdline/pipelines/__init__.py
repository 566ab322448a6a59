"""Data-driven, incremental, resumable pipelines that can wait for humans.

    from crowdline.pipelines import Pipelines, WaitFor, DatumContext, current_datum
"""

from crowdline.pipelines.models import (
    CommitSetStatus,
    DatumInfo,
    DatumLog,
    JobInfo,
    PipelineInfo,
    RunReport,
)
from crowdline.pipelines.service import Pipelines
from crowdline.pipelines.spec import PipelineSpec, parse_spec
from crowdline.pipelines.states import DatumState, JobState
from crowdline.pipelines.transform import DatumContext, WaitFor, current_datum

__all__ = [
    "CommitSetStatus",
    "DatumContext",
    "DatumInfo",
    "DatumLog",
    "DatumState",
    "JobInfo",
    "JobState",
    "PipelineInfo",
    "PipelineSpec",
    "Pipelines",
    "RunReport",
    "WaitFor",
    "current_datum",
    "parse_spec",
]
