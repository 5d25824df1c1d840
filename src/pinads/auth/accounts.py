"""Ad accounts as the token's user sees them, with that user's roles on each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pinads.errors import AccessDeniedError, ExtractError

__all__ = ["ANALYTICS_ROLES", "AdAccount", "require_analytics_role"]

# Pinterest: analytics and async reports need Owner, or the Admin, Analyst or Campaign
# Manager role on the ad account.
ANALYTICS_ROLES: tuple[str, ...] = ("OWNER", "ADMIN", "ANALYST", "CAMPAIGN_MANAGER")


class AdAccount(BaseModel):
    """One ad account visible to an authorizer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    currency: str | None = None
    country: str | None = None
    owner_username: str | None = None
    roles: tuple[str, ...] = Field(default=(), description="The token user's roles here.")

    @property
    def has_analytics_role(self) -> bool:
        return any(role in ANALYTICS_ROLES for role in self.roles)

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> AdAccount:
        """From one item of `GET /ad_accounts`."""
        if not isinstance(item.get("id"), str):
            raise ExtractError("an ad account in Pinterest's answer has no id: retry later")
        owner = item.get("owner")
        permissions = item.get("permissions")
        return cls(
            id=item["id"],
            name=str(item.get("name") or item["id"]),
            currency=item.get("currency"),
            country=item.get("country"),
            owner_username=owner.get("username") if isinstance(owner, dict) else None,
            roles=tuple(str(p) for p in permissions) if isinstance(permissions, list) else (),
        )


def _or_list(items: tuple[str, ...]) -> str:
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


def require_analytics_role(account: AdAccount) -> None:
    """Raise AccessDeniedError unless the user may read the account's analytics."""
    if account.has_analytics_role:
        return
    held = ", ".join(account.roles) or "no role"
    raise AccessDeniedError(
        f"insufficient permissions on ad account {account.name} ({account.id}): you have "
        f"{held}; analytics need {_or_list(ANALYTICS_ROLES)} — ask the account owner to grant one"
    )
