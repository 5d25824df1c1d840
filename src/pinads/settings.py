"""Application settings read from the environment (prefix `PINADS_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AppSettings", "load_settings"]


class AppSettings(BaseSettings):
    """Where pinads keeps its state. Everything pinads writes lives under `home`."""

    model_config = SettingsConfigDict(env_prefix="PINADS_", frozen=True, extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path.home() / ".pinads",
        description="Directory for the control DB, the key file and the default DuckDB file.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the control DB; default sqlite in PINADS_HOME.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key for secrets at rest; default a 0600 key file in PINADS_HOME.",
    )
    allowed_roots: str = Field(
        default="",
        description="Directories where duckdb:/// and file:/// destinations may write besides "
        "PINADS_HOME: absolute paths separated by os.pathsep (':' on Linux and macOS).",
    )

    broker_url: str | None = Field(
        default=None,
        description="Celery broker URL (redis://... or amqp://...): runs go to `pinads worker` "
        "processes; unset, everything runs in-process.",
    )
    broker_visibility_timeout: float = Field(
        default=3600.0,
        gt=0,
        description="Redis broker: seconds after which a task a worker took but never finished "
        "(the worker died) goes to another worker; longer than the longest run.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL of the rate budgets and scheduler lease shared by all processes; "
        "default the broker URL when that is a Redis one.",
    )
    redis_prefix: str = Field(
        default="pinads",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="Prefix of pinads' keys in Redis (several installations can share one).",
    )

    rate_limits: str | None = Field(
        default=None,
        description="Pinterest rate limits to pace by instead of the authorizer's tier, as "
        'JSON (e.g. {"categories": {"ads_analytics": {"calls": 600, "per_seconds": 60}}}): '
        "for an app granted other limits.",
    )

    @property
    def shared_redis_url(self) -> str | None:
        """The Redis shared by every process, if any: PINADS_REDIS_URL, else a Redis broker."""
        if self.redis_url:
            return self.redis_url
        broker = self.broker_url or ""
        return broker if broker.startswith(("redis://", "rediss://")) else None

    @property
    def control_db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'pinads.db'}"

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def default_duckdb_path(self) -> Path:
        return self.home / "pinads.duckdb"

    def ensure_home(self) -> Path:
        """Create `home` (mode 0700) if needed and return it."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home


def load_settings() -> AppSettings:
    """Read settings from the environment now (tests change PINADS_HOME between calls)."""
    return AppSettings()
