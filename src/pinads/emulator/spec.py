"""Read access to the compact spec extract (`spec_extract.json`, generated from Pinterest's
OpenAPI description by `scripts/gen_spec_extract.py`). Every enum and limit the emulator checks
comes from here, never from pinads' client-side catalog."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["enum_of", "extract", "operation", "param_max_items", "param_schema"]


@cache
def extract() -> dict[str, Any]:
    """The whole extract (parsed once per process)."""
    text = resources.files("pinads.emulator").joinpath("spec_extract.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def operation(operation_id: str) -> dict[str, Any]:
    """One operation: method, path, ratelimit_category, scopes, parameters, request_body."""
    op: dict[str, Any] = extract()["operations"][operation_id]
    return op


def param_schema(operation_id: str, name: str) -> dict[str, Any]:
    """The schema of query/path parameter `name` of an operation ({} when absent)."""
    for param in operation(operation_id)["parameters"]:
        if param["name"] == name:
            schema: dict[str, Any] = param["schema"]
            return schema
    return {}


@cache
def enum_of(operation_id: str, name: str) -> frozenset[str]:
    """Allowed values of a parameter (for arrays: of its items), as strings."""
    schema = param_schema(operation_id, name)
    values = schema.get("enum") or schema.get("items", {}).get("enum") or []
    return frozenset(str(v) for v in values)


def param_max_items(operation_id: str, name: str) -> int | None:
    """`maxItems` of an array parameter, if the spec gives one."""
    value = param_schema(operation_id, name).get("maxItems")
    return int(value) if value is not None else None
