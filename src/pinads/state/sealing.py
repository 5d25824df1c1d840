"""Destination secrets at rest: a source's `config` keeps its destination URL redacted
(`***` for the password and secret parameters, see `pinads.secret_urls`); the clear URL is kept
only as a ciphertext in `sources.destination_enc`, made with the installation's secret key (the
one that encrypts tokens: PINADS_SECRET_KEY or PINADS_HOME/secret.key).

The cipher is passed in (a `SecretBox` of secretbox.py, or a test's own) and made on first
use, so opening a control DB whose destinations hold no secret never creates a key file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import SecretStr

from pinads.errors import StateError
from pinads.secret_urls import has_secrets, redact_url

__all__ = ["CipherFactory", "DestinationSealer", "SecretCipher"]


class SecretCipher(Protocol):
    """Authenticated encryption of short strings (pinads.auth.SecretBox)."""

    def encrypt(self, secret: str, /) -> str: ...

    def decrypt(self, ciphertext: str, /) -> SecretStr: ...


CipherFactory = Callable[[], SecretCipher]


class DestinationSealer:
    """Splits a config document's destination into what is stored in clear (redacted) and
    what is encrypted, and puts them back together for the one place that connects."""

    def __init__(self, cipher: CipherFactory | None) -> None:
        self._factory = cipher
        self._cipher: SecretCipher | None = None

    def _box(self) -> SecretCipher:
        if self._cipher is None:
            if self._factory is None:
                raise StateError(
                    "a destination password must be encrypted but this control DB was opened "
                    "without the secret key: open it through pinads (open_control_db)"
                )
            self._cipher = self._factory()
        return self._cipher

    def seal(self, config: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The config with its destination redacted, and the clear destination encrypted
        (None when the destination holds no secret)."""
        document = dict(config)
        destination = document.get("destination")
        if not isinstance(destination, str) or not has_secrets(destination):
            return document, None
        document["destination"] = redact_url(destination)
        sealed = self._box().encrypt(destination)
        return document, sealed

    def destination(self, config: Mapping[str, Any], sealed: str | None, *, source: str) -> str:
        """The clear destination URL of a stored config (`sealed`: its ciphertext)."""
        if sealed is None:
            return str(config.get("destination", "duckdb"))
        try:
            return self._box().decrypt(sealed).get_secret_value()
        except StateError as exc:
            raise StateError(
                f"the destination password of source {source!r} cannot be decrypted with this "
                "installation's secret key (PINADS_SECRET_KEY or secret.key in PINADS_HOME): "
                "restore the original key, or save the destination again with its password "
                f"(`pinads sources edit {source}`)"
            ) from exc
