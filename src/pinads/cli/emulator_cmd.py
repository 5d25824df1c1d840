"""`pinads emulator`: serve the local Pinterest API v5 emulator until stopped."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console

from pinads.errors import ConfigError

__all__ = ["register"]


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise ConfigError(f"--today {value!r} is not a date: use YYYY-MM-DD") from exc


def emulator(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).")] = 8777,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic advertisers.")] = 7,
    today: Annotated[
        str | None, typer.Option(help="The emulator's today, YYYY-MM-DD (default: real UTC date).")
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option(help="Approve OAuth consent at once as the default demo user.")
    ] = False,
) -> None:
    """Serve a local, spec-faithful Pinterest API v5 (ads) with demo advertisers."""
    # Imported here so other commands do not pay for uvicorn/starlette at startup.
    from pinads.emulator import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        LARGE_ADVERTISER_ID,
        EmulatorConfig,
        EmulatorServer,
    )

    config = EmulatorConfig(seed=seed, today=_parse_day(today), auto_approve=auto_approve)
    server = EmulatorServer(config, host=host, port=port)
    try:
        server.start()
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}): pick another --port"
        ) from exc
    console = Console(highlight=False)
    console.print(f"Pinterest API v5 emulator on [bold]{server.base_url}[/]")
    console.print(f"  API base URL   {server.api_url}")
    console.print(f"  consent page   {server.base_url}/oauth/")
    console.print(f"  client id      {DEMO_CLIENT_ID}")
    console.print(f"  client secret  {DEMO_CLIENT_SECRET}  (public demo credential)")
    console.print(f"  today          {server.state.today().isoformat()}   seed {seed}")
    console.print(f"  large advertiser ad account {LARGE_ADVERTISER_ID}")
    console.print("Press Ctrl+C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator)
