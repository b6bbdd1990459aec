"""Every setting of the app, read from the environment once, checked, with defaults that run on a laptop.

``create_app`` and the render workers read the settings here and nowhere else. Nothing here
writes a file: ``python -m mailer init`` creates the secret key file (``create_secret_key_file``).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

if TYPE_CHECKING:
    from mailer.envelopes.imb import ImbIds

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = PROJECT_ROOT / "instance"
SECRET_KEY_FILE = "secret_key"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# What a setting falls back to when not set: a text, or None for no value.
_Default = TypeVar("_Default", str, None)


class SettingsError(ValueError):
    """A setting in the environment cannot be used; the message names the variable."""


class MissingSecretKey(click.ClickException):
    """No secret key is set or kept: sessions and envelope links cannot be signed."""

    # A command stops with this message instead of a traceback; a web request answers 500 and logs it.
    exit_code = 2

    def __init__(self, instance_path: str | Path) -> None:
        super().__init__(
            f"no SECRET_KEY is set and {Path(instance_path) / SECRET_KEY_FILE} does not exist: "
            "run `python -m mailer init` to create it, or set SECRET_KEY"
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """The app's settings; ``from_environment`` reads and checks them, ``as_config`` hands them to Flask."""

    instance_path: str
    database_url: str
    # None until ``init`` creates the key file (or SECRET_KEY is set); see ``require_secret_key``.
    secret_key: str | None
    public_base_url: str
    redis_url: str
    render_queue: str
    batch_output_dir: str
    batch_pieces_per_file: int
    soft_return_window_days: int
    login_rate_limit: str
    login_account_rate_limit: str
    login_known_address_days: int
    session_cookie_secure: bool
    login_session_max_age_hours: float
    trusted_proxies: int
    timezone: str
    mailroom_key_wait_ms: int
    ratelimit_storage_uri: str
    sqlalchemy_echo: bool
    # What `init` and `demo` create the admin with, unless their options say otherwise.
    admin_email: str
    admin_password: str | None
    # The score at or above which `dedupe auto` merges; None: nothing merges automatically.
    dedupe_auto_merge_score: float | None
    # The largest file the import page takes; larger files are imported on the command line.
    max_upload_mb: int
    address_link_rate_limit: str
    # Where `reference update` puts a newer postal reference file; the bundled one is used until then.
    reference_data_path: str
    # Whether `batch create` leaves out addresses the reference data cannot verify, unless told otherwise.
    exclude_unverifiable: bool
    # Customers with no order and no mail for this many years are erased by `customers retention`; 0: never.
    privacy_retention_years: int
    # Churn risk is the chance of no order within this many days (churn refresh's default horizon).
    churn_horizon_days: int
    # The ISO 4217 code of the currency the stored orders' amounts are in.
    currency: str
    # The Postal Service's Mailer ID and service type ID for the Intelligent Mail barcode on US
    # envelopes; None (USPS_MAILER_ID unset): US envelopes carry no IMb.
    imb_ids: ImbIds | None = None

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, *, instance_path: str | Path = INSTANCE_PATH
    ) -> Settings:
        """Read every setting from ``environ`` (the process environment by default); raise SettingsError."""
        # Imported here, not at the top: the PDF library loads only when settings are read.
        from mailer.envelopes.render import MAX_PIECES_PER_FILE
        from returns.service import DEFAULT_SOFT_RETURN_WINDOW_DAYS

        env = _Environment(os.environ if environ is None else environ)
        instance = Path(instance_path)
        return cls(
            instance_path=str(instance),
            database_url=env.database_url("DATABASE_URL", f"sqlite:///{instance / 'mailer.sqlite3'}"),
            secret_key=env.text("SECRET_KEY", None) or read_secret_key_file(instance),
            public_base_url=env.web_address("PUBLIC_BASE_URL", "http://localhost:5000"),
            redis_url=env.text("REDIS_URL", "redis://127.0.0.1:6379/0"),
            render_queue=env.text("RENDER_QUEUE", "render"),
            # Web and render workers must see this folder at the same path (a shared mount).
            batch_output_dir=env.text("BATCH_OUTPUT_DIR", str(instance / "batches")),
            batch_pieces_per_file=env.integer(
                "BATCH_PIECES_PER_FILE", MAX_PIECES_PER_FILE, minimum=1, maximum=MAX_PIECES_PER_FILE
            ),
            soft_return_window_days=env.integer("SOFT_RETURN_WINDOW_DAYS", DEFAULT_SOFT_RETURN_WINDOW_DAYS, minimum=0),
            login_rate_limit=env.rate_limit("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
            # Failed logins per account, whatever address they come from: stops guessing spread over many IPs.
            login_account_rate_limit=env.rate_limit("LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute;20 per hour"),
            # ...but not from an address the account logged in from lately, so guesses from elsewhere cannot
            # lock its owner out (the per-IP limit still holds there); 0 turns the exemption off.
            login_known_address_days=env.integer("LOGIN_KNOWN_ADDRESS_DAYS", 30, minimum=0),
            session_cookie_secure=env.flag("SESSION_COOKIE_SECURE"),
            # A login lasts at most this long, then the user logs in again (a mailroom station once a day).
            login_session_max_age_hours=env.number("LOGIN_SESSION_MAX_AGE_HOURS", 24.0),
            # Proxies whose X-Forwarded-For/-Proto/-Host are believed; 0 when browsers reach the app directly.
            trusted_proxies=env.integer("TRUSTED_PROXIES", 0, minimum=0),
            # Times on the pages; stored times stay in UTC.
            timezone=env.timezone("MAILER_TIMEZONE", "UTC"),
            # A reason key pressed alone picks its reason after this long with nothing typed after it; a
            # scanner types a whole code far faster. Raise it for slow (Bluetooth) scanners.
            mailroom_key_wait_ms=env.integer("MAILROOM_KEY_WAIT_MS", 150, minimum=1),
            # One process's memory; redis://... shares the login limits' counts between workers.
            ratelimit_storage_uri=env.text("RATELIMIT_STORAGE_URI", "memory://"),
            sqlalchemy_echo=env.flag("SQLALCHEMY_ECHO"),
            admin_email=env.text("MAILER_ADMIN_EMAIL", "admin@example.com"),
            admin_password=env.text("MAILER_ADMIN_PASSWORD", None),
            dedupe_auto_merge_score=env.score("MAILER_DEDUPE_AUTO_MERGE_SCORE"),
            # About 100,000 customers: an import the web server finishes before its request times out.
            max_upload_mb=env.integer("MAX_UPLOAD_MB", 16, minimum=1),
            # Links refused (wrong, tampered, expired, used) per IP address on the customers' page.
            address_link_rate_limit=env.rate_limit("ADDRESS_LINK_RATE_LIMIT", "20 per minute;200 per hour"),
            imb_ids=_imb_ids(env),
            reference_data_path=env.text("REFERENCE_DATA_PATH", str(instance / "reference" / "reference.json.gz")),
            exclude_unverifiable=env.flag("EXCLUDE_UNVERIFIABLE"),
            privacy_retention_years=env.integer("PRIVACY_RETENTION_YEARS", 0, minimum=0, maximum=100),
            churn_horizon_days=env.integer("CHURN_HORIZON_DAYS", 365, minimum=1, maximum=3650),
            currency=env.currency("MAILER_CURRENCY", "USD"),
        )

    def as_config(self) -> dict[str, Any]:
        """Return the settings under the names the app's config and its extensions use."""
        return {
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": self.secret_key,
            "PUBLIC_BASE_URL": self.public_base_url,
            "REDIS_URL": self.redis_url,
            "RENDER_QUEUE": self.render_queue,
            "BATCH_OUTPUT_DIR": self.batch_output_dir,
            "BATCH_PIECES_PER_FILE": self.batch_pieces_per_file,
            "SOFT_RETURN_WINDOW_DAYS": self.soft_return_window_days,
            "LOGIN_RATE_LIMIT": self.login_rate_limit,
            "LOGIN_ACCOUNT_RATE_LIMIT": self.login_account_rate_limit,
            "LOGIN_KNOWN_ADDRESS_DAYS": self.login_known_address_days,
            "SESSION_COOKIE_SECURE": self.session_cookie_secure,
            "LOGIN_SESSION_MAX_AGE_HOURS": self.login_session_max_age_hours,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "BABEL_DEFAULT_TIMEZONE": self.timezone,
            "MAILROOM_KEY_WAIT_MS": self.mailroom_key_wait_ms,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            "SQLALCHEMY_ECHO": self.sqlalchemy_echo,
            "ADMIN_EMAIL": self.admin_email,
            "ADMIN_PASSWORD": self.admin_password,
            "DEDUPE_AUTO_MERGE_SCORE": self.dedupe_auto_merge_score,
            "MAX_UPLOAD_MB": self.max_upload_mb,
            "ADDRESS_LINK_RATE_LIMIT": self.address_link_rate_limit,
            "USPS_IMB_IDS": self.imb_ids,
            "REFERENCE_DATA_PATH": self.reference_data_path,
            "EXCLUDE_UNVERIFIABLE": self.exclude_unverifiable,
            "PRIVACY_RETENTION_YEARS": self.privacy_retention_years,
            "CHURN_HORIZON_DAYS": self.churn_horizon_days,
            "CURRENCY": self.currency,
        }


def _imb_ids(env: _Environment) -> ImbIds | None:
    # Imported here: the barcode module loads the PDF library.
    from mailer.envelopes.imb import ImbError, ImbIds

    mailer_id = env.text("USPS_MAILER_ID", None)
    service_type_id = env.text("USPS_SERVICE_TYPE_ID", None)
    if mailer_id is None and service_type_id is None:
        return None
    if mailer_id is None or service_type_id is None:
        missing = "USPS_MAILER_ID" if mailer_id is None else "USPS_SERVICE_TYPE_ID"
        raise SettingsError(f"{missing} is not set: the Intelligent Mail barcode needs both USPS_MAILER_ID and "
                            "USPS_SERVICE_TYPE_ID")
    try:
        return ImbIds(mailer_id=mailer_id, service_type_id=service_type_id,
                      barcode_id=env.text("USPS_BARCODE_ID", "00"))
    except ImbError as exc:
        raise SettingsError(f"USPS_MAILER_ID, USPS_SERVICE_TYPE_ID or USPS_BARCODE_ID: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Environment:
    """Typed reads of environment variables; an empty variable counts as unset."""

    values: Mapping[str, str]

    def text(self, name: str, default: _Default) -> str | _Default:
        value = self.values.get(name, "").strip()
        return value or default

    def _raw(self, name: str) -> str | None:
        return self.text(name, None)

    def integer(self, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise SettingsError(f"{name}={raw!r} is out of range: give a whole number {bounds}")
        return value

    def currency(self, name: str, default: str) -> str:
        value = self.text(name, default).upper()
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise SettingsError(f"{name}={value!r} is not a currency code: give three letters, like USD or CNY")
        return value

    def number(self, name: str, default: float) -> float:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a number") from None
        if not value > 0 or value == float("inf"):
            raise SettingsError(f"{name}={raw!r} must be a number above 0")
        return value

    def score(self, name: str) -> float | None:
        raw = self._raw(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a number") from None
        if not 0 <= value <= 100:
            raise SettingsError(f"{name}={raw!r} is out of range: give a score from 0 to 100")
        return value

    def flag(self, name: str) -> bool:
        raw = self._raw(name)
        if raw is None or raw.lower() in _FALSE:
            return False
        if raw.lower() in _TRUE:
            return True
        raise SettingsError(f"{name}={raw!r} is neither on (1) nor off (0)")

    def rate_limit(self, name: str, default: str) -> str:
        # Imported where used: the command line lists its commands without these libraries.
        from limits import parse_many

        raw = self._raw(name) or default
        try:
            parse_many(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a rate limit such as '10 per minute;50 per hour'") from None
        return raw

    def timezone(self, name: str, default: str) -> str:
        raw = self._raw(name) or default
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"{name}={raw!r} is not a time zone such as 'Asia/Shanghai'") from None
        return raw

    def database_url(self, name: str, default: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        raw = self._raw(name) or default
        try:
            make_url(raw)
        except ArgumentError:
            example = "postgresql+psycopg://user@host/db"
            raise SettingsError(f"{name}={raw!r} is not a database URL such as {example!r}") from None
        return raw

    def web_address(self, name: str, default: str) -> str:
        raw = self._raw(name) or default
        if not raw.startswith(("http://", "https://")):
            raise SettingsError(f"{name}={raw!r} must be a web address starting with https:// or http://")
        return raw


def read_secret_key_file(instance_path: str | Path) -> str | None:
    """Return the key kept in the instance folder by ``init``, None if there is none."""
    try:
        return (Path(instance_path) / SECRET_KEY_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


def create_secret_key_file(instance_path: str | Path) -> str:
    """Create the instance folder's secret key file, readable by its owner only, and return the key.

    Kept on disk so sessions and envelope links stay valid across restarts. The file is created
    with mode 0600, so the key is never readable by others, not even for a moment. A key file that
    already exists is kept and its key returned.
    """
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = read_secret_key_file(folder)
        if existing is None:
            raise SettingsError(f"{path} is empty: remove it and run `python -m mailer init` again") from None
        return existing
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


def require_secret_key(config: Mapping[str, Any], instance_path: str | Path) -> str:
    """Return the app's secret key; raise MissingSecretKey, saying how to make one, if there is none."""
    key = config.get("SECRET_KEY")
    if not key:
        raise MissingSecretKey(instance_path)
    return str(key)
