"""Mutable state of one emulator instance: clock, tokens, reports, and reset hooks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from pinads.emulator.config import EmulatorConfig
from pinads.emulator.reportstore import ReportStore
from pinads.emulator.tokens import TokenInfo, TokenStore
from pinads.emulator.world import World
from pinads.emulator.worldgen import build_world

__all__ = ["EmulatorState"]


def _real_now() -> datetime:
    return datetime.now(UTC)


# How far /_emulator/clock may move: token and report expiries are computed from `now`, so
# the clock keeps centuries of room on both sides of Python's date range.
CLOCK_RANGE = (date(1971, 1, 1), date(2999, 12, 31))


class EmulatorState:
    """Everything a request handler needs. `app.state.emulator` holds one.

    The clock is the real UTC time shifted by an offset: `config.today` sets the initial
    offset, `/_emulator/clock` moves it. The world is generated once around the initial today
    and stays fixed while the clock moves, so moving forward makes recent days' late
    conversions arrive and tokens expire.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        real_today = _real_now().date()
        start = config.today or real_today
        self._initial_offset = timedelta(days=(start - real_today).days)
        self._offset = self._initial_offset
        self.world: World = build_world(config.seed, start.toordinal())
        self.tokens = TokenStore(
            access_lifetime=timedelta(days=config.access_token_lifetime_days),
            refresh_lifetime=timedelta(days=config.refresh_token_lifetime_days),
        )
        self._reset_hooks: list[Callable[[], None]] = []
        self.reports = ReportStore()

    # -- clock -------------------------------------------------------------------------
    def now(self) -> datetime:
        """The emulator's current UTC time."""
        return _real_now() + self._offset

    def today(self) -> date:
        """The emulator's current UTC date."""
        return self.now().date()

    def today_ordinal(self) -> int:
        return self.today().toordinal()

    def set_today(self, day: date) -> None:
        with self._lock:
            self._move(timedelta(days=(day - self.today()).days))

    def advance(self, *, days: float = 0, seconds: float = 0) -> None:
        """Move the clock; ValueError (clock unchanged) if it would leave `CLOCK_RANGE`."""
        with self._lock:
            try:
                step = timedelta(days=days, seconds=seconds)
            except OverflowError as exc:
                raise ValueError(_out_of_range()) from exc
            self._move(step)

    def _move(self, step: timedelta) -> None:
        try:
            moved = (_real_now() + self._offset + step).date()
        except OverflowError as exc:
            raise ValueError(_out_of_range()) from exc
        if not CLOCK_RANGE[0] <= moved <= CLOCK_RANGE[1]:
            raise ValueError(_out_of_range())
        self._offset += step

    # -- tokens ------------------------------------------------------------------------
    def identify(self, bearer: str) -> TokenInfo | None:
        """(user id, app id, scopes) of a live access token, else None."""
        return self.tokens.lookup(bearer, now=self.now())

    # -- reset -------------------------------------------------------------------------
    def on_reset(self, hook: Callable[[], None]) -> None:
        """Register a callback run by `reset()` (e.g. the guards' counters)."""
        self._reset_hooks.append(hook)

    def reset(self) -> None:
        """Back to the initial clock, no tokens, no reports; hooks reset their own state."""
        with self._lock:
            self._offset = self._initial_offset
        self.tokens.revoke_all()
        self.reports.clear()
        for hook in self._reset_hooks:
            hook()


def _out_of_range() -> str:
    low, high = CLOCK_RANGE
    return f"the clock must stay between {low.isoformat()} and {high.isoformat()}"
