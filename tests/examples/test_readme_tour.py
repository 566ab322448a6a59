"""The README's five-minute tour, executed verbatim, as a new user would after `make demo`.

Every ```sh block of the tour runs in one bash session, in a fresh folder where the demo has
just run, with crowdline *not* on PATH until the tour's own `. .venv/bin/activate`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_blocks() -> list[str]:
    text = README.read_text()
    tour = text[text.index("## Five-minute tour"):]
    tour = tour[:tour.index("\n## ", 1)]
    return re.findall(r"```sh\n(.*?)```", tour, flags=re.DOTALL)


def test_tour_has_the_commands_a_newcomer_needs() -> None:
    commands = "\n".join(tour_blocks())
    assert commands.startswith(". .venv/bin/activate")
    for needed in ("crowdline repo list", "crowdline put file headlines@master:",
                   "crowdline run"):
        assert needed in commands


def test_readme_tour_runs_verbatim(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    assert (venv / "bin" / "activate").exists(), "tests run from the project's .venv"
    (tmp_path / ".venv").symlink_to(venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if Path(p).resolve() != (venv / "bin").resolve())
    env["COLUMNS"] = "200"
    demo = subprocess.run([sys.executable, "-m", "crowdline.cli.main", "demo"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    script = "set -eu\n" + "\n".join(
        f"echo '>>> block {i}'\n{block}" for i, block in enumerate(tour_blocks()))
    tour = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    output = tour.stdout + tour.stderr
    assert tour.returncode == 0, output[-4000:]
    assert "command not found" not in output
    assert "dataset" in tour.stdout  # repo list
    assert "my_batch.csv" in output or "jobs:" in tour.stdout
    # The simulated crowd cannot know the user's headlines: it says so and marks its labels.
    assert re.search(r"warning: label .*no truth for \d+ of \d+ headlines", tour.stderr)
    assert '"backend": "builtin"' in (tmp_path / "crowd.json").read_text()
