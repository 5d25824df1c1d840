"""Pinterest reporting columns -> how the emulator computes them.

A column is a `Metric` (a vectorised function of aggregated leaf sums: delivery fields or
conversion series) or an `Attribute` (a property of the row's entity). Conversion columns are
parsed from their names (`TOTAL_WEB_CLICK_CHECKOUT_VALUE_IN_MICRO_DOLLAR`, ...) so every
event x source x channel x measure combination of the spec's enums is covered. Columns the
synthetic world has no data for (showcase, quiz, idea pins, ads credits, ...) resolve to None and
are always absent, as Pinterest omits empty values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from pinads.emulator.metrics import CONVERSION_EVENTS, SOURCES, SPLITS, ConversionLeaf, Leaf

__all__ = ["Attribute", "Metric", "Term", "resolve"]

Term = tuple[Leaf, ...]  # a sum of leaves: what rows carry and aggregate


@dataclass(frozen=True, slots=True)
class Metric:
    """`scale * sum(num) / sum(den)`; without `den` an exact integer sum (scale 1) or a
    scaled float (e.g. micro-units to currency units)."""

    name: str
    num: Term
    den: Term = ()
    scale: float = 1.0

    @property
    def leaves(self) -> Term:
        return self.num + self.den

    @property
    def terms(self) -> tuple[Term, ...]:
        return (self.num, self.den) if self.den else (self.num,)

    def compute(self, terms: Mapping[Term, pa.Array]) -> pa.Array:
        top = terms[self.num]
        if not self.den:
            return top if self.scale == 1.0 else pc.multiply(pc.cast(top, pa.float64()), self.scale)
        denominator = pc.cast(terms[self.den], pa.float64())
        safe = pc.if_else(pc.equal(denominator, 0.0), None, denominator)
        return pc.divide(pc.multiply(pc.cast(top, pa.float64()), self.scale), safe)


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    field: str  # key into the row owner's attributes (see `owners`)


def _m(name: str, scale: float, *leaves: Leaf) -> Metric:
    return Metric(name, leaves, (), scale)


def _sum(name: str, *leaves: Leaf) -> Metric:
    return Metric(name, leaves)


def _rate(name: str, num: Term, den: Term, scale: float = 1.0) -> Metric:
    return Metric(name, num, den, scale)


_IMP = ("IMP1", "IMP2")
_CLK = ("CLK1", "CLK2")
_OUT = ("OUT1", "OUT2")
_ENG = ("ENG1", "ENG2")
_REP = ("REP1", "REP2")
_MICRO = 1e-6

_FIXED: tuple[Metric, ...] = (
    _sum("SPEND_IN_MICRO_DOLLAR", "SPEND"),
    _m("SPEND_IN_DOLLAR", _MICRO, "SPEND"),
    _sum("PAID_IMPRESSION", "IMP1"),
    _rate("CPC_IN_MICRO_DOLLAR", ("SPEND",), ("CLK1",)),
    _rate("ECPC_IN_MICRO_DOLLAR", ("SPEND",), _CLK),
    _rate("ECPC_IN_DOLLAR", ("SPEND",), _CLK, _MICRO),
    _rate("CTR", ("CLK1",), ("IMP1",)),
    _rate("ECTR", _CLK, _IMP),
    _rate("CTR_2", ("CLK2",), ("IMP2",)),
    _rate("OUTBOUND_CTR_1", ("OUT1",), ("IMP1",)),
    _rate("OUTBOUND_CTR", _OUT, _IMP),
    _sum("TOTAL_ENGAGEMENT", *_ENG),
    _sum("ENGAGEMENT_1", "ENG1"),
    _sum("ENGAGEMENT_2", "ENG2"),
    _rate("ECPE_IN_DOLLAR", ("SPEND",), _ENG, _MICRO),
    _rate("ENGAGEMENT_RATE", ("ENG1",), ("IMP1",)),
    _rate("EENGAGEMENT_RATE", _ENG, _IMP),
    _rate("ECPM_IN_MICRO_DOLLAR", ("SPEND",), _IMP, 1000.0),
    _rate("CPM_IN_MICRO_DOLLAR", ("SPEND",), ("IMP1",), 1000.0),
    _rate("CPM_IN_DOLLAR", ("SPEND",), ("IMP1",), 1000.0 * _MICRO),
    _rate("REPIN_RATE", ("REP1",), ("IMP1",)),
    _rate("TOTAL_REPIN_RATE", _REP, _IMP),
    _sum("CLICKTHROUGH_1", "CLK1"),
    _sum("CLICKTHROUGH_2", "CLK2"),
    _sum("CLICKTHROUGH_1_GROSS", "CLK1_GROSS"),
    _sum("REPIN_1", "REP1"),
    _sum("REPIN_2", "REP2"),
    _sum("IMPRESSION_1", "IMP1"),
    _sum("IMPRESSION_2", "IMP2"),
    _sum("IMPRESSION_1_GROSS", "IMP1_GROSS"),
    _sum("OUTBOUND_CLICK_1", "OUT1"),
    _sum("OUTBOUND_CLICK_2", "OUT2"),
    _sum("TOTAL_CLICKTHROUGH", *_CLK),
    _sum("TOTAL_IMPRESSION", *_IMP),
    _sum("TOTAL_IMPRESSION_USER", "USERS"),
    _rate("TOTAL_IMPRESSION_FREQUENCY", _IMP, ("USERS",)),
    _rate("COST_PER_OUTBOUND_CLICK_IN_DOLLAR", ("SPEND",), _OUT, _MICRO),
    _rate("COST_PER_OUTBOUND_CLICK_IN_DOLLAR_1", ("SPEND",), ("OUT1",), _MICRO),
    _rate("COST_PER_OUTBOUND_CLICK", ("SPEND",), _OUT, _MICRO),
    _sum("TOTAL_WEB_SESSIONS", "SESS1", "SESS2"),
    _sum("WEB_SESSIONS_1", "SESS1"),
    _sum("WEB_SESSIONS_2", "SESS2"),
    _sum("TOTAL_DESTINATION_VIEWS", "SESS1", "SESS2"),
    # video (only video ads deliver these)
    _sum("VIDEO_3SEC_VIEWS_1", "V3S1"),
    _sum("VIDEO_3SEC_VIEWS_2", "V3S2"),
    _sum("TOTAL_VIDEO_3SEC_VIEWS", "V3S1", "V3S2"),
    _sum("VIDEO_15SEC_UNIQUE_VIEWS_1", "V15U1"),
    _sum("VIDEO_15SEC_UNIQUE_VIEWS_2", "V15U2"),
    _sum("TOTAL_VIDEO_15SEC_UNIQUE_VIEWS", "V15U1", "V15U2"),
    _sum("VIDEO_MRC_VIEWS_1", "MRC1"),
    _sum("VIDEO_MRC_VIEWS_2", "MRC2"),
    _sum("TOTAL_VIDEO_MRC_VIEWS", "MRC1", "MRC2"),
    _rate("PAID_VIDEO_VIEWABLE_RATE", ("MRC1",), ("VIDEO_IMP1",)),
    _m("VIDEO_SPEND_IN_DOLLAR", _MICRO, "VIDEO_SPEND"),
    _rate("ECPV_IN_DOLLAR", ("VIDEO_SPEND",), ("MRC1",), _MICRO),
    _rate("ECPCV_IN_DOLLAR", ("VIDEO_SPEND",), ("P100_1",), _MICRO),
    _rate("ECPCV_P95_IN_DOLLAR", ("VIDEO_SPEND",), ("P95_1",), _MICRO),
    _rate("CPV_IN_MICRO_DOLLAR", ("VIDEO_SPEND",), ("MRC1",)),
    _rate("CPCV_IN_MICRO_DOLLAR", ("VIDEO_SPEND",), ("P100_1",)),
    _rate("CPCV_P95_IN_MICRO_DOLLAR", ("VIDEO_SPEND",), ("P95_1",)),
    _rate(
        "TOTAL_VIDEO_AVG_WATCHTIME_IN_SECOND", ("WATCH_MS_1", "WATCH_MS_2"), ("P0_1", "P0_2"), 1e-3
    ),
    _rate("VIDEO_AVG_WATCHTIME_IN_SECOND_1", ("WATCH_MS_1",), ("P0_1",), 1e-3),
    _rate("VIDEO_AVG_WATCHTIME_IN_SECOND_2", ("WATCH_MS_2",), ("P0_2",), 1e-3),
)
_ATTRIBUTES = (
    "AD_ACCOUNT_ID", "ADVERTISER_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME", "CAMPAIGN_ENTITY_STATUS",
    "CAMPAIGN_STATUS", "CAMPAIGN_OBJECTIVE_TYPE", "CAMPAIGN_LIFETIME_SPEND_CAP",
    "CAMPAIGN_DAILY_SPEND_CAP", "CAMPAIGN_BUDGET_OPTIMIZATION", "IS_PREMIERE_CAMPAIGN",
    "AD_GROUP_ID", "AD_GROUP_NAME", "AD_GROUP_ENTITY_STATUS", "AD_GROUP_STATUS",
    "AD_GROUP_BUDGET_TYPE", "AD_GROUP_BUDGET_IN_LOCAL_CURRENCY", "AD_ID", "AD_NAME", "AD_STATUS",
    "PIN_PROMOTION_ID", "PIN_PROMOTION_NAME", "PIN_PROMOTION_STATUS", "PIN_ID", "VIDEO_LENGTH",
    "PRODUCT_GROUP_ID", "PRODUCT_GROUP_STATUS", "PRODUCT_ITEM_ID", "PRODUCT_ITEM_NAME",
    "PRODUCT_ITEM_PRICE", "PRODUCT_ITEM_CURRENCY", "PRODUCT_ITEM_PRODUCT_URL", "PRODUCT_ITEM_BRAND",
    "PRODUCT_ITEM_IMAGE_URL", "PRODUCT_ITEM_PIN_URL", "PRODUCT_ITEM_DESCRIPTION",
    "PRODUCT_ITEM_PRODUCT_TYPE", "PRODUCT_ITEM_PRODUCT_CATEGORY",
)  # fmt: skip

_EVENTS = tuple(sorted(CONVERSION_EVENTS, key=len, reverse=True))
_CHANNELS = ("WEB", "INAPP", "OFFLINE", "PINTEREST")
_DEVICE = re.compile(
    r"^(.+)_((?:DESKTOP|MOBILE|TABLET)_ACTION_TO_(?:DESKTOP|MOBILE|TABLET))_CONVERSION$"
)
_MEASURES = (("_VALUE_IN_MICRO_DOLLAR", "value"), ("_QUANTITY", "quantity"))


def _conversion_leaves(
    events: tuple[str, ...], sources: tuple[str, ...], measure: str, split: str
) -> tuple[Leaf, ...]:
    return tuple(ConversionLeaf(e, s, measure, split) for e in events for s in sources)


def _event_and_sources(text: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if text == "CONVERSIONS":
        return tuple(CONVERSION_EVENTS), SOURCES
    if text in CONVERSION_EVENTS:
        return (text,), SOURCES
    for source in SOURCES:
        rest = text.removeprefix(source + "_")
        if rest != text and rest in CONVERSION_EVENTS:
            return (rest,), (source,)
    return None


def _split_prefix(text: str) -> tuple[str, str]:
    for channel in _CHANNELS:
        if text.startswith(channel + "_"):
            return channel, text[len(channel) + 1 :]
    return "ALL", text


def _total_conversion(name: str) -> Metric | None:
    """TOTAL_[CHANNEL_][SOURCE_]EVENT[_VALUE_IN_MICRO_DOLLAR|_QUANTITY|_CONVERSION_RATE] and
    TOTAL_EVENT_<DEVICE>_ACTION_TO_<DEVICE>_CONVERSION."""
    rest = name.removeprefix("TOTAL_")
    if rest.endswith("_CONVERSION_RATE"):
        split, text = _split_prefix(rest.removesuffix("_CONVERSION_RATE"))
        parsed = _event_and_sources(text)
        if parsed is None:
            return None
        return _rate(name, _conversion_leaves(*parsed, "count", split), _CLK)
    measure, split = "count", "ALL"
    device = _DEVICE.match(rest)
    if device:
        rest, split = device.group(1), device.group(2)
    for suffix, kind in _MEASURES:
        if rest.endswith(suffix):
            rest, measure = rest.removesuffix(suffix), kind
    if split == "ALL":
        split, rest = _split_prefix(rest)
    parsed = _event_and_sources(rest)
    if parsed is None or (split not in SPLITS and split not in ("ALL", "PINTEREST")):
        return None
    return _sum(name, *_conversion_leaves(*parsed, measure, split))


def _per_action(name: str) -> Metric | None:
    """[CHANNEL_]EVENT_COST_PER_ACTION (currency units) and [CHANNEL_]EVENT_ROAS."""
    for suffix in ("_COST_PER_ACTION", "_ROAS"):
        if not name.endswith(suffix):
            continue
        split, event = _split_prefix(name.removesuffix(suffix))
        if event not in CONVERSION_EVENTS:
            return None
        if suffix == "_ROAS":
            return _rate(name, _conversion_leaves((event,), SOURCES, "value", split), ("SPEND",))
        return _rate(
            name, ("SPEND",), _conversion_leaves((event,), SOURCES, "count", split), _MICRO
        )
    return None


@cache
def resolve(name: str) -> Metric | Attribute | None:
    """How to compute column `name`; None = the emulator never has a value (always absent)."""
    fixed = {metric.name: metric for metric in _FIXED}
    if name in fixed:
        return fixed[name]
    if name in _ATTRIBUTES:
        return Attribute(name, name)
    video = re.fullmatch(r"(TOTAL_VIDEO|VIDEO)_(P\d+)_(?:COMBINED|COMPLETE)(?:_([12]))?", name)
    if video:
        stage, part = video.group(2), video.group(3)
        leaves = (f"{stage}_{part}",) if part else (f"{stage}_1", f"{stage}_2")
        return _sum(name, *leaves)
    if name == "ONSITE_CHECKOUTS_1":
        return _sum(name, ConversionLeaf("CHECKOUT", "CLICK", "count", "PINTEREST"))
    if name.startswith("TOTAL_"):
        return _total_conversion(name)
    return _per_action(name)
