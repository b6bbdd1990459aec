#!/usr/bin/env bash
# Install mailer and load the demo data into the embedded SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
.venv/bin/python -m mailer demo "$@"
