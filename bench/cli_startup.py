"""CLI start-up: `crowdline --help` and `crowdline repo list` beside `git status`.

    python bench/cli_startup.py            # 15 runs each
    python bench/cli_startup.py --runs 5

Each command runs as its own process; wall time and the CPU time it used (user + system, from
wait4) are recorded, median and best of N. CPU seconds hardly depend on what else the machine
does, wall seconds do: both are written, with the load average, to
bench/results/cli_startup.json. Goal: listing commands and --help start in <= 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "cli_startup.json"
GOAL_SECONDS = 0.3


def measure(args: list[str], cwd: Path, env: dict[str, str], runs: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - started)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{args} failed: {process.stderr.read().decode()[-2000:]}")
        process.stderr.close()
    return {"wall_median_s": round(statistics.median(walls), 4),
            "wall_best_s": round(min(walls), 4),
            "cpu_median_s": round(statistics.median(cpus), 4),
            "cpu_best_s": round(min(cpus), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    crowdline = shutil.which("crowdline", path=str(Path(sys.executable).parent)) or "crowdline"
    work = Path(tempfile.mkdtemp(prefix="crowdline-bench-cli-"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}
        env["CROWDLINE_HOME"] = str(work / "ws")
        subprocess.run([crowdline, "init"], env=env, check=True, capture_output=True)
        for name in ("raw", "labels", "models"):
            subprocess.run([crowdline, "repo", "create", name], env=env, check=True,
                           capture_output=True)
        subprocess.run(["git", "init", "-q", str(work / "git")], check=True)
        (work / "git" / "a.txt").write_text("a\n")
        subprocess.run(["git", "-C", str(work / "git"), "add", "a.txt"], check=True)
        commands = {
            "crowdline --help": [crowdline, "--help"],
            "crowdline repo list": [crowdline, "repo", "list"],
            "crowdline job list": [crowdline, "job", "list"],
            "crowdline pool list": [crowdline, "pool", "list"],
            "python -c pass": [sys.executable, "-c", "pass"],
            "git status": ["git", "status"],
        }
        results = {}
        for name, command in commands.items():
            cwd = work / "git" if name.startswith("git") else work
            results[name] = measure(command, cwd, env, args.runs)
            print(f"{name:24} wall {results[name]['wall_median_s']:.3f} s (best "
                  f"{results[name]['wall_best_s']:.3f})  cpu {results[name]['cpu_median_s']:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = {
        "benchmark": "cli_startup",
        "runs": args.runs,
        "goal_seconds": GOAL_SECONDS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "note": "wall time depends on machine load; cpu (user+system) much less so",
        "results": results,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
