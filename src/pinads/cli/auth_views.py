"""What `pinads auth` and `pinads accounts` print: tables and one-line summaries.

Only labels, users, scopes, roles and expiry times: never a token or a client secret.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pinads.auth import REFRESH_WARNING, AdAccount, Authorizer, TestReport

__all__ = [
    "accounts_table",
    "authorizer_table",
    "authorizers_table",
    "checks_table",
    "out",
    "status",
    "summary",
    "when",
]


class _LazyConsole:
    """A console made at print time, so the terminal width (COLUMNS) of the moment applies."""

    def print(self, *objects: object, **kwargs: Any) -> None:
        Console(highlight=False, soft_wrap=True).print(*objects, **kwargs)


out = _LazyConsole()


def when(value: datetime | None) -> str:
    """A time with how far away it is: `2026-12-29 02:25 (in 30 d)`."""
    if value is None:
        return "-"
    days = (value - datetime.now(UTC)).total_seconds() / 86400
    ago = f"in {days:.0f} d" if days >= 1 else ("expired" if days < 0 else "today")
    return f"{value:%Y-%m-%d %H:%M} ({ago})"


def status(authorizer: Authorizer) -> str:
    """ok, needs re-authorization (revoked or expired), or the 7-day refresh-token warning,
    with the command that helps."""
    now = datetime.now(UTC)
    fix = f"`pinads auth reauthorize {escape(authorizer.label)}`"
    if authorizer.is_revoked:
        return f"[red]needs re-authorization[/] (revoked): {fix}"
    if authorizer.refresh_expires_at is not None and authorizer.refresh_expires_at <= now:
        # Too late for a refresh to renew it: only a new consent helps.
        return f"[red]needs re-authorization[/] (refresh token expired): {fix}"
    if authorizer.refresh_expires_within(REFRESH_WARNING, now=now):
        return (
            "[yellow]refresh token expires within 7 days[/]: run `pinads auth test "
            f"{escape(authorizer.label)}` to renew it"
        )
    return "ok"


def summary(verb: str, authorizer: Authorizer) -> str:
    user = authorizer.pinterest_username or "unknown user"
    return (
        f"{verb} authorizer [bold]{escape(authorizer.label)}[/] (id {authorizer.id}) for "
        f"{escape(user)}; scopes {', '.join(authorizer.scopes) or '-'}; refresh token expires "
        f"{when(authorizer.refresh_expires_at)}"
    )


def authorizers_table(authorizers: list[Authorizer]) -> Table:
    table = Table(title="authorizers", title_justify="left")
    for column in ("id", "label", "user", "scopes", "access expires", "refresh expires", "status"):
        table.add_column(column, overflow="fold")
    for a in authorizers:
        table.add_row(
            str(a.id),
            escape(a.label),
            escape(a.pinterest_username or "-"),
            ", ".join(a.scopes),
            when(a.access_expires_at),
            when(a.refresh_expires_at),
            status(a),
        )
    return table


def authorizer_table(a: Authorizer, used_by: list[str]) -> Table:
    rows = {
        "id": str(a.id),
        "label": a.label,
        "user": f"{a.pinterest_username or '-'} ({a.pinterest_user_id or '-'})",
        "api url": a.api_url,
        "client id": a.client_id,
        "scopes": ", ".join(a.scopes),
        "access expires": when(a.access_expires_at),
        "refresh expires": when(a.refresh_expires_at),
        "rate tier": a.rate_tier,
        "created": f"{a.created_at:%Y-%m-%d %H:%M}",
        "used by sources": ", ".join(used_by) or "-",
    }
    table = Table(show_header=False, title=f"authorizer {escape(a.label)}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows.items():
        table.add_row(key, escape(value))
    table.add_row("status", status(a))
    return table


def checks_table(report: TestReport) -> Table:
    table = Table(title=f"authorizer {escape(report.authorizer.label)}", title_justify="left")
    for column in ("check", "result", "detail"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        mark = "[green]ok[/]" if check.ok else "[red]failed[/]"
        table.add_row(check.name, mark, escape(check.detail))
    return table


def accounts_table(rows: list[tuple[Authorizer, AdAccount]]) -> Table:
    table = Table(title="ad accounts", title_justify="left")
    for column in ("authorizer", "id", "name", "currency", "country", "roles", "analytics"):
        table.add_column(column, overflow="fold")
    for authorizer, account in rows:
        table.add_row(
            escape(authorizer.label),
            account.id,
            escape(account.name),
            account.currency or "-",
            account.country or "-",
            ", ".join(account.roles) or "-",
            "yes" if account.has_analytics_role else "[red]no: needs an analytics role[/]",
        )
    return table
