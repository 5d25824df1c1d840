"""Entity list endpoints: campaigns, ad groups, ads, keywords, audiences, customer lists,
conversion tags (not paginated) and product group promotions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pinads.emulator.constants import ANALYTICS_ROLES
from pinads.emulator.http import authenticate, emulator_state, json_response, require_account
from pinads.emulator.paging import page
from pinads.emulator.params import invalid, parse_query
from pinads.emulator.render import (
    render_ad,
    render_ad_group,
    render_audience,
    render_campaign,
    render_conversion_tag,
    render_customer_list,
    render_keyword,
    render_product_group_promotion,
)
from pinads.emulator.state import EmulatorState

__all__ = [
    "ad_groups_list",
    "ads_list",
    "audiences_list",
    "campaigns_list",
    "conversion_tags_list",
    "customer_lists_list",
    "keywords_list",
    "product_group_promotions_list",
]

_AUDIENCE_ROLES = ANALYTICS_ROLES | {"AUDIENCE_MANAGER"}
# Keywords' page_size has no schema maximum; Pinterest documents "a default maximum of 250".
_KEYWORD_PAGE_MAX = 250


def _open(
    request: Request, op: str, roles: frozenset[str]
) -> tuple[EmulatorState, str, dict[str, Any]]:
    info = authenticate(request)
    account = require_account(request, info, request.path_params["ad_account_id"], roles=roles)
    return emulator_state(request), account.id, parse_query(request, op)


def _paged(
    request: Request,
    op: str,
    query: dict[str, Any],
    ids: Sequence[str],
    render: Callable[[str], dict[str, Any]],
) -> Response:
    ordered = list(reversed(ids)) if query.get("order") == "DESCENDING" else ids
    # The bookmark is bound to the query (path + every parameter but the bookmark itself).
    context = (
        request.url.path
        + "?"
        + "&".join(
            f"{k}={v}" for k, v in sorted(request.query_params.multi_items()) if k != "bookmark"
        )
    )
    chunk, bookmark = page(
        ordered,
        page_size=min(int(query.get("page_size", 25)), _KEYWORD_PAGE_MAX),
        bookmark=query.get("bookmark"),
        context=context,
        operation_id=op,
    )
    return json_response({"items": [render(i) for i in chunk], "bookmark": bookmark})


def _only_one(op: str, query: dict[str, Any], names: Sequence[str]) -> str | None:
    given = [name for name in names if name in query]
    if len(given) > 1:
        raise invalid(op)
    return given[0] if given else None


async def campaigns_list(request: Request) -> Response:
    op = "campaigns/list"
    state, account_id, query = _open(request, op, ANALYTICS_ROLES)
    world, today = state.world, state.today_ordinal()
    ids = world.campaigns_by_account.get(account_id, [])
    if "campaign_ids" in query:
        wanted = set(query["campaign_ids"])
        ids = [i for i in ids if i in wanted]
    statuses = set(query["entity_statuses"])
    ids = [i for i in ids if world.campaigns[i].status in statuses]
    return _paged(
        request, op, query, ids, lambda i: render_campaign(world.campaigns[i], today=today)
    )


async def ad_groups_list(request: Request) -> Response:
    op = "ad_groups/list"
    state, account_id, query = _open(request, op, ANALYTICS_ROLES)
    world, today = state.world, state.today_ordinal()
    ids = world.ad_groups_by_account.get(account_id, [])
    by = _only_one(op, query, ("campaign_ids", "ad_group_ids"))
    if by == "campaign_ids":
        wanted = set(query[by])
        ids = [i for i in ids if world.ad_groups[i].campaign_id in wanted]
    elif by == "ad_group_ids":
        wanted = set(query[by])
        ids = [i for i in ids if i in wanted]
    statuses = set(query["entity_statuses"])
    ids = [i for i in ids if world.ad_groups[i].status in statuses]
    return _paged(
        request, op, query, ids, lambda i: render_ad_group(world.ad_groups[i], today=today)
    )


async def ads_list(request: Request) -> Response:
    op = "ads/list"
    state, account_id, query = _open(request, op, ANALYTICS_ROLES)
    world, today = state.world, state.today_ordinal()
    ids = world.ads_by_account.get(account_id, [])
    by = _only_one(op, query, ("campaign_ids", "ad_group_ids", "ad_ids"))
    if by is not None:
        wanted = set(query[by])
        field = {"campaign_ids": "campaign_id", "ad_group_ids": "ad_group_id", "ad_ids": "id"}[by]
        ids = [i for i in ids if getattr(world.ads[i], field) in wanted]
    statuses = set(query["entity_statuses"])
    ids = [i for i in ids if world.ads[i].status in statuses]
    return _paged(request, op, query, ids, lambda i: render_ad(world.ads[i], today=today))


def _keyword_ids(state: EmulatorState, account_id: str, query: dict[str, Any]) -> list[str]:
    world = state.world
    groups: list[str] = []
    if "ad_group_id" in query:
        groups.append(query["ad_group_id"])
    groups.extend(query.get("ad_group_ids", []))
    if "campaign_id" in query:
        groups.extend(world.ad_groups_by_campaign.get(query["campaign_id"], []))
    # Without a parent filter Pinterest lists keywords attached to the ad account itself; the
    # emulator's keywords all hang on ad groups, as Ads Manager creates them.
    ids = [
        k
        for g in groups
        if g in world.ad_groups and world.ad_groups[g].account_id == account_id
        for k in world.keywords_by_ad_group.get(g, [])
    ]
    if "match_types" in query:
        ids = [k for k in ids if world.keywords[k].match_type in query["match_types"]]
    return ids


async def keywords_list(request: Request) -> Response:
    op = "keywords/get"
    state, account_id, query = _open(request, op, ANALYTICS_ROLES)
    ids = _keyword_ids(state, account_id, query)
    return _paged(request, op, query, ids, lambda i: render_keyword(state.world.keywords[i]))


async def audiences_list(request: Request) -> Response:
    op = "audiences/list"
    state, account_id, query = _open(request, op, _AUDIENCE_ROLES)
    world = state.world
    ids = [a.id for a in world.audiences.values() if a.account_id == account_id]
    if query["ownership_type"] == "RECEIVED":
        ids = []  # no audiences are shared with the demo advertisers
    return _paged(request, op, query, ids, lambda i: render_audience(world.audiences[i]))


async def customer_lists_list(request: Request) -> Response:
    op = "customer_lists/list"
    state, account_id, query = _open(request, op, _AUDIENCE_ROLES)
    world = state.world
    ids = [c.id for c in world.customer_lists.values() if c.account_id == account_id]
    return _paged(request, op, query, ids, lambda i: render_customer_list(world.customer_lists[i]))


async def conversion_tags_list(request: Request) -> Response:
    """Not paginated: `{"items": [...]}` only."""
    state, account_id, query = _open(request, "conversion_tags/list", ANALYTICS_ROLES)
    tags = [t for t in state.world.conversion_tags.values() if t.account_id == account_id]
    if query["filter_deleted"]:
        tags = [t for t in tags if t.status != "ARCHIVED"]
    return json_response({"items": [render_conversion_tag(t) for t in tags]})


async def product_group_promotions_list(request: Request) -> Response:
    op = "product_group_promotions/list"
    state, account_id, query = _open(request, op, ANALYTICS_ROLES)
    world = state.world
    by = _only_one(op, query, ("ad_group_id", "product_group_promotion_ids"))
    if by is None:
        raise invalid(op)  # Pinterest requires one of the two
    if by == "ad_group_id":
        ads = [world.ads[a] for a in world.ads_by_ad_group.get(query[by], [])]
    else:
        ads = [world.ads[world.product_groups[p]] for p in query[by] if p in world.product_groups]
    statuses = set(query["entity_statuses"])
    ads = [
        a for a in ads if a.product_group_id and a.account_id == account_id and a.status in statuses
    ]
    by_id = {a.product_group_id: a for a in ads if a.product_group_id}
    return _paged(
        request, op, query, list(by_id), lambda i: render_product_group_promotion(by_id[i])
    )
