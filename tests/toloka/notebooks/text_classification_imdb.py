"""toloka-kit's IMDb benchmark notebook (benchmarks/text_classification_imdb) as a script;
see README.md. ``n_rows`` is the notebook's N_ROWS (1000 there)."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import toloka.client as toloka
import toloka.client.project.template_builder as tb
from notebook_steps import run_from_shell, wait_pool_for_close
from sklearn.metrics import balanced_accuracy_score

from crowdline.aggregate import DawidSkene


def sample_stratified(df: pd.DataFrame, label_column: str, n_rows: int) -> pd.DataFrame:
    """Sample n_rows from a dataframe while preserving the class distribution."""
    parts = [group.sample(int(np.rint(n_rows * len(group) / len(df))), random_state=0)
             for _, group in df.groupby(label_column)]
    return pd.concat(parts).sample(frac=1, random_state=0)


def main(token: str, url: str, data: str, poll_seconds: float = 30.0,
         n_rows: int = 1000, n_control: int = 100) -> float:
    # The notebook reads aclImdb/test.csv and downloads each review's text.
    df = pd.read_csv(data)  # columns text, label
    df_control = sample_stratified(df, 'label', n_rows=n_control)
    df = df.drop(df_control.index)
    df_training = sample_stratified(df, 'label', n_rows=10)
    df = df.drop(df_training.index)
    df = sample_stratified(df, 'label', n_rows=n_rows)
    df_control = df_control.reset_index(drop=True)
    df = df.reset_index(drop=True)

    toloka_client = toloka.TolokaClient(token, url=url)
    project = toloka.Project(
        public_name='Movie review classification',
        public_description='Classify sentiment of movie reviews',
        private_comment='OOTB: IMDb Movie Reviews',
    )
    input_specification = {'text': toloka.project.StringSpec()}
    output_specification = {'result': toloka.project.StringSpec()}
    text_viewer = tb.TextViewV1(tb.InputData('text'))
    radio_group_field = tb.ButtonRadioGroupFieldV1(
        tb.OutputData('result'),
        [tb.GroupFieldOption('pos', '😃 Positive'), tb.GroupFieldOption('neg', '😡 Negative')],
        label='What is the review sentiment?',
        validation=tb.RequiredConditionV1(hint='You need to select one answer'),
    )
    task_width_plugin = tb.TolokaPluginV1(
        layout=tb.TolokaPluginV1.TolokaPluginLayout(kind='pager', task_width=500))
    hot_keys_plugin = tb.HotkeysPluginV1(
        key_1=tb.SetActionV1(tb.OutputData('result'), 'pos'),
        key_2=tb.SetActionV1(tb.OutputData('result'), 'neg'),
    )
    project_interface = toloka.project.TemplateBuilderViewSpec(
        view=tb.ListViewV1([radio_group_field, text_viewer]),
        plugins=[task_width_plugin, hot_keys_plugin],
    )
    project.task_spec = toloka.project.task_spec.TaskSpec(
        input_spec=input_specification,
        output_spec=output_specification,
        view_spec=project_interface,
    )
    project.public_instructions = """
<h2>How to complete the task</h2>
<ul>
<li>1. Look at the movie review text.</li>
<li>2. If it seems 😃 positive, assign the positive label. Otherwise the 😡 negative label.</li>
</ul>""".strip()
    project = toloka_client.create_project(project)

    training_pool = toloka.Training(
        project_id=project.id,
        private_name='Training pool',
        training_tasks_in_task_suite_count=5,
        task_suites_required_to_pass=1,
        may_contain_adult_content=False,
        inherited_instructions=True,
        assignment_max_duration_seconds=60 * 5,
        retry_training_after_days=1,
        mix_tasks_in_creation_order=True,
        shuffle_tasks_in_task_suite=True,
    )
    training_pool = toloka_client.create_training(training_pool)
    label_to_hint_map = {'pos': 'Positive', 'neg': 'Negative'}
    tasks = []
    for label in ['pos', 'neg']:
        examples = df_training[df_training.label == label]
        for ex_tuple in examples.itertuples():
            tasks.append(toloka.Task(
                input_values={'text': ex_tuple.text},
                known_solutions=[toloka.task.BaseTask.KnownSolution(
                    output_values={'result': ex_tuple.label})],
                message_on_unknown_solution='Incorrect label! The actual label is: '
                                            f'{label_to_hint_map[ex_tuple.label]}',
                infinite_overlap=True,
                pool_id=training_pool.id,
            ))
    result = toloka_client.create_tasks(tasks, allow_defaults=True)
    print(len(result.items))

    pool = toloka.Pool(
        project_id=project.id,
        private_name='Pool',
        may_contain_adult_content=False,
        reward_per_assignment=0.02,
        assignment_max_duration_seconds=60 * 5,
        will_expire=datetime.datetime.utcnow() + datetime.timedelta(days=365),
        filter=((toloka.filter.Languages.in_('EN')) &
                (toloka.filter.ClientType == 'BROWSER')),
    )
    pool.defaults = toloka.pool.Pool.Defaults(default_overlap_for_new_task_suites=5)
    pool.set_mixer_config(real_tasks_count=4, golden_tasks_count=1)
    pool.quality_control.training_requirement = \
        toloka.quality_control.QualityControl.TrainingRequirement(
            training_pool_id=training_pool.id, training_passing_skill_value=50)
    pool.quality_control.add_action(
        collector=toloka.collectors.GoldenSet(history_size=5),
        conditions=[toloka.conditions.GoldenSetAnswersCount >= 5,
                    toloka.conditions.IncorrectAnswersRate >= 30],
        action=toloka.actions.RestrictionV2(scope='PROJECT', duration=1, duration_unit='DAYS',
                                            private_comment='Low quality of responses'),
    )
    pool.quality_control.add_action(
        collector=toloka.collectors.AssignmentSubmitTime(history_size=5,
                                                         fast_submit_threshold_seconds=15),
        conditions=[toloka.conditions.TotalSubmittedCount >= 5,
                    toloka.conditions.FastSubmittedCount >= 3],
        action=toloka.actions.RestrictionV2(scope='PROJECT', duration=1, duration_unit='DAYS',
                                            private_comment='Answering too fast'),
    )
    pool.quality_control.add_action(
        collector=toloka.collectors.SkippedInRowAssignments(),
        conditions=[toloka.conditions.SkippedInRowCount >= 3],
        action=toloka.actions.RestrictionV2(
            scope=toloka.user_restriction.UserRestriction.PROJECT, duration=1,
            duration_unit='DAYS', private_comment='Too many skipped assignments'),
    )
    pool.quality_control.add_action(
        collector=toloka.collectors.MajorityVote(answer_threshold=4, history_size=5),
        conditions=[toloka.conditions.TotalAnswersCount >= 5,
                    toloka.conditions.IncorrectAnswersRate > 30],
        action=toloka.actions.RestrictionV2(scope='PROJECT', duration=1, duration_unit='DAYS',
                                            private_comment='Low quality responses'),
    )
    pool = toloka_client.create_pool(pool)

    tasks = [toloka.Task(input_values={'text': ex_tuple.text},
                         known_solutions=[toloka.task.BaseTask.KnownSolution(
                             output_values={'result': ex_tuple.label})],
                         pool_id=pool.id, infinite_overlap=True)
             for ex_tuple in df_control.itertuples()]
    result = toloka_client.create_tasks(tasks=tasks, allow_defaults=True)
    print(len(result.items))
    tasks = [toloka.Task(input_values={'text': ex_tuple.text}, pool_id=pool.id)
             for ex_tuple in df.itertuples()]
    result = toloka_client.create_tasks(tasks=tasks, allow_defaults=True)
    print(len(result.items))

    training_pool = toloka_client.open_pool(training_pool.id)
    pool = toloka_client.open_pool(pool.id)

    pool_id = pool.id

    wait_pool_for_close(toloka_client, pool_id, poll_seconds)
    training_pool = toloka_client.close_pool(training_pool.id)

    answers_df = toloka_client.get_assignments_df(pool.id, exclude_banned=True)
    answers_df = answers_df[answers_df['GOLDEN:result'].isnull()]
    answers_df = answers_df.rename(columns={
        'INPUT:text': 'task',
        'OUTPUT:result': 'label',
        'ASSIGNMENT:worker_id': 'worker',
    })
    aggregated_answers = DawidSkene(n_iter=100).fit_predict(answers_df)
    aggregated_answers = aggregated_answers.reset_index()
    aggregated_answers.columns = ['text', 'pred_label']
    aggregated_answers = aggregated_answers.merge(df, on='text')
    accuracy = balanced_accuracy_score(aggregated_answers.label, aggregated_answers.pred_label)
    print(f'Accuracy: {accuracy:.2f}')
    print(f'Error: {1-accuracy:.2f}')
    return accuracy


if __name__ == '__main__':
    run_from_shell(main, __doc__, 'CSV with text and label columns', 30.0, rows=1000)
