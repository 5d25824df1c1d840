"""Attribution re-sync, backfill through reports and its equality with the sync path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from starlette.applications import Starlette

from pinads.emulator.tokens import IssuedTokens
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config
from pinads.values import RunKind

from .emu import campaign_days, campaign_ids, make_client, source_doc

DROP = ["_pinads_extracted_at", "_pinads_run_id"]
METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CONVERSIONS"]


def test_late_conversions_are_corrected_by_the_next_scheduled_run(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    state = emulator_app.state.emulator
    first_day = state.today()
    config, dataset = parse_config(
        source_doc(tmp_path, date_range="last_7_days", lookback_days=14), today=first_day
    )
    destination = open_destination(config.destination, settings=load_settings())
    with make_client(emulator_transport, emulator_tokens) as client:
        run_source(
            config,
            dataset,
            client=client,
            destination=destination,
            today=first_day,
            kind=RunKind.SCHEDULED,
        )
        before = {
            (r["date"].isoformat(), r["campaign_id"]): r
            for r in destination.read_table("shop").to_pylist()
        }
        state.advance(days=3)
        later = state.today()
        run_source(
            config,
            dataset,
            client=client,
            destination=destination,
            today=later,
            kind=RunKind.SCHEDULED,
        )
        after = {
            (r["date"].isoformat(), r["campaign_id"]): r
            for r in destination.read_table("shop").to_pylist()
        }
    destination.close()
    token = emulator_tokens.access_token
    ids = campaign_ids(emulator_transport, token)
    start = (first_day - timedelta(days=14)).isoformat()
    end = (first_day - timedelta(days=1)).isoformat()
    truth = campaign_days(emulator_transport, token, ids=ids, start=start, end=end, metrics=METRICS)
    early = [key for key in before if key[0] <= end]
    assert early and set(early) <= set(after)
    changed = 0
    for key in early:
        want = truth[key].get("TOTAL_CONVERSIONS")
        assert after[key]["total_conversions"] == (None if want is None else int(want))
        changed += after[key]["total_conversions"] != before[key]["total_conversions"]
    assert changed > 0  # conversions did arrive late, and the re-sync picked them up
