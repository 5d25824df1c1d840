"""What a rebuild reads: the days the source's table holds, checked against what Pinterest
still serves for the new config (a rebuild must not lose days it cannot read again)."""

from __future__ import annotations

from datetime import date

from pinads.catalog.model import Dataset
from pinads.errors import ConfigError
from pinads.extract.plan import earliest_day
from pinads.runner.request import effective_period
from pinads.sources.config import SourceConfig
from pinads.sources.validate import parse_config
from pinads.values import DateRange, WriteMode

__all__ = ["check_rebuildable", "rebuild_period"]


def check_rebuildable(old: SourceConfig, new: SourceConfig) -> None:
    """ConfigError when a rebuild cannot give the table back: append mode keeps snapshots of
    past runs, which Pinterest cannot be asked for again."""
    if WriteMode.APPEND in (old.write_mode, new.write_mode):
        raise ConfigError(
            f"source {new.name!r} uses write_mode append: its table keeps a snapshot of every "
            "run, which a rebuild cannot read again from Pinterest; create a new source with "
            "this config instead (a new table; the old one stays as it is)"
        )


def rebuild_period(
    config: SourceConfig,
    dataset: Dataset,
    *,
    first: date | None,
    last: date | None,
    today: date,
) -> DateRange | None:
    """The days to rebuild: those the source's runs read (`first`..`last`, from run history),
    else the new config's own range; None for an entity dataset (no days). ConfigError if
    Pinterest no longer serves the first of them for the new config."""
    if not dataset.is_analytics:
        return None
    if first is None or last is None:
        return effective_period(config, today=today, explicit=None, resync=False)
    earliest = earliest_day(dataset, config.granularity, today=today, sync=False)
    if first < earliest:
        raise ConfigError(
            f"table {config.name!r} holds days from {first}, but Pinterest serves "
            f"{dataset.name} ({config.granularity.value}) only from {earliest}: a rebuild "
            "would lose the days before; create a new source with this config instead (a new "
            "table; the old one stays as it is)"
        )
    period = DateRange(start=first, end=min(last, today))
    # Past 90 days through async reports, which the dataset must have.
    parse_config(config.model_copy(update={"date_range": period}).to_document(), today=today)
    return period
