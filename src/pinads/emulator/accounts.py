"""`GET /v5/user_account`, `GET /v5/ad_accounts`, `GET /v5/ad_accounts/{id}`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pinads.emulator.http import (
    account_roles,
    authenticate,
    emulator_state,
    json_response,
    require_account,
)
from pinads.emulator.paging import page
from pinads.emulator.params import parse_query
from pinads.emulator.world import Account, World, day_epoch

__all__ = ["ad_account_get", "ad_accounts_list", "render_account", "user_account"]


def render_account(world: World, account: Account, user_id: str) -> dict[str, Any]:
    owner = world.users[account.owner_id]
    return {
        "id": account.id,
        "name": account.name,
        "owner": {"id": owner.id, "username": owner.username},
        "country": account.country,
        "currency": account.currency,
        "permissions": list(account_roles(account, user_id)),
        "created_time": day_epoch(account.created_day, hour=9),
        "updated_time": day_epoch(account.created_day + 200, hour=9),
    }


async def user_account(request: Request) -> Response:
    info = authenticate(request, scope="user_accounts:read")
    query = parse_query(request, "user_account/get")
    state = emulator_state(request)
    user = state.world.users[info.user_id]
    if "ad_account_id" in query:
        account = require_account(request, info, query["ad_account_id"])
        user = state.world.users[account.owner_id]
    return json_response(
        {
            "account_type": "BUSINESS",
            "id": user.id,
            "username": user.username,
            "business_name": user.business_name,
            "about": f"{user.business_name} on Pinterest (pinads emulator).",
            "profile_image": f"https://i.pinimg.com/75x75_RS/{user.id}.jpg",
            "website_url": f"https://{user.username.replace('_', '-')}.example",
            "board_count": 12,
            "pin_count": 340,
            "follower_count": 1520,
            "following_count": 87,
            "monthly_views": 250_000,
        }
    )


async def ad_accounts_list(request: Request) -> Response:
    op = "ad_accounts/list"
    info = authenticate(request)
    query = parse_query(request, op)
    world = emulator_state(request).world
    visible = [
        account
        for account in world.accounts.values()
        if account_roles(account, info.user_id)
        and (query["include_shared_accounts"] or account.owner_id == info.user_id)
    ]
    chunk, bookmark = page(
        visible,
        page_size=query["page_size"],
        bookmark=query.get("bookmark"),
        context=f"{op}:{info.user_id}:{query['include_shared_accounts']}",
        operation_id=op,
    )
    items = [render_account(world, account, info.user_id) for account in chunk]
    return json_response({"items": items, "bookmark": bookmark})


async def ad_account_get(request: Request) -> Response:
    info = authenticate(request)
    account = require_account(request, info, request.path_params["ad_account_id"])
    return json_response(render_account(emulator_state(request).world, account, info.user_id))
