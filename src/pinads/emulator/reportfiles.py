"""Rendering of a finished async report: JSON (entity id -> rows, or date -> rows with
`primary_sort: BY_DATE`; empty values absent) or CSV (zero-filled). Both omit rows whose
requested metrics are all zero, as Pinterest documents."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from itertools import pairwise
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pinads.emulator.analytics import attribution_from
from pinads.emulator.columns import Metric, resolve
from pinads.emulator.jsonrows import json_objects, per_row_text
from pinads.emulator.render import summary_status
from pinads.emulator.reporting import ID_KEYS, ReportQuery, RowSet, build_rows
from pinads.emulator.world import Ad, World

__all__ = ["render_report"]

_LEVELS = {
    "ADVERTISER": "ACCOUNT",
    "CAMPAIGN": "CAMPAIGN",
    "AD_GROUP": "AD_GROUP",
    "PIN_PROMOTION": "AD",
    "KEYWORD": "KEYWORD",
    "PRODUCT_GROUP": "PRODUCT_GROUP",
    "PRODUCT_ITEM": "PRODUCT_ITEM",
}
_OWN_IDS = {
    "CAMPAIGN": "campaign_ids",
    "AD_GROUP": "ad_group_ids",
    "AD": "ad_ids",
    "PRODUCT_GROUP": "product_group_ids",
}
_AD_STATUS = {"ACTIVE": "APPROVED"}
_ID_FILTERS = (
    ("campaign_ids", "campaign_id"),
    ("ad_group_ids", "ad_group_id"),
    ("ad_ids", "id"),
    ("product_group_ids", "product_group_id"),
    ("product_item_ids", "pin_id"),
)
_PRODUCT_GROUP_STATUS = {"ACTIVE": "RUNNING"}


def _status_filter(world: World, body: dict[str, Any], today: int) -> Callable[[Ad], bool] | None:
    """An ad predicate for the body's id, status and objective filters (None = keep all)."""
    checks: list[Callable[[Ad], bool]] = []
    for field, attr in _ID_FILTERS:
        if field in body:
            checks.append(_has(attr, frozenset(body[field])))
    if "campaign_statuses" in body:
        allowed = frozenset(body["campaign_statuses"])
        checks.append(lambda ad: _campaign_status(world, ad, today) in allowed)
    if "ad_group_statuses" in body:
        allowed_groups = frozenset(body["ad_group_statuses"])
        checks.append(lambda ad: _group_status(world, ad, today) in allowed_groups)
    if "ad_statuses" in body:
        allowed_ads = frozenset(body["ad_statuses"])
        checks.append(lambda ad: _AD_STATUS.get(ad.status, ad.status) in allowed_ads)
    if "product_group_statuses" in body:
        allowed_pg = frozenset(body["product_group_statuses"])
        checks.append(lambda ad: _PRODUCT_GROUP_STATUS.get(ad.status, ad.status) in allowed_pg)
    if "campaign_objective_types" in body:
        objectives = frozenset(body["campaign_objective_types"])
        checks.append(lambda ad: world.campaigns[ad.campaign_id].objective_type in objectives)
    if not checks:
        return None
    return lambda ad: all(check(ad) for check in checks)


def _has(attr: str, wanted: frozenset[str]) -> Callable[[Ad], bool]:
    return lambda ad: getattr(ad, attr) in wanted


def _campaign_status(world: World, ad: Ad, today: int) -> str:
    c = world.campaigns[ad.campaign_id]
    return summary_status(c.status, start_day=c.start_day, end_day=c.end_day, today=today)


def _group_status(world: World, ad: Ad, today: int) -> str:
    g = world.ad_groups[ad.ad_group_id]
    return summary_status(g.status, start_day=g.start_day, end_day=g.end_day, today=today)


def _query(world: World, account_id: str, body: dict[str, Any], today: int) -> ReportQuery:
    level_name = str(body["level"]).removesuffix("_TARGETING")
    level = _LEVELS[level_name]
    own = _OWN_IDS.get(level)
    metric_filters = [f["field"] for f in body.get("metrics_filters", [])]
    return ReportQuery(
        account_id=account_id,
        level=level,
        start_day=date.fromisoformat(body["start_date"]).toordinal(),
        end_day=date.fromisoformat(body["end_date"]).toordinal(),
        granularity=body["granularity"],
        columns=tuple(dict.fromkeys([*body["columns"], *metric_filters])),
        attribution=attribution_from(body, today=today),
        entity_ids=tuple(body[own]) if own and own in body else None,
        targeting_types=tuple(body.get("targeting_types", ())),
        hours=(int(body.get("start_hour", 0)), int(body.get("end_hour", 23))),
        ad_filter=_status_filter(world, body, today),
    )


def _keep_rows(rows: RowSet, body: dict[str, Any]) -> pa.Array:
    """Rows with at least one non-zero requested metric that pass `metrics_filters`."""
    table = rows.table
    metrics = [
        c for c in body["columns"] if isinstance(resolve(c), Metric) and c in table.column_names
    ]
    # Typed: a report without any delivery has no rows, and an empty list has no type.
    keep = pa.array([not metrics] * table.num_rows, type=pa.bool_())
    for name in metrics:
        keep = pc.or_(keep, pc.is_valid(table[name]))
    for rule in body.get("metrics_filters", []):
        if rule["field"] not in table.column_names:
            continue
        values = pc.fill_null(table[rule["field"]], 0)
        for bound in rule["values"]:
            compare = pc.greater if rule["operator"] == "GREATER_THAN" else pc.less
            keep = pc.and_(keep, compare(values, bound))
    return keep


def _with_targets(rows: RowSet) -> pa.Table:
    table = rows.table
    if rows.targets is None:
        return table
    table = table.append_column(
        "targeting_type", pa.array([t[0] for t in rows.targets], pa.string())
    )
    return table.append_column(
        "targeting_value", pa.array([t[1] for t in rows.targets], pa.string())
    )


def _output_columns(table: pa.Table, body: dict[str, Any], level: str) -> list[str]:
    fixed = [ID_KEYS[level], "DATE", "HOUR", "targeting_type", "targeting_value"]
    wanted = dict.fromkeys([*fixed, *body["columns"]])
    return [name for name in wanted if name in table.column_names or name in body["columns"]]


def _csv(table: pa.Table, names: list[str]) -> bytes:
    columns = []
    for name in names:
        if name not in table.column_names:  # never has a value here: zero-filled
            columns.append(pa.array([0] * table.num_rows, pa.int64()))
            continue
        column = table[name]
        is_metric = isinstance(resolve(name), Metric)
        columns.append(pc.fill_null(column, 0) if is_metric else column)
    sink = io.BytesIO()
    pacsv.write_csv(pa.table(columns, names=names), sink)
    return sink.getvalue()


def _group_keys(table: pa.Table, owner_ids: list[str] | None, body: dict[str, Any]) -> list[str]:
    """The top-level key of each row: its entity id (BY_ID) or its date (BY_DATE)."""
    if body.get("primary_sort") == "BY_DATE" and "DATE" in table.column_names:
        return [str(d) for d in table["DATE"].to_pylist()]
    if owner_ids is not None:
        return owner_ids
    return [body["start_date"]] * table.num_rows


def _group_head(mark: tuple[str, str]) -> str:
    """What precedes a row: `,` inside a group, `[` + key for the first group's first row,
    `],` + key for a later group's first row."""
    kind, key = mark
    if kind == "next":
        return ","
    return ("{" if kind == "first" else "],") + orjson.dumps(key).decode() + ":["


def _json(table: pa.Table, owner_ids: list[str] | None, body: dict[str, Any]) -> bytes:
    """`{key: [row, ...], ...}`; a key's rows are contiguous (by entity, or sorted by date)."""
    keys = _group_keys(table, owner_ids, body)
    if not keys:
        return b"{}"
    if body.get("primary_sort") == "BY_DATE":
        order = sorted(range(len(keys)), key=keys.__getitem__)  # stable: entity order kept
        table = table.take(pa.array(order, pa.int64()))
        keys = [keys[i] for i in order]
    marks = [("first", keys[0])] + [
        ("start", key) if key != before else ("next", "") for before, key in pairwise(keys)
    ]
    return json_objects(table, per_row_text(marks, _group_head), end=b"]}")


def render_report(
    world: World, account_id: str, body: dict[str, Any], *, today: int
) -> tuple[bytes, str]:
    """(file bytes, media type) of a report request."""
    query = _query(world, account_id, body, today)
    rows = build_rows(world, query)
    keep = _keep_rows(rows, body)
    table = _with_targets(rows).filter(keep)
    owner_ids = None
    if rows.owner_ids is not None:
        owner_ids = [str(i) for i in pc.filter(rows.owner_ids, keep).to_pylist()]
    names = _output_columns(table, body, query.level)
    if body.get("report_format") == "CSV":
        return _csv(table, names), "text/csv"
    present = [n for n in names if n in table.column_names]
    return _json(table.select(present), owner_ids, body), "application/json"
