"""Validation of a source against the catalog, Pinterest's limits and the authorizer's accounts.

Every problem is collected, then raised together as one `ConfigError` listing each with its
field and what to change, so a user fixes a config in one pass instead of one error per try.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError

from pinads.catalog import DATASETS, close_names, validate_selection
from pinads.catalog.limits import SYNC_MAX_RANGE_DAYS
from pinads.catalog.model import Dataset, Granularity, Problem
from pinads.errors import ConfigError
from pinads.load import check_destination_url
from pinads.settings import AppSettings, load_settings
from pinads.sources.config import SourceConfig
from pinads.sources.dates import resolve_date_range
from pinads.sources.limits import size_problems
from pinads.values import DateRange

__all__ = [
    "ANALYTICS_ROLES",
    "check_accounts",
    "check_catalog",
    "check_destination",
    "collect_problems",
    "document_problems",
    "parse_config",
    "raise_problems",
    "saved_source_problems",
    "validate_config",
]

# Roles that may read analytics (Pinterest's operation descriptions): Owner, Admin, Analyst,
# Campaign Manager.
ANALYTICS_ROLES = frozenset({"OWNER", "ADMIN", "ANALYST", "CAMPAIGN_MANAGER"})


# Problems spelled out in one error; the rest are counted (the line stays readable).
MAX_PROBLEMS_SHOWN = 10


def raise_problems(problems: Sequence[Problem], *, what: str = "source") -> None:
    """One ConfigError listing every problem (nothing when there are none)."""
    if not problems:
        return
    lines = "; ".join(str(p) for p in problems[:MAX_PROBLEMS_SHOWN])
    hidden = len(problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        lines += f"; and {hidden} more (fix these first)"
    count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
    raise ConfigError(f"{what} is not valid ({count}): {lines}")


def document_problems(
    document: Mapping[str, Any],
    *,
    today: date,
    visible_accounts: Sequence[Mapping[str, Any]] | None = None,
    settings: AppSettings | None = None,
) -> tuple[SourceConfig | None, Dataset | None, list[Problem]]:
    """Every problem of a config document (for a form: each with its field), and the config
    and dataset when there is none. Oversized settings are refused before anything else;
    then shape errors; the settings that parsed are still checked against the catalog,
    Pinterest's limits, the accounts, and the destination URL (parsed, never connected)."""
    too_big = size_problems(document)
    if too_big:
        return None, None, too_big
    try:
        config = SourceConfig.model_validate(dict(document))
    except ValidationError as exc:
        problems = [_pydantic_problem(error) for error in exc.errors()]
        salvaged = _salvage(document, exc)
        if salvaged is not None:
            problems += collect_problems(salvaged, today=today, visible_accounts=visible_accounts)[
                1
            ]
            if "destination" not in _failed_fields(exc):
                problems += check_destination(salvaged.destination, settings=settings)
        return None, None, problems
    dataset, problems = collect_problems(config, today=today, visible_accounts=visible_accounts)
    problems += check_destination(config.destination, settings=settings)
    return config, dataset, problems


def check_destination(url: str, *, settings: AppSettings | None = None) -> list[Problem]:
    """The destination URL's problem (parsed and checked like a run would open it, nothing
    connected, created or written), or none."""
    try:
        check_destination_url(url, settings or load_settings())
    except ConfigError as exc:
        return [Problem("destination", str(exc))]
    return []


def saved_source_problems(
    config: SourceConfig,
    *,
    destination_url: str | None = None,
    settings: AppSettings | None = None,
) -> list[Problem]:
    """What makes a saved source unrunnable whatever the day: repeated names and an invalid
    destination (saved before create checked them). Runs and dry runs refuse on these.
    `destination_url` is the saved URL in clear when the config shows it redacted."""
    url = config.destination if destination_url is None else destination_url
    return [*duplicate_problems(config), *check_destination(url, settings=settings)]


def duplicate_problems(config: SourceConfig) -> list[Problem]:
    """Names listed twice: each would be a repeated column (or account) in the table."""
    problems = []
    lists: tuple[tuple[str, Sequence[str]], ...] = (
        ("attributes", config.attributes),
        ("metrics", config.metrics),
        ("accounts", () if config.accounts == "all" else config.accounts),
        ("metadata", [m.value for m in config.metadata]),
    )
    for field, names in lists:
        repeated = sorted(name for name, count in Counter(names).items() if count > 1)
        if repeated:
            shown = ", ".join(repeated[:10]) + (", ..." if len(repeated) > 10 else "")
            problems.append(Problem(field, f"lists {shown} more than once: list each once"))
    return problems


def _failed_fields(exc: ValidationError) -> set[str]:
    return {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}


def parse_config(
    document: Mapping[str, Any],
    *,
    today: date,
    visible_accounts: Sequence[Mapping[str, Any]] | None = None,
    known_problems: Sequence[Problem] = (),
) -> tuple[SourceConfig, Dataset]:
    """A validated SourceConfig from YAML/JSON data, or one ConfigError with every problem
    (plus `known_problems` the caller found, such as an unknown authorizer)."""
    name = str(document.get("name", "")) if isinstance(document, Mapping) else ""
    config, dataset, problems = document_problems(
        document, today=today, visible_accounts=visible_accounts
    )
    raise_problems([*known_problems, *problems], what=f"source {name!r}" if name else "source")
    assert config is not None and dataset is not None
    return config, dataset


def _salvage(document: Mapping[str, Any], exc: ValidationError) -> SourceConfig | None:
    """The config without the settings that failed (their defaults instead), to check the rest."""
    bad = _failed_fields(exc)
    kept = {k: v for k, v in document.items() if k not in bad}
    try:
        return SourceConfig.model_validate(kept)
    except ValidationError:
        return None


def _pydantic_problem(error: Any) -> Problem:
    field = ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int))
    field = field.split(".function-after")[0] or "source"
    kind = error.get("type", "")
    top_level = field in SourceConfig.model_fields or "." not in field
    if kind == "extra_forbidden":
        if not top_level:
            return Problem(field, "unknown setting: remove it")
        allowed = ", ".join(sorted(SourceConfig.model_fields))
        return Problem(field, f"unknown setting; settings are: {allowed}")
    if kind == "missing":
        model_field = SourceConfig.model_fields.get(field)
        description = model_field.description if model_field is not None else None
        return Problem(field, f"is required ({description})" if description else "is required")
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return Problem(field, message)


def check_catalog(config: SourceConfig, *, today: date) -> tuple[Dataset | None, list[Problem]]:
    """Dataset, attributes, metrics, granularity, attribution, dates and combination rules
    (the catalog's rules, on the names the run will use: defaults when none are chosen)."""
    dataset = DATASETS.get(config.dataset)
    if dataset is None:
        found = close_names(config.dataset, DATASETS)
        hint = f"did you mean {', '.join(found)}?" if found else "list them with `pinads datasets`"
        return None, [Problem("dataset", f"unknown dataset {config.dataset!r}: {hint}", found)]
    start = end = None
    try:
        period = resolve_date_range(config.date_range, today=today)
        start, end = period.start, period.end
    except ValueError as exc:
        problem = Problem("date_range", str(exc))
        return dataset, [problem]
    problems = duplicate_problems(config)
    problems += validate_selection(
        dataset,
        attributes=config.attributes or dataset.default_attributes,
        metrics=config.metrics or dataset.default_metrics,
        granularity=config.granularity.value,
        click_window_days=config.click_window_days,
        engagement_window_days=config.engagement_window_days,
        view_window_days=config.view_window_days,
        conversion_report_time=config.conversion_report_time,
        start=start if dataset.is_analytics else None,
        end=end if dataset.is_analytics else None,
        today=today,
    )
    if dataset.is_analytics:
        problems += _total_problems(config, period)
    return dataset, problems


def _total_problems(config: SourceConfig, period: DateRange) -> list[Problem]:
    if config.granularity is Granularity.TOTAL and period.days > SYNC_MAX_RANGE_DAYS:
        return [
            Problem(
                "granularity",
                f"TOTAL over {period.days} days would be split into 90-day totals: use a range "
                "of at most 90 days, or granularity DAY",
            )
        ]
    return []


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
                    f"{config.authorizer!r}; list them with `pinads accounts list "
                    f"--authorizer {config.authorizer}`",
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


def collect_problems(
    config: SourceConfig,
    *,
    today: date,
    visible_accounts: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[Dataset | None, list[Problem]]:
    """Every problem of a parsed config (catalog, limits, and accounts when given)."""
    dataset, problems = check_catalog(config, today=today)
    if visible_accounts is not None:
        problems += check_accounts(config, dataset, visible=visible_accounts)
    return dataset, problems


def validate_config(
    config: SourceConfig,
    *,
    today: date,
    visible_accounts: Sequence[Mapping[str, Any]] | None = None,
) -> Dataset:
    """Every check at once; returns the dataset or raises one ConfigError listing all problems.
    `visible_accounts` (the authorizer's ad accounts) enables the account and role checks."""
    dataset, problems = collect_problems(config, today=today, visible_accounts=visible_accounts)
    raise_problems(problems, what=f"source {config.name!r}")
    assert dataset is not None
    return dataset
