"""Secrets inside destination URLs: finding them, hiding them, putting stored ones back.

A secret is the password of the URL's user (`postgresql://user:PASSWORD@host/db`) or the value
of a query parameter whose name says it holds one (`password=`, `sslpassword=`, `api_key=`,
`secret=`, `token=`, ...), so destinations added later are covered by their parameter names.

Everything shown or returned carries `***` in their place (`redact_url`). A client that sends
the `***` form back keeps the stored secrets (`restore_secrets`), but only for the same server
and user: pointing a saved password at another host needs the password typed again, so whoever
may edit a source cannot send its password to a server of their choosing.

A pure module (no pinads imports besides errors): the control DB, the loaders, the CLI and the
web all use it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, unquote, unquote_plus, urlsplit, urlunsplit

from pinads.errors import ConfigError

__all__ = [
    "MASK",
    "expand_env",
    "has_masked_secrets",
    "has_secrets",
    "redact_url",
    "restore_secrets",
]

MASK = "***"
_SECRET_PARAM = re.compile(
    r"pass(word|wd|phrase)?$|password|pwd|secret|token|credential|(api|access|account|private)_?key",
    re.IGNORECASE,
)
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Postgres accepts both spellings of its scheme: the same server either way.
_SCHEME_ALIASES = {"postgres": "postgresql"}


@dataclass(frozen=True, slots=True)
class _Parts:
    """A URL cut where its secrets are, so it can be put together again byte for byte."""

    split: SplitResult
    user: str | None  # the userinfo before ':' (None: no userinfo)
    password: str | None  # raw (percent-encoded) password, None when there is none
    host: str  # what follows '@' in the netloc
    params: tuple[tuple[str, str | None], ...]  # raw (name, value) pairs; value None: no '='

    def secret_values(self) -> list[tuple[str, str]]:
        """(slot, raw value) of each secret: slot "" is the password, else `?name#n`."""
        found = [("", self.password)] if self.password else []
        return found + [
            (slot, value) for slot, value in self._param_slots() if _is_secret_param(slot)
        ]

    def _param_slots(self) -> list[tuple[str, str]]:
        seen: dict[str, int] = {}
        slots = []
        for name, value in self.params:
            key = unquote_plus(name).lower()
            seen[key] = seen.get(key, 0) + 1
            if value:
                slots.append((f"?{key}#{seen[key]}", value))
        return slots

    def rebuilt(self, replace: Mapping[str, str]) -> str:
        """The URL with the secrets of the slots in `replace` set to their new raw values."""
        netloc = self.host
        if self.user is not None:
            password = replace.get("", self.password)
            userinfo = self.user if password is None else f"{self.user}:{password}"
            netloc = f"{userinfo}@{self.host}"
        query = "&".join(self._params_with(replace)) if self.params else self.split.query
        return _joined(self.split._replace(netloc=netloc, query=query))

    def _params_with(self, replace: Mapping[str, str]) -> list[str]:
        seen: dict[str, int] = {}
        pieces = []
        for name, value in self.params:
            key = unquote_plus(name).lower()
            seen[key] = seen.get(key, 0) + 1
            new = replace.get(f"?{key}#{seen[key]}", value) if value else value
            pieces.append(name if new is None else f"{name}={new}")
        return pieces

    def server(self) -> tuple[str, str, str]:
        """What must stay the same for a stored secret to be reused: scheme, host, user."""
        scheme = self.split.scheme.lower()
        return (_SCHEME_ALIASES.get(scheme, scheme), self.host.lower(), unquote(self.user or ""))


def _joined(split: SplitResult) -> str:
    """`urlunsplit`, keeping a `#` folded into the query (see `_parts`) as it was."""
    query, hash_, fragment = split.query.partition("#")
    text = urlunsplit(split._replace(query=query))
    return f"{text}#{fragment}" if hash_ and not split.fragment else text


def _is_secret_param(slot: str) -> bool:
    return _SECRET_PARAM.search(slot[1:].rsplit("#", 1)[0]) is not None


def _parts(url: str) -> _Parts | None:
    """The URL's pieces, or None for text that is not a URL with a scheme (e.g. `duckdb`)."""
    text = url.strip()
    if "://" not in text:  # `user:pw@host` is not a URL with a scheme
        return None
    scheme, _, rest = text.partition("://")
    user, password, after = _userinfo(rest)
    try:
        split = urlsplit(f"{scheme}://{after}")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if not split.scheme:
        return None
    if split.query and (split.fragment or text.endswith("#")):
        # A destination URL takes no fragment: a `#` after the query is part of a value (a
        # secret parameter's, maybe), so it is kept with that value rather than shown apart.
        split = split._replace(query=f"{split.query}#{split.fragment}", fragment="")
    params: list[tuple[str, str | None]] = []
    for piece in split.query.split("&") if split.query else ():
        name, eq, value = piece.partition("=")
        params.append((name, value if eq else None))
    return _Parts(split, user, password, split.netloc, tuple(params))


def _userinfo(rest: str) -> tuple[str | None, str | None, str]:
    """(user, raw password, the rest of the URL after `user:password@`) of the text after
    `scheme://`. A URL parser ends the userinfo at the first `/`, `?` or `#`, so a password
    holding one unencoded would be shown as host, path or query: the password is then read
    generously, up to the last `@` (it may hide a little more than the password; never less)."""
    netloc_end = re.search(r"[/?#]", rest)
    netloc = rest[: netloc_end.start()] if netloc_end else rest
    userinfo, at, _ = netloc.rpartition("@")
    generous, generous_at, generous_after = rest.rpartition("@")
    user, colon, password = generous.partition(":")
    if generous_at and colon and "/" not in user and re.search(r"[/?#]", password):
        return user, password, generous_after
    if not at:
        return None, None, rest
    user, colon, password = userinfo.partition(":")
    return user, (password if colon else None), rest[len(userinfo) + 1 :]


def _is_mask(raw: str) -> bool:
    return unquote_plus(raw) == MASK


def has_secrets(url: str) -> bool:
    """Whether the URL holds a secret in clear (not `***`)."""
    parts = _parts(url)
    return parts is not None and any(not _is_mask(v) for _, v in parts.secret_values())


def has_masked_secrets(url: str) -> bool:
    """Whether the URL has `***` where a secret goes (a redacted URL sent back)."""
    parts = _parts(url)
    return parts is not None and any(_is_mask(v) for _, v in parts.secret_values())


def redact_url(url: str) -> str:
    """The URL with every secret replaced by `***`: safe to show, log and return."""
    parts = _parts(url)
    if parts is None:
        # Not a URL: nothing can be cut out of it, so only text without '@' or '=' is shown.
        return url if not re.search(r"[@=]", url) else MASK
    secrets = parts.secret_values()
    if not secrets:
        return url
    return parts.rebuilt({slot: MASK for slot, _ in secrets})


def restore_secrets(url: str, stored: str | None) -> str:
    """`url` with each `***` replaced by the same secret of the `stored` URL (the clear URL
    saved before). ConfigError when there is none to take, or the server or user changed."""
    parts = _parts(url)
    masked = [slot for slot, value in parts.secret_values() if _is_mask(value)] if parts else []
    if not masked or parts is None:
        return url
    old = _parts(stored) if stored else None
    kept = dict(old.secret_values()) if old is not None else {}
    missing = [slot for slot in masked if slot not in kept]
    if missing or old is None:
        what = "password" if "" in missing else f"{missing[0][1:].rsplit('#', 1)[0]} parameter"
        raise ConfigError(
            f"the destination URL has {MASK} for its {what} but no stored value: {MASK} keeps "
            "the saved secret of an existing source; write the secret itself (or "
            "${ENV_VAR} in a source file)"
        )
    if old.server() != parts.server():
        raise ConfigError(
            f"the destination's server or user changed: type its password again ({MASK} "
            "keeps the saved secret only for the same server and user)"
        )
    return parts.rebuilt({slot: kept[slot] for slot in masked})


def expand_env(url: str, environ: Mapping[str, str] | None = None) -> str:
    """`${NAME}` in a destination URL from a source file, replaced by the environment variable.

    A reference that is the whole URL is replaced as it is; inside a URL the value is
    percent-encoded, so a password may hold any character (`@`, `/`, `:`). Only for files read
    by the CLI: over the web or the API it would hand the server's environment to any editor.
    """
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(
                f"the destination refers to ${{{name}}} but the environment has no variable "
                f"{name} (export it before running pinads, or write the value in the file)"
            )
        return env[name]

    whole = _ENV_REFERENCE.fullmatch(url.strip())
    if whole is not None:
        return value(whole)
    return _ENV_REFERENCE.sub(lambda m: quote(value(m), safe=""), url)
