"""OAuth 2.0 as Pinterest does it: consent page, token endpoint (code, refresh), revoke."""

from __future__ import annotations

import base64
import binascii
import html
import re
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pinads.emulator.constants import DEFAULT_USER_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from pinads.emulator.errors import AUTH_FAILED, ApiProblemError
from pinads.emulator.http import emulator_state, json_response
from pinads.emulator.state import EmulatorState
from pinads.emulator.tokens import IssuedTokens, OAuthRefusalError, TokenInfo

__all__ = ["consent_page", "consent_submit", "revoke_endpoint", "token_endpoint"]

_SCOPE = re.compile(r"^[a-z_]+:[a-z_]+$")
_CONSENT_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state")


def _parse_scopes(raw: str) -> frozenset[str] | None:
    scopes = frozenset(s for s in re.split(r"[,\s]+", raw) if s)
    if not scopes or not all(_SCOPE.match(s) for s in scopes):
        return None
    return scopes


def _consent_error(message: str) -> Response:
    # Like Pinterest, a bad client or redirect URI is shown on the page, never redirected to.
    body = f"<!doctype html><title>Authorization error</title><p>{html.escape(message)}</p>"
    return HTMLResponse(body, status_code=400)


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if "?" in uri else "?"
    return RedirectResponse(uri + separator + urlencode(params), status_code=302)


def _check_consent(state: EmulatorState, fields: dict[str, str]) -> str | None:
    if fields.get("client_id") != DEMO_CLIENT_ID:
        return "Unknown client_id."
    if not state.config.redirect_uri_allowed(fields.get("redirect_uri", "")):
        return "redirect_uri is not registered for this app."
    if fields.get("response_type") != "code":
        return "response_type must be code."
    if _parse_scopes(fields.get("scope", "")) is None:
        return "scope must be a comma-separated list of scopes."
    return None


def _approve(state: EmulatorState, fields: dict[str, str], user_id: str) -> Response:
    scopes = _parse_scopes(fields["scope"]) or frozenset()
    info = TokenInfo(user_id=user_id, app_id=DEMO_CLIENT_ID, scopes=scopes)
    code = state.tokens.issue_code(info, redirect_uri=fields["redirect_uri"], now=state.now())
    return _redirect(fields["redirect_uri"], {"code": code, "state": fields.get("state", "")})


def _form_html(state: EmulatorState, fields: dict[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(fields.get(name, ""))}">'
        for name in _CONSENT_FIELDS
    )
    users = "".join(
        f'<label><input type="radio" name="user_id" value="{u.id}"'
        f"{' checked' if u.id == DEFAULT_USER_ID else ''}> {html.escape(u.username)}"
        f" ({html.escape(u.business_name)})</label><br>"
        for u in state.world.users.values()
    )
    scopes = html.escape(fields.get("scope", ""))
    return (
        "<!doctype html><html><head><title>pinads emulator · authorize app</title></head><body>"
        f"<h1>Authorize {html.escape(DEMO_CLIENT_ID)}</h1><p>Requested scopes: {scopes}</p>"
        f'<form method="post" action="/oauth/">{hidden}<fieldset><legend>Sign in as</legend>'
        f"{users}</fieldset>"
        '<button type="submit" name="decision" value="approve">Approve</button> '
        '<button type="submit" name="decision" value="deny">Deny</button></form></body></html>'
    )


async def consent_page(request: Request) -> Response:
    """GET /oauth/: the consent form (or an immediate approval with `auto_approve`)."""
    state = emulator_state(request)
    fields = {name: request.query_params.get(name, "") for name in _CONSENT_FIELDS}
    problem = _check_consent(state, fields)
    if problem:
        return _consent_error(problem)
    if state.config.auto_approve:
        return _approve(state, fields, DEFAULT_USER_ID)
    return HTMLResponse(_form_html(state, fields))


async def consent_submit(request: Request) -> Response:
    """POST /oauth/: Approve or Deny from the consent form."""
    state = emulator_state(request)
    fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    problem = _check_consent(state, fields)
    if problem:
        return _consent_error(problem)
    if fields.get("decision") != "approve":
        return _redirect(
            fields["redirect_uri"], {"error": "access_denied", "state": fields.get("state", "")}
        )
    user_id = fields.get("user_id", DEFAULT_USER_ID)
    if user_id not in state.world.users:
        return _consent_error("Unknown user.")
    return _approve(state, fields, user_id)


def _client_id(request: Request) -> str:
    """The HTTP Basic client credentials must be the demo app's."""
    kind, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ApiProblemError(*AUTH_FAILED) from exc
    client_id, _, secret = decoded.partition(":")
    if kind.lower() != "basic" or client_id != DEMO_CLIENT_ID or secret != DEMO_CLIENT_SECRET:
        raise ApiProblemError(*AUTH_FAILED)
    return client_id


def _token_body(
    tokens: IssuedTokens, state: EmulatorState, response_type: str
) -> dict[str, object]:
    now = state.now()
    return {
        "access_token": tokens.access_token,
        "token_type": "bearer",
        "expires_in": round((tokens.access_expires_at - now).total_seconds()),
        "scope": ",".join(sorted(tokens.scopes)),
        "response_type": response_type,
        "refresh_token": tokens.refresh_token,
        "refresh_token_expires_in": round((tokens.refresh_expires_at - now).total_seconds()),
        "refresh_token_expires_at": int(tokens.refresh_expires_at.timestamp()),
    }


async def _form(request: Request) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise ApiProblemError(400, 1, "Request body must be application/x-www-form-urlencoded.")
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


async def token_endpoint(request: Request) -> Response:
    """POST /v5/oauth/token: authorization_code and refresh_token grants (HTTP Basic)."""
    state = emulator_state(request)
    client_id = _client_id(request)
    form = await _form(request)
    grant = form.get("grant_type")
    try:
        if grant == "authorization_code":
            if not form.get("code") or not form.get("redirect_uri"):
                raise OAuthRefusalError(400, 1, "code and redirect_uri are required.")
            issued = state.tokens.redeem_code(
                form["code"], app_id=client_id, redirect_uri=form["redirect_uri"], now=state.now()
            )
            return json_response(_token_body(issued, state, "authorization_code"))
        if grant == "refresh_token":
            # continuous_refresh=true is accepted: every refresh token here is continuous.
            scopes = _parse_scopes(form["scope"]) if form.get("scope") else None
            issued = state.tokens.refresh(
                form.get("refresh_token", ""), app_id=client_id, now=state.now(), scopes=scopes
            )
            return json_response(_token_body(issued, state, "refresh_token"))
    except OAuthRefusalError as refusal:
        raise ApiProblemError(refusal.status, refusal.code, refusal.message) from refusal
    raise ApiProblemError(400, 1, "Unsupported grant_type.")


async def revoke_endpoint(request: Request) -> Response:
    """POST /v5/oauth/token/revoke: revokes the token (and its lineage); 200, empty body."""
    state = emulator_state(request)
    _client_id(request)
    form = await _form(request)
    hint = form.get("token_type_hint")
    if not form.get("token") or hint not in ("access_token", "refresh_token"):
        raise ApiProblemError(400, 1, "token and token_type_hint are required.")
    state.tokens.revoke(form["token"])
    return Response(status_code=200)
