"""Every kind of destination pinads writes, one entry each.

An entry says which URL schemes name the kind, how its URLs look (the forms a refused URL's
message lists, and the short help of the source form's destination field), and which module
reads its URLs. That module is imported only when a URL names the kind, so a process writing
to one kind does not carry the others' drivers. It offers one function::

    def parse_url(text: str, parts: SplitResult, settings: AppSettings) -> Opener

which checks the URL without connecting or touching a file (ValueError(why) for a bad value,
FormError(why) for a URL not of an accepted form, ConfigError for a path pinads may not
write) and returns the opener of the destination; the opener takes the URL as messages and
run records show it (secrets as `***`) and returns the `Destination` (nothing is connected
until it is used).

A new kind of destination is that module plus one entry in `KINDS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from urllib.parse import SplitResult

    from pinads.load.spec import Destination
    from pinads.settings import AppSettings

__all__ = [
    "KINDS",
    "DestinationKind",
    "Opener",
    "accepted_forms",
    "bare_kind",
    "kind_of_scheme",
    "kinds",
    "kinds_help",
    "register",
    "unregister",
]

# Takes the URL as shown (secrets as `***`), returns the destination.
Opener = Callable[[str], "Destination"]


class ParseURL(Protocol):
    def __call__(self, text: str, parts: SplitResult, settings: AppSettings) -> Opener: ...


@dataclass(frozen=True)
class DestinationKind:
    """One kind of destination: its schemes, the module reading its URLs, how to describe it."""

    name: str
    schemes: tuple[str, ...]  # lowercase; every one names this kind
    module: str  # offers `parse_url` (see the module docstring)
    forms: tuple[str, ...]  # accepted URL forms, as a refused URL's message lists them
    help: str  # the forms in brief, for the destination field's help
    bare: bool = False  # the first scheme alone (`duckdb`) names the kind's default destination

    def parse_url(self, text: str, parts: SplitResult, settings: AppSettings) -> Opener:
        module = importlib.import_module(self.module)
        return cast(ParseURL, module.parse_url)(text, parts, settings)


KINDS: tuple[DestinationKind, ...] = (
    DestinationKind(
        name="duckdb",
        schemes=("duckdb",),
        module="pinads.load.duckdb_url",
        forms=(
            "duckdb (the file PINADS_HOME/pinads.duckdb)",
            "duckdb:///absolute/path/file.duckdb[?threads=N&memory_limit=SIZE]",
        ),
        help="duckdb (PINADS_HOME/pinads.duckdb), duckdb:///path",
        bare=True,
    ),
    DestinationKind(
        name="postgresql",
        schemes=("postgresql", "postgres"),
        module="pinads.load.postgres_sql",
        forms=("postgresql://user:password@host:5432/database?schema=NAME (or postgres://)",),
        help="postgresql://...",
    ),
    DestinationKind(
        name="files",
        schemes=("file",),
        module="pinads.load.files_url",
        forms=("file:///absolute/directory?format=parquet|csv|jsonl",),
        help="file:///dir?format=parquet",
    ),
)

# The registry in use: KINDS, and kinds registered at run time (a plugin's, a test's).
_registered: list[DestinationKind] = list(KINDS)


def kinds() -> tuple[DestinationKind, ...]:
    return tuple(_registered)


def register(kind: DestinationKind) -> None:
    """Add a kind of destination; ValueError if its name or a scheme is taken already."""
    taken = {k.name for k in _registered} | {s for k in _registered for s in k.schemes}
    clash = sorted(({kind.name} | set(kind.schemes)) & taken)
    if clash:
        raise ValueError(f"destination kind {kind.name!r}: {clash} already registered")
    _registered.append(kind)


def unregister(name: str) -> None:
    """Remove the kind registered under `name` (nothing if there is none)."""
    _registered[:] = [k for k in _registered if k.name != name]


def kind_of_scheme(scheme: str) -> DestinationKind | None:
    """The kind a URL scheme (as `urlsplit` gives it: lowercase) names."""
    return next((k for k in _registered if scheme in k.schemes), None)


def bare_kind(text: str) -> DestinationKind | None:
    """The kind whose name alone is the URL of its default destination (`duckdb`)."""
    return next((k for k in _registered if k.bare and text == k.schemes[0]), None)


def accepted_forms() -> tuple[str, ...]:
    return tuple(form for kind in _registered for form in kind.forms)


def kinds_help() -> str:
    """The destination forms in brief: `duckdb (...), duckdb:///path, postgresql://..., ...`."""
    return ", ".join(kind.help for kind in _registered)
