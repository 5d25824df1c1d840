"""Scheduler coordination: the lease (one leader; a dead leader's lease expires and another
takes over) and slot claims (each (source, slot) claimed once, whatever the races)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pinads.state import ControlDB, LeaseKeeper, ScheduleRepository

SLOT = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 6, 0, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_slot_is_claimed_once_among_racing_claimers(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    barrier = threading.Barrier(6)
    won: list[int] = []

    def claim(index: int) -> None:
        barrier.wait()
        if db.schedule.claim_slot(source.id, SLOT, claimed_by=f"scheduler {index}"):
            won.append(index)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert db.schedule.claims(source.id) == [(SLOT, f"scheduler {won[0]}")]
    # The next slot is a claim of its own.
    assert db.schedule.claim_slot(source.id, SLOT + timedelta(days=1), claimed_by="x")
    assert len(db.schedule.claims(source.id)) == 2


def test_claims_go_with_their_source(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    assert db.schedule.claim_slot(source.id, SLOT, claimed_by="a")
    db.sources.delete("s")
    again = db.sources.create("s", {}, authorizer_id=None)
    assert db.schedule.claim_slot(again.id, SLOT, claimed_by="b")


def test_one_lease_holder_until_it_expires(db: ControlDB) -> None:
    clock = Clock()
    repo = ScheduleRepository(db.engine, clock=clock)
    ttl = timedelta(seconds=30)
    assert repo.hold_lease("scheduler", "a", ttl=ttl)
    assert not repo.hold_lease("scheduler", "b", ttl=ttl)
    clock.now += timedelta(seconds=20)
    assert repo.hold_lease("scheduler", "a", ttl=ttl)  # renewed until +50 s
    clock.now += timedelta(seconds=25)
    assert not repo.hold_lease("scheduler", "b", ttl=ttl)
    clock.now += timedelta(seconds=6)  # a stopped renewing: its lease has expired
    assert repo.hold_lease("scheduler", "b", ttl=ttl)
    assert not repo.hold_lease("scheduler", "a", ttl=ttl)
    holder = repo.lease_holder("scheduler")
    assert holder is not None and holder[0] == "b"
    repo.release_lease("scheduler", "a")  # not its lease: nothing happens
    assert not repo.hold_lease("scheduler", "a", ttl=ttl)
    repo.release_lease("scheduler", "b")
    assert repo.hold_lease("scheduler", "a", ttl=ttl)


def test_racing_first_holders_make_one_leader(db: ControlDB) -> None:
    barrier = threading.Barrier(5)
    won: list[str] = []

    def take(name: str) -> None:
        barrier.wait()
        if db.schedule.hold_lease("scheduler", name, ttl=timedelta(seconds=30)):
            won.append(name)

    threads = [threading.Thread(target=take, args=(f"s{i}",)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_keepers_hand_over_when_the_leader_stops(db: ControlDB) -> None:
    ttl = timedelta(seconds=30)
    first = LeaseKeeper(db.schedule, ttl=ttl, holder="first")
    second = LeaseKeeper(db.schedule, ttl=ttl, holder="second")
    with first:
        assert first.leading
        assert not second.renew()
        assert not second.leading
    # Leaving the block released the lease: the other takes it at its next check.
    assert second.renew() and second.leading


def test_a_keeper_cut_off_from_the_control_db_stops_leading(db: ControlDB) -> None:
    keeper = LeaseKeeper(db.schedule, ttl=timedelta(seconds=30), holder="k")
    assert keeper.renew()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE scheduler_leases"))
    assert not keeper.renew()
    assert not keeper.leading
