"""Token persistence: encrypt a `TokenSet` for the control DB, decrypt it back, and the
`TokenSink` a client writes rotated tokens through."""

from __future__ import annotations

import logging

from pinads.api import OAuthApp, TokenSet
from pinads.errors import AuthError
from pinads.state import AuthorizerRecord, AuthorizerRepository, StoredTokens
from pinads.state.secretbox import SecretBox

__all__ = ["DbTokenSink", "app_of", "seal_tokens", "tokens_of"]

log = logging.getLogger(__name__)


def seal_tokens(box: SecretBox, tokens: TokenSet) -> StoredTokens:
    return StoredTokens(
        access_token_enc=box.encrypt(tokens.access_token),
        refresh_token_enc=box.encrypt(tokens.refresh_token),
        access_expires_at=tokens.access_expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
        scopes=tokens.scopes,
    )


def tokens_of(box: SecretBox, record: AuthorizerRecord) -> TokenSet:
    """The decrypted token set, or AuthError when the authorizer was revoked."""
    if (
        record.access_token_enc is None
        or record.refresh_token_enc is None
        or record.access_expires_at is None
    ):
        raise AuthError(
            f"authorizer {record.label!r} was revoked: re-authorize this authorizer with "
            f"`pinads auth reauthorize {record.label}`"
        )
    return TokenSet(
        access_token=box.decrypt(record.access_token_enc),
        access_expires_at=record.access_expires_at,
        refresh_token=box.decrypt(record.refresh_token_enc),
        refresh_expires_at=record.refresh_expires_at,
        scopes=record.scopes,
    )


def app_of(box: SecretBox, record: AuthorizerRecord) -> OAuthApp:
    return OAuthApp(
        client_id=record.client_id,
        client_secret=box.decrypt(record.client_secret_enc),
        api_url=record.api_url,
    )


class DbTokenSink:
    """Writes every new token set of one authorizer to the control DB in one committed
    transaction, before the client uses it (the previous refresh token is dead by then)."""

    def __init__(self, repository: AuthorizerRepository, box: SecretBox, authorizer_id: int):
        self._repository = repository
        self._box = box
        self.authorizer_id = authorizer_id

    def save(self, tokens: TokenSet) -> None:
        self._repository.save_tokens(self.authorizer_id, seal_tokens(self._box, tokens))
        log.debug("saved rotated tokens of authorizer %s", self.authorizer_id)
