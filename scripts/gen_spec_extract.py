"""Generate the emulator's compact extract of Pinterest's OpenAPI description.

The emulator must not share the client's idea of the API (it exists to catch the client's
mistakes), so it reads parameter enums, limits and rate-limit categories from this extract,
which is derived only from `spec/pinterest-openapi.json`.

Usage: python scripts/gen_spec_extract.py [--check]
`--check` exits 1 when the committed extract differs from what the spec gives (tests call it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "spec" / "pinterest-openapi.json"
EXTRACT_PATH = ROOT / "src" / "pinads" / "emulator" / "spec_extract.json"

# The operations the emulator implements (operationId).
OPERATION_IDS = (
    "oauth/token",
    "token/revoke",
    "user_account/get",
    "ad_accounts/list",
    "ad_accounts/get",
    "campaigns/list",
    "ad_groups/list",
    "ads/list",
    "keywords/get",
    "audiences/list",
    "customer_lists/list",
    "conversion_tags/list",
    "product_group_promotions/list",
    "ad_account/analytics",
    "campaigns/analytics",
    "ad_groups/analytics",
    "ads/analytics",
    "product_groups/analytics",
    "ad_account_targeting_analytics/get",
    "campaign_targeting_analytics/get",
    "ad_groups_targeting_analytics/get",
    "ad_targeting_analytics/get",
    "analytics/create_report",
    "analytics/get_report",
    "targeting_options/get",
)

# Schema keywords kept in the extract; descriptions and examples are dropped to keep it small.
_KEEP = {
    "type",
    "enum",
    "items",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "default",
    "pattern",
    "maxLength",
    "format",
    "properties",
    "required",
    "allOf",
    "oneOf",
    "anyOf",
    "additionalProperties",
    "nullable",
}


def _resolve(spec: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> Any:
    if isinstance(node, list):
        return [_resolve(spec, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            return {}
        target: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(spec, target, seen | {ref})
    return {k: _resolve(spec, v, seen) for k, v in node.items()}


def _prune(node: Any) -> Any:
    if isinstance(node, list):
        return [_prune(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _prune(sub) for name, sub in value.items()}
        elif key in _KEEP:
            out[key] = _prune(value)
    return out


def _parameter(spec: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    param = _resolve(spec, raw)
    return {
        "name": param["name"],
        "in": param["in"],
        "required": bool(param.get("required", False)),
        "explode": param.get("explode", True),
        "schema": _prune(param.get("schema", {})),
    }


def _operation(spec: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "operation_id": op["operationId"],
        "method": method.upper(),
        "path": path,
        "ratelimit_category": op.get("x-ratelimit-category"),
        "scopes": sorted(
            {scope for sec in op.get("security", []) for scope in sec.get("pinterest_oauth2", [])}
        ),
        "parameters": [_parameter(spec, raw) for raw in op.get("parameters", [])],
    }
    body = op.get("requestBody")
    if body:
        content = body.get("content", {})
        media = "application/json" if "application/json" in content else next(iter(content))
        entry["request_body"] = {
            "media_type": media,
            "schema": _prune(_resolve(spec, content[media]["schema"])),
        }
    return entry


def build_extract(spec: dict[str, Any]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") in OPERATION_IDS:
                operations[op["operationId"]] = _operation(spec, path, method, op)
    missing = sorted(set(OPERATION_IDS) - set(operations))
    if missing:
        raise SystemExit(f"operations missing from the spec: {missing}")
    schemas = spec["components"]["schemas"]
    return {
        "spec_version": spec["info"]["version"],
        "operations": operations,
        "enums": {
            name: schemas[name]["enum"]
            for name in (
                "Granularity",
                "MetricsReportingLevel",
                "ReportingColumnAsync",
                "BusinessAccessRole",
                "BulkReportingJobStatus",
            )
        },
    }


def render(extract: dict[str, Any]) -> str:
    return json.dumps(extract, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    spec = json.loads(SPEC_PATH.read_text())
    text = render(build_extract(spec))
    if "--check" in argv:
        current = EXTRACT_PATH.read_text() if EXTRACT_PATH.exists() else ""
        if current != text:
            print(f"{EXTRACT_PATH} is stale: run python scripts/gen_spec_extract.py")
            return 1
        return 0
    EXTRACT_PATH.write_text(text)
    print(f"wrote {EXTRACT_PATH} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
