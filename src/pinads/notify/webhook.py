"""Webhook delivery: a JSON POST signed with HMAC-SHA256, retried with backoff.

The body is the event's JSON; `X-Pinads-Signature-256: sha256=<hex>` is the HMAC-SHA256 of the
exact body bytes with the channel's shared secret, so a receiver recomputes it over what it
read and compares in constant time (the body's `at` lets it refuse replays). Timeouts,
connection errors, 429 and 5xx are retried (1 s, 2 s, 4 s, ... between attempts); another 4xx
is the receiver refusing, and is not.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pinads.errors import redact
from pinads.notify.events import Event

__all__ = ["SIGNATURE_HEADER", "WebhookConfig", "send_webhook", "signature"]

log = logging.getLogger("pinads.notify")
SIGNATURE_HEADER = "X-Pinads-Signature-256"


class WebhookConfig(BaseModel):
    """Where a webhook goes (its secret is stored apart, encrypted)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://", max_length=2000, description="The receiver's URL.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=4, ge=1, le=10)


def signature(secret: SecretStr, body: bytes) -> str:
    digest = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _retriable(response: httpx.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


def send_webhook(
    config: WebhookConfig,
    event: Event,
    *,
    secret: SecretStr | None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None],
) -> str | None:
    """Deliver `event`; None when the receiver took it (2xx), else why it did not."""
    body = event.body()
    headers = {"Content-Type": "application/json", "X-Pinads-Event": event.kind.value}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    problem = "not sent"
    with httpx.Client(transport=transport, timeout=config.timeout_seconds) as http:
        for attempt in range(1, config.max_attempts + 1):
            if attempt > 1:
                sleep(2.0 ** (attempt - 2))
            try:
                response = http.post(config.url, content=body, headers=headers)
            except httpx.HTTPError as exc:  # timeouts and connection errors: try again
                problem = f"{type(exc).__name__}: {redact(str(exc))}"
                continue
            if response.is_success:
                return None
            problem = f"HTTP {response.status_code}"
            if not _retriable(response):
                break
    log.warning("webhook %s failed after retries: %s", redact(config.url), problem)
    return problem
