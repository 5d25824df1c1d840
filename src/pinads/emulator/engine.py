"""The metric engine: leaf series over an (ad x day) grid, conversions with attribution.

`compute_grid` returns, for every (ad, day) cell of the requested days (ad-major layout), the
exact integer value of each requested leaf: a delivery field name (`metrics.DELIVERY_FIELDS`,
`metrics.VIDEO_FIELDS`) or a `ConversionLeaf`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from pinads.emulator.metrics import (
    CONVERSION_EVENTS,
    LAG_CUMULATIVE,
    LAG_DAYS,
    MAX_LAG_DAYS,
    SPLITS,
    VIDEO_FIELDS,
    Attribution,
    ConversionLeaf,
    Grid,
    Leaf,
    buckets_within,
    fill_delivery,
    fill_video,
    hash_unit,
)
from pinads.emulator.world import Ad

__all__ = ["compute_grid"]

_I64 = pa.int64()
_F64 = pa.float64()
_CONV_MIX = 0xD1B54A32D192ED03
_SOURCE_PERCENT = {"CLICK": (0, 60), "ENGAGEMENT": (60, 75), "VIEW": (75, 100)}
_EVENT_INDEX = {name: i for i, name in enumerate(CONVERSION_EVENTS)}


def _part(values: pa.Array, low: int, high: int, whole: int) -> pa.Array:
    """values*high//whole - values*low//whole: exact integer shares that add up."""
    upper = pc.divide(pc.multiply(values, high), whole)
    return upper if low == 0 else pc.subtract(upper, pc.divide(pc.multiply(values, low), whole))


class _Conversions:
    """Conversion leaves on a grid padded by `pad` days before the requested days."""

    def __init__(self, grid: Grid, *, pad: int, attribution: Attribution) -> None:
        self.grid, self.pad, self.attribution = grid, pad, attribution
        self.n_out = grid.n_days - pad
        self._potential: dict[str, pa.Array] = {}
        self._cuts: dict[tuple[str, int], pa.Array] = {}
        self._visible: dict[tuple[str, str], pa.Array] = {}
        self._narrow: pa.Array | None = None
        self._shared: tuple[pa.Array, pa.Array, pa.Array, pa.Array] | None = None
        self._factors: dict[int, pa.Array] = {}
        self.shopping = grid.per_ad([1 if a.product_group_id else 0 for a in grid.ads], _I64)

    def _common(self) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
        """(hash, drive, drive capped at 1, conversion rate) per cell, shared by all events."""
        if self._shared is None:
            grid, f = self.grid, self.grid.fields
            drive = pc.add(pc.add(f["CLK1"], f["OUT1"]), pc.divide(pc.add(f["REP1"], f["ENG1"]), 2))
            drive = pc.cast(pc.add(drive, pc.divide(f["IMP1"], 200)), _F64)
            rate = grid.per_ad([a.conversion_rate for a in grid.ads], _F64)
            self._shared = (grid.hash(_CONV_MIX), drive, pc.min_element_wise(drive, 1.0), rate)
        return self._shared

    def potential(self, event: str) -> pa.Array:
        """Conversions of `event` caused on each action day (before attribution and lag)."""
        if event not in self._potential:
            h, drive, capped, rate = self._common()
            noise = hash_unit(h, 4 * _EVENT_INDEX[event], bits=4)
            scale = pc.multiply(rate, CONVERSION_EVENTS[event][0])
            expected = pc.multiply(pc.multiply(drive, scale), pc.add(pc.multiply(noise, 0.8), 0.6))
            # Stochastic rounding keeps small expected counts alive; nothing without delivery.
            dither = pc.multiply(noise, capped)
            self._potential[event] = pc.cast(pc.add(expected, dither), _I64, safe=False)
        return self._potential[event]

    def _cut(self, event: str, percent: int) -> pa.Array:
        """potential * percent // 100, shared by the sources on either side of the cut."""
        key = (event, percent)
        if key not in self._cuts:
            potential = self.potential(event)
            self._cuts[key] = (
                potential if percent == 100 else pc.divide(pc.multiply(potential, percent), 100)
            )
        return self._cuts[key]

    def visible(self, event: str, source: str) -> pa.Array:
        key = (event, source)
        if key not in self._visible:
            low, high = _SOURCE_PERCENT[source]
            # The source's exact share, as _part(potential, low, high, 100) computes it.
            parts = self._cut(event, high)
            if low:
                parts = pc.subtract(parts, self._cut(event, low))
            window = self.attribution.window(source)
            if self.attribution.report_time == "TIME_OF_CONVERSION":
                self._visible[key] = self._by_conversion(parts, window)
            else:
                self._visible[key] = self._by_action(parts, window)
        return self._visible[key]

    def _by_action(self, parts: pa.Array, window: int) -> pa.Array:
        if window not in self._factors:
            allowed, today = buckets_within(window), self.attribution.today
            factors = []
            for day in self.grid.days:
                known = min(allowed, buckets_within(today - 1 - day)) if day < today else 0
                factors.append(LAG_CUMULATIVE[known - 1] if known else 0)
            self._factors[window] = self.grid.per_day(factors, _I64)
        return pc.divide(pc.multiply(parts, self._factors[window]), 1000)

    def _by_conversion(self, parts: pa.Array, window: int) -> pa.Array:
        """Bucket k of action day d is booked on day d + LAG_DAYS[k]."""
        grid, pad, n_out, today = self.grid, self.pad, self.n_out, self.attribution.today
        known = [1 if grid.days[pad + i] < today else 0 for i in range(n_out)]
        mask = pa.array(known * len(grid.ads), _I64)
        total = pc.multiply(mask, 0)
        base = self.narrow_index()
        for k in range(buckets_within(window)):
            shifted = pc.take(parts, pc.subtract(base, LAG_DAYS[k]))
            low = LAG_CUMULATIVE[k - 1] if k else 0
            total = pc.add(total, _part(shifted, low, LAG_CUMULATIVE[k], 1000))
        return pc.multiply(total, mask)

    def narrow_index(self) -> pa.Array:
        """Positions in the padded grid of the requested (ad, day) cells."""
        if self._narrow is None:
            n_ads, n_out, width = len(self.grid.ads), self.n_out, self.grid.n_days
            cells = pa.array(range(n_ads * n_out), _I64)
            ad = pc.divide(cells, n_out)
            self._narrow = pc.add(pc.add(cells, pc.multiply(ad, width - n_out)), self.pad)
        return self._narrow

    def narrow(self, values: pa.Array) -> pa.Array:
        """Values of the padded grid at the requested days (conversions are already narrow)."""
        return pc.take(values, self.narrow_index()) if self.pad else values

    def leaf(self, leaf: ConversionLeaf) -> pa.Array:
        counts = self.visible(leaf.event, leaf.source)
        if leaf.split == "PINTEREST":
            counts = pc.multiply(pc.divide(counts, 12), self.narrow(self.shopping))
        elif leaf.split != "ALL":
            low, high = SPLITS[leaf.split]
            counts = _part(counts, low, high, 1000)
        if leaf.measure == "value":
            fraction = CONVERSION_EVENTS[leaf.event][1]
            unit = self.grid.per_ad(
                [int(a.order_value_micro * fraction) for a in self.grid.ads], _I64
            )
            return pc.multiply(counts, self.narrow(unit))
        if leaf.measure == "quantity":
            return pc.add(counts, pc.divide(counts, 4))
        return counts


def compute_grid(
    ads: Sequence[Ad], days: range, *, leaves: Sequence[Leaf], attribution: Attribution
) -> dict[Leaf, pa.Array]:
    """leaf -> int64 array over the (ad, day) cells of `days`, ad-major."""
    conversion_leaves = [leaf for leaf in leaves if isinstance(leaf, ConversionLeaf)]
    by_conversion = attribution.report_time == "TIME_OF_CONVERSION"
    pad = MAX_LAG_DAYS if conversion_leaves and by_conversion else 0
    grid = Grid(ads, range(days.start - pad, days.stop), attribution.today)
    fill_delivery(grid)
    video = {leaf for leaf in leaves if isinstance(leaf, str) and leaf in VIDEO_FIELDS}
    if video:
        fill_video(grid, video)
    conversions = _Conversions(grid, pad=pad, attribution=attribution)
    out: dict[Leaf, pa.Array] = {}
    for leaf in leaves:
        if isinstance(leaf, ConversionLeaf):
            out[leaf] = conversions.leaf(leaf)
        else:
            out[leaf] = conversions.narrow(grid.fields[leaf])
    return out
