from crowd_helpers import answer, golden_tasks, pool_config, project_config, real_tasks

from crowdline.crowd import Crowd


def test_label_a_small_pool_end_to_end(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id, mixer_config={
        "real_tasks_count": 2, "golden_tasks_count": 1}))
    report = crowd.create_tasks(real_tasks(pool.id, 4) + golden_tasks(pool.id, 4),
                                open_pool=True)
    assert len(report.items) == 8
    worker, token = crowd.invite_worker("ann")
    assert crowd.authenticate_worker(token).id == worker.id
    suite = crowd.request_assignment(worker.id)
    assert suite is not None
    assert len(suite.tasks) == 3
    assert "known_solutions" not in str(suite.to_dict())
    result = crowd.submit_assignment(worker.id, suite.id, [answer("clickbait")] * 3)
    assert result.status == "ACCEPTED"
    stats = crowd.pool_stats(pool.id)
    assert stats["answers_per_worker"] == {worker.id: 2}
    frame = crowd.answers_frame(pool.id)
    assert list(frame.columns) == ["task", "worker", "label", "assignment", "submitted"]
    assert len(frame) == 2
