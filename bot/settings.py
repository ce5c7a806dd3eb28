"""Deployment settings, read once from the environment and `.env`."""

from __future__ import annotations

import os
import re
import secrets
import socket
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.files import write_new_private
from models.errors import N_

SUPPORTED_LANGUAGES = ("zh-Hans", "zh-Hant", "en")
_TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "your-secret-key", "xxx", "todo"}


class SettingsError(ValueError):
    """A setting is missing or malformed; `key` names one sentence for the operator."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class Settings(BaseSettings):
    """Every knob of a deployment; created in `main()` and passed down, never global."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    telegram_bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./data/unionbot.db"
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh-Hans"
    owner_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    committee_chat_id: int | None = None
    # The union's name as each language's members read it: in greetings ({org}), the welcome
    # and every text that names the union to a person.
    organization_name: str = "学校工会"
    organization_name_zh_hant: str = "學校工會"
    organization_name_en: str = "the school union"
    telegram_api_base_url: str | None = None
    secret_key: SecretStr | None = None
    persistence_path: Path = Path("data/conversations.pickle")
    # One alert per this many seconds per kind of error reaches the owners.
    alert_interval_seconds: int = 600
    # Suggestion box: anonymous items one member may file per day, and after how many days an
    # unanswered item is listed in the committee digest.
    anonymous_daily_limit: int = Field(default=5, ge=1, le=100)
    suggestion_digest_days: int = Field(default=7, ge=1, le=90)
    # Floods, each per day in TIMEZONE: suggestions one member may file (named and anonymous
    # together), follow-ups and verdicts (resolved / not resolved) an author may send on one
    # item, and aid requests or reports one member may file.
    suggestion_daily_limit: int = Field(default=10, ge=1, le=100)
    followup_daily_limit: int = Field(default=5, ge=1, le=100)
    verdict_daily_limit: int = Field(default=3, ge=1, le=100)
    aid_request_daily_limit: int = Field(default=3, ge=1, le=100)
    # Aid may be asked for an event at most this many months old; older dates are refused.
    # (Caps and the budget count by the year of the decision, not of the event.)
    aid_event_max_age_months: int = Field(default=12, ge=1, le=120)
    # The public notice (公示) of hardship subsidies runs this many days, the day it is posted
    # included; the notice gives its first and last day.
    aid_notice_days: int = Field(default=7, ge=1, le=60)
    # Start although SECRET_KEY is not the key the database was used with: the authors of the
    # earlier anonymous suggestions can then no longer be reached (answers stay unsent).
    accept_new_secret_key: bool = False
    # Nothing goes to members in this local window; it waits until the window ends.
    quiet_hours: str = "22:00-07:30"
    # The outbox's pace in messages a second; its window keeps any value under Telegram's 30.
    outbox_per_second: float = Field(default=29.4, gt=0, le=30)
    # Reminders to activity participants, in hours before the start.
    activity_reminder_hours: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [24, 2])
    # Updates handled at the same time (different people; one person's stay in order).
    max_concurrent_updates: int = Field(default=256, ge=1, le=4096)
    # Run the calendar scheduler and the outbox sender (tests drive them by hand instead).
    background_tasks: bool = True
    # A form nobody touches ends by itself: a committee prompt after a desk button after this
    # many minutes, a member's own form (a suggestion, an aid request...) after these hours.
    # Secret ballots: a staff-congress 表决 (electorate: the representatives) is valid when at
    # least BALLOT_QUORUM of them voted and passes with more than BALLOT_MAJORITY of ALL of
    # them voting for; a department's own figures are shown only where at least
    # BALLOT_MIN_GROUP voted; papers are sealed (shuffled, new ids) every BALLOT_BATCH votes;
    # the last reminder goes this many hours before the close.
    ballot_quorum: str = Field(default="2/3", pattern=r"^\d{1,2}/\d{1,2}$")
    ballot_majority: str = Field(default="1/2", pattern=r"^\d{1,2}/\d{1,2}$")
    ballot_min_group: int = Field(default=5, ge=1, le=1000)
    ballot_batch: int = Field(default=10, ge=2, le=1000)
    ballot_last_call_hours: int = Field(default=2, ge=1, le=72)
    # The two school terms (学期) as month-day: the first (autumn) term starts on TERM1_START
    # of a school year and the second on TERM2_START of the next calendar year; each runs to
    # the day before the other starts. Reports by term and the term tasks use them.
    term1_start: str = Field(default="09-01", pattern=r"^\d{2}-\d{2}$")
    term2_start: str = Field(default="02-20", pattern=r"^\d{2}-\d{2}$")
    # Suggestions answered within this many days count as answered in time in the reports.
    suggestion_answer_days: int = Field(default=7, ge=1, le=90)
    # Running it for real (docs/deploy.zh-Hans.md). Every call to Telegram goes through
    # TELEGRAM_PROXY_URL when set (http://, https://, socks5:// or socks5h://).
    telegram_proxy_url: SecretStr | None = None
    # Polling (the default) or, with WEBHOOK_URL (the public https address Telegram posts to),
    # a webhook served on WEBHOOK_LISTEN behind a reverse proxy; every request must carry
    # WEBHOOK_SECRET (Telegram's secret_token header), others are refused.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1:8443"
    webhook_secret: SecretStr | None = None
    # /healthz, /readyz and /metrics on this local address ("off" turns them off).
    health_listen: str = "127.0.0.1:8080"
    # Several instances on one PostgreSQL: one is active and holds a lease it renews; when it
    # has not renewed for LEASE_SECONDS a standby takes over. INSTANCE_NAME names this copy in
    # logs and /metrics (default: host name and process id).
    lease_seconds: int = Field(default=15, ge=5, le=300)
    instance_name: str | None = None
    # text (default) or json: one JSON object per log line, with the same privacy rules.
    log_format: str = Field(default="text", pattern=r"^(text|json)$")
    # Nightly backup (SQLite): an archive in BACKUP_DIR at BACKUP_TIME local time; the newest
    # BACKUP_KEEP are kept. PostgreSQL deployments back up with `unionbot backup` from cron.
    backup_dir: Path = Path("data/backups")
    backup_time: str = Field(default="03:30", pattern=r"^\d{2}:\d{2}$")
    backup_keep: int = Field(default=14, ge=0, le=3650)
    committee_form_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    member_form_idle_hours: int = Field(default=24, ge=1, le=24 * 14)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_window(cls, value: str) -> str:
        if not re.match(r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$", value.strip()):
            raise ValueError("QUIET_HOURS must look like 22:00-07:30")
        return value.strip()

    @field_validator("ballot_quorum", "ballot_majority")
    @classmethod
    def _share(cls, value: str, info: ValidationInfo) -> str:
        numerator, denominator = (int(part) for part in value.split("/"))
        if denominator == 0 or not 0 < numerator <= denominator:
            name = (info.field_name or "").upper()
            raise ValueError(f"{name} must be a fraction above 0 and at most 1, like 2/3")
        return value

    @field_validator("term1_start", "term2_start")
    @classmethod
    def _month_day(cls, value: str, info: ValidationInfo) -> str:
        month, day = (int(part) for part in value.split("-"))
        try:
            date(2024, month, day)  # a leap year: 02-29 is refused below, not here
        except ValueError as exc:
            name = (info.field_name or "").upper()
            raise ValueError(f"{name} must be a month and day like 09-01") from exc
        if (month, day) == (2, 29):
            raise ValueError("a term cannot start on 29 February: it is not in every year")
        return value

    @field_validator("telegram_proxy_url")
    @classmethod
    def _proxy_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if not re.match(r"^(http|https|socks5|socks5h)://[^/\s]+", raw):
            raise ValueError(
                "TELEGRAM_PROXY_URL must look like http://host:port or socks5://host:port"
            )
        return SecretStr(raw)

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https://[^/\s]+", value.strip()):
            raise ValueError("WEBHOOK_URL must be the public https:// address Telegram posts to")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # Telegram's rule for secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
        if not re.match(r"^[A-Za-z0-9_-]{16,256}$", value.get_secret_value()):
            raise ValueError(
                "WEBHOOK_SECRET must be 16 to 256 letters, digits, _ or - (no other characters)"
            )
        return value

    @field_validator("webhook_listen", "health_listen")
    @classmethod
    def _listen_address(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if info.field_name == "health_listen" and value.lower() == "off":
            return "off"
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            name = (info.field_name or "").upper()
            raise ValueError(f"{name} must be host:port, like 127.0.0.1:8080")
        return value

    @field_validator("database_url")
    @classmethod
    def _password_encoded(cls, value: str) -> str:
        # An @ left as it is in the password makes the rest of the password the host name,
        # which every "could not connect to <host>" error (pg_dump's among them) would print.
        try:
            host = make_url(value).host or ""
        except ArgumentError:
            return value  # said where the URL is used
        if "@" in host:
            raise ValueError(
                "DATABASE_URL: write each @ in the user name or password as %40 (and : as %3A, "
                "/ as %2F, % as %25)"
            )
        return value

    @field_validator("backup_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hour, minute = (int(part) for part in value.split(":"))
        if hour > 23 or minute > 59:
            raise ValueError("BACKUP_TIME must be a time of day like 03:30")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET must be set with WEBHOOK_URL (every request Telegram sends "
                "carries it; others are refused)"
            )
        return self

    @property
    def instance(self) -> str:
        """This copy's name in logs, the lease and /metrics."""
        return self.instance_name or f"{socket.gethostname()}-{os.getpid()}"

    def listen_address(self, which: str) -> tuple[str, int] | None:
        """(host, port) of WEBHOOK_LISTEN or HEALTH_LISTEN; None when turned off."""
        value = self.webhook_listen if which == "webhook" else self.health_listen
        if value == "off":
            return None
        host, _, port = value.rpartition(":")
        return host.strip("[]"), int(port)

    @field_validator("owner_ids", "activity_reminder_hours", mode="before")
    @classmethod
    def _split_owner_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [int(part) for part in re.split(r"[,\s]+", value.strip()) if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"DEFAULT_LANGUAGE must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("secret_key")
    @classmethod
    def _no_placeholder_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if raw.strip().lower() in _PLACEHOLDERS or len(raw) < 16:
            raise ValueError("SECRET_KEY must be a random string of at least 16 characters")
        return value

    def organization_name_for(self, language: str | None) -> str:
        """The union's name in `language` (zh-Hans, zh-Hant or en); else the default language's."""
        names = {
            "zh-Hans": self.organization_name,
            "zh-Hant": self.organization_name_zh_hant,
            "en": self.organization_name_en,
        }
        return names.get(language or "", names.get(self.default_language, self.organization_name))

    @property
    def zone(self) -> ZoneInfo:
        """The deployment's time zone."""
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        """Return the bot token or raise SettingsError with guidance for the operator."""
        token = (
            self.telegram_bot_token.get_secret_value().strip() if self.telegram_bot_token else ""
        )
        if not token:
            raise SettingsError(N_("settings.token_missing"))
        if not _TOKEN_PATTERN.match(token):
            raise SettingsError(N_("settings.token_malformed"))
        return token

    def secret_bytes(self, data_dir: Path | None = None) -> bytes:
        """The key for keyed hashes: SECRET_KEY, else a generated key kept beside the data."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        key_file = (data_dir or self.persistence_path.parent) / "secret.key"
        # Created 0600 in the call that makes it: never readable by anyone else, not even
        # for a moment (an older, wider file is narrowed).
        write_new_private(key_file, secrets.token_urlsafe(32))
        return key_file.read_text().strip().encode()
