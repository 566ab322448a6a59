"""Worker profiles and Toloka's pool filter tree: who may get a pool's suites.

A worker carries a profile (set when invited, or once by the annotator): Toloka's ``profile``
fields (``languages``, ``country``, ``adult_allowed``...) and ``computed`` ones
(``client_type``, default BROWSER: crowdline's annotators use the web UI). A pool's
``filter`` is Toloka's tree of ``and`` / ``or`` nodes over leaves
``{category: profile | computed | skill, key, operator, value}``:

    {"and": [{"category": "profile", "key": "languages", "operator": "IN", "value": "EN"},
             {"category": "skill", "key": "3", "operator": "GTE", "value": 70}]}

A worker without a value for a key matches only ``EQ null``, ``NE``, ``NOT_IN``. The filter's
shape is checked by ``crowdline.crowd.configs.check_filter``; this module evaluates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.errors import InvalidInput

# key -> (python types accepted, allowed values or None)
PROFILE_KEYS: dict[str, tuple[tuple[type, ...], frozenset[str] | None]] = {
    "languages": ((list,), None),
    "country": ((str,), None),
    "citizenship": ((str,), None),
    "city": ((int,), None),
    "gender": ((str,), frozenset({"MALE", "FEMALE"})),
    "education": ((str,), frozenset({"BASIC", "MIDDLE", "HIGH"})),
    "adult_allowed": ((bool,), None),
    "date_of_birth": ((int,), None),
    "verified": ((bool,), None),
}
COMPUTED_KEYS: dict[str, tuple[tuple[type, ...], frozenset[str] | None]] = {
    "client_type": ((str,), frozenset({"BROWSER", "TOLOKA_APP"})),
    "region_by_phone": ((int,), None),
    "region_by_ip": ((int,), None),
    "device_category": ((str,), frozenset({"PERSONAL_COMPUTER", "SMARTPHONE", "TABLET",
                                           "WEARABLE_COMPUTER"})),
    "os_family": ((str,), frozenset({"WINDOWS", "OS_X", "MAC_OS", "LINUX", "BSD", "ANDROID",
                                     "IOS", "BLACKBERRY"})),
    "os_version": ((int, float), None),
    "user_agent_type": ((str,), frozenset({"BROWSER", "MOBILE_BROWSER", "OTHER"})),
    "rating": ((int, float), None),
}
COMPUTED_DEFAULTS = {"client_type": "BROWSER"}


def check_profile(profile: Any) -> dict[str, Any]:
    """A worker profile, validated: known keys, right types; languages upper-cased."""
    if profile is None:
        return {}
    if not isinstance(profile, Mapping):
        raise InvalidInput("a worker profile must be an object",
                           hint='e.g. {"languages": ["EN"], "country": "GB"}')
    known = {**PROFILE_KEYS, **COMPUTED_KEYS}
    result: dict[str, Any] = {}
    for name, value in profile.items():
        if name not in known:
            raise InvalidInput(f"worker profile field {name!r} is not known",
                               hint=f"use: {', '.join(sorted(known))}")
        if value is None:
            continue
        types, allowed = known[name]
        if name == "languages" and isinstance(value, str):
            value = [value]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise InvalidInput(f"worker profile {name}={value!r} must be "
                               f"{' or '.join(t.__name__ for t in types)}")
        if name == "languages":
            if not all(isinstance(v, str) and v.strip() for v in value):
                raise InvalidInput("worker profile languages must be language codes",
                                   hint="e.g. --languages EN --languages DE")
            value = sorted({v.strip().upper() for v in value})
        if allowed is not None and value not in allowed:
            raise InvalidInput(f"worker profile {name}={value!r} is not one of "
                               f"{', '.join(sorted(allowed))}")
        result[name] = value.upper() if name in ("country", "citizenship") else value
    return result


def worker_facts(conn: sa.Connection, worker_key: int) -> dict[str, dict[str, Any]]:
    """What a filter can look at for one worker: profile, computed fields and skills."""
    from crowdline.crowd.workers import skill_values

    profile = conn.execute(sa.select(t.workers.c.profile).where(
        t.workers.c.id == worker_key)).scalar_one_or_none() or {}
    computed = {**COMPUTED_DEFAULTS, **{k: v for k, v in profile.items() if k in COMPUTED_KEYS}}
    return {"profile": {k: v for k, v in profile.items() if k in PROFILE_KEYS},
            "computed": computed, "skill": skill_values(conn, worker_key)}


def _compare(op: str, value: Any, wanted: Any) -> bool:
    if op in ("IN", "NOT_IN"):
        wanted_set = set(wanted) if isinstance(wanted, list) else {wanted}
        have = set(value) if isinstance(value, list) else {value}
        hit = bool(have & wanted_set)
        return hit if op == "IN" else not hit
    if isinstance(value, list):  # e.g. languages EQ "EN": the worker knows it
        return (wanted in value) if op == "EQ" else (wanted not in value) if op == "NE" \
            else False
    try:
        return {"EQ": value == wanted, "NE": value != wanted, "GT": value > wanted,
                "GTE": value >= wanted, "LT": value < wanted, "LTE": value <= wanted}[op]
    except TypeError:
        return False


def filter_matches(node: Mapping[str, Any] | None, facts: Mapping[str, Any]) -> bool:
    """Evaluate a Toloka filter tree against ``worker_facts`` (or a bare skills dict)."""
    if not node:
        return True
    if "and" in node:
        return all(filter_matches(child, facts) for child in node["and"])
    if "or" in node:
        return any(filter_matches(child, facts) for child in node["or"])
    if "skill" not in facts:  # a bare {skill_id: value} mapping
        facts = {"skill": facts, "profile": {}, "computed": dict(COMPUTED_DEFAULTS)}
    category, op, wanted = node.get("category"), node["operator"], node.get("value")
    value = (facts.get(str(category)) or {}).get(str(node["key"]))
    if isinstance(value, int | float) and not isinstance(value, bool) and isinstance(
            wanted, str):
        try:
            wanted = float(wanted)
        except ValueError:
            return False
    if value is None or wanted is None:
        if op == "EQ":
            return value is None and wanted is None
        return op in ("NE", "NOT_IN") and (value is None) != (wanted is None)
    return _compare(op, value, wanted)
