"""Fixtures for the crowd tests: a Crowd on a fresh database of each SQL back-end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from crowdline.crowd import Crowd
from crowdline.database import make_engine, upgrade_schema


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def crowd(engine: sa.Engine) -> Crowd:
    return Crowd(engine=engine)
