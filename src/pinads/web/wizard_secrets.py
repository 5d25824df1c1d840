"""The wizard's destination password: never in a page, a hidden field or the session cookie.

The draft travels from step to step in a hidden field (and in the session while an authorizer
is added), so once the destination step is posted the draft keeps the URL redacted (`***`) and
the clear URL sealed with the installation's secret key (`destination_sealed`, a Fernet token:
unreadable and unforgeable without the key). Check and Save open the seal; `***` left in an
edited source's URL takes the saved password (`pinads.runner.service.saved_destination`).
"""

from __future__ import annotations

from typing import Any

from pinads.errors import StateError
from pinads.runner import service as runs
from pinads.secret_urls import has_masked_secrets, has_secrets, redact_url, restore_secrets
from pinads.state import SecretBox
from pinads.web.context import WebContext

__all__ = ["SEALED_KEY", "clear_destination", "seal_destination"]

SEALED_KEY = "destination_sealed"


def _unsealed(ctx: WebContext, draft: dict[str, Any]) -> str | None:
    sealed = draft.get(SEALED_KEY)
    if not isinstance(sealed, str):
        return None
    try:
        return SecretBox.from_settings(ctx.settings).decrypt(sealed).get_secret_value()
    except StateError:  # sealed under another key (it changed): the password is asked again
        return None


def _typed(ctx: WebContext, draft: dict[str, Any]) -> str:
    """The draft's destination with `***` taken from the seal where it has them."""
    shown = str(draft.get("destination") or "duckdb")
    previous = _unsealed(ctx, draft)
    if previous is not None and has_masked_secrets(shown):
        return restore_secrets(shown, previous)
    return shown


def seal_destination(ctx: WebContext, draft: dict[str, Any]) -> None:
    """After a step's form is applied: a destination with a password in clear is redacted in
    the draft and its clear form sealed beside it."""
    shown = str(draft.get("destination") or "duckdb")
    if not has_secrets(shown):
        if not has_masked_secrets(shown):
            draft.pop(SEALED_KEY, None)  # no secret any more (e.g. duckdb)
        return
    clear = _typed(ctx, draft)
    draft[SEALED_KEY] = SecretBox.from_settings(ctx.settings).encrypt(clear)
    draft["destination"] = redact_url(clear)


def clear_destination(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> str:
    """The destination URL to check or save: the sealed password, else (an edit) the saved
    one. ConfigError when a `***` has nothing to take."""
    url = _typed(ctx, draft)
    if editing and has_masked_secrets(url):
        return runs.saved_destination(str(draft.get("name", "")), url, settings=ctx.settings)
    return restore_secrets(url, None)
