#!/bin/sh
# Install the Debian packages the test suite drives for real, when they are missing.
# `install-system-deps.sh bench` also installs what only `make bench` needs: `janus` (the
# reference SFU in bench/relay_cpu.py) and a C compiler for its loopback shim.
set -eu
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v turnutils_uclient >/dev/null 2>&1 || missing="$missing coturn"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v caddy >/dev/null 2>&1 || missing="$missing caddy"
command -v unshare >/dev/null 2>&1 || missing="$missing util-linux"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
if [ "${1:-}" = bench ]; then
    [ -x /usr/bin/janus ] || missing="$missing janus"
    command -v cc >/dev/null 2>&1 || missing="$missing gcc"
    [ -f /usr/include/ifaddrs.h ] || missing="$missing libc6-dev"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing:$missing — install them (as root: apt-get install$missing)" >&2
    exit 1
fi
echo "installing Debian packages:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Nothing here stops or disables a service: tests and benchmarks start their own coturn, janus,
# redis and caddy on private ports and stop them by PID, so a production instance on this host is
# left alone.
