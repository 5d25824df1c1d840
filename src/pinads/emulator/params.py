"""Spec-driven query parameter parsing: every declared parameter is typed, enum-checked and
bounded from the spec extract; a violation is the operation's 400 error, as Pinterest does."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from starlette.requests import Request

from pinads.emulator.errors import ApiProblemError
from pinads.emulator.spec import operation

__all__ = ["INVALID_MESSAGES", "invalid", "parse_query"]

INVALID_MESSAGES = {
    "ad_account/analytics": "Invalid ad account analytics parameters.",
    "ad_account_targeting_analytics/get": "Invalid ad account analytics parameters.",
    "campaigns/analytics": "Invalid ad account campaign analytics parameters.",
    "campaign_targeting_analytics/get": "Invalid ad account campaign analytics parameters.",
    "ad_groups/analytics": "Invalid ad account group analytics parameters.",
    "ad_groups_targeting_analytics/get": "Invalid ad account group analytics parameters.",
    "ads/analytics": "Invalid ad account ads analytics parameters.",
    "ad_targeting_analytics/get": "Invalid ad account ads analytics parameters.",
    "product_groups/analytics": "Invalid ad account ads analytics parameters.",
    "analytics/create_report": "Invalid ad account ads analytics parameters.",
    "analytics/get_report": "Invalid ad account ads analytics parameters.",
    "campaigns/list": "Invalid ad account campaign parameters.",
    "ad_groups/list": "Invalid ad account group parameters.",
    "ads/list": "Invalid ad account ads parameters.",
}
_ID_ARRAY = re.compile(r"^\d+$")


def invalid(operation_id: str) -> ApiProblemError:
    """The operation's "invalid parameters" error (HTTP 400, code 400 as in the spec)."""
    return ApiProblemError(400, 400, INVALID_MESSAGES.get(operation_id, "Invalid parameters."))


def _scalar(operation_id: str, schema: dict[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    value: Any = raw
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            raise invalid(operation_id)
        value = int(raw)
    elif kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise invalid(operation_id)
        value = raw.lower() == "true"
    elif schema.get("format") == "date":
        try:
            value = date.fromisoformat(raw)
        except ValueError as exc:
            raise invalid(operation_id) from exc
    _check_bounds(operation_id, schema, value)
    return value


def _check_bounds(operation_id: str, schema: dict[str, Any], value: Any) -> None:
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        raise invalid(operation_id)
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise invalid(operation_id)
        if "maximum" in schema and value > schema["maximum"]:
            raise invalid(operation_id)
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise invalid(operation_id)
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise invalid(operation_id)


def _array(operation_id: str, param: dict[str, Any], raws: list[str]) -> list[Any]:
    schema = param["schema"]
    # explode=false (columns, targeting_types): one comma-separated value. explode=true (ids,
    # entity_statuses): repeated keys, and Pinterest also takes each key comma-joined
    # (`campaign_ids=1,2`, what its own Python SDK sends), so both forms, even mixed, count.
    if not param["explode"] and len(raws) > 1:
        raise invalid(operation_id)
    items = [item for raw in raws for item in raw.split(",")]
    item_schema = schema.get("items", {})
    values = [_scalar(operation_id, item_schema, item) for item in items]
    if param["name"].endswith("_ids") and not all(_ID_ARRAY.match(str(v)) for v in values):
        raise invalid(operation_id)
    if len(values) < schema.get("minItems", 1) or len(values) > schema.get("maxItems", 10**9):
        raise invalid(operation_id)
    return values


def parse_query(request: Request, operation_id: str) -> dict[str, Any]:
    """Declared query parameters, parsed; defaults filled; missing required -> 400."""
    out: dict[str, Any] = {}
    for param in operation(operation_id)["parameters"]:
        if param["in"] != "query":
            continue
        name, schema = param["name"], param["schema"]
        raws = request.query_params.getlist(name)
        if not raws or raws == [""]:
            if param["required"]:
                raise invalid(operation_id)
            if "default" in schema:
                out[name] = schema["default"]
            continue
        if schema.get("type") == "array":
            out[name] = _array(operation_id, param, raws)
        elif len(raws) > 1:
            raise invalid(operation_id)
        else:
            out[name] = _scalar(operation_id, schema, raws[0])
    return out
