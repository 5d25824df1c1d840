"""`pinads demo`: the whole product in one command, offline, against the built-in emulator.

Starts the emulator on a loopback port, authorizes through its OAuth code flow (auto-approved,
no browser), saves a demo source, runs it into the DuckDB file in PINADS_HOME and prints a short
report with a preview of the table. Running it again upserts the same days: same table.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import httpx
import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from pinads.api import OAuthApp, PinterestClient, TokenSet, consent_url, exchange_code
from pinads.catalog import get_dataset
from pinads.cli.run_cmd import print_result
from pinads.errors import AuthError
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.runner.store import SourceStore
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig

__all__ = ["DEMO_SOURCE", "MemorySink", "authorize", "demo_config", "register", "run_demo"]

DEMO_SOURCE = "demo_campaign_daily"
_SCOPES = ("ads:read", "user_accounts:read")


def _out() -> Console:
    """A console sized when it prints (the terminal, or COLUMNS, of this invocation)."""
    return Console(highlight=False, soft_wrap=True)


class MemorySink:
    """The demo keeps its tokens for the length of the command only."""

    def __init__(self) -> None:
        self.tokens: TokenSet | None = None

    def save(self, tokens: TokenSet) -> None:
        self.tokens = tokens


def authorize(base_url: str, api_url: str) -> tuple[OAuthApp, TokenSet]:
    """Pinterest's authorization-code flow against the emulator (auto-approved consent)."""
    from pinads.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    app = OAuthApp(
        client_id=DEMO_CLIENT_ID, client_secret=SecretStr(DEMO_CLIENT_SECRET), api_url=api_url
    )
    redirect_uri = f"{base_url}/demo-callback"
    state = secrets.token_urlsafe(16)
    url = consent_url(
        app,
        consent_base_url=f"{base_url}/oauth/",
        redirect_uri=redirect_uri,
        scopes=_SCOPES,
        state=state,
    )
    answer = httpx.get(url, follow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(answer.headers.get("location", "")).query)
    if query.get("state") != [state] or "code" not in query:
        raise AuthError("the emulator did not approve the demo authorization; rerun `pinads demo`")
    return app, exchange_code(app, code=query["code"][0], redirect_uri=redirect_uri)


def demo_config(account_id: str) -> SourceConfig:
    return SourceConfig.model_validate(
        {
            "name": DEMO_SOURCE,
            "dataset": "campaign_analytics",
            "authorizer": "demo",
            "accounts": [account_id],
            "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"],
            "metrics": [
                "SPEND_IN_MICRO_DOLLAR",
                "IMPRESSION_1",
                "CLICKTHROUGH_1",
                "TOTAL_CONVERSIONS",
            ],
            "granularity": "DAY",
            "date_range": "last_30_days",
            "metadata": ["extracted_at", "source_name", "run_id", "account_currency"],
            "write_mode": "upsert",
            "destination": "duckdb",
        }
    )


def _preview(path: str, table: str) -> Table:
    """The newest rows of the demo table, money in the account's currency."""
    columns_sql = (
        "date, campaign_name, round(spend_in_micro_dollar / 1e6, 2) AS spend, "
        "_pinads_account_currency AS currency, impression_1 AS impressions, "
        "clickthrough_1 AS clicks, total_conversions AS conversions"
    )
    order = "ORDER BY date DESC, spend_in_micro_dollar DESC LIMIT 8"
    query = f'SELECT {columns_sql} FROM "{table}" {order}'  # noqa: S608 - fixed names
    with duckdb.connect(path, read_only=True) as conn:
        cursor = conn.execute(query)
        columns = [d[0] for d in cursor.description]
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        count = f'SELECT count(*) FROM "{table}"'  # noqa: S608 - fixed, validated name
        total = conn.execute(count).fetchone()
    view = Table(title=f"{table}: {total[0] if total else 0} rows", title_justify="left")
    for column in columns:
        view.add_column(column, no_wrap=column != "campaign_name")
    for row in rows:
        view.add_row(*("" if v is None else str(v) for v in row))
    return view


def run_demo() -> None:
    """Emulator -> OAuth -> source -> run -> DuckDB -> report."""
    from pinads.emulator import EUR_ADVERTISER_ID as ACCOUNT
    from pinads.emulator import EmulatorConfig, EmulatorServer

    settings = load_settings()
    settings.ensure_home()
    with EmulatorServer(EmulatorConfig(auto_approve=True)) as server:
        _out().print(f"emulator serving Pinterest API v5 at {server.api_url}")
        app, tokens = authorize(server.base_url, server.api_url)
        _out().print("authorized the demo app (OAuth code flow, auto-approved)")
        config = demo_config(ACCOUNT)
        store = SourceStore(settings)
        destination = open_destination(config.destination, settings=settings)
        try:
            store.save(config, replace=True)
            with PinterestClient(app, tokens, MemorySink()) as client:
                result = run_source(
                    config,
                    get_dataset(config.dataset),
                    client=client,
                    destination=destination,
                    ledger=store,
                )
        finally:
            destination.close()
            store.close()
    print_result(result, _out())
    _out().print(_preview(str(settings.default_duckdb_path), config.name))
    _out().print(
        f"DuckDB file: {settings.default_duckdb_path} (table {config.name}); "
        f"finished {datetime.now(UTC):%H:%M:%S} UTC"
    )
    _out().print(
        "next: `pinads runs` shows the run history; `pinads emulator --auto-approve` serves the "
        "emulator for `pinads auth add`, then `pinads sources create` and `pinads run`"
    )


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo() -> None:
        """Run the built-in emulator, authorize, extract a demo source into DuckDB, report."""
        run_demo()
