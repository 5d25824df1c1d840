"""Singer STATE for pinads streams: per stream, the last day loaded and the range in progress.

```json
{"bookmarks": {"campaign_daily": {
    "replication_key": "date",
    "replication_key_value": "2026-12-04",
    "in_progress": {"start": "2024-06-01", "end": "2026-12-04",
                    "strategy": "cheapest",
                    "steps_done": ["report:549755813001:2024-06-01:2024-12-03", "..."]}}}}
```

`replication_key_value` is the last day of the last range read completely. `in_progress` is
the range a sync was reading, how it planned it (async report batches or synchronous calls),
and the plan steps whose records (and this state) the target
already has: a rerun with this state reads the same range and skips those steps, so an
interrupted six-month-batch backfill continues where it stopped. Steps are the runner's own
(report batches aligned on the range's start, so the same on any day); a step whose id changed
meanwhile (ids batched differently after campaigns were created) is read again, and the
target's upsert on the key properties keeps it single.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date
from typing import Any

from pinads.errors import ConfigError
from pinads.values import DateRange

__all__ = ["Bookmark", "StreamState"]


class Bookmark:
    """One stream's bookmark, read from and written back into the whole state document."""

    def __init__(self, stream: str, entry: Mapping[str, Any]) -> None:
        self.stream = stream
        self.loaded_through = _day(entry.get("replication_key_value"), stream)
        progress = entry.get("in_progress")
        self.in_progress: DateRange | None = None
        self.steps_done: set[str] = set()
        self.strategy: str | None = None
        if isinstance(progress, Mapping):
            self.strategy = str(progress["strategy"]) if progress.get("strategy") else None
            start = _day(progress.get("start"), stream)
            end = _day(progress.get("end"), stream)
            if start is not None and end is not None and start <= end:
                self.in_progress = DateRange(start=start, end=end)
            self.steps_done = {str(step) for step in progress.get("steps_done") or ()}

    def document(
        self, *, key: str | None, reading: DateRange | None, strategy: str
    ) -> dict[str, Any]:
        """This bookmark as JSON: the range being read kept while its steps are not all done."""
        entry: dict[str, Any] = {}
        if key is not None:
            entry["replication_key"] = key
        if self.loaded_through is not None:
            entry["replication_key_value"] = self.loaded_through.isoformat()
        if self.steps_done:
            progress: dict[str, Any] = {"steps_done": sorted(self.steps_done)}
            if reading is not None:
                progress = {
                    "start": reading.start.isoformat(),
                    "end": reading.end.isoformat(),
                    "strategy": strategy,
                    **progress,
                }
            entry["in_progress"] = progress
        return entry

    def finish(self, reading: DateRange | None) -> None:
        """The range is read completely: no step to skip next time, the days loaded advance."""
        self.steps_done = set()
        self.in_progress = None
        self.strategy = None
        if reading is not None and (
            self.loaded_through is None or reading.end > self.loaded_through
        ):
            self.loaded_through = reading.end


def _day(value: object, stream: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ConfigError(
            f"the Singer state of stream {stream!r} has {value!r} where a day (YYYY-MM-DD) "
            "belongs: fix or remove that bookmark"
        ) from None


class StreamState:
    """The whole state document: bookmarks of the streams this sync touches are rewritten,
    every other key (other streams, other tools' entries) is passed through unchanged."""

    def __init__(self, document: Mapping[str, Any] | None) -> None:
        self.document: dict[str, Any] = copy.deepcopy(dict(document or {}))
        bookmarks = self.document.get("bookmarks")
        if not isinstance(bookmarks, dict):
            bookmarks = {}
        self.document["bookmarks"] = bookmarks

    def bookmark(self, stream: str) -> Bookmark:
        entry = self.document["bookmarks"].get(stream)
        return Bookmark(stream, entry if isinstance(entry, Mapping) else {})

    def update(
        self, bookmark: Bookmark, *, key: str | None, reading: DateRange | None, strategy: str
    ) -> None:
        entry = bookmark.document(key=key, reading=reading, strategy=strategy)
        self.document["bookmarks"][bookmark.stream] = entry

    @property
    def value(self) -> dict[str, Any]:
        return copy.deepcopy(self.document)
