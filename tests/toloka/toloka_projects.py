"""Projects the Toloka-API tests create through the real toloka-kit client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crowdline.crowd.toloka_backend import import_toloka

toloka = import_toloka()


def create_text_project(client: Any, *, input_field: str = "headline",
                        output_field: str = "category",
                        labels: Sequence[str] = ("clickbait", "notclickbait"),
                        name: str = "Clickbait?",
                        description: str = "Say whether it is clickbait.") -> Any:
    """A project of one text input shown as is and one answer out of ``labels``."""
    return client.create_project(toloka.Project(
        public_name=name, public_description=description,
        task_spec=toloka.project.task_spec.TaskSpec(
            input_spec={input_field: toloka.project.StringSpec()},
            output_spec={output_field: toloka.project.StringSpec(allowed_values=list(labels))},
            view_spec=toloka.project.TemplateBuilderViewSpec(
                view=toloka.project.template_builder.TextViewV1(
                    toloka.project.template_builder.InputData(input_field))))))
