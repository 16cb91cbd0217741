#!/bin/sh
# Run a command in a private network namespace where only loopback exists, so WebRTC media
# and TURN traffic in tests and benchmarks can never reach a real interface.
set -eu
if [ "$(id -u)" = 0 ]; then flag="-n"; else flag="-rn"; fi
exec unshare $flag sh -c 'ip link set lo up && exec "$@"' sh "$@"
