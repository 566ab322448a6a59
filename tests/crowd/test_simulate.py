"""The simulated crowd labels through the real facade; honeypot rules catch its spammers."""

from __future__ import annotations

import pytest
from crowd_helpers import LABELS, pool_config, project_config

from crowdline.crowd import Crowd
from crowdline.crowd.simulate import (
    PROFILES,
    HttpRunner,
    InProcessRunner,
    SimulatedClock,
    WorkerProfile,
    invite_simulated_workers,
    make_profiles,
    truth_from_column,
)


def test_profiles_have_the_promised_confusion() -> None:
    assert PROFILES["good"].confusion(LABELS) == [[0.95, pytest.approx(0.05)],
                                                  [pytest.approx(0.05), 0.95]]
    assert PROFILES["random"].confusion(LABELS) == [[0.5, 0.5], [0.5, 0.5]]
    assert WorkerProfile("constant", constant_label=LABELS[1]).confusion(LABELS) == [
        [0.0, 1.0], [0.0, 1.0]]
    adversarial = PROFILES["adversarial"].confusion(LABELS)
    assert adversarial[0][0] == pytest.approx(0.2)
    profiles = make_profiles(20, {"good": 3, "random": 1}, seed=3)
    assert len(profiles) == 20
    assert sum(p.kind == "random" for p in profiles) == 5
    with pytest.raises(ValueError, match="unknown"):
        make_profiles(3, {"genius": 1})


def test_a_simulated_crowd_labels_a_pool_and_spammers_get_banned(engine) -> None:  # noqa: ANN001
    clock = SimulatedClock()
    crowd = Crowd(engine=engine, clock=clock)
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(
        project.id, mixer_config={"real_tasks_count": 4, "golden_tasks_count": 1},
        defaults={"default_overlap_for_new_tasks": 3},
        quality_control={"configs": [{
            "collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": 5}},
            "rules": [{"conditions": [
                {"key": "golden_set_correct_answers_rate", "operator": "LT", "value": 60},
                {"key": "golden_set_answers_count", "operator": "GTE", "value": 3}],
                "action": {"type": "RESTRICTION_V2", "parameters": {
                    "scope": "POOL", "duration_unit": "PERMANENT",
                    "private_comment": "failed honeypots"}}}]}]}))
    truth = {f"headline {i}": LABELS[(i * 7) % 3 == 0] for i in range(60)}
    truth.update({f"golden {i}": LABELS[i % 2] for i in range(30)})
    tasks = [{"pool_id": pool.id, "input_values": {"headline": h}} for h in truth
             if h.startswith("headline")]
    tasks += [{"pool_id": pool.id, "input_values": {"headline": h},
               "known_solutions": [{"output_values": {"category": label}}]}
              for h, label in truth.items() if h.startswith("golden")]
    crowd.create_tasks(tasks, open_pool=True)
    profiles = [PROFILES["good"]] * 6 + [WorkerProfile("adversarial", accuracy=1.0)] * 2
    workers = invite_simulated_workers(crowd, profiles, seed=7)
    report = InProcessRunner(crowd, workers, truth_from_column(truth, "headline"),
                             clock=clock).run(pool.id)
    assert report.suites > 0
    assert crowd.is_pool_complete(pool.id)
    banned = {r.user_id for r in crowd.list_restrictions(pool_id=pool.id)}
    assert banned >= {w.id for w in workers if w.profile.kind == "adversarial"}
    # a careful annotator (95 %) may miss two honeypots of four on some draws and be banned
    # too; what holds for every draw is that each ban is the rule's, on the figures it names
    fired = {a.worker_id: a.figures for a in crowd.list_qc_actions(pool_id=pool.id)}
    assert set(fired) == banned
    assert all(f["golden_set_correct_answers_rate"] < 60 and f["golden_set_answers_count"] >= 3
               for f in fired.values())
    frame = crowd.answers_frame(pool.id, include_banned=False)
    majority = frame.groupby("task")["label"].agg(lambda s: s.mode().iloc[0])
    inputs = {t.id: t.input_values["headline"] for t in crowd.list_tasks(pool.id)}
    accuracy = sum(label == truth[inputs[task]] for task, label in majority.items()) / len(
        majority)
    assert accuracy > 0.9


def test_http_runner_against_the_real_annotator_api(engine) -> None:  # noqa: ANN001
    server = pytest.importorskip("crowdline.server")
    if not hasattr(server, "create_app"):
        pytest.skip("the server part has no create_app yet")
    import httpx

    from crowdline.config import Settings

    crowd = Crowd(engine=engine)
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": f"h{i}"}}
                        for i in range(10)], open_pool=True)
    workers = invite_simulated_workers(crowd, [PROFILES["good"]] * 3)
    app = server.create_app(Settings(database_url=engine.url.render_as_string(hide_password=False)))
    runner = HttpRunner("http://testserver", workers, lambda _: LABELS[0],
                        transport=httpx.ASGITransport(app=app))
    report = runner.run(pool.id)
    assert report.errors == []
    assert report.answers == 30
    assert len(crowd.answers_frame(pool.id)) == 30
