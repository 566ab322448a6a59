"""Settings: one typed object, from ``crowdline.toml`` in the workspace and ``CROWDLINE_*``.

Precedence (highest first): keyword arguments, environment variables, the workspace's
``crowdline.toml``, defaults. Defaults put everything under the workspace folder.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crowdline.errors import ConfigError

CONFIG_FILE = "crowdline.toml"
DEFAULT_HOME = ".crowdline"


def default_home() -> Path:
    """The workspace folder: ``$CROWDLINE_HOME`` or ``./.crowdline``."""
    return Path(os.environ.get("CROWDLINE_HOME") or DEFAULT_HOME).absolute()


class Settings(BaseSettings):
    """Where crowdline keeps things and which engines it runs on."""

    model_config = SettingsConfigDict(env_prefix="CROWDLINE_", extra="forbid")

    home: Path = Field(default_factory=default_home)
    storage_url: str = ""  # default: file://<home>/objects
    database_url: str = ""  # default: sqlite:///<home>/crowdline.db
    executor_url: str = ""  # default: local process pool; "tcp://host:8786" for Dask
    server_host: str = "127.0.0.1"
    server_port: int = 8765
    public_url: str = ""  # base of invite links; default http://<host>:<port>
    parallelism: int = 0  # 0 = number of CPUs

    @field_validator("home", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    def model_post_init(self, __context: Any) -> None:
        if not self.storage_url:
            self.storage_url = (self.home / "objects").as_uri()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'crowdline.db'}"
        if not self.public_url:
            self.public_url = f"http://{self.server_host}:{self.server_port}"

    @classmethod
    def load(cls, home: str | Path | None = None, **overrides: Any) -> Settings:
        """Read ``<home>/crowdline.toml`` (if present), then the environment, then ``overrides``."""
        home_path = Path(home).expanduser().absolute() if home else default_home()
        file_values: dict[str, Any] = {}
        config_path = home_path / CONFIG_FILE
        if config_path.exists():
            try:
                file_values = tomllib.loads(config_path.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(
                    f"{config_path} is not valid TOML: {exc}", hint="fix the file or delete it"
                ) from exc
        prefix = "CROWDLINE_"
        env_keys = {k[len(prefix) :].lower() for k in os.environ if k.startswith(prefix)}
        values = {k: v for k, v in file_values.items() if k not in env_keys}
        values.update(overrides)
        values["home"] = home_path
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(
                f"invalid crowdline settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
                hint=f"check {config_path} and the CROWDLINE_* environment variables",
            ) from exc
