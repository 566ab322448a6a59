"""The model in the loop: a model protocol, a calibrated text classifier, a router with an
audit sample, production-accuracy monitoring with drift flags, and a registry of versions."""

from crowdline.model.monitoring import (
    AccuracyEstimate,
    DriftReport,
    audit_accuracy,
    audit_accuracy_from_decisions,
    check_drift,
    correct_for_reference_noise,
    evaluate,
    expected_calibration_error,
    wilson_interval,
)
from crowdline.model.protocol import Model, check_training_data
from crowdline.model.registry import DecisionRecord, ModelRegistry, ModelVersion
from crowdline.model.routing import Router, RoutingDecision, decisions_frame, route_counts
from crowdline.model.text import TextClassifier
from crowdline.model.training import read_labeled, retrain

__all__ = [
    "AccuracyEstimate",
    "DecisionRecord",
    "DriftReport",
    "Model",
    "ModelRegistry",
    "ModelVersion",
    "Router",
    "RoutingDecision",
    "TextClassifier",
    "audit_accuracy",
    "audit_accuracy_from_decisions",
    "check_drift",
    "check_training_data",
    "correct_for_reference_noise",
    "decisions_frame",
    "evaluate",
    "expected_calibration_error",
    "read_labeled",
    "retrain",
    "route_counts",
    "wilson_interval",
]
