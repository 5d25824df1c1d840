"""Size limits of a source document, checked before any other validation.

A source names at most `MAX_LIST_ITEMS` metrics, attributes, breakdowns or accounts (no dataset
offers more) and its settings are short strings. A document past these limits is refused in
one pass over it, before pydantic, the catalog or "did you mean" suggestions spend time on
every item: validation work stays linear in the document and small.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pinads.catalog.model import Problem

__all__ = [
    "MAX_DOCUMENT_VALUES",
    "MAX_LIST_ITEMS",
    "MAX_NAME_CHARS",
    "MAX_SETTINGS",
    "MAX_STRING_CHARS",
    "size_problems",
]

MAX_LIST_ITEMS = 1_000
MAX_STRING_CHARS = 4_096
MAX_NAME_CHARS = 200  # one metric, attribute or account id
MAX_SETTINGS = 64  # keys of the document (the model has ~20)
MAX_DOCUMENT_VALUES = 10_000


def size_problems(document: Mapping[str, Any]) -> list[Problem]:
    """The settings of `document` that are too long or too large, one problem each (empty when
    all fit). Nested values count towards `MAX_DOCUMENT_VALUES` (walked without recursion)."""
    if len(document) > MAX_SETTINGS:
        return [Problem("source", f"has {len(document)} settings: a source has at most ~20")]
    problems: list[Problem] = []
    budget = MAX_DOCUMENT_VALUES
    for key, value in document.items():
        field = str(key)[:MAX_NAME_CHARS]
        problem, used = _value_problem(field, value, budget)
        budget -= used
        if problem is not None:
            problems.append(problem)
        if budget <= 0:
            return [*problems, _too_many_values()]
    return problems


def _value_problem(field: str, value: Any, budget: int) -> tuple[Problem | None, int]:
    """The problem of one setting (or None) and how many values it holds, stopping at budget."""
    used = 0
    pending = [value]
    while pending and used < budget:
        item = pending.pop()
        used += 1
        if isinstance(item, str) and len(item) > MAX_STRING_CHARS:
            return Problem(field, _long_text(len(item))), used
        if isinstance(item, list | tuple):
            if len(item) > MAX_LIST_ITEMS:
                return Problem(field, _long_list(len(item))), used
            pending.extend(item)
        elif isinstance(item, Mapping):
            if len(item) > MAX_SETTINGS:
                return Problem(field, f"has {len(item)} keys: at most {MAX_SETTINGS}"), used
            pending.extend(item.values())
    return None, used


def _long_text(length: int) -> str:
    return f"is {length:,} characters long: at most {MAX_STRING_CHARS:,}; shorten it"


def _long_list(length: int) -> str:
    return (
        f"lists {length:,} items: at most {MAX_LIST_ITEMS:,} (no dataset offers more); "
        "remove the extra ones"
    )


def _too_many_values() -> Problem:
    return Problem(
        "source", f"holds more than {MAX_DOCUMENT_VALUES:,} values: a source is a short mapping"
    )
