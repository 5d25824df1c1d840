"""Why a run or a preview got no rows: an empty breakdown is not an account without delivery.

A breakdown (location, audience multiplier, quiz result...) can be empty while the accounts
delivered: Pinterest has no rows of that targeting type for their campaigns. One synchronous
call per account to the account-level analytics (TOTAL impressions over the same days) tells
the two apart, made only once a source has come back empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from pinads.api.client import PinterestClient
from pinads.catalog.limits import SYNC_MAX_DAYS_BACK, SYNC_MAX_RANGE_DAYS
from pinads.catalog.model import Dataset
from pinads.errors import ApiError
from pinads.values import DateRange

__all__ = ["empty_reason", "impressions_delivered"]

_NO_DELIVERY = "the accounts had no delivery in these days - try a range when campaigns ran"
_ATTRIBUTION = {
    "click_window_days": 30,
    "engagement_window_days": 30,
    "view_window_days": 1,
    "conversion_report_time": "TIME_OF_AD_ACTION",
}


def impressions_delivered(
    client: PinterestClient, account_ids: Iterable[str], period: DateRange, *, today: date
) -> int | None:
    """Impressions the accounts had in `period` (None: unknown, the days lie beyond the
    synchronous endpoints or the call failed)."""
    if period.start < today - timedelta(days=SYNC_MAX_DAYS_BACK) or period.days > (
        SYNC_MAX_RANGE_DAYS
    ):
        return None
    total = 0
    for account in account_ids:
        params = {
            "start_date": period.start,
            "end_date": period.end,
            "columns": ["IMPRESSION_1"],
            "granularity": "TOTAL",
            **_ATTRIBUTION,
        }
        try:
            rows = client.get_json(f"/ad_accounts/{account}/analytics", params)
        except ApiError:
            return None  # a diagnosis must not hide the empty result behind its own error
        for row in rows if isinstance(rows, list) else ():
            value = row.get("IMPRESSION_1") if isinstance(row, dict) else None
            total += int(value) if isinstance(value, int | float) else 0
    return total


def empty_reason(
    client: PinterestClient,
    dataset: Dataset,
    *,
    account_ids: Iterable[str],
    period: DateRange | None,
    today: date,
) -> tuple[bool, str]:
    """(whether the accounts delivered and only the breakdown is empty, why there are no rows
    in words for the user)."""
    accounts = list(account_ids)
    if dataset.breakdown is None or period is None or not accounts:
        return False, _NO_DELIVERY
    delivered = impressions_delivered(client, accounts, period, today=today)
    title = dataset.breakdown.title.lower()
    if delivered:
        return True, (
            f"the accounts delivered ({delivered:,} impressions) but the {title} breakdown has "
            f"no rows for these days: Pinterest reports no {dataset.breakdown.targeting_type} "
            f"values for these campaigns - choose another breakdown, or "
            f"{dataset.level}_analytics for the totals"
        )
    if delivered == 0:
        return False, _NO_DELIVERY
    return False, (
        f"either the accounts had no delivery in these days or the {title} breakdown has no "
        f"rows for them - compare with {dataset.level}_analytics over the same days"
    )
