"""What the OpenAPI document says beyond the routes' signatures: the error answers every
route can give, and the source config's JSON schema as the body of the source routes (the
body is read as a document, so every problem is reported at once as one 400)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from pinads.sources import SourceConfig

__all__ = ["ERROR_RESPONSES", "SOURCE_BODY", "ErrorBody", "add_source_schema"]


class ErrorBody(BaseModel):
    """Every error answer: one line saying what is wrong and what to do."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    detail: str


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The request is not valid: the detail lists every problem and what to change."),
    401: _error("No credentials, or an unknown, expired or revoked API token."),
    403: _error("The credentials' role may not do this, or the CSRF token is missing."),
    404: _error("No such source, authorizer, dataset or job."),
    409: _error("The state refuses it: re-authorization needed, or the destination refused."),
    413: _error("The request body is larger than 1 MiB."),
    429: _error("Too many failed logins or requests from this address: retry later."),
}
SOURCE_SCHEMA = "SourceConfig"
SOURCE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{SOURCE_SCHEMA}"}}
        },
    }
}


def _add_errors(responses: dict[str, Any]) -> None:
    """Every API route (other routers' included) documents the error answers."""
    for status, answer in ERROR_RESPONSES.items():
        responses.setdefault(
            str(status),
            {
                "description": answer["description"],
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                },
            },
        )


def add_source_schema(document: dict[str, Any]) -> dict[str, Any]:
    """Publish SourceConfig's JSON schema (and the models it uses) in the components."""
    schema = SourceConfig.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas[SOURCE_SCHEMA] = schema
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    ref = SOURCE_BODY["requestBody"]["content"]["application/json"]["schema"]
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            if path.startswith("/api/") and path != "/api/health":
                _add_errors(operation["responses"])
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {})
            if body.get("schema", {}).get("$ref") == ref["$ref"]:
                body["schema"] = dict(ref)  # FastAPI merged its free-form object beside it
    return document
