"""Settings: one set of names, sensible defaults, one clear line for a malformed value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from openstatus_common.settings import Settings, SettingsError, load_settings
from openstatus_common.vocab import Region


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OPENSTATUS_"):
            monkeypatch.delenv(name)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.nats_url == "nats://127.0.0.1:14222"
    assert settings.database_url == "sqlite+aiosqlite:///var/openstatus.db"
    assert not settings.is_set("database_url")
    assert (settings.api_port, settings.status_page_port) == (8000, 8001)
    assert settings.regions == (Region.FLY_AMS, Region.FLY_IAD, Region.FLY_SYD)
    assert not settings.is_set("nats_url")


def test_environment_variables_use_the_openstatus_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSTATUS_REGIONS", "fly-fra, REGION_FLY_SJC,koyeb-par,fra")
    monkeypatch.setenv("OPENSTATUS_REGION", "REGION_FLY_SYD")
    monkeypatch.setenv("OPENSTATUS_NATS_URL", "nats://a:4222,nats://b:4222")
    monkeypatch.setenv("OPENSTATUS_API_PORT", "9100")
    settings = load_settings()
    assert settings.regions == (Region.FLY_FRA, Region.FLY_SJC, Region.KOYEB_PAR)
    assert settings.region is Region.FLY_SYD
    assert settings.api_port == 9100
    assert settings.is_set("nats_url")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "OPENSTATUS_API_PORT",
            "eighty",
            "invalid setting OPENSTATUS_API_PORT: Input should be a valid integer",
        ),
        (
            "OPENSTATUS_API_PORT",
            "70000",
            "invalid setting OPENSTATUS_API_PORT: Input should be less than or equal",
        ),
        ("OPENSTATUS_REGION", "mars", "invalid setting OPENSTATUS_REGION: unknown region 'mars'"),
        ("OPENSTATUS_REGIONS", "ams,nowhere", "invalid setting OPENSTATUS_REGIONS: unknown region 'nowhere'"),
        ("OPENSTATUS_DATABASE_URL", "mysql://x", "invalid setting OPENSTATUS_DATABASE_URL: must start with"),
        ("OPENSTATUS_NATS_URL", "http://x", "invalid setting OPENSTATUS_NATS_URL: every server must start"),
        ("OPENSTATUS_LOG_LEVEL", "loud", "invalid setting OPENSTATUS_LOG_LEVEL"),
        ("OPENSTATUS_SHUTDOWN_TIMEOUT", "-1", "invalid setting OPENSTATUS_SHUTDOWN_TIMEOUT"),
    ],
)
def test_a_malformed_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_a_service_with_a_malformed_setting_exits_with_one_line_and_no_traceback() -> None:
    env = {**os.environ, "OPENSTATUS_SCHEDULER_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "scheduler"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "OPENSTATUS_SCHEDULER_PORT" in lines[0]
    assert "Traceback" not in result.stderr


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(Exception, match="frozen"):
        settings.api_port = 1  # type: ignore[misc]


def test_a_short_secret_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(secret_key="hunter2-is-my-key")
    assert "OPENSTATUS_SECRET_KEY" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_trusted_proxies_and_base_domain_are_validated() -> None:
    assert Settings(trusted_proxies=" 10.0.0.0/8, ::1 ").trusted_proxies == "10.0.0.0/8,::1"
    with pytest.raises(SettingsError):
        load_settings(trusted_proxies="10.0.0.0/33")
    assert (
        Settings(status_page_base_domain="Status.Example.COM.").status_page_base_domain
        == "status.example.com"
    )
    with pytest.raises(SettingsError):
        load_settings(status_page_base_domain="not a domain")
