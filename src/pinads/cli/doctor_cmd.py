"""`pinads doctor`: check an installation and say what to fix (exit 1 when something is
broken)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from pinads.cli.doctor import Finding, Severity, diagnose
from pinads.schedule import utc_now
from pinads.settings import load_settings

__all__ = ["doctor_command", "register"]

_MARKS = {
    Severity.OK: "[green]ok[/]     ",
    Severity.WARNING: "[yellow]warning[/]",
    Severity.ERROR: "[red]error[/]  ",
}


def _line(finding: Finding) -> str:
    text = f"{_MARKS[finding.severity]} {escape(finding.check)}: {escape(finding.detail)}"
    if finding.fix:
        text += f"\n        fix: {escape(finding.fix)}"
    return text


def doctor_command() -> None:
    """Check the control DB, the secret key, authorizers, destinations and the scheduler, and
    print what to fix. Exit status 1 when something is broken (warnings alone exit 0)."""
    findings = diagnose(load_settings(), now=utc_now())
    out = Console(highlight=False, soft_wrap=True)
    for finding in findings:
        out.print(_line(finding))
    counts = {severity: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity] += 1
    out.print(
        f"doctor: {counts[Severity.OK]} ok, {counts[Severity.WARNING]} warning(s), "
        f"{counts[Severity.ERROR]} error(s)"
    )
    if counts[Severity.ERROR]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_command)
