"""Session and login-throttling limits (PINADS_ environment variables override them)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from pinads.errors import ConfigError

__all__ = ["WebPolicy", "load_web_policy"]


class WebPolicy(BaseSettings):
    """How long a web session lives and how many failed logins are tolerated."""

    model_config = SettingsConfigDict(env_prefix="PINADS_", frozen=True, extra="ignore")

    session_idle_minutes: int = Field(
        default=8 * 60, ge=1, description="A session unused this long is logged out."
    )
    session_lifetime_hours: int = Field(
        default=7 * 24, ge=1, description="A session ends this long after its login, even in use."
    )
    login_window_minutes: int = Field(
        default=15, ge=1, description="Failed logins are counted over this sliding window."
    )
    login_failures_per_user: int = Field(
        default=5, ge=1, description="Failed logins for one user name before 429."
    )
    login_failures_per_address: int = Field(
        default=20, ge=1, description="Failed logins from one client address before 429."
    )
    token_failures_per_address: int = Field(
        default=20, ge=1, description="Invalid API tokens from one client address before 429."
    )

    metrics_token: SecretStr | None = Field(
        default=None,
        description="A Bearer token that may read /metrics (besides API tokens and sessions).",
    )
    metrics_public: bool = Field(
        default=False, description="Serve /metrics to anyone (a network you trust)."
    )

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def lifetime(self) -> timedelta:
        return timedelta(hours=self.session_lifetime_hours)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.login_window_minutes)


def load_web_policy() -> WebPolicy:
    """The policy from the environment, or one line naming the bad variable."""
    try:
        return WebPolicy()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = f"PINADS_{str(error['loc'][0]).upper()}"
        field = WebPolicy.model_fields.get(str(error["loc"][0]))
        wanted = "a whole number of at least 1" if field and field.annotation is int else "true"
        raise ConfigError(
            f"{name} is not valid ({error['msg']}): set it to {wanted}, or unset it for the default"
        ) from exc
