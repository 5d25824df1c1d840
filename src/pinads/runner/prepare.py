"""Before the first analytics call: accounts, entity lists, the table and the plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pinads.api.client import PinterestClient
from pinads.catalog.limits import SYNC_MAX_DAYS_BACK
from pinads.catalog.model import Dataset
from pinads.extract.entities import (
    AccountEntities,
    SpooledList,
    add_targeting_names,
    entity_fields,
    fetch_account_entities,
    spool_entity_list,
)
from pinads.extract.fetch import RequestSettings
from pinads.extract.plan import (
    Plan,
    Strategy,
    list_calls,
    plan_analytics,
    plan_entities,
    sync_period,
    sync_tail,
    sync_tail_worth_listing,
)
from pinads.extract.table import Selection, build_table_spec, resolve_selection
from pinads.runner.grain import table_grain
from pinads.sources.config import SourceConfig
from pinads.sources.dates import resolve_date_range
from pinads.sources.validate import ANALYTICS_ROLES, check_accounts, raise_problems
from pinads.values import DateRange, TableSpec

__all__ = ["Prepared", "async_columns", "effective_period", "prepare"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A run ready to execute."""

    config: SourceConfig
    selection: Selection
    settings: RequestSettings
    table: TableSpec
    accounts: Mapping[str, Mapping[str, Any]]
    entities: Mapping[str, AccountEntities]
    skipped_accounts: tuple[str, ...]  # `accounts: all` but no analytics role
    plan: Plan
    # An entity dataset's lists, read while planning (account -> items): the LIST steps
    # write them, so the plan counts their pages exactly and no page is read twice.
    listed: Mapping[str, SpooledList] = field(default_factory=dict)
    # Calls the plan's steps made while preparing (the lists above).
    step_calls_made: int = 0

    @property
    def dataset(self) -> Dataset:
        return self.selection.dataset

    def close(self) -> None:
        """Free the spooled lists (a dry run's, or a run's after its steps are written)."""
        for spooled in self.listed.values():
            spooled.close()


def effective_period(
    config: SourceConfig, *, today: date, explicit: DateRange | None, resync: bool
) -> DateRange:
    """The days a run reads: an explicit range as given; else the source's range, stretched
    back to re-read the trailing attribution window (late conversions) on scheduled runs."""
    if explicit is not None:
        return explicit
    period = resolve_date_range(config.date_range, today=today)
    lookback = config.effective_lookback_days
    if not resync or lookback <= 0 or not config.is_rolling:
        return period
    resync_start = period.end - timedelta(days=lookback - 1)
    floor = today - timedelta(days=SYNC_MAX_DAYS_BACK)  # never pull a run into async reports
    return DateRange(start=min(period.start, max(resync_start, floor)), end=period.end)


def _accounts(
    client: PinterestClient, config: SourceConfig, dataset: Dataset
) -> tuple[dict[str, dict[str, Any]], tuple[str, ...], int]:
    visible = client.ad_accounts()
    calls = list_calls(len(visible))
    raise_problems(check_accounts(config, dataset, visible=visible), what=f"source {config.name!r}")
    by_id = {str(a["id"]): a for a in visible}
    wanted = list(by_id) if config.accounts == "all" else list(config.accounts)
    skipped: list[str] = []
    chosen: dict[str, dict[str, Any]] = {}
    for account_id in wanted:
        roles = {str(r).upper() for r in by_id[account_id].get("permissions") or ()}
        if dataset.is_analytics and not roles & ANALYTICS_ROLES:
            skipped.append(account_id)  # only reachable with `accounts: all`
            continue
        chosen[account_id] = by_id[account_id]
    return chosen, tuple(skipped), calls


def async_columns(selection: Selection) -> tuple[str, ...]:
    """The selected metrics only async reports serve: with one, reports read every day."""
    return tuple(metric.name for metric in selection.metrics if not metric.in_sync)


def _needed(config: SourceConfig, selection: Selection, *, sync: bool) -> dict[str, set[str]]:
    """Entity lists to read: for enrichment fields, and for ids only when synchronous calls
    batch them or archived entities must be filtered out of reports."""
    needed = entity_fields(selection)
    if sync or not config.include_archived:
        return needed
    return {name: fields for name, fields in needed.items() if fields}


def _settle(
    config: SourceConfig,
    selection: Selection,
    *,
    period: DateRange,
    today: date,
    strategy: Strategy,
    report_polls: int,
) -> Strategy:
    """CHEAPEST only when the synchronous endpoints might read the trailing batches in no more
    calls than their reports (one id batch and a one-page list, if the ids are not listed
    anyway); else plain reports, without listing ids that would not be used."""
    dataset = selection.dataset
    if strategy is not Strategy.CHEAPEST or dataset.sync is None:
        return Strategy.REPORTS if strategy is Strategy.CHEAPEST else strategy
    tail = sync_tail(
        dataset,
        period=period,
        granularity=selection.granularity,
        today=today,
        async_columns=async_columns(selection),
    )
    if tail is None:
        return Strategy.REPORTS
    listed_anyway = dataset.ids_from in _needed(config, selection, sync=False)
    extra_list = dataset.sync.id_param is not None and not listed_anyway
    worth = sync_tail_worth_listing(
        dataset,
        tail=tail,
        granularity=selection.granularity,
        report_polls=report_polls,
        list_calls_needed=1 if extra_list else 0,
    )
    return Strategy.CHEAPEST if worth else Strategy.REPORTS


def _entities(
    client: PinterestClient,
    config: SourceConfig,
    needed: Mapping[str, set[str]],
    account_ids: Sequence[str],
    workers: int,
) -> dict[str, AccountEntities]:
    if not needed or not account_ids:
        return {a: AccountEntities(account_id=a) for a in account_ids}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(account_ids)))) as pool:
        results = pool.map(
            lambda account: fetch_account_entities(
                client,
                account_id=account,
                needed=needed,
                include_archived=config.include_archived,
            ),
            account_ids,
        )
        return {result.account_id: result for result in results}


def _spool_lists(
    client: PinterestClient,
    config: SourceConfig,
    dataset: Dataset,
    *,
    entities: Mapping[str, AccountEntities],
    account_ids: Sequence[str],
    workers: int,
) -> dict[str, SpooledList]:
    """Each account's list of an entity dataset, read now so the plan knows its pages (the
    ad account list needs none: discovery read it)."""
    endpoint = dataset.list_endpoint
    if endpoint is None or "{ad_account_id}" not in endpoint.path or not account_ids:
        return {}
    parent = endpoint.parent.dataset if endpoint.parent is not None else None

    def spool(account: str) -> SpooledList:
        parents = entities[account].ids(parent) if parent is not None else ()
        return spool_entity_list(
            client,
            dataset,
            account,
            parent_ids=parents,
            include_archived=config.include_archived,
        )

    listed: dict[str, SpooledList] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(account_ids)))) as pool:
        try:
            for spooled in pool.map(spool, account_ids):
                listed[spooled.account_id] = spooled
        except BaseException:
            for spooled in listed.values():
                spooled.close()
            raise
    return listed


def prepare(
    client: PinterestClient,
    config: SourceConfig,
    dataset: Dataset,
    *,
    period: DateRange | None,
    today: date,
    strategy: Strategy = Strategy.AUTO,
    report_polls: int = 1,
    workers: int = 4,
) -> Prepared:
    """Discover accounts and entity lists (shared by every step), then plan."""
    selection = resolve_selection(config, dataset)
    table = build_table_spec(config, selection)
    table = table.model_copy(update={"grain": table_grain(config, table.key)})
    accounts, skipped, account_calls = _accounts(client, config, dataset)
    ids = list(accounts)
    listed: dict[str, SpooledList] = {}
    if dataset.is_analytics:
        assert period is not None
        strategy = _settle(
            config,
            selection,
            period=period,
            today=today,
            strategy=strategy,
            report_polls=report_polls,
        )
        sync = sync_period(
            dataset,
            period=period,
            granularity=selection.granularity,
            today=today,
            strategy=strategy,
            async_columns=async_columns(selection),
        )
        needed = _needed(config, selection, sync=sync is not None)
        entities = _entities(client, config, needed, ids, workers)
        name_calls = add_targeting_names(client, needed, entities)
        plan = plan_analytics(
            dataset,
            period=period,
            granularity=selection.granularity,
            today=today,
            account_ids=ids,
            entity_ids={
                a: e.ids(dataset.ids_from) for a, e in entities.items() if dataset.ids_from
            },
            strategy=strategy,
            report_polls=report_polls,
            discovery_calls=account_calls + name_calls + sum(e.calls for e in entities.values()),
            entity_lists=tuple(sorted(needed)),
            async_columns=async_columns(selection),
        )
    else:
        needed = entity_fields(selection)
        entities = _entities(client, config, needed, ids, workers) if needed else {}
        listed = _spool_lists(
            client, config, dataset, entities=entities, account_ids=ids, workers=workers
        )
        plan = plan_entities(
            dataset,
            account_ids=ids,
            calls_per_account={a: spooled.pages for a, spooled in listed.items()},
            discovery_calls=account_calls + sum(e.calls for e in entities.values()),
        )
    return Prepared(
        config=config,
        selection=selection,
        settings=RequestSettings.of(config, selection),
        table=table,
        accounts=accounts,
        entities=entities,
        skipped_accounts=skipped,
        plan=plan,
        listed=listed,
        step_calls_made=sum(spooled.pages for spooled in listed.values()),
    )
