"""toloka-kit's sentiment-analysis notebook (5.nlp/sentiment_analysis) as a script; see
README.md."""

from __future__ import annotations

import datetime

import pandas as pd
import toloka.client as toloka
import toloka.client.project.template_builder as tb
from notebook_steps import run_from_shell, wait_pool_for_close

from crowdline.aggregate import DawidSkene


def main(token: str, url: str, data: str, poll_seconds: float = 60.0) -> pd.DataFrame:
    toloka_client = toloka.TolokaClient(token, url=url)
    print(toloka_client.get_requester())

    project = toloka.Project(
        public_name='Classify customer reviews as positive or negative',
        public_description='Decide whether a review is positive or negative',
    )
    review_view = tb.GroupViewV1(tb.TextViewV1(tb.InputData('review')))
    radio_group_field = tb.ButtonRadioGroupFieldV1(
        tb.OutputData('sentiment'),
        [tb.GroupFieldOption('pos', 'Positive'), tb.GroupFieldOption('neg', 'Negative')],
        label='Is this review positive or negative?',
        validation=tb.RequiredConditionV1(),
    )
    task_width_plugin = tb.TolokaPluginV1(
        layout=tb.TolokaPluginV1.TolokaPluginLayout(kind='scroll', task_width=650))
    hot_keys_plugin = tb.HotkeysPluginV1(
        key_1=tb.SetActionV1(tb.OutputData('sentiment'), 'pos'),
        key_2=tb.SetActionV1(tb.OutputData('sentiment'), 'neg'),
    )
    project_interface = toloka.project.view_spec.TemplateBuilderViewSpec(
        view=tb.ListViewV1([review_view, radio_group_field]),
        plugins=[task_width_plugin, hot_keys_plugin],
    )
    input_specification = {'review': toloka.project.field_spec.StringSpec()}
    output_specification = {'sentiment': toloka.project.field_spec.StringSpec()}
    project.task_spec = toloka.project.task_spec.TaskSpec(
        input_spec=input_specification,
        output_spec=output_specification,
        view_spec=project_interface,
    )
    project.public_instructions = (
        '<p>In the task you will have to read customer reviews and define whether they are '
        'positive or negative</p>')
    project = toloka_client.create_project(project)

    pool = toloka.Pool(
        project_id=project.id,
        private_name='Classify customer reviews as positive or negative',
        may_contain_adult_content=False,
        reward_per_assignment=0.01,
        will_expire=datetime.datetime.utcnow() + datetime.timedelta(days=365),
        defaults=toloka.Pool.Defaults(default_overlap_for_new_task_suites=3),
        assignment_max_duration_seconds=1200,
        filter=(toloka.filter.Languages.in_('EN')) & (
            (toloka.filter.ClientType == 'TOLOKA_APP') |
            (toloka.filter.ClientType == 'BROWSER')),
    )
    sentiment_analysis_skill = next(toloka_client.get_skills(name='sentiment-analysis'), None)
    if sentiment_analysis_skill:
        print('Sentiment analysis skill already exists')
    else:
        sentiment_analysis_skill = toloka_client.create_skill(name='sentiment-analysis',
                                                              hidden=True)
    skill_filter = (toloka.filter.Skill(sentiment_analysis_skill.id) == None) | \
                   (toloka.filter.Skill(sentiment_analysis_skill.id) >= 90)  # noqa: E711
    pool.set_filter(pool.filter & skill_filter)

    pool.set_captcha_frequency('MEDIUM')
    pool.quality_control.add_action(
        collector=toloka.collectors.Captcha(history_size=10),
        conditions=[toloka.conditions.StoredResultsCount >= 4,
                    toloka.conditions.SuccessRate < 75],
        action=toloka.actions.RestrictionV2(scope='PROJECT', duration=1, duration_unit='DAYS',
                                            private_comment='captcha'),
    )
    pool.quality_control.add_action(
        collector=toloka.collectors.AssignmentSubmitTime(fast_submit_threshold_seconds=20),
        conditions=[toloka.conditions.TotalSubmittedCount > 4,
                    toloka.conditions.FastSubmittedCount > 2],
        action=toloka.actions.RestrictionV2(scope='PROJECT', duration=1, duration_unit='DAYS',
                                            private_comment='fast responses'),
    )
    pool.quality_control.add_action(
        collector=toloka.collectors.GoldenSet(history_size=10),
        conditions=[toloka.conditions.TotalAnswersCount > 4],
        action=toloka.actions.SetSkillFromOutputField(skill_id=sentiment_analysis_skill.id,
                                                      from_field='correct_answers_rate'),
    )
    pool.quality_control.add_action(
        collector=toloka.collectors.AnswerCount(),
        conditions=[toloka.conditions.AssignmentsAcceptedCount >= 30],
        action=toloka.actions.RestrictionV2(scope='PROJECT', duration=1, duration_unit='DAYS',
                                            private_comment='too many responses'),
    )
    pool.set_mixer_config(real_tasks_count=9, golden_tasks_count=1, training_tasks_count=0)
    pool = toloka_client.create_pool(pool)

    # The notebook downloads datafiniti_grammar_and_online_product_reviews.csv.
    dataset = pd.read_csv(data)
    dataset = dataset.sample(frac=1, random_state=0)[
        ['reviews.text', 'reviews.doRecommend']].dropna().reset_index(drop=True)
    dataset = dataset.replace({'reviews.doRecommend': {True: 'pos', False: 'neg'}})
    print(f'\nDataset contains {len(dataset)} rows')

    task_dataset_size = 200
    golden_dataset_size = int(task_dataset_size * 0.1)
    positive_tasks = dataset[dataset['reviews.doRecommend'] == 'pos']
    negative_tasks = dataset[dataset['reviews.doRecommend'] == 'neg']
    half, golden_half = task_dataset_size // 2, golden_dataset_size // 2
    pos_task_dataset = positive_tasks.iloc[:half]
    pos_golden_dataset = positive_tasks.iloc[half:half + golden_half]
    neg_task_dataset = negative_tasks.iloc[:half]
    neg_golden_dataset = negative_tasks.iloc[half:half + golden_half]
    task_dataset = pd.concat([pos_task_dataset, neg_task_dataset]).sample(frac=1)
    golden_dataset = pd.concat([pos_golden_dataset, neg_golden_dataset]).sample(frac=1)

    golden_tasks = [
        toloka.Task(
            pool_id=pool.id,
            input_values={'review': row['reviews.text']},
            known_solutions=[toloka.task.BaseTask.KnownSolution(
                output_values={'sentiment': row['reviews.doRecommend']})],
            infinite_overlap=True,
        )
        for _, row in golden_dataset.iterrows()
    ]
    tasks = [toloka.Task(pool_id=pool.id, input_values={'review': review})
             for review in task_dataset['reviews.text']]
    created_tasks = toloka_client.create_tasks(golden_tasks + tasks, allow_defaults=True)
    print(len(created_tasks.items))
    pool = toloka_client.open_pool(pool.id)
    print(pool.status)

    pool_id = pool.id

    wait_pool_for_close(toloka_client, pool_id, poll_seconds)

    answers_df = toloka_client.get_assignments_df(pool_id)
    answers_df = answers_df[answers_df['GOLDEN:sentiment'].isna()]
    answers_df = answers_df.rename(columns={
        'INPUT:review': 'task',
        'OUTPUT:sentiment': 'label',
        'ASSIGNMENT:worker_id': 'worker',
    })
    print(f'answers count: {len(answers_df)}')
    predicted_answers = DawidSkene(n_iter=20).fit_predict(answers_df)
    result = pd.DataFrame({'review': predicted_answers.index,
                           'sentiment': predicted_answers.values})
    print(result.sample(10))
    return result


if __name__ == '__main__':
    run_from_shell(main, __doc__, 'CSV with reviews.text and reviews.doRecommend columns', 60.0)
