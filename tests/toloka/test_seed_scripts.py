"""The seed's own scripts, unchanged but for the ``TolokaClient`` line, against `crowdline serve`.

Every script of ../shared/seed/toloka-pachyderm-example/example/src that talks to Toloka runs
as a subprocess with the seed's configs/ and data/ CSVs, in the order of the seed's Pachyderm
pipelines, through the real toloka-kit 1.2.3 client, against a real `crowdline serve` process.
The one edit, made here in a temporary copy (the seed is never copied into the repo), is
``TolokaClient(toloka_token, 'PRODUCTION')`` -> ``TolokaClient(toloka_token, url=...)``.

Simulated annotators, invited with a profile through the invite API, work through the annotator
HTTP API as the web UI does: the training first (its pass level gates the pool), then the pool
that wait_pool.py opens. The seed's pool bans anyone who answers a suite in under 30 s twice in
five, so they hold each suite 31 s, in parallel. aggregate_assignments.py imports crowd-kit's
pre-1.0 ``DawidSkene`` (column ``performer``); tests/toloka/seed_compat stands in for it.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from crowdline.aggregate import DawidSkene, MajorityVote
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
SEED = REPO.parent / "shared" / "seed" / "toloka-pachyderm-example" / "example"
CLICKBAIT = REPO.parent / "shared" / "data" / "clickbait" / "clickbait.csv"
CLIENT_LINE = "TolokaClient(toloka_token, 'PRODUCTION')"
HOLD_SECONDS = 31  # the seed pool's fast-submit rule: 2 of 5 suites under 30 s -> ban
ANNOTATORS = 40

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not SEED.exists(), reason=f"seed not found at {SEED}")]


@dataclass
class Serve:
    url: str
    token: str
    home: Path


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """`crowdline serve` in its own process, on a fresh embedded workspace."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}
    home = tmp_path / "ws"
    with Workspace.init(home) as workspace:
        token = workspace.crowd.create_requester_token("seed")
    port = free_port()
    env["CROWDLINE_HOME"] = str(home)
    crowdline = Path(sys.executable).with_name("crowdline")
    process = subprocess.Popen([str(crowdline), "serve", "--port", str(port), "--no-pipelines"],
                               env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        assert wait_for_port(port, timeout=60), "crowdline serve did not start"
        yield Serve(url=f"http://127.0.0.1:{port}", token=token, home=home)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def seed_script(name: str, url: str, into: Path) -> Path:
    """A copy of the seed script whose only change is the client line."""
    text = (SEED / "src" / name).read_text()
    assert text.count(CLIENT_LINE) == 1, f"{name}: the client line changed upstream"
    copy = into / name
    copy.write_text(text.replace(CLIENT_LINE, f"TolokaClient(toloka_token, url={url!r})"))
    return copy


def run(script: Path, *args: str, env: dict[str, str],
        background: bool = False) -> subprocess.Popen[str] | str:
    command = [sys.executable, str(script), "--token_env", "TOLOKA_API_ACCESS_KEY", *args]
    if background:
        return subprocess.Popen(command, env=env, cwd=script.parent, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = subprocess.run(command, env=env, cwd=script.parent, text=True, capture_output=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def truth_of_pool_tasks() -> dict[str, str]:
    """What the simulated crowd believes: the public clickbait data set where it has the
    headline, else a crude rule (a careful annotator's guess)."""
    known: dict[str, str] = {}
    if CLICKBAIT.exists():
        known = {row["headline"]: row["label"].replace(" ", "")
                 for row in read_csv(CLICKBAIT)}
    truth = {}
    for row in read_csv(SEED / "data" / "pool_tasks.csv"):
        headline = row["INPUT:headline"]
        guess = "clickbait" if headline[:1].isdigit() or headline.split()[0] in (
            "You", "This", "These", "Here", "Why", "What", "How", "Can", "The") \
            else "notclickbait"
        truth[headline] = known.get(headline, guess)
    return truth


class Annotator:
    """One simulated annotator over the annotator HTTP API."""

    def __init__(self, url: str, name: str, token: str, truth: dict[str, str],
                 accuracy: float, seed: int, always_right: frozenset[str] = frozenset()) -> None:
        self.url, self.name, self.token, self.truth = url, name, token, truth
        self.accuracy, self.rng = accuracy, random.Random(seed)
        self.always_right = always_right  # e.g. the control headlines: easy ones
        self.suites: list[dict[str, Any]] = []
        self.errors: list[str] = []
        # one connection pool per annotator: a client per request builds a TLS context
        # (~0.1 s of CPU), and 40 annotators polling for work spent the test's time on that
        self.http = httpx.Client(base_url=f"{url}/api/annotator/v1/assignments",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"/{path}", json=body)

    def label(self, headline: str) -> str:
        right = self.truth[headline]
        if headline in self.always_right or self.rng.random() < self.accuracy:
            return right
        return "notclickbait" if right == "clickbait" else "clickbait"

    def work_once(self, pool_id: str, hold: float) -> bool:
        got = self._post("next", {"pool_id": pool_id})
        if got.status_code == 204:
            return False
        if got.status_code != 200:
            self.errors.append(f"next {got.status_code} {got.text[:200]}")
            return False
        suite = got.json()
        assert all(set(task) == {"id", "input_values"} for task in suite["tasks"])
        assert [label["value"] for label in suite["labels"]] == ["clickbait", "notclickbait"]
        time.sleep(hold)
        solutions = [{"output_values": {"category": self.label(t["input_values"]["headline"])}}
                     for t in suite["tasks"]]
        sent = self._post(f"{suite['id']}/submit", {"solutions": solutions})
        if sent.status_code != 200:
            self.errors.append(f"submit {sent.status_code} {sent.text[:200]}")
            return False
        self.suites.append({"pool_id": pool_id, **sent.json()})
        return True

    def work_until(self, pool_id: str, done: threading.Event) -> None:
        while not done.is_set():
            if not self.work_once(pool_id, HOLD_SECONDS):
                done.wait(0.5)


def invite(serve: Serve, name: str, languages: list[str]) -> str:
    made = httpx.post(f"{serve.url}/api/crowdline/v1/workers",
                      json={"name": name, "profile": {"languages": languages}},
                      headers={"Authorization": f"OAuth {serve.token}"}, timeout=30)
    assert made.status_code == 201, made.text
    return made.json()["token"]


def test_the_seed_scripts_run_unchanged_against_crowdline_serve(serve: Serve,
                                                               tmp_path: Path) -> None:
    scripts = tmp_path / "src"
    scripts.mkdir()
    env = {**os.environ, "TOLOKA_API_ACCESS_KEY": serve.token}
    out = tmp_path / "pfs"
    out.mkdir()
    configs, data = SEED / "configs", SEED / "data"

    # toloka_create_project -> toloka_create_training -> toloka_create_training_tasks
    run(seed_script("create_project.py", serve.url, scripts),
        "--project_config_path", str(configs / "project.json"),
        "--project_id_path", str(out / "project.txt"), env=env)
    run(seed_script("create_training.py", serve.url, scripts),
        "--project_id_path", str(out / "project.txt"),
        "--training_config_path", str(configs / "training.json"),
        "--training_id_path", str(out / "training.txt"), env=env)
    tasks_script = seed_script("create_tasks_from_csv.py", serve.url, scripts)
    run(tasks_script, "--pool_id_path", str(out / "training.txt"),
        "--output_pool_id_path", str(out / "training_out.txt"),
        "--training_csv", str(data / "training_tasks.csv"), "--open_pool", env=env)
    # toloka_create_pool -> toloka_create_control_tasks -> toloka_create_pool_tasks
    run(seed_script("create_pool.py", serve.url, scripts),
        "--project_id_path", str(out / "project.txt"),
        "--training_id_path", str(out / "training.txt"),
        "--pool_config_path", str(configs / "pool.json"),
        "--pool_id_path", str(out / "pool.txt"), env=env)
    run(tasks_script, "--pool_id_path", str(out / "pool.txt"),
        "--output_pool_id_path", str(out / "pool_control.txt"),
        "--control_csv", str(data / "control_tasks.csv"), env=env)
    run(tasks_script, "--pool_id_path", str(out / "pool.txt"),
        "--output_pool_id_path", str(out / "pool_tasks.txt"),
        "--tasks_csv", str(data / "pool_tasks.csv"), env=env)
    training_id = (out / "training.txt").read_text().strip()
    pool_id = (out / "pool_tasks.txt").read_text().strip()
    assert (out / "pool.txt").read_text().strip() == pool_id

    with Workspace.open(serve.home) as workspace:
        crowd = workspace.crowd
        pool = crowd.get_pool(pool_id)
        assert pool.status == "CLOSED"
        assert pool.filter["and"][0]["or"][0]["key"] == "languages"
        assert pool.training_requirement == {"training_pool_id": training_id,
                                             "training_passing_skill_value": 90}
        assert crowd.get_pool(training_id).status == "OPEN"
        assert crowd.get_project(pool.project_id).allowed_values == ["clickbait",
                                                                     "notclickbait"]
        assert len(crowd.list_tasks(pool_id)) == 30 + 20

    # The crowd: careful English speakers, one German-only speaker, one who fails training.
    pool_truth = truth_of_pool_tasks()
    golden = {r["INPUT:headline"]: r["GOLDEN:category"]
              for r in read_csv(data / "control_tasks.csv")}
    trained = {r["INPUT:headline"]: r["GOLDEN:category"]
               for r in read_csv(data / "training_tasks.csv")}
    truth = {**pool_truth, **golden, **trained}
    easy = frozenset(golden) | frozenset(trained)
    crowd_members = [Annotator(serve.url, f"ann{i:02d}", invite(serve, f"ann{i:02d}", ["EN"]),
                               truth, 0.9, i, always_right=easy) for i in range(ANNOTATORS)]
    german = Annotator(serve.url, "dieter", invite(serve, "dieter", ["DE"]), truth, 1.0, 99)
    careless = Annotator(serve.url, "careless", invite(serve, "careless", ["EN"]),
                         {h: "clickbait" for h in truth}, 1.0, 98)
    for member in crowd_members:  # training and control tasks right, real tasks 90 %
        assert member.work_once(training_id, hold=0)
    assert german.work_once(training_id, hold=0)
    assert careless.work_once(training_id, hold=0)
    assert careless.suites[0]["training_feedback"]  # hints came back for the wrong ones

    # toloka_wait_pool: opens the pool and polls get_analytics until it closes by itself.
    waiting = run(seed_script("wait_pool.py", serve.url, scripts),
                  "--pool_id_path", str(out / "pool_tasks.txt"),
                  "--output_pool_id_path", str(out / "wait.txt"), env=env, background=True)
    done = threading.Event()
    threads = [threading.Thread(target=m.work_until, args=(pool_id, done), daemon=True)
               for m in crowd_members]
    for thread in threads:
        thread.start()
    try:
        stdout, stderr = waiting.communicate(timeout=600)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=2 * HOLD_SECONDS + 30)
    assert waiting.returncode == 0, stderr[-3000:]
    assert (out / "wait.txt").read_text().strip() == pool_id
    assert [e for m in crowd_members for e in m.errors] == []
    assert not german.work_once(pool_id, hold=0)  # filtered out: languages IN EN
    assert not careless.work_once(pool_id, hold=0)  # below the training's 90 % pass level
    assert sum(len(m.suites) for m in crowd_members) >= 30 * 5 // 4 + 1 + ANNOTATORS

    # toloka_aggregate_assignments, with crowd-kit 0.0.x's DawidSkene stood in for.
    env_aggregate = {**env, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parent / "seed_compat"), env.get("PYTHONPATH", "")])}
    run(seed_script("aggregate_assignments.py", serve.url, scripts),
        "--pool_id_path", str(out / "wait.txt"),
        "--aggregated_tasks_path", str(out / "results.csv"), env=env_aggregate)
    results = {row["headline"]: row["category"] for row in read_csv(out / "results.csv")}
    assert set(results) == set(pool_truth)  # every pool task, no honeypot

    with Workspace.open(serve.home) as workspace:
        crowd = workspace.crowd
        answers = crowd.answers_frame(pool_id)  # real tasks only, as the script keeps them
        assert len(answers) == 30 * 5
        headline = {t.id: t.input_values["headline"] for t in crowd.list_tasks(pool_id)}
        answers["task"] = answers["task"].map(headline)
        # the script's Dawid-Skene saw exactly these answers...
        expected = DawidSkene(n_iter=20).fit(answers).labels_
        assert results == expected.to_dict()
        # ...and the crowd labeled well (5 votes each; Dawid-Skene on workers with 4 answers
        # each is itself noisy, so the crowd is judged by its majority)
        majority = MajorityVote().fit(answers).labels_
        agree = sum(majority[h] == pool_truth[h] for h in pool_truth)
        assert agree >= 28, f"only {agree} of 30 majority labels match the crowd's truth"
        assert crowd.get_pool(pool_id).status == "CLOSED"
        assert crowd.pool_analytics(pool_id, "completion_percentage") == 100
        assert crowd.list_qc_actions(pool_id=pool_id) == []  # nobody was too fast or wrong
