"""What started a run: the control DB records it, the runner acts on it, the pages show it."""

from __future__ import annotations

import enum

__all__ = ["RunKind"]


class RunKind(enum.StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    BACKFILL = "backfill"
    PREVIEW = "preview"
    REBUILD = "rebuild"  # the table filled again with a new config and swapped in
