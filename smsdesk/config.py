"""Configuration: built-in defaults, then a TOML file, then SMSDESK_<SECTION>_<KEY> env vars.

Every key is typed by the dataclass field that holds it; a bad value stops the program
with a one-line ``ConfigError`` naming the key.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_FILE = "smsdesk.toml"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8025"
ENV_PREFIX = "SMSDESK_"


class ConfigError(ValueError):
    """A configuration value is missing or of the wrong type."""


@dataclass
class ServerConfig:
    public_url: str = DEFAULT_PUBLIC_URL
    secret_key: str = "change-me"
    max_body_bytes: int = 1_048_576  # 1 MiB
    event_stream_seconds: float = 25.0  # one inbox event stream's life on PostgreSQL (0: pages poll)


@dataclass
class DatabaseConfig:
    url: str = "sqlite:///smsdesk.db"


@dataclass
class SmsConfig:
    provider: str = ""  # "" = twilio when credentials are set, else the simulator


@dataclass
class TwilioConfig:
    account_sid: str = ""
    auth_token: str = ""
    api_base: str = ""
    validate_signatures: bool = True


@dataclass
class SchedulerConfig:
    enabled: bool = True
    interval_seconds: float = 1.0
    # How long a claimed text belongs to one worker before reconcile may look at it; the
    # provider call's timeout is kept well inside it (DESIGN §1).
    lease_seconds: float = 60.0
    # Provider calls one worker keeps in flight (a thread pool); it claims only as many
    # texts as it has free threads, so every claimed text starts at once, well inside its lease.
    concurrency: int = 16


@dataclass
class SecurityConfig:
    # Fernet keys for secrets at rest: the first encrypts, all decrypt (smsdesk/crypto.py).
    secret_keys: list[str] = field(default_factory=list)


@dataclass
class RetentionConfig:
    # Days a text's body is kept; older bodies become "[erased]" (the text's row, status and
    # counts stay). 0 keeps them for ever.
    message_body_days: int = 0


@dataclass
class CatchUpConfig:
    # Each store's platform API is polled for orders changed since the last poll (jobs/catch_up.py),
    # so webhooks the platform dropped still lead to their texts.
    enabled: bool = True
    interval_seconds: float = 300.0
    # Changes younger than this wait for the next poll: their webhook may still be on its way,
    # and only a change older than this that no webhook told of says "webhooks look broken".
    settle_seconds: float = 120.0


@dataclass
class MediaConfig:
    # Pictures (MMS): the largest picture an agent may attach or smsdesk fetches from Twilio.
    # Twilio takes at most 5 MB per message (and carriers often less for non-images).
    max_bytes: int = 5 * 1024 * 1024


@dataclass
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    twilio: TwilioConfig = field(default_factory=TwilioConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    catch_up: CatchUpConfig = field(default_factory=CatchUpConfig)
    media: MediaConfig = field(default_factory=MediaConfig)

    def section(self, name: str) -> Any:
        return getattr(self, name)


SECTIONS = {f.name: f for f in dataclasses.fields(Config)}
PROVIDERS = ("simulator", "twilio")
MIN_LEASE = 1.0  # seconds: the provider timeout is a third of the lease, and needs some room
MAX_CONCURRENCY = 32  # provider calls in flight per worker: the HTTP connection pool's size


def load_config(
    path: str | os.PathLike | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Build the Config: defaults < TOML file < environment < explicit overrides."""
    environ = os.environ if environ is None else environ
    config = Config()
    file_path = _config_path(path, environ)
    if file_path is not None:
        _apply(config, _read_toml(file_path), source=str(file_path))
    _apply(config, _env_values(environ), source="environment")
    if overrides:
        _apply(config, overrides, source="overrides")
    _check(config)
    return config


def _config_path(path, environ: Mapping[str, str]) -> Path | None:
    if path:
        return Path(path)
    if environ.get("SMSDESK_CONFIG"):
        return Path(environ["SMSDESK_CONFIG"])
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.exists() else None


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _env_values(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    for section, sfield in SECTIONS.items():
        for key in (f.name for f in dataclasses.fields(sfield.default_factory())):  # type: ignore[operator]
            name = f"{ENV_PREFIX}{section}_{key}".upper()
            if name in environ:
                values.setdefault(section, {})[key] = environ[name]
    return values


def _apply(config: Config, values: Mapping[str, Any], *, source: str) -> None:
    for section, entries in values.items():
        if section not in SECTIONS:
            raise ConfigError(f"{source}: unknown section [{section}]")
        if not isinstance(entries, Mapping):
            raise ConfigError(f"{source}: [{section}] must be a table")
        target = config.section(section)
        fields = {f.name: f for f in dataclasses.fields(target)}
        for key, raw in entries.items():
            if key not in fields:
                raise ConfigError(f"{source}: unknown key {section}.{key}")
            setattr(target, key, _coerce(raw, str(fields[key].type), f"{section}.{key}"))


def _coerce(raw: Any, type_name: str, key: str) -> Any:
    """Turn a TOML or env value into the field's type, or fail naming the key."""
    if type_name == "bool":
        return _to_bool(raw, key)
    if type_name in ("int", "float"):
        return _to_number(raw, int if type_name == "int" else float, key)
    if type_name == "list[str]":
        return _to_strings(raw, key)
    if not isinstance(raw, str):
        raise ConfigError(f"{key}: expected a string, got {raw!r}")
    return raw


def _to_strings(raw: Any, key: str) -> list[str]:
    """A TOML list of strings; from the environment a JSON list or comma-separated words."""
    if isinstance(raw, str):
        text = raw.strip()
        raw = _json_list(text, key) if text.startswith("[") else [w.strip() for w in text.split(",") if w.strip()]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f"{key}: expected a list of strings")
    return raw


def _json_list(text: str, key: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError(f"{key}: expected a JSON list of strings or comma-separated values") from None


def _to_bool(raw: Any, key: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key}: expected true or false, got {raw!r}")


def _to_number(raw: Any, kind: type, key: str) -> int | float:
    if isinstance(raw, bool):
        raise ConfigError(f"{key}: expected a number, got {raw!r}")
    try:
        return kind(raw)
    except (TypeError, ValueError):
        word = "an integer" if kind is int else "a number"
        raise ConfigError(f"{key}: expected {word}, got {raw!r}") from None


def _check(config: Config) -> None:
    if not config.sms.provider:
        has_credentials = bool(config.twilio.account_sid and config.twilio.auth_token)
        config.sms.provider = "twilio" if has_credentials else "simulator"
    if config.sms.provider not in PROVIDERS:
        raise ConfigError(f"sms.provider: expected one of {', '.join(PROVIDERS)}, got {config.sms.provider!r}")
    if config.sms.provider == "twilio" and not (config.twilio.account_sid and config.twilio.auth_token):
        raise ConfigError("sms.provider is 'twilio' but twilio.account_sid / twilio.auth_token are not set")
    if config.server.max_body_bytes <= 0:
        raise ConfigError("server.max_body_bytes: must be positive")
    if config.server.event_stream_seconds < 0:
        raise ConfigError("server.event_stream_seconds: must be 0 (pages poll) or a number of seconds")
    if config.scheduler.interval_seconds <= 0:
        raise ConfigError("scheduler.interval_seconds: must be positive")
    _check_scheduler(config.scheduler)
    if config.retention.message_body_days < 0:
        raise ConfigError("retention.message_body_days: must be 0 (keep) or a number of days")
    if config.catch_up.interval_seconds <= 0 or config.catch_up.settle_seconds < 0:
        raise ConfigError("catch_up: interval_seconds must be above 0 and settle_seconds at least 0")
    if config.media.max_bytes <= 0:
        raise ConfigError("media.max_bytes: must be positive")
    if not config.server.public_url.startswith(("http://", "https://")):
        raise ConfigError(f"server.public_url: expected an http(s) URL, got {config.server.public_url!r}")


def _check_scheduler(scheduler: SchedulerConfig) -> None:
    """Lease, provider timeout and claim size must fit together (see README: sending guarantees)."""
    if not scheduler.lease_seconds >= MIN_LEASE:  # also refuses NaN
        raise ConfigError(f"scheduler.lease_seconds: must be at least {MIN_LEASE:g} s")
    if not 1 <= scheduler.concurrency <= MAX_CONCURRENCY:
        raise ConfigError(f"scheduler.concurrency: must be from 1 to {MAX_CONCURRENCY}")


def public_url_is_default(config: Config) -> bool:
    """True when nobody set ``server.public_url`` (or set it to the default)."""
    return config.server.public_url.rstrip("/") == DEFAULT_PUBLIC_URL


def local_public_url(host: str, port: int) -> str:
    """The address of ``smsdesk run --host H --port N`` from this machine."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
