#!/usr/bin/env bash
# Install mailer, load the demo data into the embedded SQLite database, render demo batches,
# then serve the web app on http://127.0.0.1:5000 (Ctrl-C stops it). Arguments go to `mailer demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
.venv/bin/python -m mailer demo "$@"
echo "Serving http://127.0.0.1:5000 — log in with the admin login above."
exec .venv/bin/python -m mailer run --host 127.0.0.1 --port 5000
