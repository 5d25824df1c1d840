"""Prometheus metrics at /metrics, read from the control DB at every scrape.

Runs happen in several processes (the web server, `pinads scheduler`, `pinads run`, cron's
`run-due`), and all of them record into the control DB: counting there, rather than in one
process's memory, makes the figures whole and lets them survive restarts. Each scrape is a few
aggregate queries over the runs and authorizers tables.

Who may scrape: anyone with `PINADS_METRICS_TOKEN` as a Bearer token (Prometheus'
`authorization: credentials:`), or any valid API token or logged-in session; everyone when
`PINADS_METRICS_PUBLIC=true` (a private network the operator trusts).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import datetime

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from pinads.state import open_control_db
from pinads.state.schema import AUTHORIZERS, RUNS, SOURCES
from pinads.web.access import api_access
from pinads.web.common import context_of
from pinads.web.security import bearer_token

__all__ = ["DURATION_BUCKETS_SECONDS", "ControlDbCollector", "router"]

router = APIRouter(include_in_schema=False)

# From a one-call entity list to a long backfill.
DURATION_BUCKETS_SECONDS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class ControlDbCollector(Collector):
    """Runs, rows, API calls, 429s and run durations per source; refresh-token expiry per
    authorizer."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            yield from self._run_counts(conn)
            yield from self._run_sums(conn)
            yield self._durations(conn)
            yield from self._authorizers(conn)

    def _run_counts(self, conn: sa.Connection) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "pinads_runs",
            "Runs recorded, by source, kind and status.",
            labels=["source", "kind", "status"],
        )
        query = (
            sa.select(SOURCES.c.name, RUNS.c.kind, RUNS.c.status, sa.func.count())
            .join(SOURCES, SOURCES.c.id == RUNS.c.source_id)
            .group_by(SOURCES.c.name, RUNS.c.kind, RUNS.c.status)
        )
        for name, kind, status, count in conn.execute(query):
            runs.add_metric([name, kind, status], count)
        yield runs

    def _run_sums(self, conn: sa.Connection) -> Iterator[Metric]:
        families = tuple(
            CounterMetricFamily(name, text, labels=["source"])
            for name, text in (
                ("pinads_rows_loaded", "Rows written to destinations."),
                ("pinads_api_calls", "Pinterest API calls made by runs."),
                ("pinads_rate_limited", "Pinterest 429 answers waited out by runs."),
            )
        )
        query = (
            sa.select(
                SOURCES.c.name,
                sa.func.coalesce(sa.func.sum(RUNS.c.rows_written), 0),
                sa.func.coalesce(sa.func.sum(RUNS.c.api_calls), 0),
                sa.func.coalesce(sa.func.sum(RUNS.c.rate_limited_waits), 0),
            )
            .join(RUNS, RUNS.c.source_id == SOURCES.c.id)
            .group_by(SOURCES.c.name)
        )
        for name, *sums in conn.execute(query):
            for family, value in zip(families, sums, strict=True):
                family.add_metric([name], int(value))
        yield from families

    def _durations(self, conn: sa.Connection) -> Metric:
        histogram = HistogramMetricFamily(
            "pinads_run_duration_seconds",
            "Durations of finished runs (succeeded or failed), by source.",
            labels=["source"],
        )
        duration = RUNS.c.duration_seconds
        columns = [
            sa.func.sum(sa.case((duration <= bound, 1), else_=0))
            for bound in DURATION_BUCKETS_SECONDS
        ]
        query = (
            sa.select(SOURCES.c.name, sa.func.count(), sa.func.sum(duration), *columns)
            .join(SOURCES, SOURCES.c.id == RUNS.c.source_id)
            .where(duration.is_not(None))
            .group_by(SOURCES.c.name)
        )
        for name, count, total, *cumulative in conn.execute(query):
            buckets = [
                (f"{bound:g}", int(n))
                for bound, n in zip(DURATION_BUCKETS_SECONDS, cumulative, strict=True)
            ]
            buckets.append(("+Inf", int(count)))
            histogram.add_metric([name], buckets, float(total or 0.0))
        return histogram

    def _authorizers(self, conn: sa.Connection) -> Iterator[Metric]:
        expiry = GaugeMetricFamily(
            "pinads_authorizer_refresh_token_expiry_seconds",
            "Seconds until the authorizer's refresh token expires (negative: expired).",
            labels=["authorizer"],
        )
        dead = GaugeMetricFamily(
            "pinads_authorizer_needs_reauthorization",
            "1 when the authorizer was revoked or its refresh token expired, else 0.",
            labels=["authorizer"],
        )
        now = self.clock()
        query = sa.select(
            AUTHORIZERS.c.label, AUTHORIZERS.c.refresh_expires_at, AUTHORIZERS.c.revoked_at
        ).order_by(AUTHORIZERS.c.label)
        for label, expires, revoked in conn.execute(query):
            if expires is not None:
                expiry.add_metric([label], (expires - now).total_seconds())
            gone = revoked is not None or (expires is not None and expires <= now)
            dead.add_metric([label], 1.0 if gone else 0.0)
        yield expiry
        yield dead


def _refusal(request: Request) -> Response | None:
    """None when the caller may scrape: the metrics token, or any credentials the API
    accepts. Otherwise a plain-text answer, as a scraper (not a browser) shows it."""
    policy = context_of(request).policy
    token = bearer_token(request)
    expected = policy.metrics_token
    if policy.metrics_public or (
        token is not None
        and expected is not None
        and secrets.compare_digest(token.encode(), expected.get_secret_value().encode())
    ):
        return None
    try:
        api_access(request)
    except HTTPException as exc:
        detail = str(exc.detail)
        if exc.status_code == 401:
            detail = (
                "send PINADS_METRICS_TOKEN or an API token as a Bearer token, or set "
                "PINADS_METRICS_PUBLIC=true"
            )
        headers = {**(exc.headers or {}), "WWW-Authenticate": "Bearer"}
        return PlainTextResponse(detail + "\n", status_code=exc.status_code, headers=headers)
    return None


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """The Prometheus text exposition of the control DB's figures."""
    refused = _refusal(request)
    if refused is not None:
        return refused
    ctx = context_of(request)
    registry = CollectorRegistry(auto_describe=False)
    # Opened per scrape, so the control DB's own tables are migrated even on a server that
    # has not run anything yet.
    with open_control_db(ctx.settings) as db:
        registry.register(ControlDbCollector(db.engine, ctx.clock))
        exposition = generate_latest(registry)
    return Response(exposition, media_type=CONTENT_TYPE_LATEST)
