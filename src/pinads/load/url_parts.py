"""What every destination URL reader shares: the accepted-form error and query parameters."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qsl

__all__ = ["FormError", "query_params"]


class FormError(ValueError):
    """The URL is not of an accepted form (its message lists them)."""


def query_params(query: str) -> dict[str, str]:
    """The URL's parameters; ValueError if one is given more than once."""
    pairs = parse_qsl(query, keep_blank_values=True)
    repeated = sorted(name for name, count in Counter(k for k, _ in pairs).items() if count > 1)
    if repeated:
        raise ValueError(f"parameters {repeated} are given more than once; keep one of each")
    return dict(pairs)
