"""The checks behind `pinads doctor`: what an unattended installation needs to work, each with
what to do when it does not.

Offline apart from the destinations: the control DB opens and is migrated, the secret key
decrypts what is stored with it, every authorizer a source uses is alive and not about to
expire, every source's destination is reachable, writable and its table is pinads' own, and a
scheduler (or cron's `run-due`) is serving the schedules. A destination check writes and rolls
back a probe, as every run does before its first API call.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pinads.auth import REFRESH_WARNING, dead_reason
from pinads.errors import PinadsError
from pinads.load import open_destination
from pinads.schedule import find_due
from pinads.settings import AppSettings
from pinads.state import (
    SCHEDULER_LEASE,
    AuthorizerRecord,
    ControlDB,
    SecretBox,
    open_control_db,
    redacted_url,
)
from pinads.values import Frequency

__all__ = ["OVERDUE_AFTER", "Finding", "Severity", "diagnose"]

# A slot not started this long after its time means no scheduler is serving it (a live
# scheduler wakes at least once a minute).
OVERDUE_AFTER = timedelta(minutes=15)


class Severity(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    severity: Severity
    detail: str
    fix: str = ""


def diagnose(settings: AppSettings, *, now: datetime) -> list[Finding]:
    """Every check's findings; the control DB first, since the others read it."""
    try:
        db = open_control_db(settings)
    except (PinadsError, sa.exc.SQLAlchemyError) as exc:
        return [
            Finding(
                "control DB",
                Severity.ERROR,
                f"{redacted_url(settings.control_db_url)} cannot be opened: {exc}",
                "check PINADS_DATABASE_URL (or PINADS_HOME) and that the database is up",
            )
        ]
    try:
        findings = [
            Finding(
                "control DB",
                Severity.OK,
                f"{redacted_url(settings.control_db_url)} (schema revision {db.revision})",
            )
        ]
        findings += _secret_key(settings, db)
        findings += _authorizers(db, now=now)
        findings += _destinations(settings, db)
        findings += _scheduler(settings, db, now=now)
        return findings
    finally:
        db.close()


def _stored_secrets(db: ControlDB) -> list[str]:
    """One ciphertext of each kind stored, to try the key on."""
    found = [record.client_secret_enc for record in db.authorizers.all()[:1]]
    found += [r.destination_enc for r in db.sources.all() if r.destination_enc][:1]
    return found


def _secret_key(settings: AppSettings, db: ControlDB) -> Iterator[Finding]:
    origin = "PINADS_SECRET_KEY" if settings.secret_key is not None else str(settings.key_file)
    stored = _stored_secrets(db)
    if settings.secret_key is None and not settings.key_file.exists():
        if stored:
            yield Finding(
                "secret key",
                Severity.ERROR,
                f"{origin} is missing, and the control DB holds secrets encrypted with it",
                "restore the key file from your backup, or set PINADS_SECRET_KEY",
            )
        else:
            yield Finding("secret key", Severity.OK, f"{origin} is made on first use")
        return
    try:
        box = SecretBox.from_settings(settings)
        for ciphertext in stored:
            box.decrypt(ciphertext)
    except PinadsError as exc:
        yield Finding("secret key", Severity.ERROR, str(exc))
        return
    yield Finding("secret key", Severity.OK, f"{origin} decrypts the stored secrets")


def _users(db: ControlDB) -> dict[int, list[str]]:
    """Authorizer id -> names of the sources using it."""
    using: dict[int, list[str]] = {}
    for record in db.sources.all():
        if record.authorizer_id is not None:
            using.setdefault(record.authorizer_id, []).append(record.name)
    return using


def _authorizers(db: ControlDB, *, now: datetime) -> Iterator[Finding]:
    using = _users(db)
    records = db.authorizers.all()
    if not records:
        yield Finding("authorizers", Severity.OK, "none yet (`pinads auth add` adds one)")
    for record in records:
        yield _authorizer(record, using.get(record.id, []), now=now)


def _authorizer(record: AuthorizerRecord, sources: list[str], *, now: datetime) -> Finding:
    check = f"authorizer {record.label}"
    used = f"used by {', '.join(sources)}" if sources else "used by no source"
    expires = record.refresh_expires_at
    reauthorize = f"`pinads auth reauthorize {record.label}`"
    dead = dead_reason(revoked=record.is_revoked, refresh_expires_at=expires, now=now)
    if dead:
        # Dead but unused is only worth a warning: nothing stops because of it.
        severity = Severity.ERROR if sources else Severity.WARNING
        return Finding(check, severity, f"needs re-authorization: it {dead} ({used})", reauthorize)
    if expires is not None and expires - REFRESH_WARNING <= now:
        days = max(0, (expires - now).days)
        return Finding(
            check,
            Severity.WARNING,
            f"the refresh token expires in {days} day(s) ({used})",
            f"`pinads auth test {record.label}` renews it (any run does too)",
        )
    return Finding(check, Severity.OK, f"alive ({used})")


def _destinations(settings: AppSettings, db: ControlDB) -> Iterator[Finding]:
    for record in db.sources.all():
        check = f"destination of {record.name}"
        try:
            url = db.sources.destination(record)
            destination = open_destination(url, settings=settings)
            try:
                destination.check()
                destination.check_table(record.name)
            finally:
                destination.close()
        except PinadsError as exc:
            yield Finding(check, Severity.ERROR, str(exc))
            continue
        yield Finding(check, Severity.OK, f"{redacted_url(url)} is writable and pinads' own")


def _scheduler(settings: AppSettings, db: ControlDB, *, now: datetime) -> Iterator[Finding]:
    # The CLI's own reading of the sources, as the scheduler sees them.
    from pinads.cli.schedule_cmd import load_candidates

    scheduled = [
        c
        for c in load_candidates(settings)
        if c.schedule is not None and c.schedule.frequency is not Frequency.MANUAL
    ]
    if not scheduled:
        yield Finding("scheduler", Severity.OK, "no source has a schedule")
        return
    lease = db.schedule.lease_holder(SCHEDULER_LEASE)
    alive = lease is not None and lease[1] > now
    overdue = find_due(scheduled, now=now - OVERDUE_AFTER)
    if overdue:
        late = ", ".join(f"{c.name} (due {slot:%Y-%m-%d %H:%M} UTC)" for c, slot in overdue)
        yield Finding(
            "scheduler",
            Severity.ERROR,
            f"{_leader(lease) if alive else 'no scheduler is serving the schedules'}: "
            f"not started: {late}",
            "see the scheduler's log" if alive else _START_SCHEDULER,
        )
    elif alive:
        yield Finding("scheduler", Severity.OK, f"{_leader(lease)}; every scheduled run is on time")
    else:
        yield Finding(
            "scheduler",
            Severity.WARNING,
            f"no `pinads scheduler` is running; {len(scheduled)} scheduled source(s), none late "
            "yet (fine if cron runs `pinads run-due`)",
            _START_SCHEDULER,
        )


_START_SCHEDULER = "run `pinads scheduler` (a systemd service), or `pinads run-due` from cron"


def _leader(lease: tuple[str, datetime] | None) -> str:
    holder = lease[0] if lease else "?"
    return f"the scheduler ({holder}) is alive"
