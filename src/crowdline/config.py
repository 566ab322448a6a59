"""Settings: one typed object, from ``crowdline.toml`` in the workspace and ``CROWDLINE_*``.

Precedence (highest first): keyword arguments, environment variables, the workspace's
``crowdline.toml``, defaults. Defaults put everything under the workspace folder.

Plain dataclass rather than pydantic-settings: every CLI command loads settings, and importing
pydantic-settings alone costs about a third of a second of start-up.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any

from crowdline.errors import ConfigError

CONFIG_FILE = "crowdline.toml"
DEFAULT_HOME = ".crowdline"
ENV_PREFIX = "CROWDLINE_"


def default_home() -> Path:
    """The workspace folder: ``$CROWDLINE_HOME`` or ``./.crowdline``."""
    return Path(os.environ.get("CROWDLINE_HOME") or DEFAULT_HOME).absolute()


@dataclasses.dataclass
class Settings:
    """Where crowdline keeps things and which engines it runs on.

    ``Settings(**values)`` also reads ``CROWDLINE_*`` variables for the fields not given;
    ``Settings.load(home)`` adds the workspace's ``crowdline.toml`` below both.
    """

    home: Path = dataclasses.field(default_factory=default_home)
    storage_url: str = ""  # default: file://<home>/objects
    database_url: str = ""  # default: sqlite:///<home>/crowdline.db
    executor_url: str = ""  # default: local process pool; "tcp://host:8786" for Dask
    server_host: str = "127.0.0.1"
    server_port: int = 8765
    public_url: str = ""  # base of invite links; default http://<host>:<port>
    parallelism: int = 0  # 0 = number of CPUs
    # -- security (see SECURITY.md) --
    secret_key: str = ""  # default: <home>/keys/workspace.key (0600); see crowdline.keys
    allowed_origins: str = ""  # extra origins (comma-separated) allowed to post forms
    auth_failures_per_minute: int = 30  # per client address, then 429 (0: no limit)
    upload_max_bytes: int = 512 * 1024 * 1024  # a task file, streamed
    upload_max_cell_bytes: int = 1024 * 1024  # one CSV/TSV cell or JSON string
    upload_max_depth: int = 64  # nesting of JSON task values

    def __init__(self, **values: Any) -> None:
        fields = {f.name: f for f in dataclasses.fields(Settings)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(f"unknown crowdline setting {unknown[0]!r}",
                              hint=f"known settings: {', '.join(fields)}")
        merged = {**_environment(fields), **values}
        for name, field in fields.items():
            if name in merged:
                value = _coerce(name, field.type, merged[name])
            elif field.default_factory is not dataclasses.MISSING:
                value = field.default_factory()
            else:
                value = field.default
            setattr(self, name, value)
        self.home = Path(self.home).expanduser().absolute()
        if not self.storage_url:
            self.storage_url = (self.home / "objects").as_uri()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'crowdline.db'}"
        if not self.public_url:
            self.public_url = f"http://{self.server_host}:{self.server_port}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (paths as strings), e.g. to hand settings to a worker process;
        never the secret key."""
        return {f.name: str(v) if isinstance(v := getattr(self, f.name), Path) else v
                for f in dataclasses.fields(self) if f.name != "secret_key"}

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
        env_keys = {k[len(ENV_PREFIX):].lower() for k in os.environ if k.startswith(ENV_PREFIX)}
        values = {k: v for k, v in file_values.items() if k not in env_keys}
        values.update(overrides)
        values["home"] = home_path
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(
                f"invalid crowdline settings: {exc.message}",
                hint=f"check {config_path} and the CROWDLINE_* environment variables",
            ) from exc


def _environment(fields: dict[str, dataclasses.Field]) -> dict[str, str]:
    return {name: os.environ[ENV_PREFIX + name.upper()] for name in fields
            if ENV_PREFIX + name.upper() in os.environ}


def _coerce(name: str, annotation: Any, value: Any) -> Any:
    kind = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if kind == "int":
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None
    if kind == "Path":
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{name}: expected a folder path, got {value!r}")
        return Path(value)
    if not isinstance(value, str):
        raise ConfigError(f"{name}: expected text, got {value!r}")
    return value
