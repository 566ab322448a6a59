"""Start-up: the CLI's fast paths must agree with the slow, authoritative ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from crowdline.config import Settings
from crowdline.database.migrate import alembic_config, recorded_heads
from crowdline.database.schema_version import migration_heads, schema_is_current
from crowdline.errors import ConfigError
from crowdline.workspace import Workspace


def test_migration_heads_match_alembic() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    # what alembic_version holds: a head another part's migration depends on is implied
    assert migration_heads() == recorded_heads(script)


def test_schema_check_sees_an_old_schema(tmp_path: Path) -> None:
    with Workspace.init(tmp_path / "ws") as ws:
        assert schema_is_current(ws.engine)
        with ws.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO alembic_version VALUES ('0ld0ld0ld0ld')"))
        assert not schema_is_current(ws.engine)


def test_help_imports_no_database_layer() -> None:
    code = ("import sys; from crowdline.cli.main import app; "
            "heavy = [m for m in ('sqlalchemy', 'alembic', 'pandas', 'pydantic_settings', "
            "'fastapi') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_settings_from_environment_and_file(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "crowdline.toml").write_text('server_port = 9000\nparallelism = 3\n')
    monkeypatch.setenv("CROWDLINE_PARALLELISM", "5")
    settings = Settings.load(tmp_path)
    assert (settings.server_port, settings.parallelism) == (9000, 5)
    assert settings.public_url == "http://127.0.0.1:9000"
    assert settings.to_dict()["home"] == str(tmp_path.absolute())



def test_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "crowdline.toml").write_text('server_port = "abc"\n')
    with pytest.raises(ConfigError, match="server_port: expected a whole number"):
        Settings.load(tmp_path)
    (tmp_path / "crowdline.toml").write_text('sever_port = 1\n')
    with pytest.raises(ConfigError, match="unknown crowdline setting 'sever_port'"):
        Settings.load(tmp_path)
