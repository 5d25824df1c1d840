"""Demo identities of the emulator's world: the OAuth app, users and advertisers.

They are constants (not generated) so tests, docs and the demo can name them.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ANALYTICS_ROLES",
    "AUDIENCE_ONLY_ADVERTISER_ID",
    "DEFAULT_USER_ID",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_USER_IDS",
    "EUR_ADVERTISER_ID",
    "FINANCE_ONLY_ADVERTISER_ID",
    "JPY_ADVERTISER_ID",
    "LARGE_ADVERTISER_ID",
    "SECOND_USER_ID",
    "THIRD_USER_ID",
]

DEMO_CLIENT_ID: Final = "pinads-demo"
DEMO_CLIENT_SECRET: Final = "pinads-demo-secret"  # noqa: S105 - public demo credential

DEFAULT_USER_ID: Final = "1000000000000001"
SECOND_USER_ID: Final = "1000000000000002"
THIRD_USER_ID: Final = "1000000000000003"
DEMO_USER_IDS: Final = (DEFAULT_USER_ID, SECOND_USER_ID, THIRD_USER_ID)

LARGE_ADVERTISER_ID: Final = "549755813001"
EUR_ADVERTISER_ID: Final = "549755813002"
JPY_ADVERTISER_ID: Final = "549755813004"
# Accounts the default user sees only through a role that may not read analytics.
FINANCE_ONLY_ADVERTISER_ID: Final = JPY_ADVERTISER_ID
AUDIENCE_ONLY_ADVERTISER_ID: Final = "549755813005"

# Pinterest: analytics and reports need Owner, or the Admin, Analyst or Campaign Manager role.
ANALYTICS_ROLES: Final = frozenset({"OWNER", "ADMIN", "ANALYST", "CAMPAIGN_MANAGER"})
