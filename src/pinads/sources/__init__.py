"""Sources: what to extract (`SourceConfig`), rolling date ranges, and validation that reports
every problem at once."""

from pinads.sources.config import DEFAULT_METADATA, MetadataColumn, SourceConfig
from pinads.sources.dates import NAMED_RANGES, parse_date_range, resolve_date_range
from pinads.sources.validate import (
    ANALYTICS_ROLES,
    check_accounts,
    check_catalog,
    collect_problems,
    parse_config,
    raise_problems,
    validate_config,
)

__all__ = [
    "ANALYTICS_ROLES",
    "DEFAULT_METADATA",
    "NAMED_RANGES",
    "MetadataColumn",
    "SourceConfig",
    "check_accounts",
    "check_catalog",
    "collect_problems",
    "parse_config",
    "parse_date_range",
    "raise_problems",
    "resolve_date_range",
    "validate_config",
]
