"""`pinads worker`: a Celery worker that runs what PINADS_BROKER_URL's queue holds (runs,
backfill batches, Test Data), on as many machines as needed."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer

from pinads.errors import ConfigError
from pinads.settings import load_settings

__all__ = ["register", "worker_command"]


def worker_command(
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", min=1, max=32, help="Tasks run side by side (threads)."),
    ] = 2,
    loglevel: Annotated[
        str, typer.Option("--loglevel", help="Celery's log level: DEBUG, INFO, WARNING.")
    ] = "INFO",
) -> None:
    """Take runs, backfill batches and Test Data from the broker until stopped (SIGTERM or
    Ctrl-C finish the tasks in progress; a worker killed outright loses none: its tasks go to
    another worker and continue from their checkpoints)."""
    settings = load_settings()
    if not settings.broker_url:
        raise ConfigError(
            "pinads worker needs a broker: set PINADS_BROKER_URL (e.g. redis://host:6379/0 or "
            "amqp://user:password@host:5672//)"
        )
    from pinads.runner import remote  # Celery is loaded only by the commands that use it

    app = remote.celery_app(settings)
    # Threads, not forked children: a run is I/O bound, and the run lock records this process
    # (so a worker killed outright is seen dead by its pid and its runs are taken over).
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel.upper()}",
            f"--hostname=pinads-{os.getpid()}@{socket.gethostname()}",
            f"--queues={settings.redis_prefix}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
