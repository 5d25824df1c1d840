"""The `pinads` command line: thin Typer commands over the services.

Each area lives in its own module with a `register(app)` function, so commands stay small and
areas can grow independently. `main()` turns every `PinadsError` into a one-line message and a
non-zero exit code; a traceback is shown only with `--debug`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pinads.cli.logs import LogFormat, configure_logging
from pinads.errors import PinadsError, redact
from pinads.process import tune_process

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
    "doctor_cmd",
    "worker_cmd",
    "notify_cmd",
    "users_cmd",
    "db_cmd",
)

_state = {"debug": False}
log = logging.getLogger("pinads.cli")


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            envvar="PINADS_LOG_FORMAT",
            case_sensitive=False,
            help="Log lines as text, or as one JSON object per line (secrets redacted).",
        ),
    ] = LogFormat.TEXT,
) -> None:
    """pinads: authorize Pinterest, define sources, extract and load ads data."""
    _state["debug"] = debug
    configure_logging(debug=debug, log_format=log_format)


def _register_commands() -> None:
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"pinads.cli.{name}")
        module.register(app)


_register_commands()

_err = Console(stderr=True, highlight=False, soft_wrap=True)
# An error line longer than this is cut: a message built from huge input must stay one line.
_MAX_ERROR_CHARS = 2_000


def main() -> None:
    """Console-script entry point: every failure ends as one line on stderr and a non-zero
    exit code; a traceback only with --debug."""
    debug = "--debug" in sys.argv[1:]
    if not debug:
        _quiet_background_errors()
    tune_process()
    try:
        result = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _say("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # a bad flag or value: one line, and where help is
        _fail(_usage_line(exc), exit_code=int(getattr(exc, "exit_code", 2)))
    except Exception as exc:  # the top level turns anything left (MemoryError too) into one line
        if debug:
            raise
        if isinstance(exc, PinadsError):
            _fail(str(exc), exit_code=exc.exit_code)
        _fail(_unexpected(exc), exit_code=1)
    if isinstance(result, int) and result:
        sys.exit(result)


def tap_main() -> None:
    """The `tap-pinads` console script: `pinads singer` under the name Singer orchestrators
    expect of a tap (Meltano runs an extractor's `executable` with `--config ...` only)."""
    args = sys.argv[1:]
    debug = ["--debug"] if "--debug" in args else []  # an option of `pinads`, not of `singer`
    sys.argv[1:] = [*debug, "singer", *(arg for arg in args if arg != "--debug")]
    main()


def _unexpected(exc: BaseException) -> str:
    # The traceback keeps the failing frames (and whatever they held) alive: a MemoryError
    # must free them before the line is printed.
    exc.__traceback__ = None
    detail = redact(str(exc))[:_MAX_ERROR_CHARS]
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"unexpected {what} (rerun with --debug for details)"


def _usage_line(exc: typer.TyperException) -> str:
    """The usage error's message ("No such option: --bogus") and the help of the command it
    is about (typer's own display is four lines, with a box on a terminal)."""
    format_message = getattr(exc, "format_message", None)
    message = str(format_message() if callable(format_message) else exc).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", "") or "pinads"
    return f"{message}; see `{command} --help`"


def _fail(message: str, *, exit_code: int) -> None:
    _say(f"error: {message}", styled=True)
    sys.exit(exit_code)


def _say(text: str, *, styled: bool = False) -> None:
    """One line on stderr: rich's console when it can render it, else plain bytes (rich may
    be what ran out of memory)."""
    line = " ".join(text[:_MAX_ERROR_CHARS].split("\n"))
    try:
        if styled and line.startswith("error: "):
            _err.print(f"[bold red]error:[/] {escape(line.removeprefix('error: '))}")
        else:
            _err.print(escape(line))
    except Exception:  # noqa: BLE001 - the last resort must not fail in its turn
        with contextlib.suppress(OSError):
            os.write(2, (line + "\n").encode("utf-8", "replace"))


def _quiet_background_errors() -> None:
    """Errors Python reports on its own (a thread's uncaught exception, one raised while a
    generator or object is finalised) print a traceback; without --debug they go to the
    debug log instead: the command's own outcome is the one line the user sees."""

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        log.debug("uncaught %s in thread %s", args.exc_type.__name__, args.thread)

    def unraisable_hook(args: sys.UnraisableHookArgs) -> None:
        log.debug("ignored %s in %r", args.exc_type.__name__, args.object)

    threading.excepthook = thread_hook
    sys.unraisablehook = unraisable_hook
