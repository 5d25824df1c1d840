"""Test-only endpoints under `/_emulator/`: mint tokens, move the clock, reset, report files.

These have no Pinterest counterpart; they never need a bearer token (the emulator is a local
test double, never exposed to anyone but its user).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pinads.emulator.constants import DEMO_CLIENT_ID
from pinads.emulator.http import emulator_state, json_response
from pinads.emulator.tokens import TokenInfo

__all__ = ["clock_endpoint", "mint_tokens", "report_file", "reset_endpoint"]

DEFAULT_SCOPES = ("ads:read", "user_accounts:read")


def _bad(message: str) -> Response:
    return json_response({"code": 1, "message": message}, status=400)


async def _json_object(request: Request) -> dict[str, Any] | None:
    body = await request.body()
    if not body:
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


async def mint_tokens(request: Request) -> Response:
    """POST /_emulator/tokens {"user_id", "scopes"?, "app_id"?} -> the token endpoint's body."""
    state = emulator_state(request)
    data = await _json_object(request)
    if data is None or data.get("user_id") not in state.world.users:
        return _bad(f"user_id must be one of {sorted(state.world.users)}")
    scopes = data.get("scopes", list(DEFAULT_SCOPES))
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        return _bad("scopes must be a list of strings")
    info = TokenInfo(
        str(data["user_id"]), str(data.get("app_id", DEMO_CLIENT_ID)), frozenset(scopes)
    )
    issued = state.tokens.mint(info, now=state.now())
    now = state.now()
    return json_response(
        {
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            "token_type": "bearer",
            "scope": ",".join(sorted(issued.scopes)),
            "expires_in": round((issued.access_expires_at - now).total_seconds()),
            "refresh_token_expires_in": round((issued.refresh_expires_at - now).total_seconds()),
            "refresh_token_expires_at": int(issued.refresh_expires_at.timestamp()),
        }
    )


def _clock_body(request: Request) -> dict[str, str]:
    state = emulator_state(request)
    return {"today": state.today().isoformat(), "now": state.now().isoformat()}


def _number(data: dict[str, Any], key: str) -> float:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number")
    return float(value)


async def clock_endpoint(request: Request) -> Response:
    """GET: the emulator clock. POST {"today": "YYYY-MM-DD"} or {"advance_days": n,
    "advance_seconds": s}: set or move it."""
    state = emulator_state(request)
    if request.method == "POST":
        data = await _json_object(request)
        if data is None:
            return _bad("body must be a JSON object")
        try:
            if "today" in data:
                state.set_today(date.fromisoformat(str(data["today"])))
            state.advance(
                days=_number(data, "advance_days"), seconds=_number(data, "advance_seconds")
            )
        except (TypeError, ValueError) as exc:
            return _bad(f"invalid clock change: {exc}")
    return json_response(_clock_body(request))


async def reset_endpoint(request: Request) -> Response:
    """POST /_emulator/reset: initial clock, no tokens, no reports, counters cleared."""
    emulator_state(request).reset()
    return json_response({"reset": True})


_EXPIRED_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)


async def report_file(request: Request) -> Response:
    """GET /_emulator/report-files/{key}: a finished report, like a pre-signed S3 link:
    no Authorization needed, 403 once the link has expired, 404 for unknown keys."""
    state = emulator_state(request)
    stored = state.reports.files.get(request.path_params["key"])
    if stored is None:
        return Response(b"", status_code=404)
    if stored.link_expires_at <= state.now():
        return Response(_EXPIRED_XML, status_code=403, media_type="application/xml")
    return Response(stored.body, media_type=stored.media_type)
