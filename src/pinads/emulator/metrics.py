"""Deterministic daily metrics, computed vectorised over an (ad x day) grid with pyarrow.

Every number is a pure function of (ad, day) through a SplitMix64 hash (no RNG state) and is
an exact integer at the ad-day level; higher levels are sums of ad-day cells, so campaign = sum
of its ads and account = sum of its campaigns, exactly. Money is in micro-units of the
account's currency.

Conversions caused on an ad-action day arrive over lag buckets `LAG_DAYS` (cumulative permille
`LAG_CUMULATIVE`). A bucket counts when its lag fits the attribution window and it has already
happened by the emulator's yesterday, so recent days grow as the clock moves and differ by
click/engagement/view window and by `conversion_report_time`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from pinads.emulator.world import Ad

__all__ = [
    "CONVERSION_EVENTS",
    "DELIVERY_FIELDS",
    "LAG_CUMULATIVE",
    "LAG_DAYS",
    "MAX_LAG_DAYS",
    "SOURCES",
    "SPLITS",
    "VIDEO_FIELDS",
    "Attribution",
    "ConversionLeaf",
    "Grid",
    "Leaf",
    "arange",
    "buckets_within",
    "fill_delivery",
    "fill_video",
    "hash_unit",
]

_U64 = pa.uint64()
_F64 = pa.float64()
_I64 = pa.int64()
_DAY_MIX = 0x9E3779B97F4A7C15

DELIVERY_FIELDS = (
    "IMP1", "IMP2", "CLK1", "CLK2", "REP1", "REP2", "OUT1", "OUT2", "SPEND", "ENG1", "ENG2",
    "USERS", "SESS1", "SESS2", "IMP1_GROSS", "CLK1_GROSS", "CLOSEUP1",
)  # fmt: skip
VIDEO_FIELDS = (
    "P0_1", "P0_2", "V3S1", "V3S2", "MRC1", "MRC2", "V15U1", "V15U2", "P25_1", "P25_2",
    "P50_1", "P50_2", "P75_1", "P75_2", "P95_1", "P95_2", "P100_1", "P100_2",
    "WATCH_MS_1", "WATCH_MS_2", "VIDEO_SPEND", "VIDEO_IMP1",
)  # fmt: skip
# fraction of P0 views for 3s, MRC, 15s-unique, p25, p50, p75, p95, p100
_VIDEO_FRACTIONS = (0.62, 0.5, 0.36, 0.4, 0.28, 0.19, 0.13, 0.11)

# event -> (conversions per unit of "drive", value as a fraction of the ad's order value)
CONVERSION_EVENTS: dict[str, tuple[float, float]] = {
    "PAGE_VISIT": (6.0, 0.0), "ADD_TO_CART": (1.0, 0.9), "CHECKOUT": (0.45, 1.0),
    "SIGNUP": (0.25, 0.05), "LEAD": (0.15, 0.1), "CUSTOM": (0.1, 0.2), "SEARCH": (0.5, 0.0),
    "VIEW_CATEGORY": (0.8, 0.0), "WATCH_VIDEO": (0.12, 0.0), "APP_INSTALL": (0.04, 0.02),
    "UNKNOWN": (0.08, 0.0), "ADD_TO_WISHLIST": (0.1, 0.0), "SUBSCRIBE": (0.05, 0.03),
}  # fmt: skip
_EVENT_INDEX = {name: i for i, name in enumerate(CONVERSION_EVENTS)}
SOURCES = ("CLICK", "ENGAGEMENT", "VIEW")
_SOURCE_PERCENT = {"CLICK": (0, 60), "ENGAGEMENT": (60, 75), "VIEW": (75, 100)}

LAG_DAYS = (0, 1, 3, 10, 20, 45)
LAG_CUMULATIVE = (450, 650, 800, 900, 960, 1000)
MAX_LAG_DAYS = LAG_DAYS[-1]

# Splits of a visible count as [low, high) cumulative permille, so the parts add up exactly.
SPLITS: dict[str, tuple[int, int]] = {"WEB": (0, 700), "INAPP": (700, 900), "OFFLINE": (900, 1000)}
_DEVICES = ("DESKTOP", "MOBILE", "TABLET")
_DEVICE_PERMILLE = (150, 30, 10, 60, 650, 10, 10, 20, 60)


def _device_splits() -> None:
    low = 0
    for i, share in enumerate(_DEVICE_PERMILLE):
        SPLITS[f"{_DEVICES[i // 3]}_ACTION_TO_{_DEVICES[i % 3]}"] = (low, low + share)
        low += share


_device_splits()


def buckets_within(window_days: int) -> int:
    """How many lag buckets fit in `window_days` (window 0 = same day only)."""
    return sum(1 for lag in LAG_DAYS if lag <= window_days)


@dataclass(frozen=True, slots=True)
class Attribution:
    click_window_days: int = 30
    engagement_window_days: int = 30
    view_window_days: int = 1
    report_time: str = "TIME_OF_AD_ACTION"
    today: int = 0  # ordinal of the emulator's today; conversions are known up to yesterday

    def window(self, source: str) -> int:
        if source == "CLICK":
            return self.click_window_days
        if source == "ENGAGEMENT":
            return self.engagement_window_days
        return self.view_window_days


@dataclass(frozen=True, slots=True)
class ConversionLeaf:
    """One conversion series: event x source x measure (count/value/quantity) x split."""

    event: str
    source: str
    measure: str = "count"
    split: str = "ALL"  # ALL, WEB, INAPP, OFFLINE, PINTEREST or a device pair


Leaf = str | ConversionLeaf


@lru_cache(maxsize=8192)
def _season(day: int) -> float:
    """Weekly and yearly demand shape (weekends and Q4 higher), shared by all ads."""
    weekday = (day + 6) % 7  # 0 = Monday for proleptic ordinals
    week = (0.94, 0.95, 0.97, 1.0, 1.04, 1.12, 1.1)[weekday]
    day_of_year = (day - 1) % 365.2425
    q4 = 0.45 * math.exp(-(((day_of_year - 335) / 28) ** 2))
    return week * (1.0 + q4 + 0.08 * math.sin(2 * math.pi * day_of_year / 365.2425))


def _u(value: int) -> pa.Scalar:
    return pa.scalar(value, _U64)


def _mix(z: pa.Array) -> pa.Array:
    """SplitMix64 finaliser on a uint64 array (multiplication wraps, as intended)."""
    z = pc.add(z, pa.scalar(0x9E3779B97F4A7C15, _U64))
    z = pc.multiply(
        pc.bit_wise_xor(z, pc.shift_right(z, _u(30))), pa.scalar(0xBF58476D1CE4E5B9, _U64)
    )
    z = pc.multiply(
        pc.bit_wise_xor(z, pc.shift_right(z, _u(27))), pa.scalar(0x94D049BB133111EB, _U64)
    )
    return pc.bit_wise_xor(z, pc.shift_right(z, _u(31)))


def hash_unit(h: pa.Array, shift: int, bits: int = 16) -> pa.Array:
    """Bits [shift, shift+bits) of a hash as floats in [0, 1)."""
    part = pc.bit_wise_and(pc.shift_right(h, _u(shift)), _u((1 << bits) - 1))
    return pc.divide(pc.cast(part, _F64), float(1 << bits))


def _int(values: pa.Array) -> pa.Array:
    return pc.cast(values, _I64, safe=False)


def _times(values: pa.Array, factor: float) -> pa.Array:
    return _int(pc.multiply(values, factor))


def arange(n: int) -> pa.Array:
    """0, 1, ..., n-1 as int64, built by Arrow (no Python ints)."""
    return pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, _I64), n)), 1)


class Grid:
    """Ads x days laid out ad-major: cell i is (ads[i // n_days], days[i % n_days])."""

    def __init__(self, ads: Sequence[Ad], days: range, today: int) -> None:
        self.ads, self.days, self.n_days = ads, days, len(days)
        n_ads = len(ads)
        cells = arange(n_ads * self.n_days)
        self.ad_index = pc.divide(cells, max(1, self.n_days))
        self.day_index = pc.subtract(cells, pc.multiply(self.ad_index, self.n_days))
        self.day = pc.add(self.day_index, days.start)
        ends = [a.end_day if a.end_day is not None else days.stop for a in ads]
        start = self.per_ad([a.start_day for a in ads], _I64)
        end = self.per_ad(ends, _I64)
        live = pc.and_(pc.and_(pc.greater_equal(self.day, start), pc.less_equal(self.day, end)),
                       pc.less_equal(self.day, today))  # fmt: skip
        self.active = pc.cast(live, _F64)
        self.fields: dict[str, pa.Array] = {}

    def per_ad(self, values: Sequence[object], kind: pa.DataType) -> pa.Array:
        return pc.take(pa.array(values, kind), self.ad_index)

    def per_day(self, values: Sequence[object], kind: pa.DataType) -> pa.Array:
        return pc.take(pa.array(values, kind), self.day_index)

    def hash(self, mix: int) -> pa.Array:
        seed = self.per_ad([a.seed for a in self.ads], _U64)
        day = pc.cast(self.day, _U64)
        return _mix(pc.bit_wise_xor(seed, pc.multiply(day, pa.scalar(mix, _U64))))


def fill_delivery(grid: Grid) -> None:
    ads = grid.ads
    h = grid.hash(_DAY_MIX)
    u1, u2, u3, u4 = (hash_unit(h, shift) for shift in (0, 16, 32, 48))
    base = grid.per_ad([a.base_impressions for a in ads], _F64)
    season = grid.per_day([_season(d) for d in grid.days], _F64)
    raw = pc.multiply(
        pc.multiply(pc.multiply(base, season), pc.add(pc.multiply(u1, 0.9), 0.55)), grid.active
    )
    imp1 = _int(raw)
    imp2 = _int(pc.multiply(imp1, pc.add(pc.multiply(u4, 0.2), 0.1)))
    ctr = grid.per_ad([a.ctr for a in ads], _F64)
    save = grid.per_ad([a.save_rate for a in ads], _F64)
    outbound = grid.per_ad([a.outbound_rate for a in ads], _F64)
    cpm = grid.per_ad([a.cpm_micro / 1000 for a in ads], _F64)
    clk1 = _int(pc.multiply(pc.multiply(imp1, ctr), pc.add(pc.multiply(u2, 0.6), 0.7)))
    clk2 = _int(pc.multiply(pc.multiply(imp2, ctr), 0.8))
    rep1 = _int(pc.multiply(pc.multiply(imp1, save), pc.add(pc.multiply(u3, 0.6), 0.7)))
    rep2 = _int(pc.multiply(pc.multiply(imp2, save), 1.3))
    out1, out2 = _int(pc.multiply(clk1, outbound)), _int(pc.multiply(clk2, outbound))
    closeup1 = _int(pc.multiply(pc.multiply(imp1, u2), 0.012))
    f = grid.fields
    f.update(IMP1=imp1, IMP2=imp2, CLK1=clk1, CLK2=clk2, REP1=rep1, REP2=rep2, OUT1=out1, OUT2=out2)
    f["SPEND"] = _int(pc.multiply(pc.multiply(imp1, cpm), pc.add(pc.multiply(u3, 0.3), 0.85)))
    f["CLOSEUP1"] = closeup1
    f["ENG1"] = pc.add(pc.add(clk1, rep1), closeup1)
    f["ENG2"] = pc.add(pc.add(clk2, rep2), _int(pc.multiply(pc.multiply(imp2, u1), 0.01)))
    users = _int(pc.multiply(imp1, pc.add(pc.multiply(u4, 0.2), 0.6)))
    f["USERS"] = pc.add(users, _times(imp2, 0.8))
    f["SESS1"], f["SESS2"] = _times(out1, 0.82), _times(out2, 0.8)
    f["IMP1_GROSS"] = pc.add(imp1, pc.divide(imp1, 40))
    f["CLK1_GROSS"] = pc.add(clk1, pc.divide(clk1, 25))
    f["_U2"] = u2


def fill_video(grid: Grid, wanted: Collection[str] = VIDEO_FIELDS) -> None:
    """The video fields in `wanted` (and the P0 views they derive from)."""
    f = grid.fields
    is_video = grid.per_ad([1.0 if a.video_length_s else 0.0 for a in grid.ads], _F64)
    imp1 = pc.multiply(f["IMP1"], is_video)
    imp2 = pc.multiply(f["IMP2"], is_video)
    p0_1 = _int(pc.multiply(imp1, pc.add(pc.multiply(f["_U2"], 0.2), 0.45)))
    p0_2 = _times(imp2, 0.5)
    f["P0_1"], f["P0_2"] = p0_1, p0_2
    names = ("V3S", "MRC", "V15U", "P25_", "P50_", "P75_", "P95_", "P100_")
    for name, fraction in zip(names, _VIDEO_FRACTIONS, strict=True):
        for part, p0 in (("1", p0_1), ("2", p0_2)):
            if name + part in wanted:
                f[name + part] = _times(p0, fraction)
    if "WATCH_MS_1" in wanted or "WATCH_MS_2" in wanted:
        watch = grid.per_ad([a.video_length_s * 380.0 for a in grid.ads], _F64)
        f["WATCH_MS_1"] = _int(pc.multiply(p0_1, watch))
        f["WATCH_MS_2"] = _int(pc.multiply(p0_2, watch))
    if "VIDEO_SPEND" in wanted:
        f["VIDEO_SPEND"] = _int(pc.multiply(f["SPEND"], is_video))
    if "VIDEO_IMP1" in wanted:
        f["VIDEO_IMP1"] = _int(imp1)
