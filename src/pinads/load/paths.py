"""Where DuckDB and file destinations may write: normalised absolute paths under allowed roots.

A destination path comes from a source config that anyone with access to the CLI, the web form
or the API can write. Left unchecked, `file:///../../home/me/photos?format=csv` would let a
replace run swap out a directory of the user's. So a path must be absolute, may not climb with
`..`, and must lie (symbolic links resolved) under PINADS_HOME or a root the administrator
allows in PINADS_ALLOWED_ROOTS. pinads' own control DB and key file are never destinations.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

from pinads.errors import ConfigError
from pinads.settings import AppSettings

__all__ = ["allowed_roots", "confined_path"]


def allowed_roots(settings: AppSettings) -> tuple[Path, ...]:
    """PINADS_HOME and the roots of PINADS_ALLOWED_ROOTS, symbolic links resolved."""
    roots = [settings.home]
    for entry in settings.allowed_roots.split(os.pathsep):
        text = entry.strip()
        if not text:
            continue
        root = Path(text).expanduser()
        if not root.is_absolute():
            raise ConfigError(
                f"PINADS_ALLOWED_ROOTS holds {text!r}, which is not an absolute path; list "
                f"absolute directories separated by {os.pathsep!r}"
            )
        roots.append(root)
    return tuple(root.resolve() for root in roots)


def confined_path(url_path: str, *, settings: AppSettings) -> Path:
    """The absolute, normalised path a destination URL's path names, if pinads may write there.

    ValueError(why) for a path that is not absolute or climbs with `..`: the caller turns it
    into its message (which shows the URL). A path outside the allowed roots, or on
    pinads' own files, is a ConfigError saying how to allow it."""
    text = unquote(url_path)
    if not text.startswith("/") or text.strip("/") == "":
        raise ValueError("the path must be absolute and name a file or directory below /")
    if "\x00" in text:
        raise ValueError("the path contains a NUL character")
    if ".." in text.split("/"):
        raise ValueError("'..' is not allowed in the path; write the absolute path without it")
    path = Path(os.path.normpath(text))
    _refuse_own_files(path, settings)
    _refuse_outside_roots(path, settings)
    return path


def _refuse_own_files(path: Path, settings: AppSettings) -> None:
    resolved = path.resolve()
    own = {settings.key_file.resolve(): "key file"}
    if settings.database_url is None:
        own[(settings.home / "pinads.db").resolve()] = "control DB"
    what = own.get(resolved)
    if what is not None:
        raise ConfigError(
            f"destination path {path} is pinads' own {what}; choose another file or directory"
        )


def _refuse_outside_roots(path: Path, settings: AppSettings) -> None:
    resolved = path.resolve()
    roots = allowed_roots(settings)
    if any(resolved == root or root in resolved.parents for root in roots):
        return
    where = path if resolved == path else f"{path} (that is {resolved})"
    suggestion = path.parent if path.suffix else path
    raise ConfigError(
        f"destination path {where} is outside the directories pinads may write "
        f"({', '.join(str(r) for r in roots)}); to allow it, add its directory to "
        f"PINADS_ALLOWED_ROOTS (absolute paths separated by {os.pathsep!r}), e.g. "
        f"PINADS_ALLOWED_ROOTS={suggestion}"
    )
