"""Deterministic generation of the emulator's world from (seed, anchor day).

The structure (accounts, campaigns, ad groups, ads, ...) uses `random.Random(seed)` once at build
time; daily numbers never use RNG state (see `metrics`). Worlds are cached per (seed, anchor),
so many apps in one test process share one immutable world.
"""

from __future__ import annotations

import gc
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from pinads.emulator.constants import (
    AUDIENCE_ONLY_ADVERTISER_ID,
    DEFAULT_USER_ID,
    EUR_ADVERTISER_ID,
    JPY_ADVERTISER_ID,
    LARGE_ADVERTISER_ID,
    SECOND_USER_ID,
    THIRD_USER_ID,
)
from pinads.emulator.world import (
    Account,
    Ad,
    AdGroup,
    Audience,
    Campaign,
    ConversionTag,
    CustomerList,
    Keyword,
    User,
    World,
)

__all__ = ["HISTORY_DAYS", "build_world"]

HISTORY_DAYS = 1100  # about three years of daily history before the anchor day

_U1, _U2, _U3 = DEFAULT_USER_ID, SECOND_USER_ID, THIRD_USER_ID


@dataclass(frozen=True)
class _AccountPlan:
    id: str
    name: str
    currency: str
    country: str
    owner: str
    shared: tuple[tuple[str, str], ...]
    campaigns: int  # the large advertiser: exactly this many ACTIVE or PAUSED campaigns
    scale: float  # currency micro-units per USD micro-unit
    size: float  # delivery multiplier


_PLANS = (
    _AccountPlan(
        LARGE_ADVERTISER_ID,
        "Hearth & Home Superstore",
        "USD",
        "US",
        _U1,
        ((_U2, "ANALYST"), (_U3, "CAMPAIGN_MANAGER")),
        1000,
        1.0,
        1.0,
    ),
    _AccountPlan(
        EUR_ADVERTISER_ID, "Maison Claire", "EUR", "FR", _U1, ((_U2, "ADMIN"),), 14, 0.92, 0.6
    ),
    _AccountPlan(
        "549755813003", "Thistle Outdoor", "GBP", "GB", _U2, ((_U1, "ADMIN"),), 10, 0.79, 0.5
    ),
    _AccountPlan(
        JPY_ADVERTISER_ID,
        "Sakura Kitchen",
        "JPY",
        "JP",
        _U3,
        ((_U1, "FINANCE_MANAGER"),),
        8,
        150.0,
        0.7,
    ),
    _AccountPlan(
        AUDIENCE_ONLY_ADVERTISER_ID,
        "Northwind Pets",
        "CAD",
        "CA",
        _U2,
        ((_U1, "AUDIENCE_MANAGER"),),
        6,
        1.36,
        0.4,
    ),
    _AccountPlan(
        "549755813006", "Koala Crafts", "AUD", "AU", _U3, ((_U1, "ANALYST"),), 9, 1.5, 0.5
    ),
    _AccountPlan("549755813007", "Fjord Design Studio", "SEK", "SE", _U1, (), 5, 10.5, 0.3),
)

_OBJECTIVES = ("AWARENESS", "CONSIDERATION", "WEB_CONVERSION", "CATALOG_SALES", "VIDEO_COMPLETION")
_KEYWORDS = (
    "christmas decor ideas",
    "living room ideas",
    "kitchen organization",
    "boho bedroom",
    "outdoor patio",
    "wedding centerpieces",
    "minimalist desk",
    "cozy reading nook",
    "bathroom tiles",
    "garden planters",
    "fall wreath",
    "nursery decor",
)
_MATCH_TYPES = ("BROAD", "PHRASE", "EXACT", "EXACT_NEGATIVE", "PHRASE_NEGATIVE")


class _Ids:
    """Numeric id counters, one range per entity kind, so ids never collide across kinds."""

    def __init__(self) -> None:
        self._next = {
            "campaign": 626_000_000_000,
            "ad_group": 2_680_000_000_000,
            "ad": 687_000_000_000,
            "pin": 1_134_000_000_000_000,
            "keyword": 5_000_000_000_000,
            "audience": 2_542_000_000_000,
            "customer_list": 3_500_000_000_000,
            "conversion_tag": 2_613_000_000_000,
            "product_group": 4_000_000_000_000,
        }

    def take(self, kind: str) -> str:
        self._next[kind] += 1
        return str(self._next[kind])


def _status_and_dates(rng: random.Random, anchor: int, first: int) -> tuple[str, int, int | None]:
    start = rng.randint(first, anchor - 20)
    roll = rng.random()
    if roll < 0.45:
        end = None if rng.random() < 0.5 else anchor + rng.randint(10, 200)
        return "ACTIVE", start, end
    end = min(anchor - 1, start + rng.randint(20, 400))
    if roll < 0.62:
        return "PAUSED", start, end
    if roll < 0.97:
        return "ARCHIVED", start, end
    return "DRAFT", anchor + 30, None


def _make_ad(
    rng: random.Random, ids: _Ids, *, group: AdGroup, plan: _AccountPlan, creative: str, n: int
) -> Ad:
    status = group.status if rng.random() < 0.85 else "PAUSED"
    if group.status in ("ARCHIVED", "DRAFT"):
        status = group.status
    ad_id = ids.take("ad")
    return Ad(
        id=ad_id,
        ad_group_id=group.id,
        campaign_id=group.campaign_id,
        account_id=group.account_id,
        pin_id=ids.take("pin"),
        name=f"{group.name} · ad {n}",
        status=status,
        creative_type=creative,
        start_day=group.start_day,
        end_day=group.end_day,
        created_day=group.created_day,
        seed=rng.getrandbits(62),
        base_impressions=math.exp(rng.uniform(math.log(150), math.log(9000))) * plan.size,
        ctr=rng.uniform(0.004, 0.02),
        save_rate=rng.uniform(0.002, 0.012),
        outbound_rate=rng.uniform(0.3, 0.7),
        cpm_micro=rng.uniform(2.5, 14.0) * 1_000_000 * plan.scale,
        conversion_rate=rng.uniform(0.01, 0.06),
        order_value_micro=int(rng.uniform(15, 140) * plan.scale) * 1_000_000,
        video_length_s=rng.choice((6, 10, 15, 30)) if creative == "VIDEO" else 0,
        product_group_id=ids.take("product_group") if creative == "SHOPPING" else None,
        product_group_name=f"Catalog group {n} of {group.name}" if creative == "SHOPPING" else None,
    )


def _add_campaign(world: World, rng: random.Random, ids: _Ids, plan: _AccountPlan) -> None:
    status, start, end = _status_and_dates(rng, world.anchor_day, world.first_day)
    objective = rng.choice(_OBJECTIVES)
    campaign = Campaign(
        id=ids.take("campaign"),
        account_id=plan.id,
        name=f"{plan.name} · {objective.title().replace('_', ' ')} {len(world.campaigns) + 1}",
        status=status,
        objective_type=objective,
        start_day=start,
        end_day=end,
        created_day=start - rng.randint(1, 10),
        daily_spend_cap=int(rng.uniform(50, 500) * plan.scale) * 1_000_000
        if rng.random() < 0.5
        else None,
        lifetime_spend_cap=None,
        is_cbo=rng.random() < 0.2,
    )
    world.campaigns[campaign.id] = campaign
    world.campaigns_by_account.setdefault(plan.id, []).append(campaign.id)
    for g in range(2):
        _add_ad_group(world, rng, ids, campaign=campaign, plan=plan, n=g + 1)


def _add_ad_group(
    world: World, rng: random.Random, ids: _Ids, *, campaign: Campaign, plan: _AccountPlan, n: int
) -> None:
    shopping = campaign.objective_type == "CATALOG_SALES"
    group = AdGroup(
        id=ids.take("ad_group"),
        campaign_id=campaign.id,
        account_id=plan.id,
        name=f"{campaign.name} · group {n}",
        status=campaign.status if rng.random() < 0.9 or campaign.status != "ACTIVE" else "PAUSED",
        start_day=campaign.start_day,
        end_day=campaign.end_day,
        created_day=campaign.created_day,
        budget_micro=int(rng.uniform(20, 300) * plan.scale) * 1_000_000,
        bid_micro=int(rng.uniform(0.5, 3) * plan.scale * 1_000_000) if rng.random() < 0.5 else None,
        billable_event="IMPRESSION" if campaign.objective_type == "AWARENESS" else "CLICKTHROUGH",
        budget_type="DAILY" if rng.random() < 0.8 else "LIFETIME",
        is_shopping=shopping,
    )
    world.ad_groups[group.id] = group
    world.ad_groups_by_account.setdefault(plan.id, []).append(group.id)
    world.ad_groups_by_campaign.setdefault(campaign.id, []).append(group.id)
    video = campaign.objective_type == "VIDEO_COMPLETION"
    for a in range(rng.choice((2, 2, 3))):
        creative = (
            "SHOPPING"
            if shopping
            else "VIDEO"
            if video
            else rng.choice(("REGULAR", "CAROUSEL", "REGULAR"))
        )
        ad = _make_ad(rng, ids, group=group, plan=plan, creative=creative, n=a + 1)
        world.ads[ad.id] = ad
        world.ads_by_account.setdefault(plan.id, []).append(ad.id)
        world.ads_by_ad_group.setdefault(group.id, []).append(ad.id)
        world.ads_by_campaign.setdefault(campaign.id, []).append(ad.id)
        if ad.product_group_id:
            world.product_groups[ad.product_group_id] = ad.id
    if campaign.objective_type in ("CONSIDERATION", "WEB_CONVERSION"):
        for value in rng.sample(_KEYWORDS, 3):
            keyword = Keyword(
                ids.take("keyword"),
                group.id,
                plan.id,
                value,
                rng.choice(_MATCH_TYPES[:3]),
                group.status == "ARCHIVED",
            )
            world.keywords[keyword.id] = keyword
            world.keywords_by_ad_group.setdefault(group.id, []).append(keyword.id)


def _add_campaigns(world: World, rng: random.Random, ids: _Ids, plan: _AccountPlan) -> None:
    if plan.id != LARGE_ADVERTISER_ID:
        for _ in range(plan.campaigns):
            _add_campaign(world, rng, ids, plan)
        return
    # Exactly `campaigns` live ones, so paging tests know the count (1,000 = 4 pages of 250).
    live = 0
    while live < plan.campaigns:
        _add_campaign(world, rng, ids, plan)
        last = world.campaigns_by_account[plan.id][-1]
        live += world.campaigns[last].status in ("ACTIVE", "PAUSED")


def _add_account_extras(world: World, rng: random.Random, ids: _Ids, plan: _AccountPlan) -> None:
    first = world.first_day
    for n, kind in enumerate(("CUSTOMER_LIST", "VISITOR", "ENGAGEMENT", "ACTALIKE")):
        audience = Audience(
            ids.take("audience"),
            plan.id,
            f"{plan.name} {kind.lower()} audience",
            kind,
            rng.randint(1_000, 2_000_000),
            first + 30 * n,
        )
        world.audiences[audience.id] = audience
    for n in range(3):
        clist = CustomerList(
            ids.take("customer_list"),
            plan.id,
            f"{plan.name} CRM list {n + 1}",
            rng.randint(1, 6),
            rng.randint(500, 90_000),
            first + 40 * n,
        )
        world.customer_lists[clist.id] = clist
    for n, status in enumerate(("ACTIVE", "ACTIVE", "PAUSED", "ARCHIVED")):
        fired = world.anchor_day - n if status == "ACTIVE" else None
        tag = ConversionTag(
            ids.take("conversion_tag"), plan.id, f"{plan.name} tag {n + 1}", status, fired
        )
        world.conversion_tags[tag.id] = tag


@lru_cache(maxsize=8)
def build_world(seed: int, anchor_day: int) -> World:
    """The world for `seed` whose history ends around `anchor_day` (a date ordinal)."""
    world = World(seed=seed, anchor_day=anchor_day, first_day=anchor_day - HISTORY_DAYS)
    world.users = {
        _U1: User(_U1, "hearth_home_marketing", "Hearth & Home"),
        _U2: User(_U2, "thistle_ads", "Thistle Outdoor"),
        _U3: User(_U3, "sakura_agency", "Sakura Agency"),
    }
    ids = _Ids()
    for plan in _PLANS:
        rng = random.Random(f"{seed}:{plan.id}")
        roles: dict[str, tuple[str, ...]] = {plan.owner: ("OWNER",)}
        roles.update((user, (role,)) for user, role in plan.shared)
        world.accounts[plan.id] = Account(
            id=plan.id,
            name=plan.name,
            currency=plan.currency,
            country=plan.country,
            owner_id=plan.owner,
            roles=roles,
            created_day=world.first_day - 30,
        )
        _add_campaigns(world, rng, ids, plan)
        _add_account_extras(world, rng, ids, plan)
    # The world lives as long as the process: keep the collector from rescanning its ~20k
    # objects on every generation-2 pass (it made row rendering 30 % slower).
    gc.collect()
    gc.freeze()
    return world
