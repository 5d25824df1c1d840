"""How the CLI logs: plain text (default) or one JSON object per line (`--log-format json`),
for log shippers (Loki, Elasticsearch, CloudWatch) that index fields instead of parsing text.

A JSON line holds `ts` (UTC, ISO 8601), `level`, `logger`, `message`, the record's extra
fields (`logger.info(..., extra={"source": name})`) and `exception` (the traceback text) when
there is one. Every string is passed through `pinads.errors.redact`, and an extra field whose
name says it holds a secret is replaced by `***`, so a token that slipped into a message or a
field never reaches the log. Written here rather than taken from a library: it is one small
formatter, and the redaction is ours either way.
"""

from __future__ import annotations

import enum
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from pinads.errors import redact

__all__ = ["JsonFormatter", "LogFormat", "configure_logging", "formatter"]


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


# Attributes every LogRecord has: everything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_SECRET_NAME = re.compile(r"password|passwd|secret|token|credential|api_?key", re.IGNORECASE)
_MASK = "***"
_current = {"format": LogFormat.TEXT}


def _clean(name: str, value: Any) -> Any:
    """A field's value as JSON can hold it, with secrets masked."""
    if _SECRET_NAME.search(name):
        return _MASK
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(name, v) for v in value]
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_") and name not in entry:
                entry[name] = _clean(name, value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(text_format: str = "%(levelname)s:%(name)s:%(message)s") -> logging.Formatter:
    """The formatter of the chosen log format; `text_format` is used for plain text."""
    if _current["format"] is LogFormat.JSON:
        return JsonFormatter()
    return logging.Formatter(text_format)


def configure_logging(*, debug: bool, log_format: LogFormat) -> None:
    """The root logger's level and format for this command (stderr)."""
    _current["format"] = log_format
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter())
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])
