"""The `pinads` command line: thin Typer commands over the services.

Each area lives in its own module with a `register(app)` function, so commands stay small and
areas can grow independently. `main()` turns every `PinadsError` into a one-line message and a
non-zero exit code; a traceback is shown only with `--debug`.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer
from rich.console import Console
from rich.markup import escape

from pinads.errors import PinadsError, redact

__all__ = ["app", "main", "tap_main"]

app = typer.Typer(
    name="pinads",
    help="Self-hosted Pinterest Ads data connector.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules under pinads.cli that define `register(app)`; each adds its commands.
_COMMAND_MODULES: tuple[str, ...] = (
    "catalog_cmd",
    "sources_cmd",
    "run_cmd",
    "demo_cmd",
    "emulator_cmd",
    "schedule_cmd",
    "auth_cmd",
    "accounts_cmd",
    "web_cmd",
    "singer_cmd",
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
) -> None:
    """pinads: authorize Pinterest, define sources, extract and load ads data."""
    _state["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING)


def _register_commands() -> None:
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"pinads.cli.{name}")
        module.register(app)


_register_commands()

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def main() -> None:
    """Console-script entry point."""
    debug = "--debug" in sys.argv[1:]
    try:
        result = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _err.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: typer prints them with a hint
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _err.print(escape(str(exc)))
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except PinadsError as exc:
        if debug:
            raise
        _err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)
    except Exception as exc:  # the top level turns anything left into one line
        if debug:
            raise
        _err.print(
            f"[bold red]error:[/] unexpected {type(exc).__name__}: {escape(redact(str(exc)))} "
            "(rerun with --debug for details)"
        )
        sys.exit(1)
    if isinstance(result, int) and result:
        sys.exit(result)


def tap_main() -> None:
    """The `tap-pinads` console script: `pinads singer` under the name Singer orchestrators
    expect of a tap (Meltano runs an extractor's `executable` with `--config ...` only)."""
    sys.argv[1:1] = ["singer"]
    main()
