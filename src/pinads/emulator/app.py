"""The emulator's ASGI app (Starlette): routes of the implemented Pinterest operations."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pinads.emulator import (
    accounts,
    analytics,
    control,
    entities,
    guards,
    oauth,
    reports,
    targeting,
)
from pinads.emulator.config import EmulatorConfig
from pinads.emulator.errors import ApiProblemError, problem_handler
from pinads.emulator.http import json_response
from pinads.emulator.spec import operation
from pinads.emulator.state import EmulatorState

__all__ = ["create_app"]

_ACCOUNT = "/v5/ad_accounts/{ad_account_id}"


async def _not_found(request: Request, exc: Exception) -> Response:
    return json_response({"code": 404, "message": "Not found."}, status=404)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return json_response({"code": 405, "message": "Method not allowed."}, status=405)


def _analytics_routes() -> list[BaseRoute]:
    """One route per analytics operation, named by operationId (handlers read it)."""
    routes: list[BaseRoute] = []
    for op in analytics.FLAT_OPERATIONS:
        path = "/v5" + operation(op)["path"]
        routes.append(Route(path, analytics.analytics_endpoint, methods=["GET"], name=op))
    for op in analytics.TARGETING_OPERATIONS:
        path = "/v5" + operation(op)["path"]
        routes.append(Route(path, analytics.targeting_endpoint, methods=["GET"], name=op))
    return routes


def _routes() -> list[BaseRoute]:
    return [
        Route("/oauth/", oauth.consent_page, methods=["GET"]),
        Route("/oauth/", oauth.consent_submit, methods=["POST"]),
        Route("/v5/oauth/token", oauth.token_endpoint, methods=["POST"]),
        Route("/v5/oauth/token/revoke", oauth.revoke_endpoint, methods=["POST"]),
        Route("/v5/user_account", accounts.user_account, methods=["GET"]),
        Route("/v5/ad_accounts", accounts.ad_accounts_list, methods=["GET"]),
        Route(_ACCOUNT, accounts.ad_account_get, methods=["GET"]),
        Route(_ACCOUNT + "/campaigns", entities.campaigns_list, methods=["GET"]),
        Route(_ACCOUNT + "/ad_groups", entities.ad_groups_list, methods=["GET"]),
        Route(_ACCOUNT + "/ads", entities.ads_list, methods=["GET"]),
        Route(_ACCOUNT + "/keywords", entities.keywords_list, methods=["GET"]),
        Route(_ACCOUNT + "/audiences", entities.audiences_list, methods=["GET"]),
        Route(_ACCOUNT + "/customer_lists", entities.customer_lists_list, methods=["GET"]),
        Route(_ACCOUNT + "/conversion_tags", entities.conversion_tags_list, methods=["GET"]),
        Route(
            _ACCOUNT + "/product_group_promotions",
            entities.product_group_promotions_list,
            methods=["GET"],
        ),
        *_analytics_routes(),
        Route(
            "/v5/resources/targeting/{targeting_type}",
            targeting.targeting_options,
            methods=["GET"],
        ),
        Route(_ACCOUNT + "/reports", reports.create_report, methods=["POST"]),
        Route(_ACCOUNT + "/reports", reports.get_report, methods=["GET"]),
        Route("/_emulator/tokens", control.mint_tokens, methods=["POST"]),
        Route("/_emulator/clock", control.clock_endpoint, methods=["GET", "POST"]),
        Route("/_emulator/reset", control.reset_endpoint, methods=["POST"]),
        Route("/_emulator/report-files/{key}", control.report_file, methods=["GET"]),
    ]


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator: its own clock, tokens and reports (the world is shared per seed)."""
    config = config or EmulatorConfig()
    app = Starlette(
        routes=_routes(),
        exception_handlers={
            ApiProblemError: problem_handler,
            404: _not_found,
            405: _method_not_allowed,
        },
    )
    app.state.emulator = EmulatorState(config)
    # Rate limits, fault injection and /_emulator/stats|faults (pinads.emulator.guards).
    guards.install(app)
    return app
