"""Combination rules: what Pinterest accepts, checked before any API call.

`validate_selection` returns every problem at once; each names the field, says what to change
and, for a misspelt name, offers the closest valid names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pinads.catalog import limits as lim
from pinads.catalog.metrics import ALL_METRICS, REACH_METRICS
from pinads.catalog.model import Dataset, DatasetKind, Granularity, Problem
from pinads.catalog.registry import DATASETS, close_names

__all__ = [
    "DateLimits",
    "date_limits",
    "default_attributes",
    "default_metrics",
    "needs_async",
    "validate_selection",
]

_WINDOWS = ", ".join(str(days) for days in lim.ATTRIBUTION_WINDOW_DAYS)


@dataclass(frozen=True, slots=True)
class DateLimits:
    """How far back one request may start and how many days it may cover."""

    max_days_back: int
    max_range_days: int


def date_limits(dataset: Dataset, granularity: Granularity, *, use_async: bool) -> DateLimits:
    """Pinterest's limits for one request of `dataset` (the planner splits longer ranges)."""
    if granularity is Granularity.HOUR:
        return DateLimits(lim.HOUR_MAX_DAYS_BACK, lim.HOUR_MAX_RANGE_DAYS)
    if dataset.max_days_back is not None and dataset.max_range_days is not None:
        return DateLimits(dataset.max_days_back, dataset.max_range_days)
    if use_async:
        return DateLimits(lim.ASYNC_MAX_DAYS_BACK, lim.ASYNC_MAX_RANGE_DAYS)
    return DateLimits(lim.SYNC_MAX_DAYS_BACK, lim.SYNC_MAX_RANGE_DAYS)


def needs_async(
    dataset: Dataset,
    metrics: Sequence[str],
    *,
    start: date,
    granularity: Granularity = Granularity.DAY,
    today: date | None = None,
) -> bool:
    """True when the selection must be read with async reports rather than the GET endpoints.

    That is when the dataset has no synchronous endpoint, a metric is async-only, or `start`
    lies beyond the synchronous window.
    """
    if dataset.sync is None:
        return True
    if any(not m.in_sync for name in metrics if (m := dataset.metric(name)) is not None):
        return True
    reach = date_limits(dataset, granularity, use_async=False).max_days_back
    return start < _today(today) - timedelta(days=reach)


def default_attributes(
    dataset: Dataset, granularity: str = lim.DEFAULT_GRANULARITY
) -> tuple[str, ...]:
    """The dataset's suggested attributes, valid at `granularity` (HOUR added when hourly)."""
    grain = Granularity(granularity)
    names = [
        name
        for name in dataset.default_attributes
        if not (attr := dataset.attributes_by_name[name]).granularities
        or grain in attr.granularities
    ]
    if grain is Granularity.HOUR and "HOUR" in dataset.attributes_by_name:
        names.insert(names.index("DATE") + 1 if "DATE" in names else 0, "HOUR")
    return tuple(names)


def default_metrics(
    dataset: Dataset, granularity: str = lim.DEFAULT_GRANULARITY
) -> tuple[str, ...]:
    """The dataset's suggested metrics (Ads Manager's core columns); no conversions when hourly."""
    hourly = Granularity(granularity) is Granularity.HOUR
    return tuple(
        name
        for name in dataset.default_metrics
        if not (hourly and dataset.metrics_by_name[name].is_conversion)
    )


def _today(today: date | None) -> date:
    return today if today is not None else datetime.now(UTC).date()


def validate_selection(
    dataset: Dataset | str,
    *,
    attributes: Sequence[str],
    metrics: Sequence[str] = (),
    granularity: str = lim.DEFAULT_GRANULARITY,
    click_window_days: int = lim.DEFAULT_CLICK_WINDOW_DAYS,
    engagement_window_days: int = lim.DEFAULT_ENGAGEMENT_WINDOW_DAYS,
    view_window_days: int = lim.DEFAULT_VIEW_WINDOW_DAYS,
    conversion_report_time: str = lim.DEFAULT_CONVERSION_REPORT_TIME,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> list[Problem]:
    """Every problem with a selection; empty when Pinterest will accept it.

    Any metric of the dataset and any day async reports reach are accepted where the dataset
    has reports: the planner reads them through reports when the synchronous endpoints cannot
    (an async-only metric, a day older than 90 days). The date range is checked only when
    `start` and `end` are given (`today` defaults to the current UTC date).
    """
    if isinstance(dataset, str):
        if dataset.strip().lower() not in DATASETS:
            close = close_names(dataset.strip().lower(), DATASETS)
            hint = "; did you mean " + ", ".join(close) + "?" if close else ""
            return [Problem("dataset", f"unknown dataset {dataset!r}{hint}", close)]
        dataset = DATASETS[dataset.strip().lower()]
    problems = _check_granularity(dataset, granularity)
    grain = Granularity(granularity) if granularity in Granularity.__members__ else None
    problems += _check_attributes(dataset, attributes, grain)
    problems += _check_metrics(dataset, metrics, grain)
    if dataset.kind is DatasetKind.ANALYTICS:
        problems += _check_attribution(
            click=click_window_days,
            engagement=engagement_window_days,
            view=view_window_days,
            report_time=conversion_report_time,
        )
        if start is not None and end is not None and grain is not None:
            problems += _check_dates(dataset, grain, start=start, end=end, today=_today(today))
    return problems


def _check_granularity(dataset: Dataset, granularity: str) -> list[Problem]:
    if dataset.kind is DatasetKind.ENTITY:
        return []
    allowed = [g.value for g in dataset.granularities]
    if granularity in allowed:
        return []
    close = close_names(granularity, allowed)
    return [
        Problem(
            "granularity",
            f"unknown granularity {granularity!r}: choose one of {', '.join(allowed)}",
            close,
        )
    ]


def _check_attributes(
    dataset: Dataset, names: Sequence[str], grain: Granularity | None
) -> list[Problem]:
    problems: list[Problem] = []
    if not names:
        example = ", ".join(dataset.default_attributes)
        problems.append(Problem("attributes", f"choose at least one attribute, e.g. {example}"))
    unknown: list[str] = []
    for name in names:
        attr = dataset.attribute(name)
        if attr is None:
            unknown.append(name)
        elif grain is not None and attr.granularities and grain not in attr.granularities:
            problems.append(_attribute_grain(attr.name, grain))
    problems += [_unknown_attribute(dataset, name) for name in unknown[:MAX_SUGGESTED_NAMES]]
    return problems + _more_unknown("attributes", dataset, unknown)


# Unknown names that get a "did you mean" (a similarity search over the dataset's names
# each); past them the rest are listed in one problem, so a list of 1,000 typos costs as
# little to check as a list of five.
MAX_SUGGESTED_NAMES = 5


def _more_unknown(field: str, dataset: Dataset, unknown: Sequence[str]) -> list[Problem]:
    rest = unknown[MAX_SUGGESTED_NAMES:]
    if not rest:
        return []
    shown = ", ".join(rest[:10]) + (", ..." if len(rest) > 10 else "")
    return [
        Problem(
            field,
            f"{len(rest)} more unknown {field} ({shown}): `pinads metrics {dataset.name}` "
            "lists the names",
        )
    ]


def _unknown_attribute(dataset: Dataset, name: str) -> Problem:
    if dataset.metric(name) is not None:
        return Problem("attributes", f"{name} is a metric, not an attribute: list it under metrics")
    if dataset.level == "product_item" and name.upper().startswith(("AD_", "PIN_PROMOTION")):
        return Problem(
            "attributes",
            f"{name} is not available in product item reports: Pinterest allows no ad or pin "
            "promotion columns at the PRODUCT_ITEM level; remove it",
        )
    close = close_names(name, dataset.attributes_by_name)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return Problem(
        "attributes",
        f"{name} is not an attribute of {dataset.name}{hint} "
        f"(`pinads metrics {dataset.name}` lists them)",
        close,
    )


def _attribute_grain(name: str, grain: Granularity) -> Problem:
    if name == "HOUR":
        return Problem(
            "attributes",
            f"HOUR needs granularity HOUR (got {grain}): remove HOUR or set granularity HOUR",
        )
    return Problem(
        "attributes",
        f"{name} is not returned with granularity {grain}: remove {name} or choose DAY, WEEK "
        "or MONTH",
    )


def _check_metrics(
    dataset: Dataset, names: Sequence[str], grain: Granularity | None
) -> list[Problem]:
    if dataset.kind is DatasetKind.ENTITY:
        if names:
            return [Problem("metrics", f"{dataset.name} is an entity list and has no metrics")]
        return []
    if not names:
        example = ", ".join(dataset.default_metrics[:4])
        return [Problem("metrics", f"choose at least one metric, e.g. {example}")]
    unknown = [name for name in names if dataset.metric(name) is None]
    problems = [_unknown_metric(dataset, name) for name in unknown[:MAX_SUGGESTED_NAMES]]
    problems += _more_unknown("metrics", dataset, unknown)
    known = [m for name in names if (m := dataset.metric(name)) is not None]
    if grain is Granularity.HOUR:
        conversions = [m.name for m in known if m.is_conversion]
        if conversions:
            problems.append(
                Problem(
                    "metrics",
                    "granularity HOUR returns no conversion metrics: remove "
                    f"{', '.join(conversions)} or choose granularity DAY",
                )
            )
    return problems


def _unknown_metric(dataset: Dataset, name: str) -> Problem:
    upper = name.upper()
    if dataset.attribute(name) is not None:
        return Problem(
            "metrics", f"{upper} is an attribute, not a metric: list it under attributes"
        )
    if dataset.breakdown is not None and upper in REACH_METRICS:
        return Problem(
            "metrics",
            f"{upper} is not reported per targeting value (reach counts unique users): remove it "
            f"or use {dataset.level}_analytics",
        )
    if upper in ALL_METRICS and dataset.async_report is None:
        return Problem(
            "metrics",
            f"{upper} only comes from async reports, which do not support {dataset.name}: "
            "remove it",
        )
    close = close_names(name, dataset.metrics_by_name)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return Problem(
        "metrics",
        f"unknown metric {name}{hint} (`pinads metrics {dataset.name}` lists them)",
        close,
    )


def _check_attribution(
    *, click: int, engagement: int, view: int, report_time: str
) -> list[Problem]:
    problems: list[Problem] = []
    for field, value in (
        ("click_window_days", click),
        ("engagement_window_days", engagement),
        ("view_window_days", view),
    ):
        if value not in lim.ATTRIBUTION_WINDOW_DAYS:
            nearest = sorted(
                lim.ATTRIBUTION_WINDOW_DAYS, key=lambda days: (abs(days - value), days)
            )
            problems.append(
                Problem(
                    field,
                    f"{field} must be one of {_WINDOWS} (got {value})",
                    tuple(str(days) for days in nearest[:2]),
                )
            )
    if report_time not in lim.CONVERSION_REPORT_TIMES:
        close = close_names(report_time, lim.CONVERSION_REPORT_TIMES)
        choices = " or ".join(lim.CONVERSION_REPORT_TIMES)
        problems.append(
            Problem(
                "conversion_report_time",
                f"conversion_report_time must be {choices} (got {report_time!r})",
                close,
            )
        )
    return problems


def _check_dates(
    dataset: Dataset,
    grain: Granularity,
    *,
    start: date,
    end: date,
    today: date,
) -> list[Problem]:
    if end < start:
        return [Problem("date_range", f"end date {end} is before start date {start}: swap them")]
    if end > today:
        return [
            Problem("date_range", f"end date {end} is in the future: end on {today} or earlier")
        ]
    # Reports reach further back; a breakdown without an async level stays within the sync window.
    use_async = dataset.async_report is not None
    reach = date_limits(dataset, grain, use_async=use_async).max_days_back
    earliest = today - timedelta(days=reach)
    if start >= earliest:
        return []
    message = (
        f"start date {start} is {(today - start).days} days back; Pinterest serves "
        f"{_what(dataset, grain, use_async=use_async)} from {earliest} at the earliest "
        f"({reach} days back)"
    )
    return [Problem("date_range", message, (earliest.isoformat(),))]


def _what(dataset: Dataset, grain: Granularity, *, use_async: bool) -> str:
    if grain is Granularity.HOUR:
        return "hourly data"
    if dataset.max_days_back is not None:
        return f"{dataset.name}"
    return "async reports" if use_async else "the synchronous analytics API"
