"""One settings class for every service and every run mode.

Every variable is named ``OPENSTATUS_<FIELD>``; the same names work for ``make run``, docker compose and
Kubernetes. Settings are built once in a service's ``main()`` (or a test) and passed down; nothing else
reads the environment.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Annotated, Literal, NoReturn

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from openstatus_common.vocab.regions import Region, parse_region

ENV_PREFIX = "OPENSTATUS_"
DEFAULT_VAR_DIR = Path("var")


class SettingsError(Exception):
    """A setting has a malformed value. ``str()`` is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        frozen=True,
    )

    # --- where things are -------------------------------------------------------------------------
    # Empty means the embedded default, derived below: SQLite under var_dir, and the nats-server that
    # `make run` starts on nats_port. Setting either points every service at an existing server instead.
    database_url: str = Field(
        default="", description="SQLAlchemy URL: postgresql+asyncpg://... or sqlite+aiosqlite:///path"
    )
    nats_url: str = Field(default="", description="NATS server(s), comma-separated")
    var_dir: Path = Field(
        default=DEFAULT_VAR_DIR, description="Local state for `make run` (NATS data, SQLite)"
    )
    nats_port: int = Field(default=14222, ge=1, le=65535, description="Port of the embedded nats-server")

    # --- network ----------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address every HTTP listener binds to")
    api_port: int = Field(default=8000, ge=1, le=65535)
    status_page_port: int = Field(default=8001, ge=1, le=65535)
    scheduler_port: int = Field(default=8002, ge=1, le=65535, description="Health endpoint of the scheduler")
    incident_engine_port: int = Field(default=8003, ge=1, le=65535)
    notifier_port: int = Field(default=8004, ge=1, le=65535)
    probe_port: int = Field(default=8010, ge=1, le=65535, description="Health endpoint of a probe")
    public_api_url: str = Field(default="", description="Externally visible API URL (defaults to host:port)")
    public_status_page_url: str = Field(default="", description="Externally visible status page URL")

    # --- regions ----------------------------------------------------------------------------------
    region: Region = Field(default=Region.FLY_AMS, description="Region a probe serves")
    regions: Annotated[tuple[Region, ...], NoDecode] = Field(
        default=(Region.FLY_AMS, Region.FLY_IAD, Region.FLY_SYD),
        description="Regions served by this deployment's probes (comma-separated)",
    )

    # --- behaviour --------------------------------------------------------------------------------
    probe_concurrency: int = Field(default=64, ge=1, le=10_000, description="Checks a probe runs at once")
    shutdown_timeout: float = Field(
        default=10.0, gt=0, le=600, description="Seconds to finish in-flight work on SIGTERM"
    )
    bus_max_deliveries: int = Field(
        default=5, ge=1, le=100, description="Deliveries before a message is dead-lettered"
    )
    bus_ack_wait: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds before an unacked message returns"
    )
    results_retention_days: int = Field(
        default=30, ge=1, le=3650, description="Days of raw check results kept"
    )
    allow_private_targets: bool = Field(
        default=True, description="Probes may check private/loopback addresses"
    )
    allow_metadata_targets: bool = Field(
        default=False, description="Probes may check cloud metadata addresses"
    )
    dns_nameservers: str = Field(
        default="",
        description=(
            "Nameservers DNS checks and custom-domain verification query: IP or IP:port ([v6]:port), "
            "comma-separated; empty: system"
        ),
    )

    # --- notifications (the notifier) ---------------------------------------------------------------
    notify_max_attempts: int = Field(
        default=5, ge=1, le=100, description="Attempts per alert and channel before it is recorded as failed"
    )
    notify_backoff_base: float = Field(
        default=5.0, gt=0, le=3600, description="Seconds before the first retry; doubled after each failure"
    )
    notify_timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds one send may take before it counts as failed"
    )
    # Email channels go out through this SMTP server; empty host: email channels fail with a clear error.
    smtp_host: str = Field(default="", description="SMTP server for email alerts")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port (465: implicit TLS)")
    smtp_username: str = Field(default="", description="SMTP login; empty: no authentication")
    smtp_password: str = Field(default="", description="SMTP password")
    smtp_from: str = Field(
        default="openstatus <alerts@localhost>", description="From address of email alerts"
    )
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS")
    # Providers that need the deployment's own account rather than the channel's: the channel holds only the
    # recipient (chat id, phone number). Apprise URLs, e.g. twilio://SID:Token@+15550001111.
    notify_telegram_bot_token: str = Field(default="", description="Telegram bot token for Telegram alerts")
    notify_sms_url: str = Field(default="", description="Apprise URL of the SMS gateway (recipient appended)")
    notify_whatsapp_url: str = Field(
        default="", description="Apprise URL of the WhatsApp sender (recipient appended)"
    )

    # --- bootstrap, logs, tracing -----------------------------------------------------------------
    # Status pages.
    status_page_base_domain: str = Field(
        default="",
        description="Pages answer at <slug>.<this domain> too (e.g. status.example.com); empty: by path only",
    )
    custom_domain_verification: bool = Field(
        default=True,
        description="Serve a page's custom domain only after a TXT record at _openstatus.<domain> proves it",
    )
    trusted_proxies: str = Field(
        default="",
        description="Proxies (IPv4/IPv6 CIDRs, comma-separated) whose X-Forwarded-For is believed; empty: none",
    )
    secret_key: str = Field(
        default="",
        description="Signs page sessions and magic links; empty: a random key kept in var_dir/secret-key",
    )
    status_page_cache_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="Longest a page is served from cache without an event"
    )
    maintenance_reminder_minutes: int = Field(
        default=60,
        ge=0,
        le=10_080,
        description="Subscribers are reminded this long before a maintenance; 0: never",
    )
    bootstrap_api_key: str = Field(default="", description="Use this value as the demo workspace's API key")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: readable in a terminal, JSON otherwise"
    )
    otlp_endpoint: str = Field(default="", description="OTLP/HTTP traces endpoint; empty disables export")

    @field_validator("region", mode="before")
    @classmethod
    def _parse_region(cls, value: object) -> Region:
        return parse_region(value)

    @field_validator("regions", mode="before")
    @classmethod
    def _parse_regions(cls, value: object) -> tuple[Region, ...]:
        items: list[object]
        if isinstance(value, str):
            items = [part for part in (p.strip() for p in value.split(",")) if part]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise ValueError("expected a comma-separated list of regions")
        if not items:
            raise ValueError("at least one region is required")
        regions: list[Region] = []
        for item in items:
            region = parse_region(item)
            if region not in regions:
                regions.append(region)
        return tuple(regions)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must start with postgresql+asyncpg:// or sqlite+aiosqlite://")
        return value

    @field_validator("nats_url")
    @classmethod
    def _check_nats_url(cls, value: str) -> str:
        for server in value.split(",") if value else ():
            if not server.strip().startswith(("nats://", "tls://", "ws://", "wss://")):
                raise ValueError("every server must start with nats://, tls://, ws:// or wss://")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        networks = [item.strip() for item in value.split(",") if item.strip()]
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not an IP address or CIDR range") from None
        return ",".join(networks)

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 random characters (e.g. `openssl rand -base64 48`)")
        return value

    @field_validator("status_page_base_domain")
    @classmethod
    def _check_base_domain(cls, value: str) -> str:
        domain = value.strip().lower().rstrip(".")
        if domain and not all(label and label.replace("-", "").isalnum() for label in domain.split(".")):
            raise ValueError(f"{value!r} is not a domain name")
        return domain

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(item, strict=False) for item in self.trusted_proxies.split(",") if item
        )

    @property
    def nameservers(self) -> tuple[str, ...]:
        """``dns_nameservers`` as a tuple; empty means the system resolver."""
        return tuple(part.strip() for part in self.dns_nameservers.split(",") if part.strip())

    @field_validator("dns_nameservers")
    @classmethod
    def _check_dns_nameservers(cls, value: str) -> str:
        servers = [part.strip() for part in value.split(",") if part.strip()]
        for server in servers:
            host, port = server, None  # "IP", "IPv4:port", "[IPv6]" or "[IPv6]:port"
            if server.startswith("["):
                host, _, rest = server[1:].partition("]")
                if rest and not rest.startswith(":"):
                    raise ValueError(f"{server!r} is not [IPv6]:port")
                port = rest[1:] if rest else None
            elif server.count(":") == 1:
                host, port = server.split(":")
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ValueError(f"{server!r} is not an IP address (with an optional :port)") from None
            if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
                raise ValueError(f"{server!r} has an invalid port")
        return ",".join(servers)

    @model_validator(mode="after")
    def _embedded_defaults(self) -> Settings:
        # Frozen model: fill the derived defaults once, here, without marking them as set by the user.
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite+aiosqlite:///{self.var_dir / 'openstatus.db'}")
        if not self.nats_url:
            object.__setattr__(self, "nats_url", f"nats://127.0.0.1:{self.nats_port}")
        return self

    @property
    def api_url(self) -> str:
        return self.public_api_url or f"http://{self.host}:{self.api_port}"

    @property
    def status_page_url(self) -> str:
        return self.public_status_page_url or f"http://{self.host}:{self.status_page_port}"

    def is_set(self, field: str) -> bool:
        """True when the value came from the environment or a constructor argument, not the default."""
        return field in self.model_fields_set


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "settings"
    value = first.get("input")
    message = str(first["msg"]).removeprefix("Value error, ")
    secret = any(word in field for word in ("secret", "password", "token", "key"))
    shown = f" (got {value!r})" if isinstance(value, (str, int, float)) and not secret else ""
    more = len(error.errors()) - 1
    tail = f"; and {more} more" if more else ""
    return f"invalid setting {ENV_PREFIX}{field.upper()}: {message}{shown}{tail}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; raise SettingsError with one clear line on bad input."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def load_settings_or_exit(**overrides: object) -> Settings:
    """For ``main()``: print the one-line error and exit with status 2 instead of a traceback."""
    try:
        return load_settings(**overrides)
    except SettingsError as error:
        _exit(str(error))


def _exit(message: str) -> NoReturn:
    print(f"openstatus: {message}", file=sys.stderr)
    raise SystemExit(2)
