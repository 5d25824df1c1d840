"""`pinads singer`: pinads as a Singer tap (`--discover`; `--catalog` / `--state` to sync).

stdout carries Singer messages only; every log line goes to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from pinads.cli.logs import formatter
from pinads.errors import ConfigError
from pinads.runner import service
from pinads.singer import discover, load_tap_config, sync

__all__ = ["register"]


def _json_file(path: Path, what: str) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read the Singer {what} {path}: {exc}") from exc
    if not text.strip():  # Meltano hands over an empty state file before the first run
        return {}
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"the Singer {what} {path} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"the Singer {what} {path} must be a JSON object")
    return document


def _log_to_stderr() -> None:
    logger = logging.getLogger("pinads.singer")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter("pinads singer %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the root handler would print every line twice


ConfigOpt = Annotated[
    Path,
    typer.Option(
        "--config",
        help="A pinads source file (YAML), or a JSON object of source settings (Meltano's); "
        "`sources: [...]` for several streams; `pinads_home` for where the authorizers live.",
    ),
]
CatalogOpt = Annotated[
    Path | None,
    typer.Option("--catalog", "--properties", help="Singer catalog selecting streams/fields."),
]
StateOpt = Annotated[Path | None, typer.Option("--state", help="Singer state to resume from.")]


def register(app: typer.Typer) -> None:
    @app.command("singer")
    def singer(
        config: ConfigOpt,
        discover_only: Annotated[
            bool, typer.Option("--discover", help="Print the Singer catalog and exit.")
        ] = False,
        catalog: CatalogOpt = None,
        state: StateOpt = None,
    ) -> None:
        """Run sources as a Singer tap (for Meltano or any Singer target): SCHEMA, RECORD and
        STATE messages on stdout, logs on stderr. Without --catalog every stream is synced."""
        _log_to_stderr()
        tap = load_tap_config(config, today=datetime.now(UTC).date())
        if discover_only:
            sys.stdout.write(json.dumps(discover(tap), indent=2) + "\n")
            return
        sync(
            tap,
            catalog=_json_file(catalog, "catalog") if catalog else None,
            state=_json_file(state, "state") if state else None,
            out=sys.stdout.buffer,
            opener=lambda label: service.open_authorizer_client(label, tap.settings),
        )
        sys.stdout.flush()
