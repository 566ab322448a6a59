"""User text in the CLI's output is printed as text: square brackets in a name, a path or an
error message are not rich markup (an unmatched "[/b]" used to crash with a traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CROWDLINE = Path(sys.executable).with_name("crowdline")
HOSTILE = "eve[/i] [red]x[/red]"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}
    env.update(CROWDLINE_HOME=str(tmp_path / "ws"), COLUMNS="200")
    return subprocess.run([str(CROWDLINE), *args], cwd=tmp_path, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_brackets_in_names_and_errors_print_as_typed(tmp_path: Path) -> None:
    assert _run(tmp_path, "init").returncode == 0

    refused = _run(tmp_path, "repo", "create", "x[/b]")
    assert refused.returncode == 2, refused.stderr
    assert "Traceback" not in refused.stderr
    assert "repo name 'x[/b]' is not allowed" in refused.stderr

    assert _run(tmp_path, "worker", "invite", HOSTILE).returncode == 0
    table = _run(tmp_path, "worker", "list")
    assert table.returncode == 0, table.stderr
    assert HOSTILE in table.stdout  # shown as typed, tags and all
    listed = json.loads(_run(tmp_path, "worker", "list", "-o", "json").stdout)
    assert [worker["name"] for worker in listed] == [HOSTILE]
