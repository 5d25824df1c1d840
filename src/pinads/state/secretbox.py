"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with one key per installation.

The key comes from PINADS_SECRET_KEY, else from `secret.key` in PINADS_HOME, created on first
use with mode 0600. Creation is atomic and race-free: the key is written to a private temporary
file and hard-linked into place, which fails if another process got there first (then its key
is used), so no process ever sees a half-written key or encrypts with a key that loses.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from pinads.errors import ConfigError, StateError
from pinads.settings import AppSettings

__all__ = ["SecretBox", "load_or_create_key_file"]

log = logging.getLogger(__name__)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the link is still atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new_key(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, Fernet.generate_key() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        # Fails if another process created the key first: then theirs is used.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def load_or_create_key_file(path: Path) -> bytes:
    """The key stored at `path`, creating it (0600, atomically) when missing."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        _write_new_key(path)
        log.info("created a new secret key file %s (mode 0600): back it up", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("secret key file %s was readable by others; changed its mode to 0600", path)
    return path.read_bytes().strip()


class SecretBox:
    """Encrypts and decrypts secrets (tokens, client secrets) for the control DB."""

    def __init__(self, key: bytes, *, origin: str = "the secret key") -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{origin} is not a valid Fernet key (32 url-safe base64 bytes): set a new one "
                'made with `python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"`'
            ) from exc
        self.origin = origin

    @classmethod
    def from_settings(cls, settings: AppSettings) -> SecretBox:
        if settings.secret_key is not None:
            return cls(settings.secret_key.get_secret_value().encode(), origin="PINADS_SECRET_KEY")
        return cls(load_or_create_key_file(settings.key_file), origin=str(settings.key_file))

    def encrypt(self, secret: SecretStr | str) -> str:
        plain = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> SecretStr:
        try:
            return SecretStr(self._fernet.decrypt(ciphertext.encode("ascii")).decode())
        except InvalidToken as exc:
            raise StateError(
                f"a stored secret cannot be decrypted with {self.origin}: the key changed or the "
                "control DB belongs to another installation; restore the original key, or add "
                "the authorizer again with `pinads auth add`"
            ) from exc
