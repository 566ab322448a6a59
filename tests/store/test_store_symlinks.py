"""``put file -r`` never follows a symbolic link out of the folder: a link leading outside
(or broken, or to a folder) is refused by name before anything is stored; a link to a file
inside the folder is stored as that file's bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crowdline.errors import BadPath, CommitNotFound
from crowdline.store import Store
from crowdline.workspace import Workspace


def _stored(store: Store) -> list[str]:
    try:
        return [f.path for f in store.walk_files("raw", "master")]
    except CommitNotFound:  # no commit finished on the branch: nothing stored
        return []


def _folder(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"a")
    (source / "sub" / "b.txt").write_bytes(b"b")
    return source


def test_a_link_out_of_the_folder_is_refused_and_nothing_is_stored(tmp_path: Path,
                                                                   workspace: Workspace) -> None:
    store: Store = workspace.store
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_bytes(b"PRIVATE KEY")
    source = _folder(tmp_path)
    os.symlink(secret, source / "sub" / "innocent.txt")
    store.create_repo("raw")
    with pytest.raises(BadPath, match="sub/innocent.txt") as error, store.commit("raw") as c:
        c.put_local(source, "/in")
    assert "symbolic link" in error.value.message
    assert _stored(store) == []


@pytest.mark.parametrize("make_link", ["broken", "folder", "dotdot"])
def test_other_links_are_refused_too(tmp_path: Path, workspace: Workspace,
                                     make_link: str) -> None:
    store: Store = workspace.store
    source = _folder(tmp_path)
    if make_link == "broken":
        os.symlink(tmp_path / "nothing-here", source / "gone")
    elif make_link == "folder":
        os.symlink(source / "sub", source / "again")
    else:
        (tmp_path / "other.txt").write_bytes(b"x")
        os.symlink("../other.txt", source / "rel")
    store.create_repo("raw")
    with pytest.raises(BadPath), store.commit("raw") as commit:
        commit.put_local(source, "/in")
    assert _stored(store) == []


def test_a_link_inside_the_folder_is_stored_as_its_file(tmp_path: Path,
                                                        workspace: Workspace) -> None:
    store: Store = workspace.store
    source = _folder(tmp_path)
    os.symlink("sub/b.txt", source / "b-link.txt")
    store.create_repo("raw")
    with store.commit("raw") as commit:
        assert commit.put_local(source, "/in") == 3
    with store.open_file("raw", "master", "/in/b-link.txt") as handle:
        assert handle.read() == b"b"


def test_the_cli_says_which_link(tmp_path: Path, workspace: Workspace) -> None:
    source = _folder(tmp_path)
    os.symlink("/etc/passwd", source / "passwd")
    env = {**os.environ, "CROWDLINE_HOME": str(workspace.settings.home)}
    cli = str(Path(sys.executable).parent / "crowdline")
    subprocess.run([cli, "repo", "create", "raw"], env=env, check=True, capture_output=True)
    result = subprocess.run([cli, "put", "file", "raw@master:/in", "-f", str(source), "-r"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "passwd" in result.stderr
    assert "symbolic link" in result.stderr
    assert "root:" not in result.stderr + result.stdout
    assert _stored(workspace.store) == []
