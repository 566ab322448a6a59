"""Toloka's formats in: the seed's pool.json, task files with INPUT:/GOLDEN:/HINT: columns,
JSON/JSONL task dicts; unsupported fields named, rejected rows reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crowd_helpers import pool_config, project_config

from crowdline.crowd import Crowd
from crowdline.errors import InvalidInput, Unsupported

# The shape of Toloka/toloka-pachyderm example/configs/pool.json (the seed's clickbait pool).
SEED_POOL = {
    "assignment_max_duration_seconds": 120,
    "defaults": {"default_overlap_for_new_tasks": 5, "default_overlap_for_new_task_suites": 5},
    "filter": {"and": [
        {"category": "profile", "key": "languages", "operator": "IN", "value": "EN"},
        {"or": [{"category": "computed", "key": "client_type", "operator": "EQ",
                 "value": "TOLOKA_APP"},
                {"category": "computed", "key": "client_type", "operator": "EQ",
                 "value": "BROWSER"}]}]},
    "may_contain_adult_content": False,
    "mixer_config": {"golden_tasks_count": 1, "real_tasks_count": 4, "training_tasks_count": 0},
    "private_name": "Is this headline clickbait?",
    "quality_control": {
        "configs": [
            {"collector_config": {"parameters": {"fast_submit_threshold_seconds": 30,
                                                 "history_size": 5},
                                  "type": "ASSIGNMENT_SUBMIT_TIME"},
             "rules": [{"action": {"parameters": {"duration_unit": "PERMANENT",
                                                  "private_comment": "bad quality",
                                                  "scope": "POOL"},
                                   "type": "RESTRICTION_V2"},
                        "conditions": [{"key": "fast_submitted_count", "operator": "GTE",
                                        "value": 2}]}]},
            {"collector_config": {"parameters": {"history_size": 10}, "type": "GOLDEN_SET"},
             "rules": [{"action": {"parameters": {"duration_unit": "PERMANENT",
                                                  "private_comment": "bad quality",
                                                  "scope": "POOL"},
                                   "type": "RESTRICTION_V2"},
                        "conditions": [{"key": "golden_set_correct_answers_rate",
                                        "operator": "LTE", "value": 90.0},
                                       {"key": "golden_set_answers_count", "operator": "GTE",
                                        "value": 1}]}]}],
        "training_requirement": {"training_passing_skill_value": 90}},
    "reward_per_assignment": 0.05,
}


def test_the_seed_pool_config_loads_with_its_profile_filter(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    config = {**SEED_POOL, "project_id": project.id}
    pool = crowd.create_pool(config)
    assert pool.to_dict()["filter"] == SEED_POOL["filter"]
    config["filter"] = {"category": "profile", "key": "shoe_size", "operator": "EQ",
                        "value": 42}
    with pytest.raises(Unsupported, match="shoe_size"):
        crowd.create_pool(config)
    pool = crowd.create_pool(config, ignore=["filter"])
    data = pool.to_dict()
    assert data["mixer_config"]["real_tasks_count"] == 4
    assert data["defaults"]["default_overlap_for_new_tasks"] == 5
    assert data["quality_control"]["configs"][1]["collector_config"]["type"] == "GOLDEN_SET"
    assert data["status"] == "CLOSED"
    assert "filter" not in data
    assert [p.id for p in crowd.list_pools(project_id=project.id)] == ["1", pool.id]


def test_unsupported_fields_are_named_and_nothing_is_created(crowd: Crowd) -> None:
    with pytest.raises(Unsupported, match="localization_config"):
        crowd.create_project(project_config(localization_config={}))
    project = crowd.create_project(project_config())
    with pytest.raises(Unsupported, match="speed_quality_balance"):
        crowd.create_pool(pool_config(project.id, speed_quality_balance={}))
    with pytest.raises(Unsupported, match="training_tasks_count"):
        crowd.create_pool(pool_config(project.id, mixer_config={"real_tasks_count": 3,
                                                                "training_tasks_count": 1}))
    with pytest.raises(Unsupported, match="dynamic_pricing_config"):
        crowd.create_pool(pool_config(project.id, dynamic_pricing_config={}))
    with pytest.raises(InvalidInput, match="allowed_values"):
        crowd.create_project(project_config(task_spec={
            "input_spec": {"headline": {"type": "string"}},
            "output_spec": {"category": {"type": "string"}}}))
    assert crowd.list_pools() == []
    assert len(crowd.list_projects()) == 1


def test_csv_with_input_golden_and_hint_columns(crowd: Crowd, tmp_path: Path) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    path = tmp_path / "tasks.csv"
    path.write_text(
        "INPUT:headline,GOLDEN:category,HINT:category\n"
        "Eurozone now officially in recession,notclickbait,a plain fact\n"
        "\"19 Things, \"\"Literally\"\"\",clickbait,\n"
        "A plain headline,,\n"
        "Another one,maybe,\n")  # the last row's golden label is not allowed
    report = crowd.import_task_file(pool.id, path)
    assert sorted(report.items) == [0, 1, 2]
    assert list(report.validation_errors) == [3]
    assert "maybe" in json.dumps(report.validation_errors[3])
    tasks = crowd.list_tasks(pool.id)
    assert tasks[0].known_solutions == [{"output_values": {"category": "notclickbait"},
                                         "correctness_weight": 1}]
    assert tasks[0].message_on_unknown_solution == "a plain fact"
    assert tasks[1].input_values == {"headline": '19 Things, "Literally"'}
    assert tasks[2].known_solutions is None
    assert tasks[2].overlap == 3  # the pool's default


def test_tsv_json_and_jsonl_task_files(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    tsv = "INPUT:headline\tTASK:overlap\nfirst\t5\nsecond\t\n"
    assert len(crowd.import_task_file(pool.id, tsv.encode()).items) == 2
    tasks = [{"input_values": {"headline": "json one"}, "overlap": 2},
             {"input_values": {"headline": "json two"}, "infinite_overlap": True}]
    assert len(crowd.import_task_file(pool.id, json.dumps(tasks)).items) == 2
    long_line = json.dumps([{"input_values": {"headline": "x" * 400}}])  # not a file name
    assert len(crowd.import_task_file(pool.id, long_line).items) == 1
    jsonl = "\n".join(json.dumps(t) for t in tasks)
    assert len(crowd.import_task_file(pool.id, jsonl, format="jsonl").items) == 2
    overlaps = [t.overlap for t in crowd.list_tasks(pool.id)]
    assert overlaps == [5, 3, 2, None, 3, 2, None]


def test_an_unknown_column_is_refused_by_name(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    with pytest.raises(Unsupported, match="ASSIGNMENT:worker_id"):
        crowd.import_task_file(pool.id, "INPUT:headline,ASSIGNMENT:worker_id\nx,1\n")
    with pytest.raises(InvalidInput, match="INPUT:title"):
        crowd.import_task_file(pool.id, "INPUT:title\nx\n")
    assert crowd.list_tasks(pool.id) == []


def test_create_tasks_fails_whole_batch_unless_skipping(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    items = [{"pool_id": pool.id, "input_values": {"headline": "ok"}},
             {"pool_id": pool.id, "input_values": {"title": "wrong field"}},
             {"pool_id": "424242", "input_values": {"headline": "no such pool"}}]
    with pytest.raises(InvalidInput) as excinfo:
        crowd.create_tasks(items)
    assert set(excinfo.value.payload["validation_errors"]) == {"1", "2"}
    assert crowd.list_tasks(pool.id) == []
    report = crowd.create_tasks(items, skip_invalid_items=True)
    assert list(report.items) == [0]
    assert "input_values.headline" in report.validation_errors[1]


@pytest.mark.realdata
def test_the_clickbait_data_set_imports_as_a_task_file(crowd: Crowd, shared_data: Path,
                                                       tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(shared_data / "clickbait" / "clickbait.csv", nrows=500)
    project = crowd.create_project(project_config(task_spec={
        "input_spec": {"headline": {"type": "string"}},
        "output_spec": {"category": {"type": "string",
                                     "allowed_values": ["clickbait", "not clickbait"]}}}))
    pool = crowd.create_pool(pool_config(project.id))
    tasks = frame.rename(columns={"headline": "INPUT:headline", "label": "GOLDEN:category"})
    tasks.loc[50:, "GOLDEN:category"] = ""  # the first 50 rows become control tasks
    path = tmp_path / "tasks.tsv"
    tasks.to_csv(path, sep="\t", index=False)
    report = crowd.import_task_file(pool.id, path)
    assert report.validation_errors == {}
    assert len(report.items) == 500
    assert crowd.pool_stats(pool.id)["control_tasks"] == 50
