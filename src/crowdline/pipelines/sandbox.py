"""Where a ``cmd`` transform runs: ``/pfs`` in a private mount namespace, never on the host.

Pachyderm code reads ``/pfs/<input>`` and writes ``/pfs/out``. A host rarely has a ``/pfs``
folder, and creating one (as root) would write outside the workspace. So the child process,
between fork and exec, makes its own mount namespace whose root is a fresh tmpfs holding bind
mounts of the host's top-level entries plus ``/pfs`` (the datum's folder), and chroots into it
(what bubblewrap does, done with a few system calls instead of a helper binary). Nothing of
this is visible outside the child, and it all vanishes when the child exits.

The child also asks the kernel to kill it when its parent (the worker) dies, so a killed
runner leaves no command running. Where namespaces cannot be made (no privileges, no user
namespaces, not Linux, or ``CROWDLINE_PFS_MOUNT=0``) commands get ``$PFS_ROOT`` only.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1

_libc: ctypes.CDLL | None = None
_support: bool | None = None


def _load_libc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            return None
    return _libc


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent exits (prctl)."""
    libc = _load_libc()
    if libc is None:
        return False
    return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _top_level_entries() -> list[tuple[str, str, str]]:
    """(name, kind, link target) of every entry of the host's ``/`` (read before forking)."""
    entries = []
    for entry in os.scandir("/"):
        if entry.name == "pfs":
            continue
        if entry.is_symlink():
            entries.append((entry.name, "link", os.readlink(entry.path)))
        elif entry.is_dir():
            entries.append((entry.name, "dir", ""))
        else:
            entries.append((entry.name, "file", ""))
    return entries


def pfs_namespace(root: Path, mount_point: Path) -> Callable[[], None]:
    """A ``preexec_fn`` that shows ``root`` at ``/pfs`` in a private namespace and chroots.

    ``mount_point`` is an empty folder the new root (a tmpfs) is mounted on, inside the
    child's namespace only."""
    libc = _load_libc()
    if libc is None:
        raise OSError("mount namespaces need Linux")
    entries = _top_level_entries()
    uid, gid = os.geteuid(), os.getegid()
    new_root = str(mount_point)
    # The top-level entry holding the mount point is bound without its sub-mounts, or the
    # new root would appear inside itself.
    holder = Path(new_root).parts[1] if len(Path(new_root).parts) > 1 else ""
    datum_root = str(root)

    def enter() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        _check(libc.unshare(CLONE_NEWNS | (CLONE_NEWUSER if uid != 0 else 0)), "unshare")
        if uid != 0:  # an unprivileged user namespace: be root inside it
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
            Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
        _check(libc.mount(b"crowdline-pfs", new_root.encode(), b"tmpfs", 0, b"mode=0755"),
               "mount tmpfs")
        for name, kind, target in entries:
            path = os.path.join(new_root, name)
            if kind == "link":
                os.symlink(target, path)
                continue
            if kind == "dir":
                os.mkdir(path)
            else:
                with open(path, "w"):
                    pass
            flags = MS_BIND | (0 if name == holder else MS_REC)
            _check(libc.mount(f"/{name}".encode(), path.encode(), None, flags, None),
                   f"bind /{name}")
        pfs = os.path.join(new_root, "pfs")
        os.mkdir(pfs)
        _check(libc.mount(datum_root.encode(), pfs.encode(), None, MS_BIND, None), "bind /pfs")
        os.chroot(new_root)
        os.chdir(datum_root)

    return enter


def pdeathsig_only() -> None:
    """``preexec_fn`` for commands run without /pfs: still die with the worker."""
    die_with_parent()


def pfs_supported() -> bool:
    """Can this process give a command /pfs in a private namespace? (probed once)"""
    global _support
    if os.environ.get("CROWDLINE_PFS_MOUNT", "1") == "0":
        return False
    if _support is None:
        _support = _probe()
    return _support


def _probe() -> bool:
    if _load_libc() is None:
        return False
    try:
        with tempfile.TemporaryDirectory(prefix="crowdline-pfs-probe-") as folder:
            root, mount_point = Path(folder) / "root", Path(folder) / "ns"
            root.mkdir()
            mount_point.mkdir()
            (root / "probe").write_text("ok")
            done = subprocess.run(["sh", "-c", "test -f /pfs/probe"], capture_output=True,
                                  timeout=20, check=False,
                                  preexec_fn=pfs_namespace(root, mount_point))  # noqa: PLW1509
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
