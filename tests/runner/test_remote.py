"""What a worker runs with: the runs it takes are its own (no broker), and their calls draw
from the rate budget shared through Redis, whichever URL named it."""

from __future__ import annotations

from datetime import date

import pytest

from pinads.errors import ConfigError
from pinads.runner import remote, service
from pinads.settings import AppSettings, load_settings
from pinads.values import DateRange

REDIS = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("variables", "shared"),
    [
        ({"PINADS_BROKER_URL": REDIS}, REDIS),  # the broker is the shared Redis
        (
            {"PINADS_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//", "PINADS_REDIS_URL": REDIS},
            REDIS,
        ),
        ({"PINADS_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"}, None),
    ],
)
def test_a_worker_keeps_the_shared_budget(
    variables: dict[str, str], shared: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings: AppSettings = remote.worker_settings(load_settings())
    assert settings.broker_url is None
    assert settings.shared_redis_url == shared


def test_backfill_batches_cover_the_range_in_report_sized_pieces() -> None:
    batches = remote.backfill_batches(DateRange(start=date(2025, 1, 1), end=date(2025, 12, 31)))
    assert [(b.start, b.end) for b in batches] == [
        (date(2025, 1, 1), date(2025, 7, 5)),
        (date(2025, 7, 6), date(2025, 12, 31)),
    ]


def test_a_missing_source_is_refused_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No worker runs here: a task sent would be waited for forever.
    monkeypatch.setenv("PINADS_BROKER_URL", REDIS)
    monkeypatch.setenv("PINADS_REDIS_PREFIX", "pinads-test-never-sent")
    with pytest.raises(ConfigError, match="no source named 'nothing'"):
        service.run("nothing")
