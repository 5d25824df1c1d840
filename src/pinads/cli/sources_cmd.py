"""`pinads sources create|list|show|edit|delete`: saved sources, from a file or a wizard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pinads.catalog import get_dataset
from pinads.cli.audit_trail import record_cli
from pinads.cli.schedule_cmd import due_text, source_candidate
from pinads.errors import ConfigError
from pinads.runner import service
from pinads.runner.preview import PreviewResult
from pinads.schedule import utc_now
from pinads.secret_urls import expand_env, has_masked_secrets, redact_url
from pinads.settings import load_settings
from pinads.sources.reading import read_source_file
from pinads.values import Frequency

__all__ = ["MASK_NOTE", "preview_table", "register", "wizard_document"]

MASK_NOTE = (
    "(the destination's *** is its saved password, never shown: a file made from this keeps it "
    "with `pinads sources edit {name} -f FILE`; to change it write the new one, or ${{VAR}} to "
    "take it from the environment variable VAR)"
)


def _out() -> Console:
    """A console sized when it prints (the terminal, or COLUMNS, of this invocation)."""
    return Console(highlight=False, soft_wrap=True)


def _read_file(path: Path) -> dict[str, Any]:
    """The source file's mapping: size, kind of file and YAML aliases bounded (see
    pinads.sources.reading)."""
    document = read_source_file(path)
    if isinstance(document.get("destination"), str):
        # `${PGPASSWORD}`-style references keep passwords out of source files.
        document["destination"] = expand_env(document["destination"])
    return document


def _names(text: str) -> list[str]:
    return [part.strip().upper() for part in text.replace(",", " ").split() if part.strip()]


def wizard_document() -> dict[str, Any]:
    """Ask for a source in the seed's order (works with piped stdin)."""
    doc: dict[str, Any] = {"name": typer.prompt("Source name (becomes the table name)")}
    doc["dataset"] = typer.prompt(
        "Dataset (`pinads datasets` lists them)", default="campaign_analytics"
    )
    dataset = get_dataset(doc["dataset"])
    doc["authorizer"] = typer.prompt("Authorizer label or id")
    accounts = typer.prompt("Ad accounts (all, or ids separated by commas)", default="all")
    doc["accounts"] = "all" if accounts.strip() == "all" else _names(accounts)
    doc["attributes"] = _names(
        typer.prompt("Attributes", default=" ".join(dataset.default_attributes))
    )
    if dataset.is_analytics:
        doc["metrics"] = _names(typer.prompt("Metrics", default=" ".join(dataset.default_metrics)))
        doc["granularity"] = typer.prompt("Granularity", default="DAY").upper()
        doc["date_range"] = typer.prompt(
            "Date range (last_30_days, 30d1, ...)", default="last_30_days"
        )
    metadata = typer.prompt("Metadata columns", default="extracted_at source_name run_id")
    doc["metadata"] = [m.lower() for m in _names(metadata)]
    schedule = typer.prompt("Schedule (none, hourly, daily 06:00, cron ...)", default="none")
    if schedule.strip().lower() != "none":
        doc["schedule"] = schedule
    doc["allow_empty"] = typer.confirm("Allow empty data extractions?", default=False)
    doc["destination"] = _destination_prompt()
    doc["write_mode"] = typer.prompt(
        "Write mode (upsert/append/replace/insert_ignore)", default="upsert"
    )
    return doc


def _destination_prompt() -> str:
    """The destination URL, typed without echo (a PostgreSQL URL may hold a password), then
    shown back with its secrets as `***` so the user sees what was taken."""
    url = str(
        typer.prompt(
            "Destination (duckdb, duckdb:///file, postgresql://..., file:///dir; not echoed)",
            default="duckdb",
            hide_input=True,
        )
    )
    _out().print(f"destination: {escape(redact_url(url))}")
    return url


def preview_table(result: PreviewResult, *, limit: int = 10) -> Table:
    # pinads' own `_pinads_` columns are in the table, not in the preview: they are the same on
    # every row and would crowd out the data.
    columns = [c for c in result.columns if not c.startswith("_pinads_")]
    table = Table(title=escape(result.message), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in result.rows[:limit]:
        table.add_row(*(escape("" if row.get(c) is None else str(row.get(c))) for c in columns))
    return table


def _create(file: Path | None, *, replace: bool) -> None:
    document = _read_file(file) if file else wizard_document()
    if file is None and typer.confirm("Test Data now (preview a few days)?", default=False):
        result = service.preview(document)
        _out().print(preview_table(result) if result.has_data else escape(result.message))
        if not typer.confirm("Save the source?", default=result.has_data):
            raise typer.Exit(1)
    config = service.create_source(document, replace=replace)
    record_cli("source.update" if replace else "source.create", config.name)
    _out().print(
        f"saved source [bold]{config.name}[/] ({config.dataset}); "
        f"run it with `pinads run {config.name}`"
    )


def _edit(name: str, file: Path, *, rebuild: bool) -> None:
    service.get_source(name)  # an unknown source is the first thing to say
    document = _read_file(file)
    if document.get("name", name) != name:
        named = str(document.get("name"))[:40]
        raise ConfigError(f"the file names source {named!r}, not {name!r}: make them agree")
    if rebuild:
        # Imported here: run_cmd imports this module (the file reader, the preview table).
        from pinads.cli.run_cmd import rebuild_with_progress

        record_cli("source.rebuild", name)
        rebuild_with_progress({**document, "name": name})
        return
    service.update_source({**document, "name": name})
    record_cli("source.update", name)
    _out().print(f"updated source [bold]{name}[/]")


def _next_due(name: str) -> str:
    candidate = source_candidate(load_settings(), name)
    if candidate is None:  # its saved config no longer validates: `show` already said why
        return "next due: never (the saved config is not valid)"
    now = utc_now()
    paused = service.pause_reason(name, now=now)
    schedule = candidate.schedule
    scheduled = schedule is not None and schedule.frequency is not Frequency.MANUAL
    if paused is not None and scheduled:
        return f"next due: {paused}"
    return due_text(candidate, now=now)


def _show(name: str) -> None:
    config = service.get_source(name)
    _out().print(escape(yaml.safe_dump(config.to_document(), sort_keys=False)))
    if has_masked_secrets(config.destination):
        _out().print(MASK_NOTE.format(name=config.name))
    _out().print(escape(_next_due(config.name)))
    runs = service.list_runs(name, limit=1)
    if not runs:
        _out().print("last run: never")
        return
    last = runs[0]
    error = f" - {escape(last.error)}" if last.error else ""
    span = f" for {last.range_start}..{last.range_end}" if last.range_start else ""
    _out().print(
        f"last run: {last.kind} run {last.id}{span} {last.status} at "
        f"{last.started_at:%Y-%m-%d %H:%M} UTC, {last.rows_written} rows, "
        f"{last.api_calls} API calls{error}"
    )


def register(app: typer.Typer) -> None:
    sources = typer.Typer(help="Create, list, show, edit and delete sources.", no_args_is_help=True)
    app.add_typer(sources, name="sources")

    @sources.command("create")
    def create(
        file: Annotated[Path | None, typer.Option("--file", "-f", help="YAML source file.")] = None,
    ) -> None:
        """Create a source from a YAML file, or interactively."""
        _create(file, replace=False)

    @sources.command("edit")
    def edit(
        name: str,
        file: Annotated[Path, typer.Option("--file", "-f", help="YAML with the new config.")],
        rebuild: Annotated[
            bool,
            typer.Option(
                "--rebuild",
                help="Also when the edit changes what the table's rows are (granularity, "
                "dataset, attributes in the key, attribution windows, fewer accounts, "
                "destination): fill a new table with the new config over the days the "
                "table holds, swap it in when complete, then save the config.",
            ),
        ] = False,
    ) -> None:
        """Replace a source's config (validated like create). An edit that changes what the
        table's rows are is refused once the source has written its table, unless --rebuild."""
        _edit(name, file, rebuild=rebuild)

    @sources.command("list")
    def list_() -> None:
        """List saved sources."""
        table = Table(title="sources", title_justify="left")
        for column in ("name", "dataset", "authorizer", "accounts", "date range", "destination"):
            table.add_column(column, overflow="fold")
        for config in service.list_sources():
            accounts = config.accounts if config.accounts == "all" else ", ".join(config.accounts)
            table.add_row(
                config.name,
                config.dataset,
                config.authorizer,
                str(accounts),
                str(config.date_range),
                config.destination,
            )
        _out().print(table)

    @sources.command("show")
    def show(name: str) -> None:
        """Show a source's config and its last run."""
        _show(name)

    @sources.command("delete")
    def delete(
        name: str,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    ) -> None:
        """Delete a source (its table is kept)."""
        service.get_source(name)  # a missing source is an error, not a question first
        if not yes and not typer.confirm(f"Delete source {name}?", default=False):
            raise typer.Exit(1)
        service.delete_source(name)
        record_cli("source.delete", name)
        _out().print(f"deleted source {name} (its table is kept)")
