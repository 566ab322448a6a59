"""Glob → datums, cross/union/join/group, datum ids and hashes, and the skip/delete plan."""

from __future__ import annotations

import pytest

from crowdline.errors import BadSpec
from crowdline.pipelines.datums import (
    InputCommit,
    InputFile,
    form_datums,
    plan_datums,
)
from crowdline.pipelines.spec import parse_spec


def commit(repo: str, *paths: str, branch: str = "master", cid: str = "c1",
           content: str = "") -> InputCommit:
    files = tuple(InputFile(p, f"h-{p}{content}", 1) for p in sorted(paths))
    return InputCommit(repo, branch, cid, files)


def datums_for(input_spec: dict, *commits: InputCommit):
    spec = parse_spec({"pipeline": {"name": "p"}, "input": input_spec,
                       "transform": {"python": "m:f"}})
    return form_datums(spec.input, {(c.repo, c.branch): c for c in commits})


def paths_of(datums) -> list[list[str]]:
    return [[f"{p.name}:{p.path}" for p in d.parts] for d in datums]


REPO = commit("r", "/a.csv", "/b.txt", "/dir/x.csv", "/dir/sub/y.csv", "/dir2/z.csv")


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("/", [["r:/"]]),
        ("/*", [["r:/a.csv"], ["r:/b.txt"], ["r:/dir"], ["r:/dir2"]]),
        ("/*.csv", [["r:/a.csv"]]),
        ("/*/*", [["r:/dir/sub"], ["r:/dir/x.csv"], ["r:/dir2/z.csv"]]),
        ("/**", [["r:/a.csv"], ["r:/b.txt"], ["r:/dir/sub/y.csv"], ["r:/dir/x.csv"],
                 ["r:/dir2/z.csv"]]),
        ("/**.csv", [["r:/a.csv"], ["r:/dir/sub/y.csv"], ["r:/dir/x.csv"], ["r:/dir2/z.csv"]]),
        ("/dir?", [["r:/dir2"]]),
        ("/[ab].*", [["r:/a.csv"], ["r:/b.txt"]]),
        ("/[!a]*", [["r:/b.txt"], ["r:/dir"], ["r:/dir2"]]),
        ("/*.{csv,txt}", [["r:/a.csv"], ["r:/b.txt"]]),
        ("*", [["r:/a.csv"], ["r:/b.txt"], ["r:/dir"], ["r:/dir2"]]),  # leading / optional
    ],
)
def test_glob_forms_datums_like_pachyderm(glob: str, expected: list[list[str]]) -> None:
    assert paths_of(datums_for({"pfs": {"repo": "r", "glob": glob}}, REPO)) == expected


def test_directory_datum_holds_every_file_under_it() -> None:
    (datum,) = [d for d in datums_for({"pfs": {"repo": "r", "glob": "/*"}}, REPO)
                if d.parts[0].path == "/dir"]
    assert [f.path for f in datum.parts[0].files] == ["/dir/sub/y.csv", "/dir/x.csv"]


def test_root_glob_over_empty_repo_gives_no_datum() -> None:
    assert datums_for({"pfs": {"repo": "r", "glob": "/"}}, commit("r")) == []


def test_cross_is_the_product_and_union_the_concatenation() -> None:
    left, right = commit("a", "/1", "/2"), commit("b", "/x", "/y", "/z")
    crossed = datums_for({"cross": [{"pfs": {"repo": "a", "glob": "/*"}},
                                    {"pfs": {"repo": "b", "glob": "/*"}}]}, left, right)
    assert len(crossed) == 6
    assert paths_of(crossed)[0] == ["a:/1", "b:/x"]
    united = datums_for({"union": [{"pfs": {"repo": "a", "glob": "/*", "name": "in"}},
                                   {"pfs": {"repo": "b", "glob": "/*", "name": "in"}}]},
                        left, right)
    assert paths_of(united) == [["in:/1"], ["in:/2"], ["in:/x"], ["in:/y"], ["in:/z"]]


def test_join_matches_capture_groups_inner_and_outer() -> None:
    tasks = commit("tasks", "/1.json", "/2.json", "/3.json")
    answers = commit("answers", "/1.csv", "/3.csv", "/4.csv")
    inner = datums_for({"join": [
        {"pfs": {"repo": "tasks", "glob": "/(*).json", "join_on": "$1"}},
        {"pfs": {"repo": "answers", "glob": "/(*).csv", "join_on": "$1"}},
    ]}, tasks, answers)
    assert paths_of(inner) == [["tasks:/1.json", "answers:/1.csv"],
                               ["tasks:/3.json", "answers:/3.csv"]]
    assert [p.join_key for p in inner[0].parts] == ["1", "1"]
    outer = datums_for({"join": [
        {"pfs": {"repo": "tasks", "glob": "/(*).json", "join_on": "$1", "outer_join": True}},
        {"pfs": {"repo": "answers", "glob": "/(*).csv", "join_on": "$1"}},
    ]}, tasks, answers)
    assert paths_of(outer) == [["tasks:/1.json", "answers:/1.csv"], ["tasks:/2.json"],
                               ["tasks:/3.json", "answers:/3.csv"]]


def test_join_of_whole_repos_without_groups_acts_as_a_cross() -> None:
    # the shape of the Toloka + Pachyderm reference specs: glob "/" and join_on "$1"
    joined = datums_for({"join": [
        {"pfs": {"repo": "a", "glob": "/", "join_on": "$1"}},
        {"pfs": {"repo": "b", "glob": "/", "join_on": "$1"}},
    ]}, commit("a", "/pool.csv"), commit("b", "/pool.txt"))
    assert paths_of(joined) == [["a:/", "b:/"]]


def test_group_collects_every_match_of_a_key() -> None:
    grouped = datums_for({"group": [
        {"pfs": {"repo": "r", "glob": "/(*)-*.csv", "group_by": "$1"}},
    ]}, commit("r", "/a-1.csv", "/a-2.csv", "/b-1.csv"))
    assert paths_of(grouped) == [["r:/a-1.csv", "r:/a-2.csv"], ["r:/b-1.csv"]]


def test_datum_id_is_location_and_hash_follows_content_and_salt() -> None:
    before = datums_for({"pfs": {"repo": "r", "glob": "/*"}}, commit("r", "/a", content="1"))[0]
    after = datums_for({"pfs": {"repo": "r", "glob": "/*"}},
                       commit("r", "/a", content="2", cid="c2"))[0]
    assert before.id == after.id
    assert before.hash("s") != after.hash("s")
    assert before.hash("s") != before.hash("other salt")
    same_content_new_commit = datums_for({"pfs": {"repo": "r", "glob": "/*"}},
                                         commit("r", "/a", content="1", cid="c9"))[0]
    assert same_content_new_commit.hash("s") == before.hash("s")


def test_plan_skips_processed_datums_and_removes_vanished_ones() -> None:
    old = datums_for({"pfs": {"repo": "r", "glob": "/*"}}, commit("r", "/a", "/b", "/c"))
    committed = {d.id: d.hash("s") for d in old}
    new = datums_for({"pfs": {"repo": "r", "glob": "/*"}},
                     commit("r", "/a", "/c", "/d", cid="c2"))
    plan = plan_datums(new, "s", committed)
    assert sorted(d.parts[0].path for d, _ in plan.skipped) == ["/a", "/c"]
    assert [d.parts[0].path for d, _ in plan.to_process] == ["/d"]
    assert plan.removed == [old[1].id]  # "/b" was deleted
    reprocess = plan_datums(new, "new salt", committed)
    assert len(reprocess.to_process) == 3
    assert not reprocess.skipped


def test_bad_globs_are_rejected_with_the_reason() -> None:
    with pytest.raises(BadSpec, match="no closing"):
        datums_for({"pfs": {"repo": "r", "glob": "/[ab"}}, REPO)
    with pytest.raises(BadSpec, match="not closed"):
        datums_for({"pfs": {"repo": "r", "glob": "/(*.csv"}}, REPO)
