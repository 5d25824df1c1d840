"""The catalog against Pinterest's own OpenAPI description: everything it offers is allowed.

The catalog is our declaration; this test reads `spec/pinterest-openapi.json` directly (not the
emulator's extract) and fails on any endpoint, parameter, column, level or targeting type the
spec does not allow where the catalog uses it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pinads.catalog import (
    ASYNC_MAX_IDS,
    ATTRIBUTION_WINDOW_DAYS,
    CONVERSION_REPORT_TIMES,
    DATASETS,
    MAX_IDS_PER_CALL,
    AttributeSource,
    ColumnType,
    Dataset,
    DatasetKind,
    FieldEncoding,
    Granularity,
    limits,
)
from pinads.catalog.breakdowns import targeting_options_type

ROOT = Path(__file__).resolve().parents[2]
ANALYTICS = [d for d in DATASETS.values() if d.kind is DatasetKind.ANALYTICS]
ENTITIES = [d for d in DATASETS.values() if d.kind is DatasetKind.ENTITY]
SYNC = [d for d in ANALYTICS if d.sync is not None]
ASYNC = [d for d in ANALYTICS if d.async_report is not None]


@cache
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "spec" / "pinterest-openapi.json").read_text())
    return data


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def properties(schema: Any) -> dict[str, Any]:
    """Properties of a schema, following $ref and allOf/oneOf/anyOf."""
    schema = resolve(schema)
    found: dict[str, Any] = {}
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            found.update(properties(sub))
    found.update({name: resolve(sub) for name, sub in schema.get("properties", {}).items()})
    return found


@cache
def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    ops: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                ops[op["operationId"]] = (path, method, op)
    return ops


def params(operation_id: str) -> dict[str, dict[str, Any]]:
    _, _, op = operations()[operation_id]
    return {p["name"]: p for p in (resolve(raw) for raw in op.get("parameters", []))}


def param_enum(operation_id: str, name: str) -> list[Any]:
    schema = resolve(params(operation_id)[name]["schema"])
    items = resolve(schema.get("items", schema))
    return list(items["enum"])


def async_body() -> dict[str, Any]:
    return properties(spec()["components"]["schemas"]["AdsAnalyticsCreateAsyncRequest"])


def test_generated_column_lists_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_catalog_columns.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dataset", SYNC, ids=lambda d: d.name)
def test_sync_endpoint_and_columns_are_allowed(dataset: Dataset) -> None:
    assert dataset.sync is not None
    path, method, _ = operations()[dataset.sync.operation_id]
    assert (path, method) == (dataset.sync.path, "get")
    allowed = set(param_enum(dataset.sync.operation_id, "columns"))
    offered = {m.name for m in dataset.metrics if m.in_sync}
    assert offered, dataset.name
    assert offered <= allowed, sorted(offered - allowed)
    declared = params(dataset.sync.operation_id)
    if dataset.sync.id_param is not None:
        assert dataset.sync.id_param in declared
        ids = resolve(declared[dataset.sync.id_param]["schema"])
        assert ids["maxItems"] >= MAX_IDS_PER_CALL
    granularities = set(param_enum(dataset.sync.operation_id, "granularity"))
    assert {g.value for g in dataset.granularities} <= granularities


@pytest.mark.parametrize("dataset", SYNC, ids=lambda d: d.name)
def test_sync_targeting_type_is_in_the_endpoint_enum(dataset: Dataset) -> None:
    assert dataset.sync is not None
    if dataset.breakdown is None:
        assert dataset.sync.targeting_type is None
        assert "targeting_types" not in params(dataset.sync.operation_id)
        return
    assert dataset.sync.targeting_type == dataset.breakdown.targeting_type
    enum = param_enum(dataset.sync.operation_id, "targeting_types")
    assert dataset.sync.targeting_type in enum


def test_every_sync_targeting_type_is_offered_at_its_level() -> None:
    for operation_id in {d.sync.operation_id for d in SYNC if d.sync and d.sync.targeting_type}:
        offered = {
            d.sync.targeting_type for d in SYNC if d.sync and d.sync.operation_id == operation_id
        }
        assert offered == set(param_enum(operation_id, "targeting_types")), operation_id


@pytest.mark.parametrize("dataset", ASYNC, ids=lambda d: d.name)
def test_async_report_is_allowed(dataset: Dataset) -> None:
    report = dataset.async_report
    assert report is not None
    schemas = spec()["components"]["schemas"]
    assert report.level in schemas["MetricsReportingLevel"]["enum"]
    allowed = set(schemas["ReportingColumnAsync"]["enum"])
    offered = {m.name for m in dataset.metrics if m.in_async}
    assert offered <= allowed, sorted(offered - allowed)
    body = async_body()
    if report.id_filter is not None:
        assert body[report.id_filter]["maxItems"] >= ASYNC_MAX_IDS
    if report.row_id_key != "PRODUCT_ITEM_ID":  # items are the report's keys, not a column
        assert report.row_id_key in allowed
    if report.targeting_type is not None:
        assert report.level.endswith("_TARGETING")
        assert report.targeting_type in resolve(body["targeting_types"]["items"])["enum"]
    else:
        assert not report.level.endswith("_TARGETING")


def test_async_only_metrics_are_not_offered_where_there_is_no_async_report() -> None:
    for dataset in ANALYTICS:
        if dataset.async_report is None:
            assert all(m.in_sync for m in dataset.metrics), dataset.name
        if dataset.sync is None:
            assert all(m.in_async for m in dataset.metrics), dataset.name


def _type_matches(col_type: ColumnType, encoding: FieldEncoding, schema: dict[str, Any]) -> bool:
    declared = schema.get("type") or next(
        (resolve(sub).get("type") for sub in schema.get("allOf", []) if resolve(sub).get("type")),
        None,
    )
    if encoding is FieldEncoding.JSON:
        return declared in {"object", "array"}
    if encoding in {FieldEncoding.UNIX_SECONDS, FieldEncoding.UNIX_MILLIS}:
        return col_type is ColumnType.TIMESTAMP and declared in {"integer", "number"}
    expected = {
        ColumnType.STRING: {"string"},
        ColumnType.INT64: {"integer", "number"},
        ColumnType.FLOAT64: {"number"},
        ColumnType.BOOL: {"boolean"},
    }
    return declared in expected.get(col_type, set())


@pytest.mark.parametrize("dataset", ENTITIES, ids=lambda d: d.name)
def test_entity_fields_are_in_the_list_response(dataset: Dataset) -> None:
    endpoint = dataset.list_endpoint
    assert endpoint is not None
    path, method, op = operations()[endpoint.operation_id]
    assert (path, method) == (endpoint.path, "get")
    response = op["responses"]["200"]["content"]["application/json"]["schema"]
    items = resolve(properties(response)["items"])
    fields = properties(items.get("items", items))
    for attr in dataset.attributes:
        if attr.source is AttributeSource.ROW:
            assert attr.field in fields, f"{dataset.name}.{attr.field}"
            assert _type_matches(attr.type, attr.encoding, fields[attr.field]), attr.name
        else:
            assert attr.source is AttributeSource.ACCOUNT
    declared = params(endpoint.operation_id)
    for name, _values in endpoint.params:
        assert name in declared
    if endpoint.parent is not None:
        assert endpoint.parent.param in declared
        assert endpoint.parent.dataset in DATASETS
    assert endpoint.paginated == ("bookmark" in declared)
    assert dataset.key == ("ID",)


def test_entity_statuses_are_in_the_enum() -> None:
    enum = param_enum("campaigns/list", "entity_statuses")
    assert set(limits.ENTITY_STATUSES) <= set(enum)


@pytest.mark.parametrize("dataset", ANALYTICS, ids=lambda d: d.name)
def test_entity_lookups_point_at_real_fields(dataset: Dataset) -> None:
    for attr in dataset.attributes:
        if attr.source is not AttributeSource.ENTITY:
            continue
        targeting_type = targeting_options_type(attr.entity or "")
        if targeting_type is not None:  # names from GET /resources/targeting/{type}
            enum = param_enum("targeting_options/get", "targeting_type")
            assert targeting_type in enum and attr.via == "TARGETING_VALUE"
            assert dataset.breakdown is not None
            assert dataset.breakdown.targeting_type == targeting_type
            continue
        assert attr.entity is not None and attr.entity in DATASETS and attr.via is not None
        entity = DATASETS[attr.entity]
        assert attr.field in {a.field for a in entity.attributes}, f"{attr.entity}.{attr.field}"
        assert dataset.attribute(attr.via) is not None, attr.via
    if dataset.ids_from is not None:
        assert DATASETS[dataset.ids_from].kind is DatasetKind.ENTITY
    for name in (*dataset.key, *dataset.default_attributes):
        assert dataset.attribute(name) is not None, name
    for name in dataset.default_metrics:
        assert dataset.metric(name) is not None, name


def test_enums_and_limits_match_the_spec() -> None:
    schemas = spec()["components"]["schemas"]
    assert [g.value for g in Granularity] == schemas["Granularity"]["enum"]
    assert list(ATTRIBUTION_WINDOW_DAYS) == schemas["ConversionAttributionWindowDays"]["enum"]
    assert list(CONVERSION_REPORT_TIMES) == schemas["ConversionReportTimeType"]["enum"]
    _, _, create = operations()["analytics/create_report"]
    text = create["description"]
    assert f"up to {limits.ASYNC_MAX_DAYS_BACK} days" in text
    assert f"maximum time range of {limits.ASYNC_MAX_RANGE_DAYS} days" in text
    assert f"up to {limits.HOUR_MAX_DAYS_BACK} days" in text
    assert f"maximum time range of {limits.HOUR_MAX_RANGE_DAYS} days" in text
    assert f"up to {limits.PRODUCT_ITEM_MAX_DAYS_BACK} days" in text
    assert f"maximum time range of {limits.PRODUCT_ITEM_MAX_RANGE_DAYS} days" in text
    _, _, sync = operations()["campaigns/analytics"]
    assert f"up to {limits.SYNC_MAX_DAYS_BACK} days" in sync["description"]
    assert f"maximum time range of {limits.SYNC_MAX_RANGE_DAYS} days" in sync["description"]
    page = resolve(params("campaigns/list")["page_size"]["schema"])
    assert page["maximum"] == limits.PAGE_SIZE
