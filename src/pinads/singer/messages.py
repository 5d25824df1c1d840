"""Singer messages as JSON lines on a binary stream (stdout: nothing else may go there)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

import orjson

from pinads.errors import LoadError

__all__ = ["MessageWriter"]


def _default(value: object) -> object:
    if isinstance(value, Decimal):  # written as the exact number it is, not a float
        return orjson.Fragment(format(value, "f"))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class MessageWriter:
    """Writes SCHEMA, RECORD and STATE messages; a target that stopped reading is a LoadError."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.records = 0

    def _write(self, message: Mapping[str, Any], *, flush: bool = False) -> None:
        line = orjson.dumps(message, default=_default, option=orjson.OPT_APPEND_NEWLINE)
        try:
            self.stream.write(line)
            if flush:
                self.stream.flush()
        except BrokenPipeError as exc:
            raise LoadError(
                "the Singer target stopped reading pinads' output (broken pipe): see the "
                "target's own error above"
            ) from exc

    def schema(
        self,
        stream: str,
        schema: Mapping[str, Any],
        *,
        key_properties: list[str],
        bookmark_properties: list[str],
    ) -> None:
        self._write(
            {
                "type": "SCHEMA",
                "stream": stream,
                "schema": schema,
                "key_properties": key_properties,
                "bookmark_properties": bookmark_properties,
            }
        )

    def record(self, stream: str, record: Mapping[str, Any], *, extracted_at: datetime) -> None:
        self._write(
            {"type": "RECORD", "stream": stream, "record": record, "time_extracted": extracted_at}
        )
        self.records += 1

    def state(self, value: Mapping[str, Any]) -> None:
        """A STATE follows the records it covers; flushed so the target can commit them."""
        self._write({"type": "STATE", "value": value}, flush=True)
