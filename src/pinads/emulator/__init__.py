"""A local, spec-faithful Pinterest API v5 emulator (ads part) with deterministic advertisers.

`create_app(config)` gives the ASGI app; `EmulatorServer` serves it on loopback;
`InProcessTransport` drives it without sockets. It imports nothing from pinads' client side:
enums and limits come from `spec_extract.json`, generated from Pinterest's OpenAPI description.
"""

from __future__ import annotations

from pinads.emulator.app import create_app
from pinads.emulator.config import EmulatorConfig
from pinads.emulator.constants import (
    ANALYTICS_ROLES,
    AUDIENCE_ONLY_ADVERTISER_ID,
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_USER_IDS,
    EUR_ADVERTISER_ID,
    FINANCE_ONLY_ADVERTISER_ID,
    JPY_ADVERTISER_ID,
    LARGE_ADVERTISER_ID,
    SECOND_USER_ID,
    THIRD_USER_ID,
)
from pinads.emulator.server import EmulatorServer
from pinads.emulator.state import EmulatorState
from pinads.emulator.transport import InProcessTransport

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
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorState",
    "InProcessTransport",
    "create_app",
]
