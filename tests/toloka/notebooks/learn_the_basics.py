"""toloka-kit's "Learn the basics" notebook (cats or dogs) as a script; see README.md."""

from __future__ import annotations

import datetime

import pandas
import toloka.client as toloka
import toloka.client.project.template_builder as tb
from notebook_steps import run_from_shell, wait_pool_for_close

from crowdline.aggregate import MajorityVote


def main(token: str, url: str, data: str, poll_seconds: float = 60.0) -> pandas.Series:
    toloka_client = toloka.TolokaClient(token, url=url)
    print(toloka_client.get_requester())

    new_project = toloka.Project(
        public_name='Cat or Dog?',
        public_description='Specify the type of animal depicted in a photo.',
    )
    input_specification = {'image': toloka.project.UrlSpec()}
    output_specification = {'result': toloka.project.StringSpec()}
    image_viewer = tb.ImageViewV1(tb.InputData('image'), ratio=[1, 1])
    radio_group_field = tb.RadioGroupFieldV1(
        tb.OutputData('result'),
        [tb.fields.GroupFieldOption('cat', 'Cat'), tb.fields.GroupFieldOption('dog', 'Dog')],
        validation=tb.RequiredConditionV1(),
    )
    task_width_plugin = tb.TolokaPluginV1('scroll', task_width=400)
    project_interface = toloka.project.TemplateBuilderViewSpec(
        view=tb.ListViewV1([image_viewer, radio_group_field]),
        plugins=[task_width_plugin],
    )
    new_project.task_spec = toloka.project.task_spec.TaskSpec(
        input_spec=input_specification,
        output_spec=output_specification,
        view_spec=project_interface,
    )
    new_project.public_instructions = ('Look at the picture. Determine what is on it: a '
                                       '<b>cat</b> or a <b>dog</b>. Choose the correct option.')
    new_project = toloka_client.create_project(new_project)

    new_pool = toloka.Pool(
        project_id=new_project.id,
        private_name='Pool 1',
        may_contain_adult_content=False,
        reward_per_assignment=0.01,
        assignment_max_duration_seconds=60 * 5,
        will_expire=datetime.datetime.utcnow() + datetime.timedelta(days=365),
    )
    new_pool.defaults = toloka.pool.Pool.Defaults(
        default_overlap_for_new_tasks=3,
        default_overlap_for_new_task_suites=0,
    )
    new_pool.set_mixer_config(real_tasks_count=10)
    new_pool.filter = toloka.filter.Languages.in_('EN')
    new_pool.set_captcha_frequency('MEDIUM')
    new_pool.quality_control.add_action(
        collector=toloka.collectors.Captcha(history_size=5),
        conditions=[toloka.conditions.FailRate > 20],
        action=toloka.actions.RestrictionV2(
            scope='PROJECT', duration=1, duration_unit='DAYS', private_comment='Captcha'),
    )
    new_pool = toloka_client.create_pool(new_pool)

    dataset = pandas.read_csv(data, sep='\t')  # the notebook downloads toy_dataset.tsv
    print(f'Dataset contains {len(dataset)} rows\n')
    dataset = dataset.sample(frac=1).reset_index(drop=True)
    tasks = [toloka.Task(input_values={'image': url}, pool_id=new_pool.id)
             for url in dataset['url']]
    toloka_client.create_tasks(tasks, allow_defaults=True)
    print(f'Populated pool with {len(tasks)} tasks')
    new_pool = toloka_client.open_pool(new_pool.id)

    pool_id = new_pool.id

    wait_pool_for_close(toloka_client, pool_id, poll_seconds)

    answers_df = toloka_client.get_assignments_df(pool_id)
    answers_df = answers_df.rename(columns={
        'INPUT:image': 'task',
        'OUTPUT:result': 'label',
        'ASSIGNMENT:worker_id': 'worker',
    })
    print(f'answers count: {len(answers_df)}')
    predicted_answers = MajorityVote().fit_predict(answers_df)
    print(predicted_answers)
    return predicted_answers


if __name__ == '__main__':
    run_from_shell(main, __doc__, 'TSV with url and label columns', 60.0)
