"""Destination URLs: which destination a source writes to, checked before anything is saved.

`check_destination_url` is what source create and update call (CLI, web form and API alike):
it parses and checks a URL without connecting or touching a file, raising ConfigError with
the URL (password shown as `***`), the cause and the fix. `open_destination` runs the same
checks, so a saved source whose URL became invalid (PINADS_ALLOWED_ROOTS changed, say) fails
before its run starts. What each kind accepts is its own module's business (registry.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pinads.errors import ConfigError
from pinads.load.registry import Opener, accepted_forms, bare_kind, kind_of_scheme
from pinads.load.spec import Destination
from pinads.load.url_parts import FormError
from pinads.secret_urls import redact_url
from pinads.settings import AppSettings

__all__ = ["check_destination_url", "open_destination"]


def check_destination_url(url: str, settings: AppSettings) -> None:
    """ConfigError (one line: the URL with its password as `***`, the cause, the fix) unless
    `url` is a destination pinads can write: a registered kind, well-formed, with known
    parameters and values, and for DuckDB and file destinations an absolute path without `..`
    under PINADS_HOME or PINADS_ALLOWED_ROOTS. Nothing is connected, created or written."""
    _parse(url, settings)


def open_destination(url: str, *, settings: AppSettings) -> Destination:
    """Open the destination `url` names (checked as `check_destination_url` does; nothing is
    connected until it is used or checked). Its `url` is the one given, secrets as `***`."""
    return _parse(url, settings)(redact_url(url.strip()))


def _parse(url: str, settings: AppSettings) -> Opener:
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise _invalid(url, "it could not be read as a URL", forms=True) from None
    try:
        kind = bare_kind(text)
        if kind is None:
            _refuse_ambiguous_password(text)
            if parts.fragment or text.endswith("#"):
                raise ValueError("a destination URL takes no #fragment")
            kind = kind_of_scheme(parts.scheme)
        if kind is not None:
            return kind.parse_url(text, parts, settings)
    except FormError as exc:
        raise _invalid(url, str(exc), forms=True) from None
    except ValueError as exc:
        raise _invalid(url, str(exc)) from None
    raise _invalid(url, "unknown kind of destination", forms=True)


def _refuse_ambiguous_password(url: str) -> None:
    """A password holding an unencoded / ? # or @ is read by URL parsers as part of the host,
    path or query, and their complaints would quote pieces of it: refuse it first, quoting
    nothing."""
    hidden = _hidden_password(url)
    if hidden is not None and any(c in hidden for c in "/?#@"):
        raise ValueError(
            "the password holds / ? # or @ unencoded; percent-encode them (%2F %3F %23 %40)"
        )


def _hidden_password(url: str) -> str | None:
    """The `user:password@` part's password read generously: everything between the user's
    colon and the last `@` (None without one)."""
    _, sep, rest = url.partition("://")
    userinfo, at, _ = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return password if sep and at and colon and "/" not in user else None


def _invalid(url: str, why: str, *, forms: bool = False) -> ConfigError:
    accepted = f"; use one of: {'; '.join(accepted_forms())}" if forms else ""
    return ConfigError(f"destination {_shown(url.strip())!r} is not valid ({why}){accepted}")


def _shown(url: str) -> str:
    """The URL as a message may show it: secrets as `***`, and everything between the user's
    colon and the last `@` when the password holds characters that make URL parsers cut it
    elsewhere (they would show pieces of it as host, path or query)."""
    hidden = _hidden_password(url)
    if hidden is not None and any(c in hidden for c in "/?#@"):
        scheme, _, rest = url.partition("://")
        url = f"{scheme}://{rest.partition(':')[0]}:***@{rest.rpartition('@')[2]}"
    return redact_url(url)
