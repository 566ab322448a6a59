"""Pachyderm glob patterns as regular expressions (pure).

``/`` is the whole repo, ``*`` one path segment (or part of one), ``?`` one character,
``[...]`` a class (``[!...]`` negated), ``{a,b}`` alternatives, ``**`` any depth, and
``( )`` capture groups whose values ``join_on`` / ``group_by`` refer to as ``$1``, ``$2``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from crowdline.errors import InvalidInput

T = TypeVar("T")


def normalise_glob(pattern: str) -> str:
    pattern = pattern.strip()
    if not pattern.startswith("/"):
        pattern = "/" + pattern
    if len(pattern) > 1:
        pattern = pattern.rstrip("/") or "/"
    return pattern


@functools.lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex matching whole repo paths (``/a/b.csv``) against ``pattern``."""
    pattern = normalise_glob(pattern)
    if pattern == "/":
        return re.compile("/")
    out: list[str] = []
    i, depth, in_brace = 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise _bad(pattern, "a '[' has no closing ']'")
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        elif char == "(":
            depth += 1
            out.append("(")
        elif char == ")":
            if depth == 0:
                raise _bad(pattern, "a ')' has no opening '('")
            depth -= 1
            out.append(")")
        elif char == "{":
            if in_brace:
                raise _bad(pattern, "'{' alternatives cannot nest")
            in_brace = True
            out.append("(?:")
        elif char == "}" and in_brace:
            in_brace = False
            out.append(")")
        elif char == "," and in_brace:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    if depth or in_brace:
        raise _bad(pattern, "a '(' or '{' is not closed")
    try:
        return re.compile("".join(out))
    except re.error as exc:
        raise _bad(pattern, str(exc)) from exc


def _bad(pattern: str, why: str) -> InvalidInput:
    from crowdline.errors import BadSpec

    return BadSpec(f"glob {pattern!r} is not valid: {why}",
                   hint="see `glob` in the pipeline spec docs: /, /*, /*/*, /**, ( ) groups")


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
