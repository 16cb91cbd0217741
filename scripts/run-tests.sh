#!/bin/sh
# The whole suite, inside a loopback-only network namespace.
set -eu
exec sh scripts/run-in-netns.sh .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
