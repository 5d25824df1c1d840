"""`pinads db current` (the control DB's schema revision) and `pinads db upgrade` (migrate it
now, e.g. before starting several workers; every other command also upgrades on first use)."""

from __future__ import annotations

import typer

from pinads.settings import load_settings
from pinads.state import (
    HEAD,
    control_engine,
    current_revisions,
    redacted_url,
    secret_cipher,
    upgrade,
)
from pinads.state.migrations import legacy_adoptable, legacy_versions

__all__ = ["register"]


def current() -> None:
    """Show the control DB's schema revision and whether it is the newest (changes nothing)."""
    engine = control_engine(load_settings())
    url = redacted_url(str(engine.url))
    with engine.connect() as conn:
        revisions = current_revisions(conn)
        legacy = legacy_versions(conn)
        adoptable = legacy_adoptable(conn)
    if revisions:
        state = "up to date" if revisions == (HEAD,) else "`pinads db upgrade` migrates it"
        typer.echo(f"control DB {url}: schema {'+'.join(revisions)} (newest {HEAD}); {state}")
    elif legacy:
        what = "`pinads db upgrade` migrates it" if adoptable else "no released pinads made it"
        typer.echo(f"control DB {url}: hand-written schema {legacy} (from before Alembic); {what}")
    else:
        typer.echo(f"control DB {url}: empty; `pinads db upgrade` creates its tables")


def upgrade_() -> None:
    """Migrate the control DB to the newest schema revision (under a lock: safe while other
    pinads processes start)."""
    settings = load_settings()
    engine = control_engine(settings)
    done = upgrade(engine, cipher=secret_cipher(settings))
    url = redacted_url(str(engine.url))
    if done.changed:
        typer.echo(f"control DB {url}: schema {done.before or 'none'} -> {done.after}")
    else:
        typer.echo(f"control DB {url}: schema {done.after}, already the newest")


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="The control DB's schema (Alembic migrations).", no_args_is_help=True)
    app.add_typer(db, name="db")
    db.command("current")(current)
    db.command("upgrade")(upgrade_)
