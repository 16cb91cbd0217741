"""Relay tests run aiortc peers on loopback only, with the relay's pass-through decoder."""

import os

from praatbox.relay.aiortc_hooks import install_pass_through, use_host_addresses

# aioice leaves 127.0.0.1 out of its host candidates; inside a loopback-only namespace that
# would leave no candidate at all.
os.environ.setdefault("PRAATBOX_RELAY_HOST_IPS", "127.0.0.1")
use_host_addresses(tuple(os.environ["PRAATBOX_RELAY_HOST_IPS"].split(",")))
# Process-wide, as in the relay process: the stand-in browsers then record encoded frames too,
# which lets the tests compare bytes with what each publisher sent.
install_pass_through()
