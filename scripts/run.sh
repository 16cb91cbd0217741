#!/bin/sh
# `make run`: start every process of the Procfile (web, turn, relay) with embedded defaults.
# One master secret is generated per run and shared by the processes; each derives its own keys
# from it (praatbox/keys.py).
set -eu
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
if [ -z "${PRAATBOX_SECRET_KEY:-}" ]; then
    PRAATBOX_SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
fi
PRAATBOX_RELAY_URL=${PRAATBOX_RELAY_URL:-http://127.0.0.1:$PORT}
PATH="$PWD/.venv/bin:$PATH"
export PORT PRAATBOX_SECRET_KEY PRAATBOX_RELAY_URL PATH
echo "Praatbox is starting: open http://localhost:$PORT (camera access off localhost needs HTTPS)"
exec honcho start -f Procfile -p "$PORT"
