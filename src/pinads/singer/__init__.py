"""pinads as a Singer tap (Meltano, or any Singer target): `discover` prints the catalog of a
config's sources, `sync` runs them through the runner and emits SCHEMA, RECORD and STATE
messages, with bookmarks that let an interrupted backfill-sized range continue."""

from pinads.singer.bookmarks import Bookmark, StreamState
from pinads.singer.config import TapConfig, TapStream, load_tap_config
from pinads.singer.destination import SingerDestination
from pinads.singer.messages import MessageWriter
from pinads.singer.schema import catalog_entry, column_schema, stream_schema
from pinads.singer.tap import StreamResult, discover, reading_period, sync

__all__ = [
    "Bookmark",
    "MessageWriter",
    "SingerDestination",
    "StreamResult",
    "StreamState",
    "TapConfig",
    "TapStream",
    "catalog_entry",
    "column_schema",
    "discover",
    "load_tap_config",
    "reading_period",
    "stream_schema",
    "sync",
]
