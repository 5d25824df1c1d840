"""Reading source documents from files and YAML text with bounded work.

A source document is small (a few KB; every metric of the widest dataset is ~10 KB), so
anything far larger is a mistake or an attack: a file is read up to `MAX_SOURCE_FILE_BYTES`
plus one byte and refused past it, devices and pipes are refused before reading, and YAML
aliases are counted and their expanded size measured on the node graph (linear in the text)
before a single Python object is built, so an alias bomb is refused instead of expanded.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from pinads.errors import ConfigError

__all__ = [
    "MAX_SOURCE_FILE_BYTES",
    "MAX_YAML_ALIASES",
    "MAX_YAML_NODES",
    "load_source_text",
    "read_source_file",
]

MAX_SOURCE_FILE_BYTES = 256 * 1024
MAX_YAML_ALIASES = 20
# Nodes after expanding aliases: four lists of 1,000 names plus the scalar settings fit easily.
MAX_YAML_NODES = 10_000

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_source_file(path: Path) -> dict[str, Any]:
    """The mapping in a YAML source file, or one ConfigError saying what is wrong with it."""
    return _mapping(load_source_text(_read_text(path), where=f"source file {path}"), path)


def _read_text(path: Path) -> str:
    try:
        # Checked before opening too: opening a FIFO would wait for a writer.
        _refuse_non_regular(path, path.stat().st_mode)
        with path.open("rb") as handle:
            _refuse_non_regular(path, os.fstat(handle.fileno()).st_mode)
            data = handle.read(MAX_SOURCE_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot read source file {path}: {reason}; check the path") from None
    if len(data) > MAX_SOURCE_FILE_BYTES:
        raise ConfigError(
            f"source file {path} is larger than {MAX_SOURCE_FILE_BYTES // 1024} KiB: a source "
            "is a short YAML mapping (name: ..., dataset: ...); check that this is the right file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            f"source file {path} is not UTF-8 text: give a YAML file (name: ..., dataset: ...)"
        ) from None


def _refuse_non_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = "a directory" if stat.S_ISDIR(mode) else "a device, pipe or socket"
    raise ConfigError(f"source file {path} is {kind}, not a file: give a YAML file's path")


def load_source_text(text: str, *, where: str = "the source") -> Any:
    """The YAML document in `text`, refused (ConfigError) when it has more than
    `MAX_YAML_ALIASES` aliases, a recursive alias or more than `MAX_YAML_NODES` nodes once its
    aliases are expanded."""
    if len(text) > MAX_SOURCE_FILE_BYTES:
        raise ConfigError(
            f"{where} is larger than {MAX_SOURCE_FILE_BYTES // 1024} KiB: a source is a short "
            "YAML mapping (name: ..., dataset: ...)"
        )
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, where=where)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML ({_yaml_reason(exc)}): fix it") from None
    except (ValueError, OverflowError) as exc:  # a scalar YAML types but cannot build: 2026-02-30
        raise ConfigError(f"{where} has a value YAML cannot read ({exc}): fix it") from None
    finally:
        loader.dispose()


def _yaml_reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or type(exc).__name__
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def _check_expansion(root: yaml.Node, *, where: str) -> None:
    """Count aliases (a node referenced again) and the nodes the document expands to, on the
    node graph the composer built: each node is visited once, whatever its aliases multiply.
    The walk is depth-first in document order, so an anchored node is complete before any
    later alias to it; an alias to a node still open is a recursive one."""
    sizes: dict[int, int] = {}
    referenced = {id(root)}
    open_nodes: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[id(node)] > MAX_YAML_NODES:
                raise _too_big(where)
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        fresh = []
        for child in _children(node):
            if id(child) not in referenced:
                referenced.add(id(child))
                fresh.append(child)
                continue
            if id(child) in open_nodes:
                raise ConfigError(f"{where} has a recursive YAML alias: write the values out")
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise ConfigError(
                    f"{where} uses more than {MAX_YAML_ALIASES} YAML aliases (*name): "
                    "write the values out"
                )
        stack.extend((child, False) for child in reversed(fresh))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _too_big(where: str) -> ConfigError:
    return ConfigError(
        f"{where} expands to more than {MAX_YAML_NODES} values (YAML aliases or very long "
        "lists): a source names at most 1,000 metrics, attributes and accounts each"
    )


def _mapping(document: Any, path: Path) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ConfigError(f"source file {path} must be a YAML mapping (name: ..., dataset: ...)")
    return document
