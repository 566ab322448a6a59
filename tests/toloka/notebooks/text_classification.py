"""toloka-kit's clickbait text-classification notebook (5.nlp/text_classification) as a
script; see README.md."""

from __future__ import annotations

import datetime

import pandas
import toloka.client as toloka
import toloka.client.project.template_builder as tb
from notebook_steps import run_from_shell, wait_pool_for_close

from crowdline.aggregate import DawidSkene


def main(token: str, url: str, data: str, poll_seconds: float = 60.0) -> pandas.Series:
    toloka_client = toloka.TolokaClient(token, url=url)
    print(toloka_client.get_requester())

    project = toloka.Project(
        public_name='Is this headline clickbait?',
        public_description='Look at the a news headline and decide if it is clickbait or not.',
    )
    text_viewer = tb.TextViewV1(tb.JoinHelperV1(['Headline: ', tb.InputData('headline')]))
    radio_group_field = tb.ButtonRadioGroupFieldV1(
        tb.OutputData('category'),
        [tb.GroupFieldOption('clickbait', 'Clickbait'),
         tb.GroupFieldOption('notclickbait', 'Not clickbait')],
        validation=tb.RequiredConditionV1(hint='you need to select one answer'),
    )
    task_width_plugin = tb.TolokaPluginV1(
        layout=tb.TolokaPluginV1.TolokaPluginLayout(kind='scroll', task_width=300))
    hot_keys_plugin = tb.HotkeysPluginV1(
        key_1=tb.SetActionV1(tb.OutputData('category'), 'clickbait'),
        key_2=tb.SetActionV1(tb.OutputData('category'), 'notclickbait'),
    )
    project_interface = toloka.project.TemplateBuilderViewSpec(
        view=tb.ListViewV1([text_viewer, radio_group_field]),
        plugins=[task_width_plugin, hot_keys_plugin],
    )
    input_specification = {'headline': toloka.project.StringSpec()}
    output_specification = {'category': toloka.project.StringSpec()}
    project.task_spec = toloka.project.task_spec.TaskSpec(
        input_spec=input_specification,
        output_spec=output_specification,
        view_spec=project_interface,
    )
    project.public_instructions = """<h2>About the task</h2>
In this task you need to classify headlines on 2 categories: Clickbait or Not clickbait.<br>
<h2>What is Clickbait headline?</h2>
Clickbait refers to the practice of writing sensationalized or misleading headlines.
"""
    project = toloka_client.create_project(project)

    # The notebook downloads clickbait_data.csv and non_clickbait_data.csv.
    dataset = pandas.read_csv(data)  # columns headline, category
    dataset = dataset.sample(frac=1, random_state=0).reset_index(drop=True)
    training_dataset = dataset.iloc[:10]
    golden_dataset = dataset.iloc[10:30]
    main_dataset = dataset.iloc[30:130]
    print(f'\ntraining_dataset - {len(training_dataset)}')
    print(f'\ngolden_dataset - {len(golden_dataset)}')
    print(f'\nmain_dataset - {len(main_dataset)}')

    training = toloka.Training(
        project_id=project.id,
        private_name='clickbait training',
        may_contain_adult_content=False,
        assignment_max_duration_seconds=60 * 30,
        mix_tasks_in_creation_order=False,
        shuffle_tasks_in_task_suite=False,
        training_tasks_in_task_suite_count=10,
        task_suites_required_to_pass=10,
        retry_training_after_days=10,
        inherited_instructions=True,
    )
    training = toloka_client.create_training(training)
    training_tasks = [
        toloka.Task(
            pool_id=training.id,
            input_values={'headline': row['headline']},
            known_solutions=[toloka.task.BaseTask.KnownSolution(
                output_values={'category': row['category']})],
            message_on_unknown_solution=row['category'],
        )
        for _, row in training_dataset.iterrows()
    ]
    result = toloka_client.create_tasks(training_tasks, allow_defaults=True)
    print(len(result.items))

    pool = toloka.Pool(
        project_id=project.id,
        private_name='Is this headline clickbait?',
        may_contain_adult_content=False,
        reward_per_assignment=0.01,
        will_expire=datetime.datetime.utcnow() + datetime.timedelta(days=365),
        defaults=toloka.Pool.Defaults(default_overlap_for_new_task_suites=3),
        assignment_max_duration_seconds=120,
        filter=(
            (toloka.filter.Languages.in_('EN')) &
            ((toloka.filter.ClientType == 'TOLOKA_APP') |
             (toloka.filter.ClientType == 'BROWSER'))
        ),
    )
    pool.set_training_requirement(training_pool_id=training.id,
                                  training_passing_skill_value=90)
    pool.quality_control.add_action(
        collector=toloka.collectors.AssignmentSubmitTime(history_size=5,
                                                         fast_submit_threshold_seconds=30),
        conditions=[toloka.conditions.FastSubmittedCount >= 2],
        action=toloka.actions.RestrictionV2(scope='POOL', duration_unit='PERMANENT',
                                            private_comment='bad quality'),
    )
    pool.quality_control.add_action(
        collector=toloka.collectors.GoldenSet(history_size=10),
        conditions=[toloka.conditions.GoldenSetCorrectAnswersRate <= 90.0,
                    toloka.conditions.GoldenSetAnswersCount >= 1],
        action=toloka.actions.RestrictionV2(scope='POOL', duration_unit='PERMANENT',
                                            private_comment='bad quality'),
    )
    pool.set_mixer_config(real_tasks_count=4, golden_tasks_count=1)
    pool = toloka_client.create_pool(pool)

    golden_tasks = [
        toloka.task.Task(
            pool_id=pool.id,
            input_values={'headline': row['headline']},
            known_solutions=[toloka.task.BaseTask.KnownSolution(
                output_values={'category': row['category']})],
            infinite_overlap=True,
        )
        for _, row in golden_dataset.iterrows()
    ]
    tasks = [toloka.task.Task(pool_id=pool.id, input_values={'headline': row['headline']})
             for _, row in main_dataset.iterrows()]
    created_tasks = toloka_client.create_tasks(golden_tasks + tasks, allow_defaults=True)
    print(len(created_tasks.items))

    training = toloka_client.open_training(training.id)
    print(training.status)
    pool = toloka_client.open_pool(pool.id)
    print(pool.status)

    pool_id = pool.id

    wait_pool_for_close(toloka_client, pool_id, poll_seconds)

    answers = []
    for assignment in toloka_client.get_assignments(pool_id=pool_id, status='ACCEPTED'):
        for task, solution in zip(assignment.tasks, assignment.solutions, strict=True):
            if not task.known_solutions:
                answers.append([task.input_values['headline'],
                                solution.output_values['category'], assignment.user_id])
    print(f'answers count: {len(answers)}')
    answers_df = pandas.DataFrame(answers, columns=['task', 'label', 'worker'])
    predicted_answers = DawidSkene(n_iter=20).fit_predict(answers_df)
    print(predicted_answers)
    return predicted_answers


if __name__ == '__main__':
    run_from_shell(main, __doc__, 'CSV with headline and category columns', 60.0)
