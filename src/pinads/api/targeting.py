"""Pinterest's targeting options: the names of targeting codes, e.g. DMA 501 -> "U.S.: New York"
(`GET /resources/targeting/{targeting_type}`, answered as a list of {code: name} objects).

They are reference data, the same for every ad account, so each is read once per process per
API and targeting type and shared by every run and thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType

from pinads.api.client import PinterestClient
from pinads.errors import ExtractError

__all__ = ["clear_targeting_cache", "targeting_names"]

_CACHE: dict[tuple[str, str], Mapping[str, str]] = {}
_LOCK = threading.Lock()


def targeting_names(
    client: PinterestClient, targeting_type: str, *, ad_account_id: str | None = None
) -> tuple[Mapping[str, str], int]:
    """(code -> name, API calls made): one call the first time in this process, none after."""
    key = (client.app.api_url, targeting_type)
    with _LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found, 0
    params = {"ad_account_id": ad_account_id} if ad_account_id else {}
    payload = client.get_json(f"/resources/targeting/{targeting_type}", params)
    names = MappingProxyType(_parse(payload, targeting_type))
    with _LOCK:
        _CACHE.setdefault(key, names)
    return names, 1


def _parse(payload: object, targeting_type: str) -> dict[str, str]:
    if payload is None:  # the spec's response is nullable: no options
        return {}
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise ExtractError(
            f"Pinterest's targeting options for {targeting_type} are not a list of "
            "{code: name} objects: report this to pinads with the request id from the debug log"
        )
    return {str(code): str(name) for entry in payload for code, name in entry.items()}


def clear_targeting_cache() -> None:
    """Forget every name read (a test that changes the API behind the same URL)."""
    with _LOCK:
        _CACHE.clear()
