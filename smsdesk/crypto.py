"""Secrets at rest: store secrets and tokens encrypted with Fernet keys from the config.

``[security] secret_keys``: the first key encrypts, every key decrypts (MultiFernet), so a
key is rotated by putting a new one first, running ``smsdesk secrets reencrypt`` and then
dropping the old one. With no key configured and a SQLite file database (development,
``scripts/run``), a key is generated once into a file next to the database.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask
from sqlalchemy import Text
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)
KEY_FILE_SUFFIX = ".key"  # smsdesk.db -> smsdesk.db.key
_keyring: MultiFernet | None = None


class SecretsUnavailable(RuntimeError):
    """No key is configured, or none of the keys opens a stored secret."""


def configure(keys: list[str]) -> None:
    """Use these Fernet keys from now on (the first encrypts); ValueError names a bad one."""
    global _keyring
    _keyring = MultiFernet([_fernet(key, position) for position, key in enumerate(keys, 1)])


def _fernet(key: str, position: int) -> Fernet:
    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError):
        raise ValueError(f"security.secret_keys: key {position} is not a Fernet key "
                         "(32 url-safe base64-encoded bytes; see config.example.toml)") from None


def keyring() -> MultiFernet:
    if _keyring is None:
        raise SecretsUnavailable("no secret key is configured (security.secret_keys)")
    return _keyring


def encrypt(plain: str) -> str:
    return keyring().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return keyring().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretsUnavailable("a stored secret does not open with any key in security.secret_keys") from None


class EncryptedString(TypeDecorator):
    """A string column stored Fernet-encrypted; code reads and writes plain text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


def init_app(app: Flask) -> None:
    """Load the configured keys (or the development key file's) for every encrypted column."""
    from smsdesk.config import ConfigError

    config = app.config["SMSDESK"]
    try:
        configure(keys_for(config.security.secret_keys, config.database.url))
    except (ValueError, SecretsUnavailable) as exc:
        raise ConfigError(str(exc)) from None


def keys_for(configured: list[str], database_url: str) -> list[str]:
    """The configured keys, or the development key file's next to a SQLite file database."""
    if configured:
        return configured
    key_file = dev_key_file(database_url)
    if key_file is None:
        raise SecretsUnavailable("security.secret_keys must be set when the database is not a SQLite file "
                                 "(generate one: python -c 'from cryptography.fernet import Fernet; "
                                 "print(Fernet.generate_key().decode())')")
    return [_read_or_create(key_file)]


def dev_key_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + KEY_FILE_SUFFIX)


def _read_or_create(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only, never overwrite
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(Fernet.generate_key().decode() + "\n")
    log.warning("no security.secret_keys configured: generated a key into %s; back it up with the "
                "database, or set security.secret_keys before going live", path)
    return path.read_text().strip()
