"""Configuration: defaults < TOML < SMSDESK_* env < overrides, with one-line errors."""
import pytest

from smsdesk.config import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "smsdesk.toml"
    path.write_text(text)
    return path


def test_defaults_are_sqlite_and_simulator(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.database.url == "sqlite:///smsdesk.db"
    assert config.sms.provider == "simulator"
    assert config.scheduler.enabled is True and config.server.max_body_bytes == 1_048_576


def test_toml_then_env_override(tmp_path):
    path = write(tmp_path, '[server]\nmax_body_bytes = 2048\n[database]\nurl = "sqlite:///a.db"\n')
    config = load_config(path, environ={"SMSDESK_DATABASE_URL": "sqlite:///b.db",
                                        "SMSDESK_SCHEDULER_ENABLED": "false",
                                        "SMSDESK_SCHEDULER_INTERVAL_SECONDS": "0.5"})
    assert config.server.max_body_bytes == 2048
    assert config.database.url == "sqlite:///b.db"
    assert config.scheduler.enabled is False and config.scheduler.interval_seconds == 0.5


def test_config_file_from_environment(tmp_path):
    path = write(tmp_path, '[server]\npublic_url = "https://sms.example.com"\n')
    assert load_config(environ={"SMSDESK_CONFIG": str(path)}).server.public_url == "https://sms.example.com"


def test_twilio_credentials_select_twilio(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={"SMSDESK_TWILIO_ACCOUNT_SID": "AC1", "SMSDESK_TWILIO_AUTH_TOKEN": "t"})
    assert config.sms.provider == "twilio"


@pytest.mark.parametrize("environ, fragment", [
    ({"SMSDESK_SERVER_MAX_BODY_BYTES": "lots"}, "server.max_body_bytes: expected an integer"),
    ({"SMSDESK_SCHEDULER_ENABLED": "perhaps"}, "scheduler.enabled: expected true or false"),
    ({"SMSDESK_SMS_PROVIDER": "carrier-pigeon"}, "sms.provider: expected one of"),
    ({"SMSDESK_SMS_PROVIDER": "twilio"}, "twilio.account_sid / twilio.auth_token are not set"),
    ({"SMSDESK_SERVER_PUBLIC_URL": "sms.example.com"}, "server.public_url: expected an http(s) URL"),
    ({"SMSDESK_SCHEDULER_INTERVAL_SECONDS": "0"}, "scheduler.interval_seconds: must be positive"),
    ({"SMSDESK_SCHEDULER_LEASE_SECONDS": "-1"}, "scheduler.lease_seconds: must be at least 1 s"),
    ({"SMSDESK_SCHEDULER_LEASE_SECONDS": "0.5"}, "scheduler.lease_seconds: must be at least 1 s"),
    ({"SMSDESK_SCHEDULER_LEASE_SECONDS": "nan"}, "scheduler.lease_seconds: must be at least 1 s"),
    ({"SMSDESK_SCHEDULER_CONCURRENCY": "0"}, "scheduler.concurrency: must be from 1 to 32"),
    ({"SMSDESK_SCHEDULER_CONCURRENCY": "500"}, "scheduler.concurrency: must be from 1 to 32"),
    ({"SMSDESK_RETENTION_MESSAGE_BODY_DAYS": "-1"}, "retention.message_body_days: must be 0 (keep)"),
    ({"SMSDESK_RETENTION_MESSAGE_BODY_DAYS": "a week"}, "retention.message_body_days: expected an integer"),
])
def test_bad_values_name_the_key(tmp_path, monkeypatch, environ, fragment):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(environ=environ)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("text, fragment", [
    ("[server\n", "invalid TOML"),
    ("[nope]\nx = 1\n", "unknown section [nope]"),
    ("[server]\nport = 1\n", "unknown key server.port"),
    ('[server]\nmax_body_bytes = "big"\n', "expected an integer"),
    ("[database]\nurl = 5\n", "database.url: expected a string"),
])
def test_bad_file(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert fragment in str(info.value)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml", environ={})


def test_example_config_documents_every_key():
    import dataclasses
    from pathlib import Path

    from smsdesk.config import SECTIONS

    text = (Path(__file__).resolve().parents[1] / "config.example.toml").read_text()
    config = load_config(Path(__file__).resolve().parents[1] / "config.example.toml", environ={})
    for section, sfield in SECTIONS.items():
        assert f"[{section}]" in text
        for key in (f.name for f in dataclasses.fields(sfield.default_factory())):
            assert f"\n{key} = " in text, f"{section}.{key} is not in config.example.toml"
    assert config.sms.provider == "simulator"
