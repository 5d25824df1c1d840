"""/api/notifications: the notification channels (admins only, see `roles.POLICY`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from pinads.notify import (
    ALERT_KINDS,
    Channel,
    Event,
    EventKind,
    Notifications,
    deliver,
)
from pinads.notify.channels import Settings
from pinads.state.db import utc_now
from pinads.web.access import api_access
from pinads.web.common import audit, context_of

__all__ = ["router"]

router = APIRouter(
    prefix="/api/notifications", tags=["notifications"], dependencies=[Depends(api_access)]
)


class ChannelView(BaseModel):
    """A channel as shown: its secret only as `has_secret` (the value is never sent back)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    source: str | None
    events: list[EventKind]
    settings: dict[str, Any]
    has_secret: bool


class ChannelBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str | None = Field(default=None, max_length=64)
    events: list[EventKind] = Field(default_factory=lambda: sorted(ALERT_KINDS), max_length=10)
    settings: Settings
    secret: str | None = Field(
        default=None,
        max_length=500,
        description='The webhook signing secret or SMTP password; "***" keeps the saved one.',
    )


class TestResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    delivered: bool
    problem: str | None


def _view(channel: Channel) -> ChannelView:
    return ChannelView(
        name=channel.name,
        source=channel.source,
        events=sorted(channel.events),
        settings=channel.settings.model_dump(mode="json"),
        has_secret=channel.secret is not None,
    )


def _open(request: Request) -> Notifications:
    # Not the app's transport: that one reaches Pinterest (the emulator in tests).
    return Notifications(context_of(request).settings)


def _actor(request: Request) -> str:
    return str(request.state.caller.username)


@router.get("")
def list_channels(request: Request) -> list[ChannelView]:
    with _open(request) as notes:
        return [_view(c) for c in notes.channels()]


@router.put("/{name}")
def save_channel(request: Request, name: str, body: ChannelBody) -> ChannelView:
    """Create or replace channel `name`."""
    channel = Channel(
        name=name, source=body.source, events=frozenset(body.events), settings=body.settings
    )
    if EventKind.TEST in channel.events:
        raise HTTPException(status_code=422, detail="`test` is not an alert: POST .../test")
    with _open(request) as notes:
        created = notes.save(channel, secret=body.secret)
        saved = {c.name: c for c in notes.channels()}[name]
    audit(request, _actor(request), "notify.create" if created else "notify.update", name)
    return _view(saved)


@router.delete("/{name}", status_code=204)
def delete_channel(request: Request, name: str) -> None:
    with _open(request) as notes:
        if not notes.delete(name):
            raise HTTPException(status_code=404, detail=f"no channel {name!r}")
    audit(request, _actor(request), "notify.delete", name)


@router.post("/{name}/test")
def test_channel(request: Request, name: str) -> TestResult:
    """Send a test event to the channel now."""
    with _open(request) as notes:
        found = {c.name: c for c in notes.channels(with_secrets=True)}.get(name)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no channel {name!r}")
        event = Event(kind=EventKind.TEST, at=utc_now(), summary=f"test of the channel {name}")
        channel = found.model_copy(update={"events": frozenset({EventKind.TEST})})
        [delivery] = deliver(event, [channel], transport=notes.transport, sleep=notes.sleep)
    return TestResult(delivered=delivery.ok, problem=delivery.problem)
