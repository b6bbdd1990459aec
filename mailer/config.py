"""Settings read from the environment, with defaults that run on a laptop."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def default_database_url(instance_path: str) -> str:
    """Return the embedded SQLite database under the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'mailer.sqlite3'}"


def load_secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, else one kept in the instance folder."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    # Kept on disk so sessions and envelope tokens stay valid across restarts.
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def settings_from_environment(instance_path: str) -> dict[str, object]:
    """Collect the app's settings from environment variables."""
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL") or default_database_url(instance_path),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # Where customers reach the address-update page printed on the envelopes.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000"),
        "SQLALCHEMY_ECHO": os.environ.get("SQLALCHEMY_ECHO") == "1",
        # A second soft return within this many days makes an address undeliverable.
        "SOFT_RETURN_WINDOW_DAYS": int(os.environ.get("SOFT_RETURN_WINDOW_DAYS", "180")),
    }
