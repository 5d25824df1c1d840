"""Analytics rows: owners x time buckets (x hours) (x targeting values), shared by the
synchronous analytics endpoints and async reports.

Pipeline: owners (row entities) -> their ads -> leaf series on the (ad x day) grid, in chunks
-> sums per (owner, bucket) -> optional keyword share, hour split and targeting split (exact
integer shares, so parts add up to their row) -> derived columns from the sums -> rows, with
absent keys for empty values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pinads.emulator.breakdowns import breakdown_for
from pinads.emulator.columns import Attribute, Metric, Term, resolve
from pinads.emulator.engine import compute_grid
from pinads.emulator.metrics import Attribution, ConversionLeaf, Leaf, arange
from pinads.emulator.owners import Owner, owners_for
from pinads.emulator.world import World

__all__ = ["ID_KEYS", "ReportQuery", "RowSet", "build_rows"]

ID_KEYS = {
    "ACCOUNT": "AD_ACCOUNT_ID",
    "CAMPAIGN": "CAMPAIGN_ID",
    "AD_GROUP": "AD_GROUP_ID",
    "AD": "AD_ID",
    "PRODUCT_GROUP": "PRODUCT_GROUP_ID",
    "PRODUCT_ITEM": "PRODUCT_ITEM_ID",
    "KEYWORD": "KEYWORD_ID",
}
_CELLS_PER_CHUNK = 60_000  # bounds one grid's memory (cells x ~150 arrays x 8 bytes)
_WHOLE = 1_000_000  # share unit of the splits
# Share of a day's delivery per UTC hour (night low, evening peak).
_HOUR_WEIGHTS = (
    12,
    8,
    6,
    5,
    5,
    8,
    15,
    28,
    40,
    48,
    52,
    55,
    58,
    56,
    54,
    55,
    58,
    62,
    70,
    78,
    82,
    75,
    50,
    25,
)
_HOUR_CUMULATIVE = tuple(sum(_HOUR_WEIGHTS[: h + 1]) for h in range(24))


@dataclass(frozen=True)
class ReportQuery:
    account_id: str
    level: str  # a key of ID_KEYS
    start_day: int  # date ordinals, inclusive
    end_day: int
    granularity: str  # TOTAL, DAY, HOUR, WEEK, MONTH
    columns: tuple[str, ...]
    attribution: Attribution
    entity_ids: tuple[str, ...] | None = None  # None = every entity of the level
    targeting_types: tuple[str, ...] = ()
    aggregate: bool = False  # one row across owners (aggregate_report_rows)
    hours: tuple[int, int] = (0, 23)
    ad_filter: Callable[[Any], bool] | None = field(default=None, compare=False)


@dataclass(slots=True)
class RowSet:
    """Output rows as a table (one column per output key, null = absent), the
    (targeting_type, targeting_value) of each row for targeting queries, and each row's
    owner id (None when rows are aggregated across owners)."""

    table: pa.Table
    targets: list[tuple[str, str]] | None
    owner_ids: pa.Array | None


def _bucket(day: int, granularity: str, start: int) -> int:
    if granularity == "TOTAL":
        return start
    if granularity == "WEEK":
        return day - (day + 6) % 7  # Monday of the ISO week
    if granularity == "MONTH":
        return date.fromordinal(day).replace(day=1).toordinal()
    return day


def _plan(
    columns: Sequence[str], *, hourly: bool
) -> tuple[list[Metric], list[Attribute], list[Term]]:
    """Metrics, attributes and the distinct terms (sums of leaves) rows must carry."""
    metrics: list[Metric] = []
    attributes: list[Attribute] = []
    terms: dict[Term, None] = {("IMP1",): None, ("IMP2",): None}  # L0, L1: activity test
    for name in dict.fromkeys(columns):
        spec = resolve(name)
        if isinstance(spec, Attribute):
            attributes.append(spec)
        elif isinstance(spec, Metric):
            # Pinterest no longer returns conversion metrics for hourly rows.
            if hourly and any(isinstance(leaf, ConversionLeaf) for leaf in spec.leaves):
                continue
            metrics.append(spec)
            terms.update(dict.fromkeys(spec.terms))
    return metrics, attributes, list(terms)


def _names(terms: Sequence[Term]) -> list[str]:
    return [f"L{i}" for i in range(len(terms))]


def _is_conversion(term: Term) -> bool:
    return any(isinstance(leaf, ConversionLeaf) for leaf in term)


def _term_arrays(grid: Mapping[Leaf, pa.Array], terms: Sequence[Term]) -> list[pa.Array]:
    out = []
    for term in terms:
        total = grid[term[0]]
        for leaf in term[1:]:
            total = pc.add(total, grid[leaf])
        out.append(total)
    return out


def _grouped(table: pa.Table, names: Sequence[str]) -> pa.Table:
    keys = ["g", "b", "h", "t"]
    out = table.group_by(keys, use_threads=False).aggregate([(n, "sum") for n in names])
    # Output column order differs across pyarrow versions: select by name.
    return pa.table(
        [out[k] for k in keys] + [out[f"{n}_sum"] for n in names], names=[*keys, *names]
    )


def _sums(query: ReportQuery, owners: Sequence[Owner], terms: Sequence[Term]) -> pa.Table:
    """Per (owner, bucket) sums of every term over the owners' ads, computed in chunks."""
    leaves = list(dict.fromkeys(leaf for term in terms for leaf in term))
    days = range(query.start_day, query.end_day + 1)
    last = min(query.end_day, query.attribution.today)
    pairs = [
        (0 if query.aggregate else index, ad)
        for index, owner in enumerate(owners)
        for ad in owner.ads
        if ad.start_day <= last and (ad.end_day is None or ad.end_day >= query.start_day)
    ]
    names = _names(terms)
    bucket_of_day = pa.array([_bucket(d, query.granularity, query.start_day) for d in days])
    step = max(1, _CELLS_PER_CHUNK // max(1, len(days)))
    # One ad per owner at daily buckets: every cell is its own row, no grouping needed.
    unique = (
        not query.aggregate
        and query.granularity in ("DAY", "HOUR")
        and len({g for g, _ in pairs}) == len(pairs)
    )
    parts = []
    for lo in range(0, len(pairs), step):
        chunk = pairs[lo : lo + step]
        grid = compute_grid(
            [ad for _, ad in chunk], days, leaves=leaves, attribution=query.attribution
        )
        cells = arange(len(chunk) * len(days))
        ad_pos = pc.divide(cells, len(days))  # cells are ad-major, as in the grid
        day_pos = pc.subtract(cells, pc.multiply(ad_pos, len(days)))
        none = pa.repeat(pa.scalar(-1, pa.int64()), len(cells))
        table = pa.table(
            [
                pc.take(pa.array([g for g, _ in chunk], pa.int64()), ad_pos),
                pc.take(bucket_of_day, day_pos),
                none,
                none,
                *_term_arrays(grid, terms),
            ],
            names=["g", "b", "h", "t", *names],
        )
        # Inactive (ad, day) cells are dropped per chunk: most of a long report's grid is empty.
        parts.append(_active(table if unique else _grouped(table, names), terms))
    if not parts:
        empty = pa.array([], pa.int64())
        return pa.table([empty] * (4 + len(names)), names=["g", "b", "h", "t", *names])
    if unique:  # chunks follow the owners and days in order: already sorted
        # One contiguous copy here, while the chunk tables can still go: later steps read
        # whole columns, and combining them there would hold both at once.
        return pa.concat_tables(parts).combine_chunks()
    merged = parts[0] if len(parts) == 1 else _grouped(pa.concat_tables(parts), names)
    return merged.sort_by([("g", "ascending"), ("b", "ascending")])


def _active(table: pa.Table, terms: Sequence[Term]) -> pa.Table:
    """Drop rows without any delivery or conversion (Pinterest has no row for them).

    For (ad, day) cells and their sums: every delivery field is zero without impressions, so
    impressions stand for all of delivery."""
    if table.num_rows == 0:
        return table
    mask = pc.greater(pc.add(table["L0"], table["L1"]), 0)
    for i, term in enumerate(terms):
        if _is_conversion(term):
            mask = pc.or_(mask, pc.greater(table[f"L{i}"], 0))
    return table.filter(mask)


def _nonempty(table: pa.Table, names: Sequence[str]) -> pa.Table:
    """Drop split rows whose every value is zero. A share of a row can have spend or clicks
    but no impressions (each leaf is rounded down on its own): such a part stays, or the parts
    would no longer add up to their row."""
    if table.num_rows == 0:
        return table
    mask = pc.greater(table[names[0]], 0)
    for name in names[1:]:
        mask = pc.or_(mask, pc.greater(table[name], 0))
    return table.filter(mask)


def _split(
    table: pa.Table, names: Sequence[str], parts: Sequence[Sequence[tuple[int, int, int]]], key: str
) -> pa.Table:
    """Row r becomes one row per (label, low, high) in `parts[r]`: each leaf x becomes
    x*high//W - x*low//W (exact shares), column `key` gets the label."""
    index = pa.array([r for r, row_parts in enumerate(parts) for _ in row_parts], pa.int64())
    labels, lows, highs = (
        pa.array([p[i] for row_parts in parts for p in row_parts], pa.int64()) for i in range(3)
    )
    columns = {k: pc.take(table[k], index) for k in ("g", "b", "h", "t")}
    columns[key] = labels
    for name in names:
        x = pc.take(table[name], index)
        columns[name] = pc.subtract(
            pc.divide(pc.multiply(x, highs), _WHOLE), pc.divide(pc.multiply(x, lows), _WHOLE)
        )
    return pa.table(columns)


def _hour_parts(hours: tuple[int, int]) -> list[tuple[int, int, int]]:
    total = _HOUR_CUMULATIVE[-1]
    return [
        (
            h,
            (_HOUR_CUMULATIVE[h - 1] if h else 0) * _WHOLE // total,
            _HOUR_CUMULATIVE[h] * _WHOLE // total,
        )
        for h in range(hours[0], hours[1] + 1)
    ]


def _target_parts(
    world: World, query: ReportQuery, owners: Sequence[Owner], targets: list[tuple[str, str]]
) -> list[list[tuple[int, int, int]]]:
    """Per owner: (target index, low, high) for every value of every requested type."""
    out = []
    for owner in owners:
        parts = []
        for kind in query.targeting_types:
            breakdown = breakdown_for(
                kind, world=world, account_id=query.account_id, owner_seed=owner.seed, ads=owner.ads
            )
            if breakdown is None:
                continue
            for value, (low, high) in zip(breakdown.values, breakdown.bounds, strict=True):
                targets.append((kind, value))
                parts.append((len(targets) - 1, low * 1000, high * 1000))
        out.append(parts)
    return out


def _shape(
    world: World,
    query: ReportQuery,
    owners: Sequence[Owner],
    table: pa.Table,
    terms: Sequence[Term],
) -> tuple[pa.Table, list[tuple[str, str]]]:
    names = _names(terms)
    if any(o.share_permille != 1000 for o in owners) and table.num_rows:
        shares = [[(-1, 0, owners[g].share_permille * 1000)] for g in table["g"].to_pylist()]
        table = _nonempty(_split(table, names, shares, "t"), names)
    if query.granularity == "HOUR" and table.num_rows:
        hours = [_hour_parts(query.hours)] * table.num_rows
        table = _nonempty(_split(table, names, hours, "h"), names)
    targets: list[tuple[str, str]] = []
    if query.targeting_types and table.num_rows:
        by_owner = _target_parts(world, query, owners, targets)
        parts = [by_owner[g] for g in table["g"].to_pylist()]
        table = _nonempty(_split(table, names, parts, "t"), names)
    return table, targets


def _column(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them as text
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def build_rows(world: World, query: ReportQuery) -> RowSet:
    """Every row of the query, in (owner, date, hour, targeting) order, as a table of the
    output columns (id key, attributes, DATE, HOUR, metrics); null = absent value."""
    metrics, attributes, terms = _plan(query.columns, hourly=query.granularity == "HOUR")
    owners = owners_for(world, query)
    # _sums has dropped inactive rows already (sums of non-negative active parts stay active).
    table, targets = _shape(world, query, owners, _sums(query, owners, terms), terms)
    owner_of = table["g"].combine_chunks()
    names: list[str] = []
    columns: list[pa.Array] = []
    owner_id: pa.Array | None = None
    if not query.aggregate:
        owner_id = pc.take(pa.array([o.id for o in owners], pa.string()), owner_of)
        names.append(ID_KEYS[query.level])
        columns.append(owner_id)
        for attribute in attributes:
            if attribute.name in names:  # the id key asked for as a column
                continue
            per_owner = _column([o.attributes.get(attribute.field) for o in owners])
            names.append(attribute.name)
            columns.append(pc.take(per_owner, owner_of))
    if query.granularity != "TOTAL":
        buckets = table["b"].combine_chunks()
        distinct = pc.unique(buckets).to_pylist()
        labels = pa.array([date.fromordinal(b).isoformat() for b in distinct], pa.string())
        names.append("DATE")
        columns.append(pc.take(labels, pc.index_in(buckets, pa.array(distinct, pa.int64()))))
    if query.granularity == "HOUR":
        names.append("HOUR")
        columns.append(table["h"].combine_chunks())
    sums = {term: table[f"L{i}"].combine_chunks() for i, term in enumerate(terms)}
    for metric in metrics:
        values = metric.compute(sums)
        names.append(metric.name)
        columns.append(pc.if_else(pc.equal(values, 0), None, values))  # zero = absent
    rows = pa.table(columns, names=names) if names else pa.table({"_": pa.nulls(table.num_rows)})
    chosen = [targets[t] for t in table["t"].to_pylist()] if query.targeting_types else None
    return RowSet(rows, chosen, owner_id)
