"""Admin pages: users (create, role, disable, unlock, delete) and notification channels. Who
may open them is `roles.POLICY`'s business (the routers are included behind the check)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pinads.errors import ConfigError
from pinads.notify import (
    ALERT_KINDS,
    Channel,
    EmailConfig,
    EmailSettings,
    Event,
    EventKind,
    Notifications,
    SmtpSecurity,
    WebhookConfig,
    WebhookSettings,
    deliver,
)
from pinads.state.db import utc_now
from pinads.web.common import (
    audit,
    checked_form,
    context_of,
    flash,
    form_list,
    form_text,
    page_user,
    redirect,
    render,
)
from pinads.web.roles import Role, parse_role

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


# -- users ----------------------------------------------------------------------------------


@router.get("/users")
def users_page(request: Request, user: str = Depends(page_user)) -> Response:
    return render(request, "users.html", users=context_of(request).users.users(), roles=list(Role))


@router.post("/users")
async def create_user(request: Request, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    name, role = form_text(form, "username"), parse_role(form_text(form, "role", "viewer"))
    users = context_of(request).users
    if users.user_exists(name):
        raise ConfigError(f"a user named {name!r} exists: choose another name")
    users.set_user(name, form_text(form, "password"), role=role)
    audit(request, user, "user.create", name, role=role.value)
    flash(request, f"User {name} created ({role.value}).", kind="success")
    return redirect("/users")


_USER_ACTIONS = {
    "disable": ("user.disable", "disabled: its sessions ended and its tokens stop working"),
    "enable": ("user.enable", "enabled"),
    "unlock": ("user.unlock", "unlocked: its failed logins are forgotten"),
    "delete": ("user.delete", "deleted with its API tokens"),
}


@router.post("/users/{username}/role")
async def set_role(request: Request, username: str, user: str = Depends(page_user)) -> Response:
    role = parse_role(form_text(await checked_form(request), "role"))
    context_of(request).users.set_role(username, role)
    audit(request, user, "user.role", username, role=role.value)
    flash(request, f"{username} is now {role.value}.", kind="success")
    return redirect("/users")


async def _user_action(request: Request, username: str, user: str, action: str) -> Response:
    await checked_form(request)
    users = context_of(request).users
    getattr(users, action)(username)
    audit_action, text = _USER_ACTIONS[action]
    audit(request, user, audit_action, username)
    flash(request, f"{username} {text}.", kind="success")
    return redirect("/users")


@router.post("/users/{username}/disable")
async def disable(request: Request, username: str, user: str = Depends(page_user)) -> Response:
    return await _user_action(request, username, user, "disable")


@router.post("/users/{username}/enable")
async def enable(request: Request, username: str, user: str = Depends(page_user)) -> Response:
    return await _user_action(request, username, user, "enable")


@router.post("/users/{username}/unlock")
async def unlock(request: Request, username: str, user: str = Depends(page_user)) -> Response:
    return await _user_action(request, username, user, "unlock")


@router.post("/users/{username}/delete")
async def delete(request: Request, username: str, user: str = Depends(page_user)) -> Response:
    return await _user_action(request, username, user, "delete")


# -- notification channels ------------------------------------------------------------------


def _notes(request: Request) -> Notifications:
    return Notifications(context_of(request).settings)


@router.get("/notifications")
def notifications_page(request: Request, user: str = Depends(page_user)) -> Response:
    with _notes(request) as notes:
        channels = notes.channels()
    return render(
        request,
        "notifications.html",
        channels=channels,
        alerts=sorted(ALERT_KINDS),
        securities=list(SmtpSecurity),
    )


def _channel_from(form: dict[str, str], events: list[str]) -> Channel:
    settings: WebhookSettings | EmailSettings
    if form["kind"] == "email":
        settings = EmailSettings(
            email=EmailConfig(
                host=form["host"],
                port=int(form["port"] or 587),
                security=SmtpSecurity(form["security"] or "starttls"),
                username=form["username"] or None,
                sender=form["sender"],
                recipients=tuple(r.strip() for r in form["recipients"].split(",") if r.strip()),
            )
        )
    else:
        settings = WebhookSettings(webhook=WebhookConfig(url=form["url"]))
    return Channel(
        name=form["name"],
        source=form["source"] or None,
        events=frozenset(EventKind(e) for e in events) or ALERT_KINDS,
        settings=settings,
    )


_FIELDS = ("kind", "name", "source", "url", "host", "port", "security", "username", "sender")


@router.post("/notifications")
async def save_channel(request: Request, user: str = Depends(page_user)) -> Response:
    form = await checked_form(request)
    values = {key: form_text(form, key) for key in (*_FIELDS, "recipients")}
    channel = _channel_from(values, form_list(form, "events"))
    with _notes(request) as notes:
        created = await run_in_threadpool(
            notes.save, channel, secret=form_text(form, "secret") or None
        )
    audit(request, user, "notify.create" if created else "notify.update", channel.name)
    flash(request, f"Channel {channel.name} saved.", kind="success")
    return redirect("/notifications")


@router.post("/notifications/{name}/delete")
async def delete_channel(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    with _notes(request) as notes:
        if not notes.delete(name):
            raise ConfigError(f"no channel {name!r}")
    audit(request, user, "notify.delete", name)
    flash(request, f"Channel {name} deleted.", kind="success")
    return redirect("/notifications")


def _test(request: Request, name: str) -> str | None:
    with _notes(request) as notes:
        found = {c.name: c for c in notes.channels(with_secrets=True)}.get(name)
        if found is None:
            raise ConfigError(f"no channel {name!r}")
        event = Event(kind=EventKind.TEST, at=utc_now(), summary=f"test of the channel {name}")
        channel = found.model_copy(update={"events": frozenset({EventKind.TEST})})
        [delivery] = deliver(event, [channel], sleep=notes.sleep)
    return delivery.problem


@router.post("/notifications/{name}/test")
async def test_channel(request: Request, name: str, user: str = Depends(page_user)) -> Response:
    await checked_form(request)
    problem = await run_in_threadpool(_test, request, name)
    if problem is None:
        flash(request, f"Test event delivered to {name}.", kind="success")
    else:
        flash(request, f"Test event not delivered to {name}: {problem}", kind="error")
    return redirect("/notifications")
