"""The SDK's entry point: a workspace ties settings, the database and every part together.

    ws = Workspace.init("./.crowdline")      # create (idempotent)
    ws = Workspace.open()                     # $CROWDLINE_HOME or ./.crowdline
    ws.store, ws.pipelines, ws.crowd          # the parts' facades, created on first use
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crowdline.config import CONFIG_FILE, Settings
from crowdline.errors import WorkspaceNotFound

if TYPE_CHECKING:
    import sqlalchemy as sa

    from crowdline.crowd import Crowd
    from crowdline.pipelines import Pipelines
    from crowdline.store import Store

_MARKER = "workspace.json"


class Workspace:
    """Settings, one SQL engine and the parts' facades. Cheap to create; close() when done."""

    def __init__(self, settings: Settings, *, engine: sa.Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine

    # -- lifecycle ------------------------------------------------------------------------

    @classmethod
    def init(cls, home: str | Path | None = None, **overrides: Any) -> Workspace:
        """Create the workspace folder and its database schema (safe to call again)."""
        settings = Settings.load(home, **overrides)
        settings.home.mkdir(parents=True, exist_ok=True)
        marker = settings.home / _MARKER
        if not marker.exists():
            marker.write_text('{"format": 1}\n')
        config = settings.home / CONFIG_FILE
        if not config.exists():
            config.write_text(
                "# crowdline settings; CROWDLINE_* environment variables override these.\n"
                "# storage_url = \"s3://bucket/prefix\"\n"
                "# database_url = \"postgresql://user@host/db\"\n"
                "# executor_url = \"tcp://scheduler:8786\"\n"
            )
        workspace = cls(settings)
        workspace._upgrade_schema()
        return workspace

    @classmethod
    def settings_of_existing(cls, home: str | Path | None = None, **overrides: Any) -> Settings:
        """The settings of an initialised workspace, without opening its database; raises
        WorkspaceNotFound with the fix if there is none."""
        settings = Settings.load(home, **overrides)
        if not (settings.home / _MARKER).exists():
            raise WorkspaceNotFound(
                f"no crowdline workspace at {settings.home}",
                hint="run `crowdline init` here, or set CROWDLINE_HOME to an existing workspace",
            )
        return settings

    @classmethod
    def open(cls, home: str | Path | None = None, **overrides: Any) -> Workspace:
        """Open an initialised workspace; raises WorkspaceNotFound with the fix if there is none."""
        workspace = cls(cls.settings_of_existing(home, **overrides))
        workspace._upgrade_schema()
        return workspace

    def _upgrade_schema(self) -> None:
        from crowdline.database.schema_version import schema_is_current

        # Alembic costs half a second to import: only load it when there is work for it.
        if not schema_is_current(self.engine):
            from crowdline.database import upgrade_schema

            upgrade_schema(self.engine)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        for name in ("store", "pipelines", "crowd"):
            self.__dict__.pop(name, None)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- parts ----------------------------------------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            from crowdline.database.engine import make_engine

            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @functools.cached_property
    def store(self) -> Store:
        from crowdline.store import Store

        return Store(engine=self.engine, storage_url=self.settings.storage_url)

    @functools.cached_property
    def pipelines(self) -> Pipelines:
        from crowdline.pipelines import Pipelines

        return Pipelines(workspace=self)

    @functools.cached_property
    def crowd(self) -> Crowd:
        from crowdline.crowd import Crowd

        return Crowd(engine=self.engine, store=self.store)
