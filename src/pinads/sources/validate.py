"""Validation of a source against the catalog, Pinterest's limits and the authorizer's accounts.

Every problem is collected, then raised together as one `ConfigError` listing each with its
field and what to change, so a user fixes a config in one pass instead of one error per try.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError

from pinads.catalog import DATASETS, get_dataset
from pinads.catalog.model import Dataset, Granularity, Problem
from pinads.errors import ConfigError
from pinads.extract.plan import earliest_day
from pinads.sources.config import SourceConfig
from pinads.sources.dates import DateRange, resolve_date_range

__all__ = [
    "ANALYTICS_ROLES",
    "check_accounts",
    "check_catalog",
    "check_date_range",
    "closest",
    "parse_config",
    "raise_problems",
    "validate_config",
]

# Roles that may read analytics (Pinterest's operation descriptions): Owner, Admin, Analyst,
# Campaign Manager.
ANALYTICS_ROLES = frozenset({"OWNER", "ADMIN", "ANALYST", "CAMPAIGN_MANAGER"})


def closest(name: str, choices: Iterable[str], *, limit: int = 3) -> tuple[str, ...]:
    """Valid names nearest to a wrong one (typos, wrong suffix, missing _1)."""
    pool = list(choices)
    found = difflib.get_close_matches(name.upper(), pool, n=limit, cutoff=0.6)
    if not found:
        stem = name.upper().split("_")[0]
        found = [c for c in pool if c.startswith(stem)][:limit]
    return tuple(found)


def raise_problems(problems: Sequence[Problem], *, what: str = "source") -> None:
    """One ConfigError listing every problem (nothing when there are none)."""
    if not problems:
        return
    lines = "; ".join(_describe(p) for p in problems)
    count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
    raise ConfigError(f"{what} is not valid ({count}): {lines}")


def _describe(problem: Problem) -> str:
    if problem.suggestions:
        return f"{problem} (did you mean {', '.join(problem.suggestions)}?)"
    return str(problem)


def parse_config(document: Mapping[str, Any]) -> SourceConfig:
    """A SourceConfig from YAML/JSON data; every shape error at once as a ConfigError."""
    try:
        return SourceConfig.model_validate(dict(document))
    except ValidationError as exc:
        problems = [_pydantic_problem(error) for error in exc.errors()]
        raise_problems(problems, what=f"source {document.get('name', '')!s}".strip())
        raise AssertionError("unreachable") from exc


def _pydantic_problem(error: Any) -> Problem:
    field = ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int))
    field = field.split(".function-after")[0] or "source"
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        allowed = ", ".join(sorted(SourceConfig.model_fields))
        return Problem(field, f"unknown setting; settings are: {allowed}")
    if kind == "missing":
        description = (
            SourceConfig.model_fields[field].description
            if field in (SourceConfig.model_fields)
            else ""
        )
        return Problem(field, f"is required ({description})")
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return Problem(field, message)


def check_catalog(config: SourceConfig) -> tuple[Dataset | None, list[Problem]]:
    """Dataset, attributes, metrics, granularity and combination rules."""
    try:
        dataset = get_dataset(config.dataset)
    except (KeyError, ConfigError):
        names = [d.name for d in DATASETS]
        found = tuple(difflib.get_close_matches(config.dataset, names, n=3, cutoff=0.5))
        return None, [
            Problem(
                "dataset",
                f"{config.dataset!r} is not a dataset; list them with `pinads datasets`",
                found,
            )
        ]
    problems: list[Problem] = []
    for name in config.attributes:
        if dataset.attribute(name) is None:
            problems.append(_not_in(dataset, "attributes", name, dataset.attributes_by_name))
    for name in config.metrics:
        if dataset.metric(name) is None:
            problems.append(_not_in(dataset, "metrics", name, dataset.metrics_by_name))
    if dataset.is_analytics and config.granularity not in dataset.granularities:
        allowed = ", ".join(g.value for g in dataset.granularities)
        problems.append(
            Problem("granularity", f"{dataset.name} offers {allowed}, not {config.granularity}")
        )
    problems.extend(_combination_problems(config, dataset))
    return dataset, problems


def _not_in(dataset: Dataset, field: str, name: str, valid: Mapping[str, Any]) -> Problem:
    kind = "attribute" if field == "attributes" else "metric"
    return Problem(
        field,
        f"{name} is not a{'n' if kind == 'attribute' else ''} {kind} of {dataset.name}; "
        f"see `pinads metrics {dataset.name}`",
        closest(name, valid),
    )


def _combination_problems(config: SourceConfig, dataset: Dataset) -> list[Problem]:
    validate = getattr(dataset, "validate_selection", None)
    if validate is None:
        from pinads import catalog

        validate = getattr(catalog, "validate_selection", None)
        if validate is None:
            return []
        return list(
            validate(
                dataset,
                attributes=config.attributes,
                metrics=config.metrics,
                granularity=config.granularity,
            )
        )
    return list(
        validate(
            attributes=config.attributes, metrics=config.metrics, granularity=config.granularity
        )
    )


def check_date_range(
    config: SourceConfig, dataset: Dataset, *, today: date, period: DateRange | None = None
) -> list[Problem]:
    """The range must be reachable: sync limits for runs (reports for older days when the
    dataset has them), and never in the future."""
    if not dataset.is_analytics:
        return []
    try:
        period = period or resolve_date_range(config.date_range, today=today)
    except ValueError as exc:
        return [Problem("date_range", str(exc))]
    problems: list[Problem] = []
    granularity = config.granularity
    earliest = earliest_day(dataset, granularity, today=today, sync=True)
    if period.start < earliest:
        problems.append(_too_old(dataset, granularity, earliest, period))
    if period.end > today:
        problems.append(
            Problem("date_range", f"ends {period.end}, after today ({today}); end it by {today}")
        )
    if granularity is Granularity.TOTAL and period.days > 90:
        problems.append(
            Problem(
                "granularity",
                f"TOTAL over {period.days} days would be split into 90-day totals; use at most "
                "90 days or DAY granularity",
            )
        )
    return problems


def _too_old(
    dataset: Dataset, granularity: Granularity, earliest: date, period: DateRange
) -> Problem:
    if granularity is Granularity.HOUR:
        reach = "hourly data reaches 8 days back"
    elif dataset.max_days_back is not None:
        reach = f"{dataset.name} reaches {dataset.max_days_back} days back"
    else:
        reach = "Pinterest's synchronous analytics reach 90 days back"
    tail = (
        "; `pinads backfill` reaches further (async reports, up to 914 days back)"
        if dataset.async_report is not None and granularity is not Granularity.HOUR
        else ""
    )
    return Problem(
        "date_range",
        f"starts {period.start}, but {reach}: the earliest date is {earliest}{tail}",
    )


def check_accounts(
    config: SourceConfig,
    dataset: Dataset | None,
    *,
    visible: Sequence[Mapping[str, Any]],
) -> list[Problem]:
    """Accounts must exist for the authorizer and, for analytics, grant an analytics role."""
    by_id = {str(account.get("id")): account for account in visible}
    problems: list[Problem] = []
    wanted = list(by_id) if config.accounts == "all" else list(config.accounts)
    if config.accounts == "all" and not by_id:
        problems.append(
            Problem("accounts", f"authorizer {config.authorizer!r} sees no ad accounts")
        )
    for account_id in wanted:
        account = by_id.get(account_id)
        if account is None:
            problems.append(
                Problem(
                    "accounts",
                    f"ad account {account_id} is not visible to authorizer "
                    f"{config.authorizer!r}; list them with `pinads accounts "
                    f"{config.authorizer}`",
                    tuple(sorted(by_id))[:5],
                )
            )
            continue
        if dataset is not None and dataset.is_analytics:
            problem = _role_problem(account, config.accounts == "all")
            if problem is not None:
                problems.append(problem)
    return problems


def _role_problem(account: Mapping[str, Any], skipped_ok: bool) -> Problem | None:
    roles = {str(r).upper() for r in account.get("permissions") or ()}
    if roles & ANALYTICS_ROLES or skipped_ok:
        return None
    shown = ", ".join(sorted(roles)) or "none"
    return Problem(
        "accounts",
        f"insufficient permissions on ad account {account.get('id')} "
        f"({account.get('name', '')}): your roles are {shown}; analytics need Owner, Admin, "
        "Analyst or Campaign Manager - ask the account's owner, or remove the account",
    )


def validate_config(
    config: SourceConfig,
    *,
    today: date,
    visible_accounts: Sequence[Mapping[str, Any]] | None = None,
) -> Dataset:
    """Every check at once; returns the dataset or raises one ConfigError listing all problems.
    `visible_accounts` (the authorizer's ad accounts) enables the account and role checks."""
    dataset, problems = check_catalog(config)
    if dataset is not None:
        problems += check_date_range(config, dataset, today=today)
    if visible_accounts is not None:
        problems += check_accounts(config, dataset, visible=visible_accounts)
    raise_problems(problems, what=f"source {config.name!r}")
    assert dataset is not None
    return dataset
