"""Labels from a Toloka task interface, for output fields that list no ``allowed_values``.

Toloka takes the choices of a field from its view: a template-builder (``tb``) config's
``field.button-radio-group`` / ``field.radio-group`` / ``field.select`` /
``field.checkbox-group`` options bound to ``data.output`` of the field, or a classic view's
``{{field type="radio" name="..." value="..." label="..."}}`` markup. crowdline does the same,
so a project config written for Toloka needs no edit:

    view_labels(task_spec, "category")   # [("clickbait", "Clickbait"), ...]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from crowdline.errors import InvalidInput

CHOICE_COMPONENTS = frozenset({"field.button-radio-group", "field.radio-group", "field.select",
                               "field.checkbox-group"})
_CLASSIC_FIELD = re.compile(r"\{\{\s*field\b(?P<attrs>[^}]*)\}\}")
_ATTR = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _tb_config(view: dict[str, Any]) -> Any:
    config = view.get("config")
    if isinstance(config, str):
        try:
            return json.loads(config)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"task_spec.view_spec.config is not valid JSON: {exc}",
                               hint="give the template-builder config as a JSON string or "
                                    "object") from exc
    if config is None:  # toloka-kit may send the view itself instead of a config string
        return {k: view[k] for k in ("view", "plugins", "vars") if k in view}
    return config


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _tb_labels(view: dict[str, Any], field: str) -> list[tuple[Any, str]]:
    found: list[tuple[Any, str]] = []
    for node in _walk(_tb_config(view)):
        data = node.get("data")
        if (node.get("type") in CHOICE_COMPONENTS and isinstance(data, dict)
                and data.get("type") == "data.output" and data.get("path") == field):
            for option in node.get("options") or []:
                if isinstance(option, dict) and "value" in option:
                    title = option.get("label", option["value"])
                    found.append((option["value"], title if isinstance(title, str)
                                  else str(option["value"])))
    return found


def _classic_labels(view: dict[str, Any], field: str) -> list[tuple[Any, str]]:
    found: list[tuple[Any, str]] = []
    for match in _CLASSIC_FIELD.finditer(str(view.get("markup") or "")):
        attrs = {name: a if a or not b else b for name, a, b in _ATTR.findall(match["attrs"])}
        if attrs.get("type") in ("radio", "checkbox") and attrs.get("name") == field \
                and "value" in attrs:
            found.append((attrs["value"], attrs.get("label", attrs["value"])))
    return found


def view_labels(task_spec: dict[str, Any], field: str) -> list[tuple[Any, str]]:
    """(value, title) per choice the view offers for ``field``, in view order, no repeats."""
    view = task_spec.get("view_spec") or {}
    if not isinstance(view, dict):
        return []
    kind = view.get("type")
    found = (_tb_labels(view, field) if kind == "tb"
             else _classic_labels(view, field) if kind == "classic" else [])
    seen: set[str] = set()
    unique = []
    for value, title in found:
        if str(value) not in seen:
            seen.add(str(value))
            unique.append((value, title))
    return unique
