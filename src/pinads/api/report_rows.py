"""Rows of a downloaded report, streamed: CSV line by line, JSON object by object.

Pinterest's JSON reports are one document: an object keyed by entity id (BY_ID) or by date,
then entity id (BY_DATE), whose leaves are arrays of row objects. Decoding it whole would hold
the report several times over in memory, so the JSON walker below reads it in chunks and
decodes one row object at a time (with the C decoder); memory stays at about one chunk.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from pinads.errors import ExtractError

__all__ = ["iter_report_rows"]

_CHUNK_BYTES = 1 << 20
_NON_SPACE = re.compile(r"\S")
_DECODER = json.JSONDecoder()


def _broken(reason: str) -> ExtractError:
    return ExtractError(f"the downloaded report is not valid JSON ({reason}): run it again")


class _Reader:
    """A window over the document: `buf[pos:]` is what is not consumed yet."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.eof = False

    def fill(self) -> bool:
        """Append the next chunk; False at the end of the file."""
        data = self._source.read(_CHUNK_BYTES)
        self.eof = not data
        self.buf = self.buf[self.pos :] + self._decoder.decode(data, final=self.eof)
        self.pos = 0
        return not self.eof

    def peek(self) -> str:
        """The next non-space character ("" at the end), positioned on it."""
        while True:
            match = _NON_SPACE.search(self.buf, self.pos)
            if match is not None:
                self.pos = match.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if not self.fill():
                return ""

    def value(self) -> Any:
        """Decode the complete JSON value that starts at the next non-space character."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if not self.fill():
                    raise _broken(exc.msg) from exc
                continue
            # A number that ends the window may continue in the next chunk.
            if end == len(self.buf) and not self.eof:
                self.fill()
                continue
            self.pos = end
            return value

    def expect(self, chars: str) -> str:
        char = self.peek()
        if char == "" or char not in chars:
            raise _broken(f"expected one of {chars!r}, found {char or 'the end'!r}")
        self.pos += 1
        return char


def _walk(reader: _Reader) -> Iterator[dict[str, Any]]:
    char = reader.peek()
    if char == "{":
        yield from _walk_object(reader)
    elif char == "[":
        yield from _walk_array(reader)
    elif char:
        reader.value()  # a scalar holds no rows


def _walk_object(reader: _Reader) -> Iterator[dict[str, Any]]:
    reader.expect("{")
    if reader.peek() == "}":
        reader.pos += 1
        return
    while True:
        if not isinstance(reader.value(), str):
            raise _broken("an object key is not a string")
        reader.expect(":")
        yield from _walk(reader)
        if reader.expect(",}") == "}":
            return


def _walk_array(reader: _Reader) -> Iterator[dict[str, Any]]:
    reader.expect("[")
    if reader.peek() == "]":
        reader.pos += 1
        return
    while True:
        if reader.peek() == "{":
            yield reader.value()  # a row: objects inside arrays
        else:
            yield from _walk(reader)
        if reader.expect(",]") == "]":
            return


def iter_report_rows(source: IO[bytes], report_format: str) -> Iterator[dict[str, Any]]:
    """Every row of a report file: objects inside arrays, at whatever depth (JSON), or the
    lines of a CSV file as dicts (values stay strings; CSV is zero-filled by Pinterest)."""
    if report_format.upper() == "CSV":
        yield from csv.DictReader(codecs.getreader("utf-8-sig")(source))
        return
    reader = _Reader(source)
    yield from _walk(reader)
    if reader.peek() != "":
        raise _broken("data after the end of the document")
