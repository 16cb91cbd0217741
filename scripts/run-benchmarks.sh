#!/bin/sh
# `make bench`: every benchmark in bench/, one after another (they share 2 cores).
# Only scripts with a `__main__` block are benchmarks; the others (bench/janus_client.py) are
# helpers they import.
set -u
cd "$(dirname "$0")/.."
status=0
for script in bench/*.py; do
    grep -q '^if __name__ == "__main__":' "$script" || continue
    echo "== $script"
    PYTHONPATH=. .venv/bin/python "$script" || status=1
done
exit $status
