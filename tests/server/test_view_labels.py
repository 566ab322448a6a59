"""Labels from the view: a Toloka project whose output field lists no allowed_values takes its
labels from the template-builder or classic view, and the annotator page shows them."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from server_helpers import LiveServer

from crowdline.crowd.projects import labels_of
from crowdline.errors import InvalidInput, UnknownLabel


def tb_spec(component: str, field_type: str = "string") -> dict[str, Any]:
    config = {"view": {"type": "view.list", "items": [
        {"type": "view.text", "content": {"type": "data.input", "path": "headline"}},
        {"type": component, "data": {"type": "data.output", "path": "category"},
         "options": [{"value": "clickbait", "label": "Clickbait <b>!</b>"},
                     {"value": "notclickbait", "label": "Not clickbait"}]},
        # a choice bound to something else is not a label of this field
        {"type": "field.select", "data": {"type": "data.output", "path": "other"},
         "options": [{"value": "zzz", "label": "Other"}]}]}}
    return {"input_spec": {"headline": {"type": "string"}},
            "output_spec": {"category": {"type": field_type}},
            "view_spec": {"type": "tb", "config": json.dumps(config), "lock": {"core": "1.0.0"}}}


def project(spec: dict[str, Any]) -> dict[str, Any]:
    return {"public_name": "Is this headline clickbait?", "task_spec": spec}


@pytest.mark.parametrize("component", ["field.button-radio-group", "field.radio-group",
                                       "field.select"])
def test_template_builder_choices_are_the_labels(component: str) -> None:
    assert labels_of(tb_spec(component)) == [("clickbait", "Clickbait <b>!</b>", "1"),
                                             ("notclickbait", "Not clickbait", "2")]


def test_classic_view_radio_values_are_the_labels() -> None:
    markup = ('{{field type="radio" name="category" value="clickbait" label="Clickbait"}}'
              "{{field type='radio' name='category' value='notclickbait' label='Nope'}}"
              '{{field type="radio" name="elsewhere" value="x"}}')
    spec = {"input_spec": {"headline": {"type": "string"}},
            "output_spec": {"category": {"type": "string"}},
            "view_spec": {"type": "classic", "markup": markup, "script": "", "styles": ""}}
    assert labels_of(spec) == [("clickbait", "Clickbait", "1"), ("notclickbait", "Nope", "2")]


def test_checkbox_group_gives_multi_label_answers(server: LiveServer) -> None:
    crowd = server.workspace.crowd
    made = crowd.create_project(project(tb_spec("field.checkbox-group", "array_string")))
    pool = crowd.create_pool({"project_id": made.id, "mixer_config": {"real_tasks_count": 1}})
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": "h"}}],
                       open_pool=True)
    worker, _ = crowd.invite_worker("ann")
    suite = crowd.request_assignment(worker.id, pool.id)
    crowd.submit_assignment(worker.id, suite.id,
                            [{"output_values": {"category": ["notclickbait", "clickbait"]}}])
    assert list(crowd.answers_frame(pool.id)["label"]) == ["clickbait|notclickbait"]


def test_a_view_without_choices_is_refused_and_nothing_is_created(server: LiveServer) -> None:
    crowd = server.workspace.crowd
    spec = tb_spec("view.text")  # no choice component bound to the output
    with pytest.raises(InvalidInput, match="no allowed_values and the view offers no choices"):
        crowd.create_project(project(spec))
    assert crowd.list_projects() == []


def test_annotators_see_and_must_use_the_view_labels(server: LiveServer) -> None:
    crowd = server.workspace.crowd
    made = crowd.create_project(project(tb_spec("field.button-radio-group")))
    pool = crowd.create_pool({"project_id": made.id, "mixer_config": {"real_tasks_count": 1}})
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": "Shocking news"}}],
                       open_pool=True)
    worker, token = crowd.invite_worker("ann")
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as http:
        http.get(f"/join/{token}")
        page = http.get(f"/annotate/pools/{pool.id}/work").text
    assert 'value="clickbait" data-key="1"' in page
    assert 'value="notclickbait" data-key="2"' in page
    assert "Clickbait &lt;b&gt;!&lt;/b&gt;" in page  # the view's title, escaped
    assert "zzz" not in page
    suite_id = re.search(r'action="/annotate/assignments/(\d+)/submit"', page).group(1)
    with pytest.raises(UnknownLabel):
        crowd.submit_assignment(worker.id, suite_id, [{"output_values": {"category": "zzz"}}])
    crowd.submit_assignment(worker.id, suite_id, [{"output_values": {"category": "clickbait"}}])
    assert list(crowd.answers_frame(pool.id)["label"]) == ["clickbait"]
