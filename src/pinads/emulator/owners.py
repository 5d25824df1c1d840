"""Row owners of an analytics query: the entities rows belong to, with their ads and the
attribute values a row of theirs can carry (names, statuses, parents)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from pinads.emulator.world import Ad, World

if TYPE_CHECKING:
    from pinads.emulator.reporting import ReportQuery

__all__ = ["Owner", "owners_for"]


@dataclass(slots=True)
class Owner:
    id: str
    ads: list[Ad]
    seed: int
    # The row attributes (names, statuses, parents), built only if a query asks for one.
    describe: Callable[[], dict[str, Any]] = dict
    share_permille: int = 1000  # keywords get a share of their ad group's delivery
    _attributes: dict[str, Any] | None = field(default=None, init=False, repr=False)

    @property
    def attributes(self) -> dict[str, Any]:
        if self._attributes is None:
            self._attributes = self.describe()
        return self._attributes


def _account_attrs(world: World, account_id: str) -> dict[str, Any]:
    return {"AD_ACCOUNT_ID": account_id, "ADVERTISER_ID": account_id}


def _campaign_attrs(world: World, campaign_id: str) -> dict[str, Any]:
    c = world.campaigns[campaign_id]
    return {
        **_account_attrs(world, c.account_id),
        "CAMPAIGN_ID": c.id,
        "CAMPAIGN_NAME": c.name,
        "CAMPAIGN_ENTITY_STATUS": c.status,
        "CAMPAIGN_STATUS": c.status,
        "CAMPAIGN_OBJECTIVE_TYPE": c.objective_type,
        "CAMPAIGN_LIFETIME_SPEND_CAP": c.lifetime_spend_cap,
        "CAMPAIGN_DAILY_SPEND_CAP": c.daily_spend_cap,
        "CAMPAIGN_BUDGET_OPTIMIZATION": c.is_cbo,
        "IS_PREMIERE_CAMPAIGN": False,
    }


def _ad_group_attrs(world: World, ad_group_id: str) -> dict[str, Any]:
    g = world.ad_groups[ad_group_id]
    return {
        **_campaign_attrs(world, g.campaign_id),
        "AD_GROUP_ID": g.id,
        "AD_GROUP_NAME": g.name,
        "AD_GROUP_ENTITY_STATUS": g.status,
        "AD_GROUP_STATUS": g.status,
        "AD_GROUP_BUDGET_TYPE": g.budget_type,
        "AD_GROUP_BUDGET_IN_LOCAL_CURRENCY": g.budget_micro / 1_000_000,
    }


def _ad_attrs(world: World, ad_id: str) -> dict[str, Any]:
    ad = world.ads[ad_id]
    return {
        **_ad_group_attrs(world, ad.ad_group_id),
        "AD_ID": ad.id,
        "PIN_PROMOTION_ID": ad.id,
        "AD_NAME": ad.name,
        "PIN_PROMOTION_NAME": ad.name,
        "AD_STATUS": ad.status,
        "PIN_PROMOTION_STATUS": ad.status,
        "PIN_ID": ad.pin_id,
        "VIDEO_LENGTH": ad.video_length_s or None,
    }


def _product_attrs(world: World, ad: Ad, *, item: bool) -> dict[str, Any]:
    attrs = {
        **_ad_group_attrs(world, ad.ad_group_id),
        "PRODUCT_GROUP_ID": ad.product_group_id,
        "PRODUCT_GROUP_STATUS": "RUNNING" if ad.status == "ACTIVE" else ad.status,
    }
    if item:
        currency = world.accounts[ad.account_id].currency
        attrs.update(
            PRODUCT_ITEM_ID=ad.pin_id,
            PRODUCT_ITEM_NAME=f"Item {ad.pin_id[-6:]}",
            PRODUCT_ITEM_PRICE=f"{ad.order_value_micro / 1_000_000:.2f}",
            PRODUCT_ITEM_CURRENCY=currency,
            PRODUCT_ITEM_BRAND="Hearthware",
            PRODUCT_ITEM_PRODUCT_URL=f"https://shop.example/p/{ad.pin_id}",
            PRODUCT_ITEM_PIN_URL=f"https://www.pinterest.com/pin/{ad.pin_id}/",
            PRODUCT_ITEM_IMAGE_URL=f"https://i.pinimg.com/originals/{ad.pin_id}.jpg",
            PRODUCT_ITEM_DESCRIPTION="A synthetic catalog item of the pinads emulator.",
            PRODUCT_ITEM_PRODUCT_TYPE="Home > Decor",
            PRODUCT_ITEM_PRODUCT_CATEGORY="Home & Garden",
        )
    return attrs


def _ids_of_level(world: World, account_id: str, level: str) -> Sequence[str]:
    if level == "CAMPAIGN":
        return world.campaigns_by_account.get(account_id, [])
    if level == "AD_GROUP":
        return world.ad_groups_by_account.get(account_id, [])
    if level == "AD":
        return world.ads_by_account.get(account_id, [])
    if level in ("PRODUCT_GROUP", "PRODUCT_ITEM"):
        ads = world.ads_by_account.get(account_id, [])
        return [world.ads[a].product_group_id or "" for a in ads if world.ads[a].product_group_id]
    if level == "KEYWORD":
        groups = world.ad_groups_by_account.get(account_id, [])
        return [k for g in groups for k in world.keywords_by_ad_group.get(g, [])]
    return [account_id]


def _ads(world: World, ids: Sequence[str]) -> list[Ad]:
    return [world.ads[a] for a in ids]


def _entity_account(world: World, level: str, entity_id: str) -> str | None:
    """The ad account an ACCOUNT/CAMPAIGN/AD_GROUP/AD id belongs to (None = unknown id)."""
    tables: dict[str, Any] = {
        "CAMPAIGN": world.campaigns,
        "AD_GROUP": world.ad_groups,
        "AD": world.ads,
    }
    if level == "ACCOUNT":
        return entity_id if entity_id in world.accounts else None
    entity = tables[level].get(entity_id)
    return None if entity is None else str(entity.account_id)


def _entity_owner(world: World, level: str, entity_id: str, account_id: str) -> Owner | None:
    """ACCOUNT, CAMPAIGN, AD_GROUP and AD owners; None if the id is not in the account."""
    if _entity_account(world, level, entity_id) != account_id:
        return None
    describe: Callable[[World, str], dict[str, Any]]
    if level == "ACCOUNT":
        ads, describe = world.ads_by_account.get(entity_id, []), _account_attrs
    elif level == "CAMPAIGN":
        ads, describe = world.ads_by_campaign.get(entity_id, []), _campaign_attrs
    elif level == "AD_GROUP":
        ads, describe = world.ads_by_ad_group.get(entity_id, []), _ad_group_attrs
    else:
        ads, describe = [entity_id], _ad_attrs
    return Owner(entity_id, _ads(world, ads), int(entity_id), partial(describe, world, entity_id))


def _product_owner(world: World, level: str, entity_id: str, account_id: str) -> Owner | None:
    ad_id = world.product_groups.get(entity_id)
    if ad_id is None or world.ads[ad_id].account_id != account_id:
        return None
    ad = world.ads[ad_id]
    item = level == "PRODUCT_ITEM"
    describe = partial(_product_attrs, world, ad, item=item)
    return Owner(ad.pin_id if item else entity_id, [ad], int(entity_id), describe)


def _keyword_owner(world: World, entity_id: str, account_id: str) -> Owner | None:
    keyword = world.keywords.get(entity_id)
    if keyword is None or keyword.account_id != account_id:
        return None
    siblings = len(world.keywords_by_ad_group[keyword.ad_group_id])
    ads = _ads(world, world.ads_by_ad_group.get(keyword.ad_group_id, []))

    def describe() -> dict[str, Any]:
        return {**_ad_group_attrs(world, keyword.ad_group_id), "KEYWORD_ID": keyword.id}

    # A keyword gets a share of its ad group's delivery; the rest came from other targeting.
    return Owner(entity_id, ads, int(entity_id), describe, share_permille=1000 // (siblings + 1))


def _owner(world: World, level: str, entity_id: str, account_id: str) -> Owner | None:
    if not entity_id.isdigit():
        return None
    if level in ("PRODUCT_GROUP", "PRODUCT_ITEM"):
        return _product_owner(world, level, entity_id, account_id)
    if level == "KEYWORD":
        return _keyword_owner(world, entity_id, account_id)
    return _entity_owner(world, level, entity_id, account_id)


def owners_for(world: World, query: ReportQuery) -> list[Owner]:
    """Owners of the query's rows (unknown ids and ids of other accounts are skipped)."""
    ids = (
        query.entity_ids
        if query.entity_ids is not None
        else _ids_of_level(world, query.account_id, query.level)
    )
    owners = []
    for entity_id in dict.fromkeys(ids):
        owner = _owner(world, query.level, entity_id, query.account_id)
        if owner is None:
            continue
        if query.ad_filter is not None:
            owner.ads = [ad for ad in owner.ads if query.ad_filter(ad)]
        owners.append(owner)
    return owners
