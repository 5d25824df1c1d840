"""Ad account names for the pages, by authorizer, read once and kept a few minutes: a list of
sources shows names, not raw ids, without one Pinterest call per source or per page view."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from pinads.auth import AdAccount
from pinads.errors import PinadsError

__all__ = ["AccountNames"]

TTL_SECONDS = 600.0
Lister = Callable[[str], list[AdAccount]]


class AccountNames:
    """Account id -> name per authorizer label; an authorizer that cannot list its accounts
    now (revoked, Pinterest down) is remembered as such for the same time: ids are shown."""

    def __init__(self, ttl_seconds: float = TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._names: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def remember(self, authorizer: str, accounts: Iterable[AdAccount]) -> None:
        with self._lock:
            self._names[authorizer] = (time.monotonic(), {a.id: a.name for a in accounts})

    def of(self, authorizer: str, lister: Lister) -> dict[str, str]:
        with self._lock:
            found = self._names.get(authorizer)
        if found is not None and time.monotonic() - found[0] < self._ttl:
            return found[1]
        try:
            accounts = lister(authorizer)
        except PinadsError:
            accounts = []
        self.remember(authorizer, accounts)
        return {a.id: a.name for a in accounts}
