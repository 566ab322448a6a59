"""Failure isolation: err_cmd / on_error recovery, skip_datum with a rejected report, no retry
of invalid input, reprocess_spec, and what `crowdline run` says about a failed datum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipelines_helpers import calls, contents, put, spec
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.errors import BadSpec
from crowdline.pipelines import parse_spec
from crowdline.workspace import Workspace

CHECK = "failure_testkit:check_rows"


def checker(name: str, repo: str = "raw", **extra: object) -> dict:
    return {"pipeline": {"name": name}, "input": {"pfs": {"repo": repo, "glob": "/*"}},
            "transform": {"python": CHECK}, **extra}


def states(ws: Workspace, job_id: str) -> dict[str, str]:
    return {d.paths[0].rsplit("/", 1)[-1]: d.state for d in ws.pipelines.list_datums(job_id)}


def test_err_cmd_success_recovers_the_datum_and_the_job_succeeds(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/a.txt": "fine", "/b.txt": "bad"})
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "copy"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
        "transform": {"cmd": ["sh", "-c", 'if grep -q bad "$CROWDLINE_INPUT"/*; then exit 1; '
                                          'fi; cp "$CROWDLINE_INPUT"/* "$CROWDLINE_OUTPUT"/'],
                      "err_cmd": ["sh", "-c", 'echo "handled: $CROWDLINE_ERROR"']},
        "datum_tries": 2})
    ws.pipelines.create_pipeline(spec("after", "copy", "upper"))
    report = ws.pipelines.run()
    assert report.jobs_failed == []
    assert report.datums_recovered == 1
    (job,) = ws.pipelines.list_jobs("copy")
    assert job.state == "success"
    assert states(ws, job.id) == {"a.txt": "success", "b.txt": "recovered"}
    assert contents(ws, "copy") == {"/a.txt": "fine"}  # a recovered datum has no output
    assert contents(ws, "after") == {"/a.txt.up": "FINE"}  # downstream was not blocked
    log = {entry.datum_id: entry for entry in ws.pipelines.job_logs(job.id)}
    recovered = next(e for e in log.values() if e.state == "recovered")
    assert "handled: CrowdlineError: command exited with code 1" in recovered.log
    assert recovered.log.count("--- try") == 2  # both tries ran before the handler


def test_failing_error_handler_leaves_the_datum_failed(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/a.txt": "bad"})
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "copy"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
        "transform": {"cmd": ["sh", "-c", "exit 1"], "err_cmd": ["sh", "-c", "exit 3"]},
        "datum_tries": 1})
    report = ws.pipelines.run()
    assert len(report.jobs_failed) == 1
    (datum,) = ws.pipelines.list_datums(report.jobs_failed[0])
    assert datum.state == "failed"


def test_python_on_error_hook_recovers_or_not(workspace: Workspace,
                                              testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/bad.txt": "bad", "/boom.txt": "boom", "/ok.txt": "ok"})
    hooked = checker("hooked", datum_tries=2)
    hooked["transform"]["on_error"] = "failure_testkit:note_failure"
    ws.pipelines.create_pipeline(hooked)
    report = ws.pipelines.run()
    (job,) = ws.pipelines.list_jobs("hooked")
    assert states(ws, job.id) == {"bad.txt": "recovered", "boom.txt": "failed",
                                  "ok.txt": "success"}
    assert job.state == "failed"  # boom's handler raised: fail_job
    noted = calls(testkit_env)
    assert "on_error:bad.txt:InvalidInput:_bad.txt_holds_'bad'_(fix_the_file)" in noted
    assert noted.count("check:boom.txt") == 2  # an ordinary error is tried datum_tries times
    assert noted.count("check:bad.txt") == 1  # invalid input is tried once
    assert report.datums_recovered == 1


def test_skip_datum_commits_the_rest_and_a_rejected_report(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/good.txt": "fine", "/bad.txt": "bad"})
    ws.pipelines.create_pipeline(checker("check", on_datum_failure="skip_datum"))
    ws.pipelines.create_pipeline(spec("after", "check", "upper", glob="/*.txt"))
    report = ws.pipelines.run()
    assert report.jobs_failed == []
    assert len(report.jobs_succeeded) == 2  # downstream was not blocked
    out = contents(ws, "check")
    assert out["/good.txt"] == "FINE"
    rejected = json.loads(out["/rejected/bad.txt.json"])
    assert rejected["error"] == "InvalidInput: bad.txt holds 'bad' (fix the file)"
    assert rejected["inputs"][0]["path"] == "/bad.txt"
    assert rejected["invalid_input"] is True
    assert rejected["log_tail"] == ["checking bad.txt"]  # what the code printed
    assert contents(ws, "after") == {"/good.txt.up": "FINE"}
    (failure,) = report.failures
    assert failure["skipped"] is True
    assert failure["report"] == "/rejected/bad.txt.json"
    assert failure["inputs"][0].endswith(":/bad.txt")
    # fixing the file replaces the report with the real output
    put(ws, "raw", {"/bad.txt": "fixed"})
    ws.pipelines.run()
    assert contents(ws, "check") == {"/good.txt": "FINE", "/bad.txt": "FIXED"}
    # a new bad file, then deleting it: its report goes too
    put(ws, "raw", {"/worse.txt": "bad"})
    ws.pipelines.run()
    assert "/rejected/worse.txt.json" in contents(ws, "check")
    put(ws, "raw", {"/worse.txt": None})
    ws.pipelines.run()
    assert contents(ws, "check") == {"/good.txt": "FINE", "/bad.txt": "FIXED"}


def test_invalid_input_is_not_retried_until_it_or_the_pipeline_changes(
        workspace: Workspace, testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/bad.txt": "bad", "/a.txt": "a"})
    ws.pipelines.create_pipeline(checker("check", datum_tries=3))
    first = ws.pipelines.run()
    assert len(first.jobs_failed) == 1
    assert calls(testkit_env).count("check:bad.txt") == 1  # no second try in the job
    put(ws, "raw", {"/b.txt": "b"})  # an unrelated new file
    second = ws.pipelines.run()
    assert calls(testkit_env).count("check:bad.txt") == 1  # not run again
    assert len(second.jobs_failed) == 1  # still fails the job (fail_job), with its reason
    (carried,) = [f for f in second.failures if f["inputs"][0].endswith(":/bad.txt")]
    assert carried["permanent"] is True
    assert "holds 'bad'" in carried["error"]
    # `crowdline datum retry` runs it again although nothing changed
    job = second.jobs_failed[0]
    bad_id = next(d.datum_id for d in ws.pipelines.list_datums(job) if d.state == "failed")
    assert ws.pipelines.retry_datums(job, [bad_id]) == [bad_id]
    ws.pipelines.run()
    assert calls(testkit_env).count("check:bad.txt") == 2
    # a new pipeline version runs it again too
    ws.pipelines.update_pipeline(checker("check", datum_tries=2))
    ws.pipelines.run()
    assert calls(testkit_env).count("check:bad.txt") == 3
    # and so does a changed file, which now succeeds
    put(ws, "raw", {"/bad.txt": "good now"})
    last = ws.pipelines.run()
    assert last.jobs_failed == []
    assert contents(ws, "check") == {"/a.txt": "A", "/b.txt": "B", "/bad.txt": "GOOD NOW"}


def test_invalid_input_exit_code_of_a_cmd_is_not_retried(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/a.txt": "a"})
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "strict"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
        "transform": {"cmd": ["sh", "-c", "echo 'a.txt: no header' >&2; exit 65"]},
        "datum_tries": 3})
    report = ws.pipelines.run()
    (datum,) = ws.pipelines.list_datums(report.jobs_failed[0])
    assert datum.tries == 1
    assert "EX_DATAERR" in datum.error
    assert "a.txt: no header" in report.failures[0]["log_tail"]


def test_reprocess_every_job_runs_every_datum_again(workspace: Workspace,
                                                     testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("upper", "raw", "upper", reprocess_spec="every_job"))
    put(ws, "raw", {"/a.txt": "a"})
    ws.pipelines.run()
    put(ws, "raw", {"/b.txt": "b"})
    ws.pipelines.run()
    assert calls(testkit_env) == ["a.txt", "a.txt", "b.txt"]
    assert contents(ws, "upper") == {"/a.txt.up": "A", "/b.txt.up": "B"}


def test_spec_refuses_bad_failure_settings() -> None:
    base = checker("p")
    with pytest.raises(BadSpec, match="on_datum_failure"):
        parse_spec({**base, "on_datum_failure": "ignore"})
    with pytest.raises(BadSpec, match="reprocess_spec"):
        parse_spec({**base, "reprocess_spec": "sometimes"})
    with pytest.raises(BadSpec, match="both"):
        parse_spec({**base, "transform": {"python": CHECK, "on_error": "m:f",
                                          "err_cmd": ["true"]}})
    parsed = parse_spec({**base, "on_datum_failure": "skip_datum",
                         "transform": {"cmd": ["x"], "err_cmd": "true", "err_stdin": "echo"}})
    assert parsed.on_datum_failure == "skip_datum"
    assert parsed.transform.err_cmd == ("true",)


def test_crowdline_run_names_each_failed_datum_with_its_error(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/bad.txt": "bad", "/boom.txt": "boom", "/ok.txt": "ok"})
    ws.pipelines.create_pipeline(checker("check", datum_tries=1))
    result = CliRunner().invoke(app, ["run"], env={"CROWDLINE_HOME": str(ws.settings.home)})
    assert result.exit_code == 10
    text = result.output
    assert ":/bad.txt" in text
    assert "InvalidInput: bad.txt holds 'bad'" in text
    assert ":/boom.txt" in text
    assert "second line of the error" in text  # the last lines, not only the first
    assert "not retried until the file or the pipeline changes" in text
    assert "crowdline delete file raw@master:/bad.txt" in text
    assert ":/ok.txt" not in text
