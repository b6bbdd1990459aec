#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine and run the whole suite
# on SQLite and PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: PDF tools for reading rendered envelopes, Chromium for the browser tests.
missing=()
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
# A Chinese font, so the browser lays out and shows the Chinese pages as customers see them.
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-zenhei)
# pg_dump and pg_restore, for the backup tests on PostgreSQL.
command -v pg_dump >/dev/null || missing+=(postgresql-client)
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "Missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
        exit 1
    fi
fi

# Services: PostgreSQL (the production database) and Redis (the job queue).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && command -v redis-server >/dev/null; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check mailer returns tests bench deploy
# Types (strict) and the layer contract (pyproject.toml).
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/python -m pytest -n 2 "$@"
