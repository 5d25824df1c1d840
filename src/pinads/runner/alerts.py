"""Run outcomes as notifications: a failed run, a run that loaded no rows, and (when Pinterest
refused the authorizer's tokens) the authorizer's own alert. A notification problem is logged
and never changes the run's outcome."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from pinads.errors import AuthError, NoDataError, PinadsError
from pinads.notify import Event, Notifications
from pinads.notify.events import run_empty, run_failed
from pinads.runner.core import RunResult
from pinads.settings import AppSettings
from pinads.state.db import utc_now

__all__ = ["announce_run", "watch_authorizers"]

log = logging.getLogger("pinads.notify")


def announce_run(
    settings: AppSettings,
    *,
    source: str,
    authorizer: str,
    result: RunResult | None = None,
    error: PinadsError | None = None,
) -> None:
    """Notify the channels that want it of a failed or empty run."""
    try:
        event = _run_event(source=source, authorizer=authorizer, result=result, error=error)
        if event is None:
            return
        with Notifications(settings) as notes:
            notes.send(event)
            if isinstance(error, AuthError):
                notes.check_authorizers(now=event.at)
    except (PinadsError, sa.exc.SQLAlchemyError) as exc:
        log.error("could not send the notifications of a run of %s: %s", source, exc)


def _run_event(
    *, source: str, authorizer: str, result: RunResult | None, error: PinadsError | None
) -> Event | None:
    now = utc_now()
    if isinstance(error, NoDataError):  # empty data, not allowed: the message says why
        return run_empty(source=source, authorizer=authorizer, reason=str(error), at=now)
    if error is not None:
        return run_failed(source=source, authorizer=authorizer, error=str(error), at=now)
    if result is not None and result.rows_written == 0:
        period = f" for {result.start}..{result.end}" if result.start else ""
        reason = f"run {result.run_id} loaded no rows{period} (allow_empty is on)"
        return run_empty(source=source, authorizer=authorizer, reason=reason, at=now)
    return None


def watch_authorizers(settings: AppSettings) -> None:
    """Alert (once each) on authorizers that died or whose refresh token nears its end: the
    scheduler calls it at every check, revocations right after."""
    try:
        with Notifications(settings) as notes:
            notes.check_authorizers(now=utc_now())
    except (PinadsError, sa.exc.SQLAlchemyError) as exc:
        log.error("could not check the authorizers for alerts: %s", exc)
