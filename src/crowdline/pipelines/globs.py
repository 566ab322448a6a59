"""Datum selection by glob (pure): which paths a pfs input's glob selects, with the files
under each, and the capture-group values ``join_on`` / ``group_by`` use.

The glob grammar itself lives once, in the store (``crowdline.store.paths.glob_regex``:
``/``, ``*``, ``?``, ``[...]``, ``{a,b}``, ``**`` and ``( )`` groups); here it is only
wrapped so a bad glob in a spec is a ``BadSpec``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from crowdline.errors import BadPath, BadSpec
from crowdline.store import paths

T = TypeVar("T")


def normalise_glob(pattern: str) -> str:
    try:
        return paths.normalize_glob(pattern)
    except BadPath as exc:
        raise BadSpec(exc.message, hint=exc.hint) from exc


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex matching whole repo paths (``/a/b.csv``) against ``pattern``."""
    try:
        return paths.glob_regex(pattern)
    except BadPath as exc:
        raise BadSpec(exc.message, hint="see `glob` in the pipeline spec docs: /, /*, /*/*, "
                      "/**, ( ) groups") from exc


def expand_capture(template: str, match: re.Match[str]) -> str:
    """``join_on: "$1-$2"`` filled from the glob's capture groups (missing groups are empty)."""

    def group(found: re.Match[str]) -> str:
        index = int(found.group(1))
        if index > (match.re.groups or 0):
            return ""
        return match.group(index) or ""

    return re.sub(r"\$(\d+)", group, template)


def select(files: list[T], path_of: Callable[[T], str], pattern: str
           ) -> list[tuple[str, re.Match[str], list[T]]]:
    """What the glob selects: ``(path, match, files under it)`` sorted by path.

    Patterns with ``**`` select files only, so datums do not nest; others select files and
    directories, a directory datum holding every file under it (as Pachyderm does).
    """
    pattern = normalise_glob(pattern)
    regex = compile_glob(pattern)
    if pattern == "/":
        whole = regex.fullmatch("/")
        assert whole is not None
        return [("/", whole, list(files))] if files else []
    groups: dict[str, list[T]] = {}
    if "**" in pattern:
        for item in files:
            groups.setdefault(path_of(item), []).append(item)
    else:
        depth = pattern.count("/")
        for item in files:
            path = path_of(item)
            if path.count("/") > depth:
                path = "/".join(path.split("/", depth + 1)[: depth + 1])
            groups.setdefault(path, []).append(item)
    found = []
    for path in sorted(groups):
        match = regex.fullmatch(path)
        if match is not None:
            found.append((path, match, groups[path]))
    return found


def datum_root(pattern: str, path: str) -> str | None:
    """The path of the datum a file at ``path`` belongs to under ``pattern`` (the folder or
    file the glob selects that holds it), or None when the glob does not select it."""
    pattern = normalise_glob(pattern)
    if pattern == "/":
        return "/"
    if "**" in pattern:
        root = path
    else:
        depth = pattern.count("/")
        root = path
        if path.count("/") > depth:
            root = "/".join(path.split("/", depth + 1)[: depth + 1])
    return root if compile_glob(pattern).fullmatch(root) else None
