"""Run every part's Alembic migrations (one branch per part) up to their heads."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from crowdline.database.schema_version import PARTS_WITH_TABLES

_lock = threading.Lock()


def _version_locations() -> list[str]:
    locations = []
    for part in PARTS_WITH_TABLES:
        folder = Path(str(resources.files("crowdline") / part / "migrations"))
        if any(f.name != "__init__.py" for f in folder.glob("*.py")):
            locations.append(str(folder))
    return locations


def alembic_config() -> Config:
    cfg = Config()
    env_folder = resources.files("crowdline.database") / "alembic_env"
    cfg.set_main_option("script_location", str(env_folder))
    cfg.set_main_option("version_locations", " ".join(_version_locations()))
    cfg.set_main_option("path_separator", "space")
    return cfg


def recorded_heads(script: ScriptDirectory) -> set[str]:
    """The heads Alembic records in ``alembic_version``: a head that another head depends
    on (``depends_on`` across parts) is implied by it and not recorded."""
    heads = set(script.get_heads())
    implied: set[str] = set()
    for head in heads:
        needs = script.get_revision(head).dependencies
        implied |= {needs} if isinstance(needs, str) else set(needs or ())
    return heads - implied


def upgrade_schema(engine: sa.Engine) -> None:
    """Bring the database to the newest schema of every part; cheap when it is already there."""
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    heads = recorded_heads(script)
    with _lock, engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
        if current == heads:
            return
    with _lock, engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")
