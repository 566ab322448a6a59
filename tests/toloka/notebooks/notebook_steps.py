"""The steps every notebook script repeats, kept once: the notebooks' ``wait_pool_for_close``
cell and the scripts' command line (see README.md)."""

from __future__ import annotations

import argparse
import datetime
import os
import time
from collections.abc import Callable
from typing import Any

import toloka.client as toloka


def wait_pool_for_close(toloka_client: toloka.TolokaClient, pool_id: str,
                        poll_seconds: float) -> None:
    """The notebooks' cell: print the pool's completion every ``poll_seconds`` until it closes."""
    pool = toloka_client.get_pool(pool_id)
    while not pool.is_closed():
        op = toloka_client.get_analytics(
            [toloka.analytics_request.CompletionPercentagePoolAnalytics(subject_id=pool.id)])
        op = toloka_client.wait_operation(op)
        percentage = op.details['value'][0]['result']['value']
        print(f'   {datetime.datetime.now().strftime("%H:%M:%S")}\t'
              f'Pool {pool.id} - {percentage}%')
        time.sleep(poll_seconds)
        pool = toloka_client.get_pool(pool.id)
    print('Pool was closed.')


def run_from_shell(main: Callable[..., Any], description: str, data_help: str,
                   poll_seconds: float, **extra_int_options: int) -> None:
    """What a script does when run from the shell: parse ``--url``, ``--token-env`` (the
    environment variable holding the requester token), ``--data``, ``--poll-seconds`` and the
    script's own whole-number options (``rows=1000`` is ``--rows``, default 1000), then call
    ``main(token, url, data, poll_seconds, *those options)``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--url', required=True)
    parser.add_argument('--token-env', default='TOLOKA_API_ACCESS_KEY')
    parser.add_argument('--data', required=True, help=data_help)
    parser.add_argument('--poll-seconds', type=float, default=poll_seconds)
    for name, default in extra_int_options.items():
        parser.add_argument(f'--{name.replace("_", "-")}', type=int, default=default)
    args = parser.parse_args()
    token = os.environ.get(args.token_env)
    if not token:
        parser.error(f'no requester token: set the environment variable {args.token_env} '
                     '(or name another one with --token-env)')
    main(token, args.url, args.data, args.poll_seconds,
         *(getattr(args, name) for name in extra_int_options))
