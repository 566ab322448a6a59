"""Toloka's search semantics (filters, sort, limit, has_more) on plain JSON objects."""

from __future__ import annotations

import datetime as dt

import pytest

from crowdline.errors import InvalidInput, Unsupported
from crowdline.server.toloka.routing import error_response, search, toloka_json

ITEMS = [{"id": str(i), "status": "OPEN" if i % 2 else "CLOSED", "overlap": i % 4,
          "created": f"2026-01-{i:02d}T10:00:00.000"} for i in range(1, 13)]


def test_ids_page_as_strings_like_toloka_kit() -> None:
    first = search(ITEMS, {"limit": "5"})
    assert [i["id"] for i in first["items"]] == ["1", "10", "11", "12", "2"]
    assert first["has_more"] is True
    rest = search(ITEMS, {"id_gt": "2", "limit": "100"})
    assert [i["id"] for i in rest["items"]] == ["3", "4", "5", "6", "7", "8", "9"]
    assert rest["has_more"] is False


def test_filters_and_sorting() -> None:
    found = search(ITEMS, {"status": "OPEN", "overlap_gte": "2", "sort": "-created"},
                   equal=("status",), compare={"id": str, "created": dt.datetime,
                                               "overlap": int})
    assert [i["id"] for i in found["items"]] == ["11", "7", "3"]
    since = search(ITEMS, {"created_gt": "2026-01-10T00:00:00"},
                   compare={"id": str, "created": dt.datetime})
    assert {i["id"] for i in since["items"]} == {"10", "11", "12"}


def test_unknown_parameters_and_bad_values_are_named() -> None:
    with pytest.raises(Unsupported, match="reward_gt") as unknown:
        search(ITEMS, {"reward_gt": "1"})
    assert unknown.value.payload == {"reward_gt": {"code": "UNSUPPORTED_FIELD",
                                                   "message": "not supported by crowdline"}}
    with pytest.raises(Unsupported, match="sorting by 'status'"):
        search(ITEMS, {"sort": "status"})
    with pytest.raises(InvalidInput, match="limit"):
        search(ITEMS, {"limit": "0"})
    with pytest.raises(InvalidInput, match="overlap_gt"):
        search(ITEMS, {"overlap_gt": "many"}, compare={"overlap": int})


def test_error_bodies_use_tolokas_codes() -> None:
    body = error_response(Unsupported("collector INCOME is not supported"))
    assert body.status_code == 400
    assert b'"code":"VALIDATION_ERROR"' in body.body
    assert b"INCOME" in body.body


def test_datetimes_become_toloka_strings() -> None:
    when = dt.datetime(2026, 5, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert toloka_json({"created": when, "gone": None, "nested": [{"at": when}]}) == {
        "created": "2026-05-01T10:30:00.000", "nested": [{"at": "2026-05-01T10:30:00.000"}]}
