"""Spec parsing (crowdline YAML, Pachyderm JSON) and the job/datum state machines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crowdline.errors import BadSpec, InvalidTransition, Unsupported
from crowdline.pipelines.spec import CombinedInput, PfsInput, parse_duration, parse_spec
from crowdline.pipelines.states import DatumState, JobState, check_datum, check_job

YAML_SPEC = """
pipeline: {name: tasks}
description: turn new headline CSVs into labeling tasks
input:
  pfs: {repo: headlines, branch: master, glob: "/*.csv"}
transform:
  python: crowdline_examples.clickbait:make_tasks
parallelism: 4
datum_tries: 3
datum_timeout: 10m
"""

# The shape of Toloka/toloka-pachyderm's example/toloka_create_pool_tasks.json.
PACHYDERM_SPEC = {
    "pipeline": {"name": "toloka_create_pool_tasks"},
    "description": "A pipeline that creates tasks for pool on Toloka.",
    "transform": {
        "image": "toloka_pachyderm:latest",
        "cmd": ["python3", "/code/create_tasks_from_csv.py", "--token_env",
                "TOLOKA_API_ACCESS_KEY", "--tasks_csv", "/pfs/toloka_pool/pool_tasks.csv"],
        "secrets": [{"name": "toloka-api", "env_var": "TOLOKA_API_ACCESS_KEY", "key": "token"}],
        "env": {"MODE": "sandbox"},
    },
    "parallelism_spec": {"constant": "1"},
    "datum_tries": 2,
    "input": {"join": [
        {"pfs": {"repo": "toloka_pool", "glob": "/", "join_on": "$1"}},
        {"pfs": {"repo": "toloka_create_pool", "glob": "/", "join_on": "$1"}},
    ]},
}


def test_crowdline_yaml_spec() -> None:
    spec = parse_spec(YAML_SPEC)
    assert spec.name == "tasks"
    assert spec.input == PfsInput(repo="headlines", glob="/*.csv", branch="master")
    assert spec.transform.python == "crowdline_examples.clickbait:make_tasks"
    assert (spec.parallelism, spec.datum_tries, spec.datum_timeout) == (4, 3, 600.0)


def test_pachyderm_json_spec_from_text_and_file(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(PACHYDERM_SPEC))
    for source in (json.dumps(PACHYDERM_SPEC), path, str(path)):
        spec = parse_spec(source)
        assert spec.name == "toloka_create_pool_tasks"
        assert isinstance(spec.input, CombinedInput)
        assert spec.input.kind == "join"
        assert spec.transform.cmd[0] == "python3"
        assert spec.transform.secrets[0].env_var == "TOLOKA_API_ACCESS_KEY"
        assert spec.transform.env == {"MODE": "sandbox"}
        assert spec.transform.image == "toloka_pachyderm:latest"
        assert spec.parallelism == 1
        assert spec.datum_tries == 2
        assert spec.input_branches() == [("toloka_pool", "master"),
                                         ("toloka_create_pool", "master")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pipeline": {"name": "bad name!"}}, "pipeline.name"),
        ({"transform": {"python": "no_colon"}}, "package.module:function"),
        ({"transform": {"python": "a:b", "cmd": ["x"]}}, "exactly one"),
        ({"input": {"pfs": {"repo": "r"}}}, "glob is missing"),
        ({"input": {"pfs": {"repo": "r", "glob": "/*", "colour": 1}}}, "colour"),
        ({"input": {"cross": [{"pfs": {"repo": "r", "glob": "/*"}},
                              {"pfs": {"repo": "r", "glob": "/"}}]}}, "share the name"),
        ({"input": {"join": [{"pfs": {"repo": "r", "glob": "/*"}}]}}, "join_on"),
        ({"datum_tries": 0}, "datum_tries"),
        ({"datum_timeout": "soon"}, "not a duration"),
        ({"frobnicate": True}, "unknown pipeline spec field"),
    ],
)
def test_bad_specs_say_what_is_wrong(change: dict, message: str) -> None:
    spec = {"pipeline": {"name": "p"}, "input": {"pfs": {"repo": "r", "glob": "/*"}},
            "transform": {"python": "m:f"}}
    spec.update(change)
    with pytest.raises(BadSpec, match=message):
        parse_spec(spec)


def test_unsupported_fields_are_named() -> None:
    with pytest.raises(Unsupported, match="cron"):
        parse_spec({"pipeline": {"name": "p"}, "input": {"cron": {"spec": "@every 1m"}},
                    "transform": {"python": "m:f"}})


def test_not_yaml_at_all() -> None:
    with pytest.raises(BadSpec, match="neither valid JSON nor YAML"):
        parse_spec("pipeline: [unclosed")


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("45s") == 45
    assert parse_duration(90) == 90


def test_job_and_datum_state_machines() -> None:
    assert check_job("created", "running") is JobState.RUNNING
    assert check_datum("waiting", "pending") is DatumState.PENDING
    with pytest.raises(InvalidTransition, match="success to running"):
        check_job("success", "running")
    with pytest.raises(InvalidTransition):
        check_datum("skipped", "running")
    with pytest.raises(InvalidTransition):
        check_datum("waiting", "success")  # a waiting datum must run again first
