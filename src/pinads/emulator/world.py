"""The emulator's synthetic advertisers: immutable entities generated from a seed.

Days are proleptic ordinals (`date.toordinal()`), so day arithmetic is integer arithmetic in the
hot metric loops. An entity delivers on day `d` when `start_day <= d <= end_day` (end `None` =
open-ended); its status says what Pinterest would show today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time

__all__ = [
    "Account",
    "Ad",
    "AdGroup",
    "Audience",
    "Campaign",
    "ConversionTag",
    "CustomerList",
    "Keyword",
    "User",
    "World",
    "day_epoch",
    "splitmix64",
]

_MASK64 = (1 << 64) - 1


def splitmix64(value: int) -> int:
    """A fast, well-mixed 64-bit hash (SplitMix64 finaliser): the only randomness of the world."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def day_epoch(day: int, *, hour: int = 0) -> int:
    """Unix seconds of an ordinal day at `hour`:00 UTC."""
    moment = datetime.combine(datetime.fromordinal(day).date(), time(hour), tzinfo=UTC)
    return int(moment.timestamp())


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    business_name: str


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    currency: str
    country: str
    owner_id: str
    # user id -> roles of that user on this account (owner included as OWNER)
    roles: dict[str, tuple[str, ...]]
    created_day: int


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    account_id: str
    name: str
    status: str
    objective_type: str
    start_day: int
    end_day: int | None
    created_day: int
    daily_spend_cap: int | None
    lifetime_spend_cap: int | None
    is_cbo: bool


@dataclass(frozen=True, slots=True)
class AdGroup:
    id: str
    campaign_id: str
    account_id: str
    name: str
    status: str
    start_day: int
    end_day: int | None
    created_day: int
    budget_micro: int
    bid_micro: int | None
    billable_event: str
    budget_type: str
    is_shopping: bool


@dataclass(frozen=True, slots=True)
class Ad:
    """An ad and its delivery profile (all numbers fixed by the seed)."""

    id: str
    ad_group_id: str
    campaign_id: str
    account_id: str
    pin_id: str
    name: str
    status: str
    creative_type: str
    start_day: int
    end_day: int | None
    created_day: int
    seed: int
    base_impressions: float
    ctr: float
    save_rate: float
    outbound_rate: float
    cpm_micro: float
    conversion_rate: float
    order_value_micro: int
    video_length_s: int
    # product group promotion id when the ad promotes a catalog product group
    product_group_id: str | None = None
    product_group_name: str | None = None


@dataclass(frozen=True, slots=True)
class Keyword:
    id: str
    ad_group_id: str
    account_id: str
    value: str
    match_type: str
    archived: bool


@dataclass(frozen=True, slots=True)
class Audience:
    id: str
    account_id: str
    name: str
    audience_type: str
    size: int
    created_day: int


@dataclass(frozen=True, slots=True)
class CustomerList:
    id: str
    account_id: str
    name: str
    num_batches: int
    records: int
    created_day: int


@dataclass(frozen=True, slots=True)
class ConversionTag:
    id: str
    account_id: str
    name: str
    status: str
    last_fired_day: int | None


@dataclass(slots=True)
class World:
    """All entities, indexed for the handlers; built once per (seed, anchor day), then read-only."""

    seed: int
    anchor_day: int
    first_day: int
    users: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    ad_groups: dict[str, AdGroup] = field(default_factory=dict)
    ads: dict[str, Ad] = field(default_factory=dict)
    keywords: dict[str, Keyword] = field(default_factory=dict)
    audiences: dict[str, Audience] = field(default_factory=dict)
    customer_lists: dict[str, CustomerList] = field(default_factory=dict)
    conversion_tags: dict[str, ConversionTag] = field(default_factory=dict)
    # account id -> ids in ascending order (lists are what paging walks)
    campaigns_by_account: dict[str, list[str]] = field(default_factory=dict)
    ad_groups_by_account: dict[str, list[str]] = field(default_factory=dict)
    ads_by_account: dict[str, list[str]] = field(default_factory=dict)
    ad_groups_by_campaign: dict[str, list[str]] = field(default_factory=dict)
    ads_by_ad_group: dict[str, list[str]] = field(default_factory=dict)
    ads_by_campaign: dict[str, list[str]] = field(default_factory=dict)
    keywords_by_ad_group: dict[str, list[str]] = field(default_factory=dict)
    # product group promotion id -> ad id (a shopping ad promotes exactly one product group)
    product_groups: dict[str, str] = field(default_factory=dict)
