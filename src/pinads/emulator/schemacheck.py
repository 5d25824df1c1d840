"""A small validator for the pruned JSON schemas of the spec extract (request bodies).

Supports what the extract keeps: type, enum, pattern, maxLength, minimum, maximum, minItems,
maxItems, items, properties, required, allOf, nullable. Unknown properties are allowed, as
OpenAPI objects allow them by default.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["schema_errors"]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _type_ok(value: Any, kind: str | None) -> bool:
    if kind is None or kind not in _TYPES:
        return True
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def _scalar_bounds(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    errors = []
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above {schema['maximum']}")
    return errors


def _bounds(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of the allowed values")
    errors.extend(_scalar_bounds(value, schema, path))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 10**9):
            errors.append(f"{path}: {len(value)} items is out of range")
        for i, item in enumerate(value):
            errors.extend(schema_errors(item, schema.get("items", {}), f"{path}[{i}]"))
    return errors


def schema_errors(value: Any, schema: dict[str, Any], path: str = "body") -> list[str]:
    """Every violation of `schema` by `value` (empty when valid)."""
    if value is None and schema.get("nullable"):
        return []
    errors: list[str] = []
    for part in schema.get("allOf", []):
        errors.extend(schema_errors(value, part, path))
    if not _type_ok(value, schema.get("type")):
        return [*errors, f"{path}: expected {schema.get('type')}"]
    errors.extend(_bounds(value, schema, path))
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}.{name}: required")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errors.extend(schema_errors(value[name], sub, f"{path}.{name}"))
    return errors
