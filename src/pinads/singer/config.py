"""The tap's `--config`: a pinads source file (YAML), or Meltano's JSON config whose keys are
the source's settings, or either with `sources: [...]` for several streams at once.

Meltano keeps `metadata` for its own catalog metadata, so the metadata columns may also be
given as `metadata_columns`. `pinads_home` (optional) says where the authorizers and control
DB live, like the PINADS_HOME environment variable; settings Meltano passes as null are unset.
The destination and schedule of a source file are ignored here (the Singer target and the
orchestrator decide); a replace source runs as upsert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pinads.catalog.model import Dataset
from pinads.errors import ConfigError
from pinads.extract.table import build_table_spec, resolve_selection
from pinads.settings import AppSettings, load_settings
from pinads.sources.config import SourceConfig
from pinads.sources.validate import parse_config
from pinads.values import TableSpec, WriteMode

__all__ = ["TAP_KEYS", "TapConfig", "TapStream", "load_tap_config"]

TAP_KEYS = ("pinads_home",)
# Settings of a source that mean nothing to a Singer stream (the target and the orchestrator
# own them); accepted so one source file serves `pinads run` and the tap alike.
_IGNORED = ("destination", "schedule")
_ALIASES = {"metadata_columns": "metadata"}


@dataclass(frozen=True, slots=True)
class TapStream:
    """One source as a stream: its validated config, dataset and table."""

    config: SourceConfig
    dataset: Dataset
    table: TableSpec

    @property
    def append(self) -> bool:
        return self.config.write_mode is WriteMode.APPEND


@dataclass(frozen=True, slots=True)
class TapConfig:
    streams: tuple[TapStream, ...]
    settings: AppSettings


def _read(path: Path) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())  # YAML reads JSON too
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the tap config {path}: {exc}") from exc
    if not isinstance(document, Mapping):
        raise ConfigError(
            f"the tap config {path} must be a mapping of source settings (name, dataset, "
            "authorizer, ...) or {sources: [...]}"
        )
    return document


def _source_documents(document: Mapping[str, Any], path: Path) -> list[dict[str, Any]]:
    sources = document.get("sources")
    if sources is None:
        return [{k: v for k, v in document.items() if k not in TAP_KEYS}]
    if not isinstance(sources, list) or not all(isinstance(s, Mapping) for s in sources):
        raise ConfigError(f"`sources` in {path} must be a list of source settings mappings")
    return [dict(source) for source in sources]


def _value(value: Any) -> Any:
    """Meltano passes a setting without a `kind` as text: a JSON list or object written there
    (`accounts: '["5497..."]'`, a `date_range` object) is read as one."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value  # not JSON after all: validation says what is wrong with it
    return value


def _stream(document: Mapping[str, Any], *, today: date) -> TapStream:
    cleaned = {
        _ALIASES.get(k, k): _value(v)
        for k, v in document.items()
        if v is not None and k not in _IGNORED
    }
    config, dataset = parse_config(cleaned, today=today)
    if config.write_mode is WriteMode.REPLACE:
        config = config.model_copy(update={"write_mode": WriteMode.UPSERT})
    table = build_table_spec(config, resolve_selection(config, dataset))
    return TapStream(config=config, dataset=dataset, table=table)


def load_tap_config(path: Path, *, today: date) -> TapConfig:
    """Every source of the config validated (every problem at once, per source)."""
    document = _read(path)
    home = document.get("pinads_home")
    settings = AppSettings(home=Path(str(home)).expanduser()) if home else load_settings()
    streams = tuple(_stream(doc, today=today) for doc in _source_documents(document, path))
    if not streams:
        raise ConfigError(f"the tap config {path} lists no source")
    names = [stream.table.name for stream in streams]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"sources {repeated} appear twice in {path}: give each a unique name")
    return TapConfig(streams=streams, settings=settings)
