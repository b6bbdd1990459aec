#!/usr/bin/env bash
# Build the message catalogs of the web pages (Flask-Babel reads mailer/translations/<lang>/LC_MESSAGES).
#
#   scripts/compile_translations.sh           compile each messages.po into the messages.mo beside it
#   scripts/compile_translations.sh --update  first extract the texts from the code and templates
#                                             again and merge them into each messages.po
#
# The compiled .mo files are committed, so the app runs without this step; run it after editing a
# .po file and commit both (tests/web/test_i18n.py fails when a .mo is older than its .po).
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel="${PYBABEL:-.venv/bin/pybabel}"
catalogs=mailer/translations

if [[ "${1:-}" == "--update" ]]; then
    "$pybabel" extract -F babel.cfg -k lazy_gettext -k _l -k Message --project mailer --no-location --sort-output \
        -o "$catalogs/messages.pot" .
    "$pybabel" update -i "$catalogs/messages.pot" -d "$catalogs" --ignore-obsolete --no-fuzzy-matching
fi
"$pybabel" compile -d "$catalogs" --statistics
