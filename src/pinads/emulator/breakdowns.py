"""Targeting breakdowns: which values a targeting type has and each value's share of a row.

Types whose values partition the audience (GENDER, AGE_BUCKET, COUNTRY, APPTYPE, PLACEMENT,
REGION, LOCATION, GEO, AGE_BUCKET_AND_GENDER, CREATIVE_TYPE) get shares that add up to exactly
1000 permille, so breakdown rows sum to the row's totals. Overlapping or partial types
(KEYWORD, interests, audiences) get independent shares, as Pinterest's do not add up either.
Types the synthetic world has no data for give no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pinads.emulator.world import Ad, World, splitmix64

__all__ = ["GEO_AREAS", "LOCATION_CODES", "Breakdown", "breakdown_for", "partition_values"]

_GENDERS = (("female", 640), ("male", 290), ("unknown", 70))
_AGES = (
    ("18-24", 170), ("25-34", 280), ("35-44", 210), ("45-49", 90), ("50-54", 80),
    ("55-64", 90), ("65+", 50), ("unknown", 30),
)  # fmt: skip
_APPTYPES = (
    ("iphone", 350), ("ipad", 40), ("android_mobile", 250), ("android_tablet", 20),
    ("web", 220), ("web_mobile", 120),
)  # fmt: skip
_LOCATIONS = (("501", 210), ("803", 160), ("602", 90), ("807", 80), ("623", 60), ("OTHER", 400))
LOCATION_CODES = tuple(code for code, _ in _LOCATIONS if code.isdigit())  # DMA codes
GEO_AREAS = ("501", "602", "803", "807", "999")  # GEO values are "<country>:<area>"
_PARTITIONS: dict[str, tuple[tuple[str, int], ...]] = {
    "GENDER": _GENDERS,
    "AGE_BUCKET": _AGES,
    "APPTYPE": _APPTYPES,
    "PLACEMENT": (("BROWSE", 520), ("SEARCH", 410), ("OTHER", 70)),
    "LOCATION": _LOCATIONS,
    "AGE_BUCKET_AND_GENDER": tuple(
        (f"{gender}_{age}", g_share * a_share // 1000)
        for gender, g_share in _GENDERS
        for age, a_share in _AGES
    ),
}
_OTHER_COUNTRIES = ("US", "CA", "GB", "DE", "FR", "AU")
_INTERESTS = (
    "home decor",
    "diy and crafts",
    "food and drinks",
    "womens fashion",
    "travel",
    "gardening",
)
_KEYWORD_VALUES = (
    "christmas decor ideas", "living room ideas", "kitchen organization", "boho bedroom",
    "outdoor patio", "wedding centerpieces",
)  # fmt: skip
# AUDIENCE_MULTIPLIER, CREATIVE_ENHANCEMENTS, QUIZ_RESULT, MEDIA_TYPE, LOCAL_ADS_STORE_CODE:
# no campaign of the synthetic world uses them, so they have no rows.


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Values of one targeting type for one row owner, each with [low, high) permille."""

    values: tuple[str, ...]
    bounds: tuple[tuple[int, int], ...]


def _jitter(weights: Sequence[int], seed: int) -> list[int]:
    """Entity-specific weights: each base weight moved by up to +-25 %, deterministically."""
    out = []
    for i, weight in enumerate(weights):
        u = (splitmix64(seed * 31 + i) & 0xFFFF) / 65536.0
        out.append(max(1, int(weight * (0.75 + 0.5 * u))))
    return out


def _partition(values: Sequence[str], weights: Sequence[int], seed: int) -> Breakdown:
    jittered = _jitter(weights, seed)
    total = sum(jittered)
    bounds, low, running = [], 0, 0
    for weight in jittered:
        running += weight
        high = running * 1000 // total
        bounds.append((low, high))
        low = high
    return Breakdown(tuple(values), tuple(bounds))


def _overlapping(values: Sequence[str], seed: int, *, low: int, high: int) -> Breakdown:
    shares = [low + (splitmix64(seed * 17 + i) % (high - low)) for i in range(len(values))]
    return Breakdown(tuple(values), tuple((0, share) for share in shares))


def _geography(kind: str, country: str, seed: int) -> Breakdown:
    others = [c for c in _OTHER_COUNTRIES if c != country][:4]
    if kind == "COUNTRY":
        return _partition([country, *others], [880, 50, 35, 25, 10], seed)
    regions = [f"{country}-{n:02d}" for n in range(1, 6)]
    if kind == "GEO":
        regions = [f"{country}:{area}" for area in GEO_AREAS]
    return _partition(regions, [300, 250, 200, 150, 100], seed)


def _creative_types(ads: Sequence[Ad], seed: int) -> Breakdown:
    counts: dict[str, int] = {}
    for ad in ads:
        counts[ad.creative_type] = counts.get(ad.creative_type, 0) + 1
    names = sorted(counts)
    return _partition(names, [counts[n] * 100 for n in names], seed)


def partition_values(kind: str) -> tuple[str, ...]:
    """The values a partition breakdown reports (none for other targeting types)."""
    return tuple(value for value, _ in _PARTITIONS.get(kind, ()))


def breakdown_for(
    kind: str, *, world: World, account_id: str, owner_seed: int, ads: Sequence[Ad]
) -> Breakdown | None:
    """The breakdown of a row owner (seeded by its id) for targeting type `kind`; None when
    the synthetic world has no data for that type."""
    if kind in _PARTITIONS:
        values, weights = zip(*_PARTITIONS[kind], strict=True)
        return _partition(values, weights, owner_seed)
    if kind in ("COUNTRY", "REGION", "GEO"):
        return _geography(kind, world.accounts[account_id].country, owner_seed)
    if kind == "CREATIVE_TYPE":
        return _creative_types(ads, owner_seed)
    return _overlapping_for(kind, world=world, account_id=account_id, owner_seed=owner_seed)


def _overlapping_for(
    kind: str, *, world: World, account_id: str, owner_seed: int
) -> Breakdown | None:
    if kind in ("TARGETED_INTEREST", "PINNER_INTEREST"):
        return _overlapping(_INTERESTS, owner_seed + len(kind), low=80, high=450)
    if kind == "AUDIENCE_INCLUDE":
        audiences = [a.id for a in world.audiences.values() if a.account_id == account_id]
        return _overlapping(audiences, owner_seed, low=30, high=300)
    if kind == "KEYWORD":
        return _overlapping(_KEYWORD_VALUES[: 3 + owner_seed % 4], owner_seed, low=20, high=180)
    return None
