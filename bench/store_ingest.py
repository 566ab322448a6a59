"""Ingest benchmark: crowdline's store beside `git add -A && git commit` and `dvc add`.

    python bench/store_ingest.py               # 100,000 files x 1 KiB, then +1,000 files
    python bench/store_ingest.py --files 5000  # a quick run
    python bench/store_ingest.py --repeat 5    # the big ingest 5 times each, alternating

Each step runs as its own process so its peak memory (max RSS) is measured alone; creating
the repo is set-up, not timed, for both tools (`git init`; `Workspace.init` and
`create_repo`, whose schema migrations cost crowdline about a second). Both
tools read the same files: git through a separate git folder whose work tree is the input
folder, crowdline by `put_local` of that folder into a fresh workspace. With --repeat the
big ingest runs again (crowdline, git, crowdline, git...) on fresh repos, and the JSON
records every run's figures and the spread of the ratio. DVC is a third peer when
installed, recorded as skipped when not.
Writes bench/results/store_ingest.json and prints a table.
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
RESULT = ROOT / "bench" / "results" / "store_ingest.json"
PER_FOLDER = 1000

# Set-up, not timed (as `git init` is not): the workspace, its schema and the repo.
CROWDLINE_INIT = """
import sys
from crowdline.workspace import Workspace
home, repo = sys.argv[1:3]
ws = Workspace.init(home)
if repo not in {r.name for r in ws.store.list_repos()}:
    ws.store.create_repo(repo)
ws.close()
"""

# Timed: interpreter start, imports, opening the workspace, the commit.
CROWDLINE_PUT = """
import sys, time
from crowdline.workspace import Workspace
home, repo, source, message, timing = sys.argv[1:6]
ws = Workspace.open(home)
started = time.perf_counter()
with ws.store.commit(repo, "master", message=message) as commit:
    count = commit.put_local(source, "/")
with open(timing, "w") as out:
    out.write(str(time.perf_counter() - started))
ws.close()
"""


def make_files(folder: Path, count: int, size: int, tag: str) -> None:
    """``count`` distinct files of ``size`` bytes, PER_FOLDER to a sub-folder."""
    for i in range(count):
        sub = folder / f"{tag}{i // PER_FOLDER:04d}"
        if i % PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        head = f"{tag} file {i}\n".encode()
        (sub / f"{tag}{i:07d}.txt").write_bytes(head + os.urandom(max(0, size - len(head))))


def measure(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one command and the children it waits for."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return seconds, usage.ru_maxrss / 1024


def copy_into(source: Path, target: Path) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)


class Runner:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.rows: list[dict[str, object]] = []
        bin_dir = Path(sys.executable).parent
        self.env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
                    "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "bench",
                    "GIT_AUTHOR_EMAIL": "bench@localhost", "GIT_COMMITTER_NAME": "bench",
                    "GIT_COMMITTER_EMAIL": "bench@localhost"}
        for key in list(self.env):
            if key.startswith("CROWDLINE_"):
                del self.env[key]

    def record(self, tool: str, case: str, files: int, timing: tuple[float, float]) -> None:
        seconds, peak = timing
        row: dict[str, object] = {"tool": tool, "case": case, "files": files,
                                  "seconds": round(seconds, 3),
                                  "files_per_s": round(files / seconds, 1),
                                  "peak_rss_mib": round(peak, 1)}
        if tool == "crowdline":  # the commit alone, without interpreter start and imports
            commit_seconds = float((self.work / "commit-seconds").read_text())
            row["commit_seconds"] = round(commit_seconds, 3)
            row["commit_files_per_s"] = round(files / commit_seconds, 1)
        self.rows.append(row)
        print(f"  {tool:10s} {case:22s} {files:>8d} files {seconds:8.2f} s", flush=True)

    def crowdline(self, home: Path, repo: str, source: Path, message: str) -> tuple[float, float]:
        subprocess.run([sys.executable, "-c", CROWDLINE_INIT, str(home), repo], check=True,
                       env=self.env)
        return measure([sys.executable, "-c", CROWDLINE_PUT, str(home), repo, str(source),
                        message, str(self.work / "commit-seconds")], self.work, self.env)

    def git(self, tree: Path, git_dir: Path | None = None) -> tuple[float, float]:
        """`git add -A && git commit` in ``tree``; with ``git_dir``, a repo kept there (so
        the input folder itself is the work tree, nothing copied)."""
        env = self.env if git_dir is None else {**self.env, "GIT_DIR": str(git_dir),
                                                "GIT_WORK_TREE": str(tree)}
        if not (git_dir or tree / ".git").exists():
            subprocess.run(["git", "init", "-q"], cwd=tree, check=True, env=env)
        return measure(["sh", "-c", "git add -A && git commit -q -m ingest"], tree, env)

    def dvc(self, project: Path) -> tuple[float, float]:
        if not (project / ".dvc").exists():
            subprocess.run(["dvc", "init", "-q", "--no-scm"], cwd=project, check=True,
                           env=self.env)
            (project / ".dvc" / "config").write_text(
                "[core]\n    no_scm = True\n    analytics = false\n    check_update = false\n")
        return measure(["dvc", "add", "-q", "data"], project, self.env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000, help="files in the big ingest")
    parser.add_argument("--size", type=int, default=1024, help="bytes per file")
    parser.add_argument("--add", type=int, default=1_000, help="files added afterwards")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the big ingest this many times per tool (alternating)")
    parser.add_argument("--no-dvc", action="store_true", help="skip DVC (if not installed)")
    parser.add_argument("--output", type=Path, default=RESULT)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to make the files (default: the system temp folder)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="store-ingest-", dir=options.workdir))
    try:
        run(options, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(options: argparse.Namespace, work: Path) -> None:
    runner = Runner(work)
    load_at_start = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews
    big, extra = work / "big", work / "extra"
    print(f"making {options.files} + {options.add} files of {options.size} bytes in {work}")
    make_files(big, options.files, options.size, "b")
    make_files(extra, options.add, options.size, "x")
    dvc_found = shutil.which("dvc", path=runner.env["PATH"]) is not None
    tools = ["crowdline", "git"] + (["dvc"] if dvc_found and not options.no_dvc else [])
    skipped = {} if "dvc" in tools else {
        "dvc": "--no-dvc given" if options.no_dvc else "not installed"}

    print(f"ingest {options.files} files into one commit")
    home = work / "crowdline-home"
    repeats: list[dict[str, float]] = []
    for number in range(max(1, options.repeat)):
        if number:  # fresh repos, the same input folder
            shutil.rmtree(home)
            shutil.rmtree(work / "git-big.git")
        runner.record("crowdline", "ingest", options.files,
                      runner.crowdline(home, "big", big, "ingest"))
        runner.record("git", "ingest", options.files, runner.git(big, work / "git-big.git"))
        crowdline_row, git_row = runner.rows[-2:]
        repeats.append({"crowdline_files_per_s": crowdline_row["files_per_s"],
                        "git_files_per_s": git_row["files_per_s"],
                        "ratio": round(crowdline_row["files_per_s"] / git_row["files_per_s"], 2),
                        "crowdline_peak_rss_mib": crowdline_row["peak_rss_mib"],
                        "git_peak_rss_mib": git_row["peak_rss_mib"],
                        "load_average_1min": round(os.getloadavg()[0], 2)})
        if number:  # the table keeps the first run's rows; every run is in ingest_runs
            del runner.rows[-2:]
    if "dvc" in tools:
        copy_into(big, work / "dvc-big" / "data")
        runner.record("dvc", "ingest", options.files, runner.dvc(work / "dvc-big"))

    print(f"add {options.add} files to the {options.files}-file repo and to an empty repo")
    runner.record("crowdline", "add to big repo", options.add,
                  runner.crowdline(home, "big", extra, "add"))
    runner.record("crowdline", "add to empty repo", options.add,
                  runner.crowdline(home, "small", extra, "add"))
    if "git" in tools:
        copy_into(extra, big)  # big is the work tree of git-big.git; crowdline is done with it
        runner.record("git", "add to big repo", options.add,
                      runner.git(big, work / "git-big.git"))
        copy_into(extra, work / "git-small")
        runner.record("git", "add to empty repo", options.add, runner.git(work / "git-small"))
    if "dvc" in tools:
        copy_into(extra, work / "dvc-big" / "data")
        runner.record("dvc", "add to big repo", options.add, runner.dvc(work / "dvc-big"))
        copy_into(extra, work / "dvc-small" / "data")
        runner.record("dvc", "add to empty repo", options.add, runner.dvc(work / "dvc-small"))

    report = {
        "benchmark": "store_ingest",
        "params": {"files": options.files, "size_bytes": options.size, "add": options.add},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_at_start": load_at_start,
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        # A child's max RSS starts at this launcher's RSS (Linux copies it at fork), so
        # figures near this floor only say "at most this much".
        "peak_rss_floor_mib": round(measure(["true"], work)[1], 1),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": runner.rows,
        "ingest_runs": repeats,
        "ingest_ratio": {"min": min(r["ratio"] for r in repeats),
                         "median": statistics.median(r["ratio"] for r in repeats),
                         "max": max(r["ratio"] for r in repeats)},
        "skipped": skipped,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2) + "\n")
    print_table(runner.rows)
    ratios = [r["ratio"] for r in repeats]
    print(f"crowdline/git files/s over {len(ratios)} ingest run(s): {ratios}")
    print(f"wrote {options.output}")


def print_table(rows: list[dict[str, object]]) -> None:
    print(f"\n{'tool':10s} {'case':20s} {'files':>8s} {'seconds':>9s} {'files/s':>10s} "
          f"{'peak MiB':>9s}")
    for row in rows:
        commit = (f"  (commit alone {row['commit_seconds']:.2f} s, "
                  f"{row['commit_files_per_s']:.0f} files/s)" if "commit_seconds" in row else "")
        print(f"{row['tool']:10s} {row['case']:20s} {row['files']:>8d} {row['seconds']:>9.2f} "
              f"{row['files_per_s']:>10.1f} {row['peak_rss_mib']:>9.1f}{commit}")


if __name__ == "__main__":
    main()
