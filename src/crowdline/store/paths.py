"""Names, paths and globs: pure functions, no I/O.

Paths are stored as *keys* where "/" becomes "\\x01" so that, in byte order, a folder's
subtree is one contiguous range [key + "\\x01", key + "\\x02") that sorts right after the
folder itself. Listing a folder or walking a subtree is then an index range scan.
"""

from __future__ import annotations

import functools
import re

from crowdline.errors import BadName, BadPath

SEP = "\x01"
SUBTREE_END = "\x02"
ROOT_KEY = SEP

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
COMMIT_ID = re.compile(r"[0-9a-f]{32}")


def check_name(name: str, what: str) -> str:
    """A repo or branch name: letters, digits, ``_ . -``; starts with a letter or digit."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BadName(
            f"{what} name {name!r} is not allowed",
            hint="use 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit",
        )
    if what == "branch" and COMMIT_ID.fullmatch(name):
        raise BadName(f"branch name {name!r} looks like a commit id",
                      hint="choose a name that is not 32 hex characters")
    return name


_BAD_CHARACTER = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters and backslash


def bad_characters(text: str) -> bool:
    """Whether ``text`` holds a character no stored path may hold."""
    return _BAD_CHARACTER.search(text) is not None


def normalize_path(path: str, *, allow_root: bool = False) -> str:
    """``"a//b/./c/"`` -> ``"/a/b/c"``; a ``..`` or a control character is BadPath."""
    if not isinstance(path, str):
        raise BadPath(f"path {path!r} is not a string")
    if _BAD_CHARACTER.search(path):
        raise BadPath(f"path {path!r} contains a control character or a backslash",
                      hint="use printable characters and '/' as the separator")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BadPath(f"path {path!r} escapes the repo ('..' is not allowed)",
                      hint="give an absolute path inside the repo, e.g. /data/a.csv")
    if not parts:
        if allow_root:
            return "/"
        raise BadPath(f"path {path!r} names the repo root, not a file",
                      hint="give a file path such as /a.txt")
    return "/" + "/".join(parts)


def to_key(path: str) -> str:
    return path.replace("/", SEP)


def from_key(key: str) -> str:
    return key.replace(SEP, "/")


def dir_key(key: str) -> str:
    """Key of the folder holding ``key`` (the root's key for top-level files)."""
    head = key.rsplit(SEP, 1)[0]
    return head or ROOT_KEY


def subtree_range(path: str) -> tuple[str, str]:
    """Keys of everything strictly under folder ``path``: ``lo <= key < hi``."""
    if path == "/":
        return SEP, SUBTREE_END
    key = to_key(path)
    return key + SEP, key + SUBTREE_END


def parent_dirs(path: str) -> list[str]:
    """``/a/b/c.txt`` -> ``["/", "/a", "/a/b"]``."""
    parts = path.strip("/").split("/")[:-1]
    return ["/"] + ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def normalize_glob(pattern: str) -> str:
    """``"data/*.csv/"`` -> ``"/data/*.csv"``: one leading "/", no trailing or doubled "/"."""
    if not isinstance(pattern, str):
        raise BadPath(f"glob {pattern!r} is not a string")
    pattern = pattern.strip()
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in pattern):
        raise BadPath(f"glob {pattern!r} contains a control character")
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BadPath(f"glob {pattern!r} escapes the repo ('..' is not allowed)",
                      hint="write a glob from the repo root, e.g. /data/*.csv")
    return "/" + "/".join(parts)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """The one glob implementation (store and pipelines): Pachyderm globs on full paths.

    ``/`` is the whole repo, ``*`` and ``?`` stay inside one path segment, ``**`` crosses
    segments, ``[...]`` is a class (``[!...]`` negated), ``{a,b}`` alternatives and ``( )``
    capture groups (``join_on`` / ``group_by`` refer to them as ``$1``, ``$2``)."""
    return _compile_glob(normalize_glob(pattern))


@functools.lru_cache(maxsize=256)
def _compile_glob(pattern: str) -> re.Pattern[str]:
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
                raise _bad_glob(pattern, "a '[' has no closing ']'")
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
                raise _bad_glob(pattern, "a ')' has no opening '('")
            depth -= 1
            out.append(")")
        elif char == "{":
            if in_brace:
                raise _bad_glob(pattern, "'{' alternatives cannot nest")
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
        raise _bad_glob(pattern, "a '(' or '{' is not closed")
    try:
        return re.compile("".join(out))
    except re.error as exc:
        raise _bad_glob(pattern, str(exc)) from exc


def _bad_glob(pattern: str, why: str) -> BadPath:
    return BadPath(f"glob {pattern!r} is not valid: {why}",
                   hint="globs are /, /*, /*/*, /**, ?, [abc], {a,b} and ( ) groups")


def glob_literal_prefix(pattern: str) -> str:
    """The folder a glob cannot leave: ``/data/*.csv`` -> ``/data``."""
    pattern = normalize_glob(pattern)
    literal = re.split(r"[*?\[{(]", pattern, maxsplit=1)[0]
    if literal == pattern:
        return pattern
    folder = literal.rsplit("/", 1)[0]
    return folder or "/"
