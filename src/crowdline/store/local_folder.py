"""Reading a local folder for `put file -r`: which files, under which relative paths.

Kept apart from the store's metadata code: this is the one place that decides what a local
folder means, including the rule for symbolic links (never followed out of the folder).
"""

from __future__ import annotations

import os

from crowdline.errors import BadPath


def local_files(root: str) -> list[tuple[str, str]]:
    """(full path, "/"-separated path relative to ``root``) of every file, sorted.

    A symbolic link is never followed out of the folder: a link to a file inside ``root``
    is stored as that file's bytes; a link that leads outside, a broken link and a link to a
    folder are refused (BadPath naming them) before anything is stored."""
    found: list[tuple[str, str]] = []
    refused: list[str] = []
    real_root = os.path.realpath(root)
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        refused.extend(prefix + name for name in dirs
                       if os.path.islink(os.path.join(folder, name)))
        for name in sorted(files):
            full = os.path.join(folder, name)
            if os.path.islink(full):
                target = os.path.realpath(full)
                inside = os.path.commonpath([real_root, target]) == real_root
                if not inside or not os.path.isfile(target):
                    refused.append(prefix + name)
                    continue
            found.append((full, prefix + name))
    if refused:
        shown = ", ".join(refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5
                                          else "")
        raise BadPath(f"{root} holds symbolic links crowdline will not follow: {shown}",
                      hint="links may only point at files inside the folder; copy the "
                           "targets in, or remove the links, then put the folder again")
    return found
