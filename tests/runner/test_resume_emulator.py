"""A backfill that stops after some steps (the user withdrew access mid-run) and is resumed
after the advertiser's campaigns changed (one archived, one created): every (date, campaign)
is written exactly once, in append mode too, because the resumed backfill follows the steps the
interrupted one planned (stored with its run record) instead of re-batching today's ids.

The in-process emulator, a real DuckDB file and the real control DB; one extraction thread for
the first run, so the first account's step is written before the second one's call fails."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from starlette.applications import Starlette

from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID, EUR_ADVERTISER_ID
from pinads.emulator.guards import guards_of
from pinads.emulator.limits import FaultConfig
from pinads.emulator.tokens import IssuedTokens, TokenInfo
from pinads.emulator.world import World
from pinads.errors import AuthError
from pinads.extract.plan import StepKind
from pinads.load import open_destination
from pinads.runner import BACKFILL_SCOPE, SourceStore, service
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config
from pinads.values import DateRange, RunKind

from .emu import ATTRIBUTION, make_client, raw_get, source_doc

GBP_ADVERTISER_ID = "549755813003"  # the demo user is an admin there
ACCOUNTS = [EUR_ADVERTISER_ID, GBP_ADVERTISER_ID]
METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CONVERSIONS"]
NEW_CAMPAIGN = "626000099999"


def _mint(app: Starlette) -> IssuedTokens:
    state = app.state.emulator
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    issued: IssuedTokens = state.tokens.mint(info, now=state.now())
    return issued


def _changed(world: World, account: str) -> tuple[World, str]:
    """`world` with the account's first active campaign archived and a new campaign (a copy
    of another active one, with copies of its ads, so it delivers); the archived id."""
    active = [
        c for c in world.campaigns_by_account[account] if world.campaigns[c].status == "ACTIVE"
    ]
    archived, template = active[0], active[1]
    campaigns = dict(world.campaigns)
    campaigns[archived] = dataclasses.replace(campaigns[archived], status="ARCHIVED")
    campaigns[NEW_CAMPAIGN] = dataclasses.replace(
        campaigns[template], id=NEW_CAMPAIGN, name="Created while the backfill was stopped"
    )
    ads = dict(world.ads)
    copies = [f"6870000999{n:02d}" for n in range(len(world.ads_by_campaign[template]))]
    for copy, original in zip(copies, world.ads_by_campaign[template], strict=True):
        ads[copy] = dataclasses.replace(ads[original], id=copy, campaign_id=NEW_CAMPAIGN)
    changed = dataclasses.replace(
        world,
        campaigns=campaigns,
        ads=ads,
        campaigns_by_account={
            **world.campaigns_by_account,
            account: [*world.campaigns_by_account[account], NEW_CAMPAIGN],
        },
        ads_by_campaign={**world.ads_by_campaign, NEW_CAMPAIGN: copies},
        ads_by_account={**world.ads_by_account, account: [*world.ads_by_account[account], *copies]},
    )
    return changed, archived


def _emulator_rows(
    transport: httpx.BaseTransport, token: str, account: str, ids: list[str], period: DateRange
) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(date, campaign id) -> metrics, read from the emulator without pinads' client."""
    rows = raw_get(
        transport,
        token,
        f"/ad_accounts/{account}/campaigns/analytics",
        {
            "start_date": period.start.isoformat(),
            "end_date": period.end.isoformat(),
            "columns": ",".join(METRICS),
            "granularity": "DAY",
            "campaign_ids": ids,
            **ATTRIBUTION,
        },
    )
    return {(r["DATE"], str(r["CAMPAIGN_ID"])): tuple(r.get(m) for m in METRICS) for r in rows}


def _table(path: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(
            "SELECT CAST(date AS VARCHAR), campaign_id, spend_in_micro_dollar, impression_1, "
            "total_conversions FROM shop"
        ).fetchall()


def _first_run_stops_after_one_account(
    app: Starlette, transport: httpx.BaseTransport, tokens: IssuedTokens, doc: dict[str, Any]
) -> tuple[str, DateRange]:
    """Run the backfill until the second account's call finds the grant revoked; return the
    step written and the range."""
    today = app.state.emulator.today()
    period = DateRange(start=today - timedelta(days=60), end=today - timedelta(days=1))
    config, dataset = parse_config(doc, today=today)
    settings = load_settings()
    store = SourceStore(settings)
    store.save(config)
    destination = open_destination(config.destination, settings=settings)
    # The first analytics call is answered; the next one revokes the grant (access withdrawn).
    faults = FaultConfig(
        revoke_tokens_after_requests=1, operations=frozenset({"campaigns/analytics"})
    )
    guards_of(app).set_faults(faults)
    try:
        with make_client(transport, tokens) as client, pytest.raises(AuthError):
            run_source(
                config,
                dataset,
                client=client,
                destination=destination,
                ledger=store,
                today=today,
                kind=RunKind.BACKFILL,
                period=period,
                workers=1,
            )
        done = destination.completed_steps("shop", BACKFILL_SCOPE)
    finally:
        guards_of(app).set_faults(FaultConfig())
        destination.close()
        store.close()
    [step] = done
    assert step.startswith(f"sync:{EUR_ADVERTISER_ID}:{period.start}:{period.end}:")
    return step, period


@pytest.mark.parametrize(
    "case",
    [("append", True), ("append", False), ("upsert", True)],
    ids=["append", "append-without-archived", "upsert"],
)
def test_a_resumed_backfill_writes_every_day_once_though_campaigns_changed(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
    case: tuple[str, bool],
) -> None:
    write_mode, include_archived = case
    doc = source_doc(
        tmp_path,
        accounts=ACCOUNTS,
        metrics=METRICS,
        write_mode=write_mode,
        include_archived=include_archived,
    )
    state = emulator_app.state.emulator
    before = state.world
    listed = {  # what the first run lists and batches
        account: [
            c
            for c in before.campaigns_by_account[account]
            if include_archived or before.campaigns[c].status != "ARCHIVED"
        ]
        for account in ACCOUNTS
    }
    written, period = _first_run_stops_after_one_account(
        emulator_app, emulator_transport, emulator_tokens, doc
    )
    token = _mint(emulator_app).access_token
    truth = _emulator_rows(
        emulator_transport, token, EUR_ADVERTISER_ID, listed[EUR_ADVERTISER_ID], period
    )
    state.world, archived = _changed(before, EUR_ADVERTISER_ID)  # this emulator only

    fresh = _mint(emulator_app)
    plans: list[Any] = []
    result = service.backfill(  # no --to: the unfinished backfill's own range is resumed
        "shop",
        start=period.start,
        today=state.today(),
        opener=lambda _label: make_client(emulator_transport, fresh),
        on_plan=plans.append,
    )

    assert (result.start, result.end) == (period.start, period.end)
    [plan] = plans
    eur = [s for s in plan.steps_for(EUR_ADVERTISER_ID) if s.kind is StepKind.SYNC]
    assert len(eur) == 2 and eur[0].step_id == written  # the interrupted run's step, kept
    assert archived in eur[0].ids and eur[1].ids == (NEW_CAMPAIGN,)
    assert (result.steps, result.steps_skipped) == (3, 1)
    truth |= _emulator_rows(emulator_transport, token, EUR_ADVERTISER_ID, [NEW_CAMPAIGN], period)
    truth |= _emulator_rows(
        emulator_transport, token, GBP_ADVERTISER_ID, listed[GBP_ADVERTISER_ID], period
    )
    rows = _table(Path(str(doc["destination"]).removeprefix("duckdb:///")))
    counts = Counter((r[0], r[1]) for r in rows)
    assert max(counts.values()) == 1  # nothing written twice
    assert {(r[0], r[1]): tuple(r[2:]) for r in rows} == truth  # nothing lost
    assert any(key[1] == archived for key in truth) and any(k[1] == NEW_CAMPAIGN for k in truth)


def test_a_repeated_backfill_of_a_finished_range_writes_nothing_again(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    """Once finished, the same range again (entities changed meanwhile) reads only what is
    new: the stored plan's steps are all checkpointed."""
    doc = source_doc(tmp_path, accounts=[EUR_ADVERTISER_ID], metrics=METRICS, write_mode="append")
    state = emulator_app.state.emulator
    today: date = state.today()
    start, end = today - timedelta(days=30), today - timedelta(days=1)
    store = SourceStore(load_settings())
    store.save(parse_config(doc, today=today)[0])
    store.close()

    def backfill() -> Any:
        return service.backfill(
            "shop",
            start=start,
            end=end,
            today=today,
            opener=lambda _label: make_client(emulator_transport, emulator_tokens),
        )

    first = backfill()
    state.world, archived = _changed(state.world, EUR_ADVERTISER_ID)
    again = backfill()
    assert (first.steps, first.steps_skipped) == (1, 0)
    assert (again.steps, again.steps_skipped) == (2, 1)  # only the new campaign is read
    rows = _table(Path(str(doc["destination"]).removeprefix("duckdb:///")))
    counts = Counter((r[0], r[1]) for r in rows)
    assert max(counts.values()) == 1 and archived in {r[1] for r in rows}
    assert again.rows_written == sum(1 for r in rows if r[1] == NEW_CAMPAIGN) > 0
