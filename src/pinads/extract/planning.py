"""`make_plan`: a run request and what discovery found -> the plan. Pure: no I/O.

The decisions before the planner proper (plan.py) are made here too, from the request alone:
whether a backfill's trailing batches are cheaper through the synchronous endpoints
(CHEAPEST settles to it or to plain reports), and which entity lists discovery must read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pinads.extract.entities import AccountEntities, SpooledList, entity_fields
from pinads.extract.plan import (
    Plan,
    Strategy,
    plan_analytics,
    plan_entities,
    sync_period,
    sync_tail,
    sync_tail_worth_listing,
)
from pinads.extract.request import RunRequest
from pinads.extract.table import Selection

__all__ = ["Discovery", "async_columns", "lists_needed", "make_plan", "settled_strategy"]


@dataclass(frozen=True, slots=True)
class Discovery:
    """What Pinterest showed before the first step: the accounts the run reads, the entity
    lists the plan and the rows need, and the calls that took."""

    accounts: Mapping[str, Mapping[str, Any]]
    skipped_accounts: tuple[str, ...]  # `accounts: all` but no analytics role
    entities: Mapping[str, AccountEntities]
    # An entity dataset's lists, read while discovering (account -> items): the LIST steps
    # write them, so the plan counts their pages exactly and no page is read twice.
    listed: Mapping[str, SpooledList] = field(default_factory=dict)
    account_calls: int = 0
    name_calls: int = 0  # targeting names

    @property
    def calls(self) -> int:
        """Calls made before the steps (the plan's discovery calls)."""
        return self.account_calls + self.name_calls + sum(e.calls for e in self.entities.values())

    @property
    def step_calls_made(self) -> int:
        """Calls the plan's steps made while discovering (the lists above)."""
        return sum(spooled.pages for spooled in self.listed.values())

    def close(self) -> None:
        """Free the spooled lists (a dry run's, or a run's after its steps are written)."""
        for spooled in self.listed.values():
            spooled.close()


def async_columns(selection: Selection) -> tuple[str, ...]:
    """The selected metrics only async reports serve: with one, reports read every day."""
    return tuple(metric.name for metric in selection.metrics if not metric.in_sync)


def _needed(request: RunRequest, *, sync: bool) -> dict[str, set[str]]:
    """Entity lists to read: for enrichment fields, and for ids only when synchronous calls
    batch them or archived entities must be filtered out of reports."""
    needed = entity_fields(request.selection)
    if sync or not request.config.include_archived:
        return needed
    return {name: fields for name, fields in needed.items() if fields}


def settled_strategy(request: RunRequest) -> Strategy:
    """CHEAPEST only when the synchronous endpoints might read the trailing batches in no more
    calls than their reports (one id batch and a one-page list, if the ids are not listed
    anyway); else plain reports, without listing ids that would not be used."""
    selection, strategy, period = request.selection, request.strategy, request.period
    dataset = selection.dataset
    if strategy is not Strategy.CHEAPEST or dataset.sync is None or period is None:
        return Strategy.REPORTS if strategy is Strategy.CHEAPEST else strategy
    tail = sync_tail(
        dataset,
        period=period,
        granularity=selection.granularity,
        today=request.today,
        async_columns=async_columns(selection),
    )
    if tail is None:
        return Strategy.REPORTS
    listed_anyway = dataset.ids_from in _needed(request, sync=False)
    extra_list = dataset.sync.id_param is not None and not listed_anyway
    worth = sync_tail_worth_listing(
        dataset,
        tail=tail,
        granularity=selection.granularity,
        report_polls=request.report_polls,
        list_calls_needed=1 if extra_list else 0,
    )
    return Strategy.CHEAPEST if worth else Strategy.REPORTS


def lists_needed(request: RunRequest) -> dict[str, set[str]]:
    """The entity lists discovery reads (list name -> fields the rows take from it)."""
    selection = request.selection
    if not selection.dataset.is_analytics:
        return entity_fields(selection)
    assert request.period is not None  # an analytics request has its days
    sync = sync_period(
        selection.dataset,
        period=request.period,
        granularity=selection.granularity,
        today=request.today,
        strategy=settled_strategy(request),
        async_columns=async_columns(selection),
    )
    return _needed(request, sync=sync is not None)


def make_plan(request: RunRequest, found: Discovery) -> Plan:
    """The steps of the run and their calls, from the request and what discovery found."""
    selection = request.selection
    dataset = selection.dataset
    ids = list(found.accounts)
    if not dataset.is_analytics:
        return plan_entities(
            dataset,
            account_ids=ids,
            calls_per_account={a: spooled.pages for a, spooled in found.listed.items()},
            discovery_calls=found.calls,
        )
    assert request.period is not None
    return plan_analytics(
        dataset,
        period=request.period,
        granularity=selection.granularity,
        today=request.today,
        account_ids=ids,
        entity_ids={
            a: e.ids(dataset.ids_from) for a, e in found.entities.items() if dataset.ids_from
        },
        strategy=settled_strategy(request),
        report_polls=request.report_polls,
        discovery_calls=found.calls,
        entity_lists=tuple(sorted(lists_needed(request))),
        async_columns=async_columns(selection),
    )
