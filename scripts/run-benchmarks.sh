#!/bin/sh
# `make bench`: every benchmark in bench/, one after another (they share 2 cores).
set -u
cd "$(dirname "$0")/.."
status=0
for script in bench/*.py; do
    echo "== $script"
    PYTHONPATH=. .venv/bin/python "$script" || status=1
done
exit $status
