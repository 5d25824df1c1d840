"""The whole exception tree of pinads.

```text
PinadsError
├── ConfigError            the user must change the source/config (CLI exit 2; shown on the form)
├── AuthError              re-authorization needed (refresh token invalid/expired/revoked)
├── AccessDeniedError      account role or token scope insufficient (names account, roles, scope)
├── ApiError               .status .code .message .request_id — never a token or secret URL
│   ├── RetriableApiError  5xx, timeouts, resets (retried)
│   │   ├── RateLimitedError  .retry_after_seconds
│   │   └── UnreachableError  no connection at all (refused, unknown host): retried less
│   └── FatalApiError      other 4xx
├── ExtractError           unexpected payload, report FAILED/EXPIRED
│   └── NoDataError        a run got no rows and its source does not allow empty data
├── LoadError              destination failure (wraps driver errors with `from`)
└── StateError             control DB problem, concurrent run refused
```

Every message is one line that says the cause and what to do next. Messages never contain
tokens or client secrets: `redact()` is applied by the constructors of errors that may carry
text from the outside world.
"""

from __future__ import annotations

import re

__all__ = [
    "AccessDeniedError",
    "ApiError",
    "AuthError",
    "ConfigError",
    "ExtractError",
    "FatalApiError",
    "LoadError",
    "NoDataError",
    "PinadsError",
    "RateLimitedError",
    "RetriableApiError",
    "StateError",
    "UnreachableError",
    "redact",
]

# Bearer tokens, `access_token=...`, `refresh_token=...`, `client_secret=...`, `code=...` in URLs
# or bodies, Pinterest-style tokens (pina_/pinr_/pinc_ prefixes) and URL passwords
# (`postgresql://user:PASSWORD@host`) are replaced before display.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]+"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|code|token|password)[\"']?\s*[=:]\s*[\"']?)"
        r"[^&\s\"',}]+"
    ),
    re.compile(r"()\bpin[a-z]_[A-Za-z0-9._-]{8,}"),
    # The password of a URL's user (a destination or database URL a driver quotes back): up to
    # the last `@` before a space, as a password may hold an unencoded / ? or # (this may hide
    # a little more than the password, never less).
    re.compile(r"(://[^/\s:@]*:)\S+(?=@)"),
)


def redact(text: str) -> str:
    """Return `text` with anything that looks like a credential replaced by `***`."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}***", text)
    return text


class PinadsError(Exception):
    """Base of every error pinads raises on purpose; `str()` is the one-line user message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(PinadsError):
    """The user must change a configuration value."""

    exit_code = 2


class AuthError(PinadsError):
    """The authorizer needs to be re-authorized (refresh token invalid, expired or revoked)."""

    exit_code = 3


class AccessDeniedError(PinadsError):
    """The token's user lacks a role on an ad account, or the token lacks a scope."""

    exit_code = 3


class ApiError(PinadsError):
    """Pinterest answered with an error (or did not answer)."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class RetriableApiError(ApiError):
    """A transient failure (5xx, timeout, connection reset) that is worth retrying."""


class UnreachableError(RetriableApiError):
    """No connection could be made (refused, unknown host). Worth a retry or two (a network
    blip), but it is mostly a wrong URL or a server that is down: retried fewer times."""


class RateLimitedError(RetriableApiError):
    """Pinterest answered 429; `retry_after_seconds` is its hint when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        code: int | None = None,
        request_id: str | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.retry_after_seconds = retry_after_seconds


class FatalApiError(ApiError):
    """A 4xx that retrying will not fix."""


class ExtractError(PinadsError):
    """Pinterest's answer could not be used (unexpected payload, report FAILED or EXPIRED)."""

    exit_code = 5


class NoDataError(ExtractError):
    """A run retrieved no rows and its source does not allow empty data (the message says
    why there were none)."""


class LoadError(PinadsError):
    """The destination failed or refused the write."""

    exit_code = 6


class StateError(PinadsError):
    """The control database refused an operation (e.g. a concurrent run of the same source)."""

    exit_code = 7
