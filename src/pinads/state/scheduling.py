"""Scheduler coordination in the control DB: the leader's lease and the claim of each slot.

Any number of `pinads scheduler` processes may run (on several machines, for availability);
the one holding the lease fires due slots, and the others wait to take over when it stops
renewing. A lease can still be held by two processes for a moment (a paused leader wakes up
after its lease was taken over), so each slot is also claimed by inserting a row whose primary
key is (source, slot): only one insert succeeds, and only its scheduler starts the run.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

import sqlalchemy as sa

from pinads.state.db import utc_now
from pinads.state.schema import SCHEDULER_LEASES, SLOT_CLAIMS

__all__ = ["SCHEDULER_LEASE", "LeaseKeeper", "ScheduleRepository", "process_name"]

log = logging.getLogger("pinads.schedule")

SCHEDULER_LEASE = "scheduler"


def process_name() -> str:
    """This process, as leases and claims name it."""
    return f"{socket.gethostname()} pid {os.getpid()}"


class ScheduleRepository:
    """Leases and slot claims."""

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def claim_slot(self, source_id: int, slot: datetime, *, claimed_by: str) -> bool:
        """Claim the source's `slot`: True for the one caller whose claim is first."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    SLOT_CLAIMS.insert().values(
                        source_id=source_id,
                        slot=slot,
                        claimed_by=claimed_by,
                        claimed_at=self._clock(),
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def release_slot(self, source_id: int, slot: datetime, *, claimed_by: str) -> None:
        """Give a claim back when its run could not start (the source was busy): the slot is
        tried again at the next check."""
        with self._engine.begin() as conn:
            conn.execute(
                SLOT_CLAIMS.delete().where(
                    (SLOT_CLAIMS.c.source_id == source_id)
                    & (SLOT_CLAIMS.c.slot == slot)
                    & (SLOT_CLAIMS.c.claimed_by == claimed_by)
                )
            )

    def claims(self, source_id: int) -> list[tuple[datetime, str]]:
        """The source's claimed slots (oldest first) and who claimed them."""
        query = (
            sa.select(SLOT_CLAIMS.c.slot, SLOT_CLAIMS.c.claimed_by)
            .where(SLOT_CLAIMS.c.source_id == source_id)
            .order_by(SLOT_CLAIMS.c.slot)
        )
        with self._engine.connect() as conn:
            return [(row.slot, row.claimed_by) for row in conn.execute(query)]

    def hold_lease(self, name: str, holder: str, *, ttl: timedelta) -> bool:
        """Take or renew lease `name` for `holder` until now + `ttl`; False while another
        holder's lease has not expired."""
        now = self._clock()
        values = {"holder": holder, "expires_at": now + ttl}
        try:
            with self._engine.begin() as conn:
                query = sa.select(SCHEDULER_LEASES).where(SCHEDULER_LEASES.c.name == name)
                if conn.dialect.name == "postgresql":
                    query = query.with_for_update()
                current = conn.execute(query).first()
                if current is None:
                    conn.execute(
                        SCHEDULER_LEASES.insert().values(name=name, acquired_at=now, **values)
                    )
                    return True
                if current.holder != holder and current.expires_at > now:
                    return False
                if current.holder != holder:
                    values["acquired_at"] = now
                conn.execute(
                    SCHEDULER_LEASES.update().where(SCHEDULER_LEASES.c.name == name).values(values)
                )
                return True
        except sa.exc.IntegrityError:  # another process inserted the first lease meanwhile
            return False

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (a stopping scheduler), so another takes over at once."""
        with self._engine.begin() as conn:
            conn.execute(
                SCHEDULER_LEASES.delete().where(
                    (SCHEDULER_LEASES.c.name == name) & (SCHEDULER_LEASES.c.holder == holder)
                )
            )

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        """Who holds lease `name` and until when (None: nobody ever took it, or released)."""
        query = sa.select(SCHEDULER_LEASES).where(SCHEDULER_LEASES.c.name == name)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row.holder, row.expires_at)


class LeaseKeeper:
    """`with LeaseKeeper(repo, name, ttl=...) as lease:` tries to take lease `name` every
    `ttl / 3` from a background thread and renews it while held; `lease.leading` says whether
    this process holds it now. A renewal that fails (control DB unreachable) or is older than
    the ttl counts as not leading: another process may have taken over meanwhile."""

    def __init__(
        self,
        repo: ScheduleRepository,
        name: str = SCHEDULER_LEASE,
        *,
        ttl: timedelta,
        holder: str | None = None,
    ) -> None:
        self._repo = repo
        self.name = name
        self.holder = holder or process_name()
        self.ttl = ttl
        self._held_since: float | None = None  # monotonic time of the last successful hold
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{name}", daemon=True)

    @property
    def leading(self) -> bool:
        held = self._held_since
        return held is not None and time.monotonic() - held < self.ttl.total_seconds()

    def renew(self) -> bool:
        """Try to take or renew the lease now; whether this process holds it."""
        before = self.leading
        attempt = time.monotonic()
        try:
            held = self._repo.hold_lease(self.name, self.holder, ttl=self.ttl)
        except sa.exc.SQLAlchemyError as exc:
            log.error("could not renew the %s lease (%s): not leading", self.name, exc)
            held = False
        self._held_since = attempt if held else None
        if held and not before:
            log.info("%s took the %s lease", self.holder, self.name)
        elif before and not held:
            log.warning("%s lost the %s lease", self.holder, self.name)
        return held

    def _loop(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            self.renew()

    def __enter__(self) -> Self:
        self.renew()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(10)
        if self._held_since is not None:
            try:
                self._repo.release_lease(self.name, self.holder)
            except sa.exc.SQLAlchemyError as error:  # it expires by itself
                log.warning("could not release the %s lease: %s", self.name, error)
