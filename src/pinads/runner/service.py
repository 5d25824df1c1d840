"""Service functions over saved sources: what the CLI and the web UI call.

Each opens what it needs (control DB, authorizer's client, destination) and closes it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import SecretStr

from pinads.api.client import PinterestClient
from pinads.catalog import Problem, get_dataset
from pinads.errors import AuthError, ConfigError, PinadsError, StateError
from pinads.extract import ProgressCallback
from pinads.extract.plan import Plan
from pinads.load import open_destination
from pinads.load.ownership import GrainMismatchError
from pinads.runner.alerts import announce_run
from pinads.runner.core import RunResult
from pinads.runner.grain import grain_to_check, table_grain
from pinads.runner.preview import PreviewResult, preview_source, refuse_before_calls
from pinads.runner.rebuild import check_rebuildable, rebuild_period
from pinads.runner.run import plan_source, run_source
from pinads.runner.store import RunRecord, SourceStore
from pinads.settings import AppSettings, load_settings
from pinads.sources.config import SourceConfig
from pinads.sources.limits import size_problems
from pinads.sources.validate import (
    document_problems,
    parse_config,
    raise_problems,
    saved_source_problems,
)
from pinads.values import DateRange, RunKind

__all__ = [
    "ClientOpener",
    "backfill",
    "check_source",
    "create_source",
    "delete_source",
    "dry_run",
    "get_source",
    "list_runs",
    "list_sources",
    "open_authorizer_client",
    "pause_reason",
    "preview",
    "rebuild_target",
    "run",
    "saved_destination",
    "update_source",
]

ClientOpener = Callable[[str], PinterestClient]
"""Authorizer label or id -> a client for it (pinads.auth's open_client by default)."""


def _today() -> date:
    return datetime.now(UTC).date()


def open_authorizer_client(authorizer: str, settings: AppSettings | None = None) -> PinterestClient:
    """A client for a saved authorizer (label or id) via pinads.auth: tokens decrypted, every
    rotation committed to the control DB before use."""
    from pinads.auth import AuthorizerService

    return AuthorizerService(settings or load_settings()).open_client(authorizer)


def _opener(opener: ClientOpener | None, settings: AppSettings) -> ClientOpener:
    return opener or (lambda label: open_authorizer_client(label, settings))


def check_source(
    document: Mapping[str, Any],
    *,
    settings: AppSettings | None = None,
    opener: ClientOpener | None = None,
    check_accounts: bool = True,
) -> list[Problem]:
    """Every problem of a source document, each with its field (empty = valid): what a form
    shows next to its fields. Reads the authorizer's ad accounts to check ids and roles."""
    settings = settings or load_settings()
    visible: Sequence[Mapping[str, Any]] | None = None
    known: list[Problem] = []
    authorizer = document.get("authorizer")
    # The accounts are read for a named authorizer of a document of sane size only: a missing
    # name is reported once (as required), and an oversized document costs no API call.
    if (
        check_accounts
        and isinstance(authorizer, str)
        and authorizer
        and not size_problems(document)
    ):
        try:
            with _opener(opener, settings)(authorizer) as client:
                visible = client.ad_accounts()
        except (ConfigError, AuthError) as exc:  # reported with the config's other problems
            known.append(Problem("authorizer", str(exc)))
    problems = document_problems(
        document, today=_today(), visible_accounts=visible, settings=settings
    )[2]
    return [*known, *problems]


def create_source(
    document: Mapping[str, Any],
    *,
    settings: AppSettings | None = None,
    opener: ClientOpener | None = None,
    replace: bool = False,
    check_accounts: bool = True,
    before_save: Callable[[SourceConfig], None] | None = None,
) -> SourceConfig:
    """Validate (every problem at once, accounts and roles included) and save a source. An
    edit's destination may hold `***` for the saved secrets. `before_save` runs on the valid
    config only (so a refused document touches nothing) and may refuse it by raising.
    Returns the source as saved (its destination redacted)."""
    settings = settings or load_settings()
    if replace:
        document = _with_saved_secrets(document, settings)
    problems = check_source(
        document, settings=settings, opener=opener, check_accounts=check_accounts
    )
    name = str(document.get("name", ""))[:40]
    raise_problems(problems, what=f"source {name!r}" if name else "source")
    config = SourceConfig.model_validate(dict(document))
    store = SourceStore(settings)
    try:
        store.save(config, replace=replace, before_write=before_save)
        return store.get(config.name)
    finally:
        store.close()


def _with_saved_secrets(document: Mapping[str, Any], settings: AppSettings) -> dict[str, Any]:
    """The document with `***` in its destination replaced by the saved source's secrets, so
    the checks before saving see the URL that will be used."""
    destination = document.get("destination")
    if not isinstance(destination, str):
        return dict(document)
    name = str(document.get("name", ""))
    return {**document, "destination": saved_destination(name, destination, settings=settings)}


def saved_destination(name: str, url: str, *, settings: AppSettings | None = None) -> str:
    """`url` with each `***` replaced by the saved secret of source `name` (same server and
    user only; ConfigError when there is none): what an edit that kept them will use."""
    store = SourceStore(settings or load_settings())
    try:
        return store.resolve_destination(name, url)
    finally:
        store.close()


def update_source(
    document: Mapping[str, Any],
    *,
    rebuild: bool = False,
    settings: AppSettings | None = None,
    opener: ClientOpener | None = None,
    check_accounts: bool = True,
    today: date | None = None,
    progress: ProgressCallback | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> tuple[SourceConfig, RunResult | None]:
    """Replace a saved source's config, validated like a new one. An edit that changes the
    grain of the table the source has written is refused (TableGrainError) unless `rebuild`:
    then the table is filled again with the new config over the days its runs read and
    swapped in once complete, and only then is the config saved (a failed rebuild leaves the
    old table and the old config). Returns the config as saved (its destination redacted)
    and the rebuild's result (None when nothing was rebuilt: the source had written
    nothing)."""
    settings = settings or load_settings()
    today = today or _today()
    get_source(str(document.get("name", "")), settings=settings)  # an update, not a create
    document = _with_saved_secrets(document, settings)
    target = None
    if rebuild:
        target = rebuild_target(
            document, settings=settings, opener=opener, check_accounts=check_accounts, today=today
        )
    if target is None:
        config = create_source(
            document, settings=settings, opener=opener, replace=True, check_accounts=check_accounts
        )
        return config, None
    config, period = target
    store = SourceStore(settings)
    try:
        result = _run_config(
            store,
            config,
            destination_url=config.destination,  # in clear: its secrets were restored above
            settings=settings,
            opener=opener,
            kind=RunKind.REBUILD,
            period=period,
            today=today,
            progress=progress,
            on_plan=on_plan,
        )
        # The config follows the table at once (a crash between the two would leave the new
        # table with the old config: the control DB and the destination share no transaction).
        store.save(config, replace=True, rebuilt=True)
        return store.get(config.name), result  # as saved: its destination redacted
    finally:
        store.close()


def rebuild_target(
    document: Mapping[str, Any],
    *,
    settings: AppSettings | None = None,
    opener: ClientOpener | None = None,
    check_accounts: bool = True,
    today: date | None = None,
) -> tuple[SourceConfig, DateRange | None] | None:
    """Check an edit to be saved by a rebuild, before it starts: the new config (its
    destination in clear) and the days to rebuild (None for an entity dataset), or None when
    the source has written no rows (a plain update then). ConfigError for a config with
    problems, a missing source, append mode, or days Pinterest no longer serves."""
    settings = settings or load_settings()
    name = str(document.get("name", ""))
    old = get_source(name, settings=settings)  # an update: the source must exist
    document = _with_saved_secrets(document, settings)
    problems = check_source(
        document, settings=settings, opener=opener, check_accounts=check_accounts
    )
    raise_problems(problems, what=f"source {name!r}")
    config = SourceConfig.model_validate(dict(document))
    store = SourceStore(settings)
    try:
        written, first, last = store.written_span(name)
    finally:
        store.close()
    if not written and not _holds_another_grain(config, settings):
        return None
    check_rebuildable(old, config)
    dataset = get_dataset(config.dataset)
    today = today or _today()
    return config, rebuild_period(config, dataset, first=first, last=last, today=today)


def _holds_another_grain(config: SourceConfig, settings: AppSettings) -> bool:
    """Whether the destination holds a table of the source's name made for another grain: a
    source deleted and created again with another grain has written nothing, but its table
    is there (the rebuild then reads the new config's own range)."""
    destination = open_destination(config.destination, settings=settings)
    try:
        destination.check_table(config.name, grain=table_grain(config))
    except GrainMismatchError:
        return True
    finally:
        destination.close()
    return False


def _refuse_unrunnable(config: SourceConfig, destination_url: str, settings: AppSettings) -> None:
    """The ConfigError of what a saved source holds that create refuses today (it was saved
    before the check): before a run or a dry run prints a plan for it."""
    problems = saved_source_problems(config, destination_url=destination_url, settings=settings)
    raise_problems(problems, what=f"source {config.name!r}")


def _saved_destination(name: str, settings: AppSettings) -> str:
    store = SourceStore(settings)
    try:
        return store.destination_url(name)
    finally:
        store.close()


def get_source(name: str, *, settings: AppSettings | None = None) -> SourceConfig:
    store = SourceStore(settings or load_settings())
    try:
        return store.get(name)
    finally:
        store.close()


def pause_reason(name: str, *, settings: AppSettings | None = None, now: datetime) -> str | None:
    """Why source `name`'s schedule is paused ("paused: authorizer X needs re-authorization
    ..."), or None while its authorizer works (or is unknown: a run then fails saying so)."""
    from pinads.auth import dead_reason

    store = SourceStore(settings or load_settings())
    try:
        try:
            record = store.db.authorizers.find(store.get(name).authorizer)
        except ConfigError:
            return None
    finally:
        store.close()
    dead = dead_reason(
        revoked=record.is_revoked, refresh_expires_at=record.refresh_expires_at, now=now
    )
    if dead is None:
        return None
    return (
        f"paused: authorizer {record.label} needs re-authorization (it {dead}); "
        f"`pinads auth reauthorize {record.label}` resumes the schedule"
    )


def list_sources(*, settings: AppSettings | None = None) -> list[SourceConfig]:
    store = SourceStore(settings or load_settings())
    try:
        return store.list()
    finally:
        store.close()


def delete_source(name: str, *, settings: AppSettings | None = None) -> None:
    store = SourceStore(settings or load_settings())
    try:
        store.delete(name)
    finally:
        store.close()


def list_runs(
    source: str | None = None, *, limit: int = 20, settings: AppSettings | None = None
) -> Sequence[RunRecord]:
    store = SourceStore(settings or load_settings())
    try:
        return store.runs(source, limit=limit)
    finally:
        store.close()


def run(
    name: str,
    *,
    settings: AppSettings | None = None,
    opener: ClientOpener | None = None,
    kind: RunKind = RunKind.MANUAL,
    period: DateRange | None = None,
    today: date | None = None,
    progress: ProgressCallback | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    restart: bool = False,
    run_id: str | None = None,
) -> RunResult:
    """Run a saved source (manual, scheduled or backfill) and record it in run history;
    `restart` makes a backfill discard the saved plan and progress of its range first.

    With a broker (PINADS_BROKER_URL) the run is a task for a `pinads worker` and this waits
    for its outcome (`opener`, `progress` and `on_plan` stay unused: the worker opens its own
    client). `run_id` names the run (default: a new id)."""
    settings = settings or load_settings()
    store = SourceStore(settings)
    try:
        config = store.get(name)
        try:
            destination_url = store.destination_url(name)
            # Refused here, at once, rather than by a worker: a missing or unrunnable source.
            _refuse_unrunnable(config, destination_url, settings)
            if settings.broker_url:  # the worker runs it, and announces its outcome
                from pinads.runner import remote

                return remote.run(
                    settings, name, kind=kind, period=period, restart=restart, today=today
                )
            result = _run_config(
                store,
                config,
                destination_url=destination_url,
                settings=settings,
                opener=opener,
                kind=kind,
                period=period,
                today=today,
                progress=progress,
                on_plan=on_plan,
                restart=restart,
                run_id=run_id,
            )
        except StateError:
            raise  # not run (another run holds the source) or cut short: not a failure
        except PinadsError as exc:
            announce_run(settings, source=name, authorizer=config.authorizer, error=exc)
            raise
        announce_run(settings, source=name, authorizer=config.authorizer, result=result)
        return result
    finally:
        store.close()


def _run_config(
    store: SourceStore,
    config: SourceConfig,
    *,
    destination_url: str,
    settings: AppSettings,
    opener: ClientOpener | None,
    kind: RunKind,
    period: DateRange | None,
    today: date | None,
    progress: ProgressCallback | None,
    on_plan: Callable[[Plan], None] | None,
    restart: bool = False,
    run_id: str | None = None,
) -> RunResult:
    """Run `config` (saved, or about to be saved by a rebuild) under its source's lock, into
    `destination_url` (its destination with the secrets that saved configs show as `***`)."""
    dataset = get_dataset(config.dataset)
    run_id = store.hold(config.name, run_id)  # the source's lock first, then its destination
    destination = open_destination(destination_url, settings=settings)
    try:
        destination.check()  # before opening the client: that may already call Pinterest
        # A table pinads did not create is refused, and one it created for another grain.
        destination.check_table(config.name, grain=grain_to_check(config, kind))
        with _opener(opener, settings)(config.authorizer) as client:
            try:
                return run_source(
                    config,
                    dataset,
                    client=client,
                    destination=destination,
                    ledger=store,
                    run_id=run_id,
                    today=today,
                    kind=kind,
                    period=period,
                    progress=progress,
                    on_plan=on_plan,
                    restart=restart,
                )
            except AuthError:
                # Pinterest refused the authorizer's refresh token during the run: it is
                # dead, and says so (auth list, paused schedules) until re-authorized.
                _mark_dead(config.authorizer, client.tokens.refresh_token, settings)
                raise
    finally:
        destination.close()
        store.release(run_id)  # only if the run never began


def _mark_dead(authorizer: str, refused: SecretStr, settings: AppSettings) -> None:
    from pinads.auth import AuthorizerService

    with AuthorizerService(settings) as service:
        service.mark_needs_reauthorization(authorizer, refused=refused)


def backfill(
    name: str,
    *,
    start: date,
    end: date | None = None,
    settings: AppSettings | None = None,
    opener: ClientOpener | None = None,
    today: date | None = None,
    progress: ProgressCallback | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    restart: bool = False,
) -> RunResult:
    """History through async reports in <= 186-day batches, resumable batch by batch: a
    backfill of a range a backfill already planned follows that plan. Without `end`, an
    unfinished backfill from `start` is resumed over its own range, else the range ends today.
    `restart` discards the range's saved plan and progress: every batch runs again."""
    settings = settings or load_settings()
    today = today or _today()
    config = get_source(name, settings=settings)
    dataset = get_dataset(config.dataset)
    if end is None:
        end = _unfinished_end(name, start, settings)
    period = DateRange(start=start, end=end or today)
    config_check = config.model_copy(update={"date_range": period})
    parse_config(config_check.to_document(), today=today)
    if settings.broker_url and dataset.async_report is not None:
        from pinads.runner import remote

        return remote.backfill(settings, name, period=period, restart=restart, today=today)
    return (
        run(
            name,
            settings=settings,
            opener=opener,
            kind=RunKind.BACKFILL,
            period=period,
            today=today,
            progress=progress,
            on_plan=on_plan,
            restart=restart,
        )
        if dataset.async_report is not None
        else _no_async(config)
    )


def _unfinished_end(name: str, start: date, settings: AppSettings) -> date | None:
    store = SourceStore(settings)
    try:
        return store.unfinished_backfill_end(name, start)
    finally:
        store.close()


def _no_async(config: SourceConfig) -> RunResult:
    raise ConfigError(
        f"dataset {config.dataset} has no async report level, so it cannot be backfilled past "
        "90 days: run it over the last 90 days with `pinads run`"
    )


def dry_run(
    name: str,
    *,
    settings: AppSettings | None = None,
    opener: ClientOpener | None = None,
    period: DateRange | None = None,
    today: date | None = None,
    kind: RunKind = RunKind.MANUAL,
) -> Plan:
    """The plan a run would follow and its API calls; reads accounts and entity lists only."""
    settings = settings or load_settings()
    config = get_source(name, settings=settings)
    _refuse_unrunnable(config, _saved_destination(name, settings), settings)
    dataset = get_dataset(config.dataset)
    with _opener(opener, settings)(config.authorizer) as client:
        return plan_source(
            config, dataset, client, today=today or _today(), kind=kind, period=period
        )


def _config_of(source: str | Mapping[str, Any], settings: AppSettings) -> SourceConfig:
    if isinstance(source, str):
        return get_source(source, settings=settings)
    config, _, problems = document_problems(source, today=_today(), settings=settings)
    name = str(source.get("name", ""))[:40]
    if config is None:  # a shape error: no request can be made from it
        raise_problems(problems, what=f"source {name!r}" if name else "source")
    # Test Data writes nothing, but a destination that could never be saved is said now.
    destination = [p for p in problems if p.field == "destination"]
    raise_problems(destination, what=f"source {name!r}" if name else "source")
    assert config is not None
    return config


def preview(
    source: str | Mapping[str, Any],
    *,
    settings: AppSettings | None = None,
    opener: ClientOpener | None = None,
    period: DateRange | None = None,
    today: date | None = None,
) -> PreviewResult:
    """Test Data for a saved source (by name) or an unsaved config document: the rows of a
    small range, or the reason there are none. A saved source's preview is recorded in its run
    history (kind preview; it takes no run lock and writes nothing). A config whose catalog
    checks fail is answered without calling Pinterest, and nothing is recorded."""
    settings = settings or load_settings()
    today = today or _today()
    config = _config_of(source, settings)
    refused = refuse_before_calls(config, today=today, period=period)
    if refused is not None:
        return refused
    if settings.broker_url and isinstance(source, str):
        # A saved source's Test Data runs on a worker; an unsaved document's stays here (its
        # destination may hold passwords that have no business on the broker).
        from pinads.runner import remote

        return remote.preview(settings, source, period=period, today=today)
    with _opener(opener, settings)(config.authorizer) as client:
        result = preview_source(config, client, today=today, period=period)
    if isinstance(source, str):
        store = SourceStore(settings)
        try:
            store.record_preview(result, api_calls=result.api_calls)
        finally:
            store.close()
    return result
