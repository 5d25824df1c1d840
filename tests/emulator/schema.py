"""Validate emulator responses against the response schemas of Pinterest's OpenAPI description.

    from .schema import assert_matches_spec, assert_response_matches_spec

    assert_matches_spec("campaigns/list", 200, response.json())
    assert_matches_spec(("GET", "/v5/ad_accounts/123/campaigns"), 200, response.json())
    assert_response_matches_spec(response)  # method, path and status from an httpx.Response

The spec (`spec/pinterest-openapi.json`, OpenAPI 3.0) is loaded and converted once per process:
`nullable: true` becomes `anyOf [schema, {"type": "null"}]` and `$ref`s point into a registry
holding the converted spec, so jsonschema (Draft 4, OpenAPI 3.0's dialect) resolves them.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = [
    "SPEC_PATH",
    "assert_matches_spec",
    "assert_response_matches_spec",
    "response_schema",
    "spec_operation",
]

SPEC_PATH = Path(__file__).resolve().parents[2] / "spec" / "pinterest-openapi.json"
_SPEC_URI = "urn:pinterest-openapi"
_HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_MAX_REPORTED_ERRORS = 5


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema Draft 4 (nullable, refs into the registry)."""
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: (_SPEC_URI + value if key == "$ref" and isinstance(value, str) else _convert(value))
        for key, value in node.items()
        if key != "nullable"
    }
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text("utf-8"))
    return spec


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = DRAFT4.create_resource(_convert(_spec()))
    registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
    return registry


@cache
def _operations() -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path template)."""
    found: dict[str, tuple[str, str]] = {}
    for template, item in _spec()["paths"].items():
        for method in _HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = (method.upper(), template)
    return found


@cache
def _path_patterns() -> tuple[tuple[re.Pattern[str], str, int], ...]:
    """(regex, template, literal segment count) with literal-rich templates first."""
    rows = []
    for template in _spec()["paths"]:
        pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))
        literal = sum(1 for part in template.split("/") if part and "{" not in part)
        rows.append((pattern, template, literal))
    return tuple(sorted(rows, key=lambda row: -row[2]))


def spec_operation(operation: str | tuple[str, str]) -> tuple[str, str]:
    """(METHOD, path template) of an operationId or of a concrete (method, `/v5/...` path)."""
    if isinstance(operation, str):
        try:
            return _operations()[operation]
        except KeyError:
            raise AssertionError(f"no operationId {operation!r} in the spec") from None
    method, path = operation[0].upper(), operation[1].split("?", 1)[0]
    path = path.removeprefix("/v5").rstrip("/") or "/"
    if path in _spec()["paths"]:
        return method, path
    for pattern, template, _ in _path_patterns():
        if pattern.fullmatch(path) and method.lower() in _spec()["paths"][template]:
            return method, template
    raise AssertionError(f"{method} {operation[1]} matches no operation of the spec")


def response_schema(operation: str | tuple[str, str], status: int) -> dict[str, Any] | None:
    """The converted JSON schema of a response, None when the spec declares no JSON body.

    Raises AssertionError when the spec declares neither this status nor a default."""
    method, template = spec_operation(operation)
    responses = _spec()["paths"][template][method.lower()]["responses"]
    declared = (
        responses.get(str(status))
        or responses.get(f"{str(status)[0]}XX")
        or responses.get("default")
    )
    if declared is None:
        raise AssertionError(
            f"{method} {template} does not declare status {status} (has {sorted(responses)})"
        )
    schema = declared.get("content", {}).get("application/json", {}).get("schema")
    return None if schema is None else dict(_convert(schema))


def _validator(schema: dict[str, Any]) -> Draft4Validator:
    return Draft4Validator(schema, registry=_registry())


def assert_matches_spec(operation: str | tuple[str, str], status: int, body: Any) -> None:
    """Fail with the first few schema violations when `body` does not match the spec's
    response schema for (operation, status). `body` is parsed JSON (bytes/str are parsed)."""
    if isinstance(body, bytes | str):
        body = json.loads(body) if body else None
    schema = response_schema(operation, status)
    if schema is None:
        assert body in (None, b"", ""), f"{operation} {status}: spec declares no JSON body"
        return
    errors = sorted(_validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in errors[:_MAX_REPORTED_ERRORS]
        ]
        more = len(errors) - _MAX_REPORTED_ERRORS
        if more > 0:
            lines.append(f"  ... and {more} more")
        raise AssertionError(f"{operation} {status} violates the spec:\n" + "\n".join(lines))


def assert_response_matches_spec(response: httpx.Response) -> None:
    """`assert_matches_spec` with method, path, status and body taken from the response."""
    request = response.request
    body = response.content
    assert_matches_spec((request.method, request.url.path), response.status_code, body)
