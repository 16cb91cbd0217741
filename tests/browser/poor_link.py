"""A browser on a poor link: headless Chromium in a network namespace of its own, joined to the
test namespace by a veth pair, with `tbf` rate limits on both directions of that pair only.

The others (in the test namespace) keep loopback and the full rate; only this person's link is
limited, as on a bus or a shelter's shared Wi-Fi. Playwright starts Chromium through a small
wrapper (its `executable_path`) that enters a new network namespace and waits there until the
veth end is configured; the kernel here has `tbf` (no `netem`). Everything is made inside the
test namespace and disappears with the wrapper's process: nothing on the host changes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserType

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

# The test namespace's end of the pair and the poor browser's end.
TEST_SIDE, POOR_SIDE = "10.99.0.1", "10.99.0.2"
TEST_DEVICE, POOR_DEVICE = "pb-test", "pb-poor"
SETUP_TIMEOUT_SECONDS = 20.0

WRAPPER = """#!/bin/sh
# Chromium in a network namespace of its own: the test configures the veth end, then it starts.
echo $$ > "$PRAATBOX_POOR_PIDFILE"
exec unshare -n sh -c '
  ip link set lo up
  while [ ! -e "$PRAATBOX_POOR_READY" ]; do sleep 0.05; done
  exec "$0" "$@"' {chromium} "$@"
"""


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=10)


@dataclass
class PoorLink:
    """The veth pair to one browser's namespace (`pid`: the wrapper's, then Chromium's)."""

    pid: int

    def inside(self, *command: str) -> None:
        _run("nsenter", "-t", str(self.pid), "-n", *command)

    def limit(self, kbit_per_second: int) -> None:
        """Limit both directions to this rate (a queue of at most ~100 ms, then drops)."""
        shape = ["tbf", "rate", f"{kbit_per_second}kbit", "burst", "16kbit", "latency", "100ms"]
        _run("tc", "qdisc", "replace", "dev", TEST_DEVICE, "root", *shape)
        self.inside("tc", "qdisc", "replace", "dev", POOR_DEVICE, "root", *shape)

    def lift(self) -> None:
        """Open the link up as a better network would: changed in place, what is queued goes
        on (deleting the queue would drop it all at once, which no real network does)."""
        shape = ["tbf", "rate", "1gbit", "burst", "1mbit", "latency", "100ms"]
        _run("tc", "qdisc", "change", "dev", TEST_DEVICE, "root", *shape)
        self.inside("tc", "qdisc", "change", "dev", POOR_DEVICE, "root", *shape)


def _connect(pid: int) -> PoorLink:
    """Make the veth pair with one end inside the browser's namespace, and address both ends."""
    _run("ip", "link", "add", TEST_DEVICE, "type", "veth", "peer", "name", POOR_DEVICE,
         "netns", str(pid))
    _run("ip", "addr", "add", f"{TEST_SIDE}/24", "dev", TEST_DEVICE)
    _run("ip", "link", "set", TEST_DEVICE, "up")
    link = PoorLink(pid)
    link.inside("ip", "addr", "add", f"{POOR_SIDE}/24", "dev", POOR_DEVICE)
    link.inside("ip", "link", "set", POOR_DEVICE, "up")
    return link


@contextlib.contextmanager
def poor_browser(chromium: BrowserType, folder: Path, web_port: int,
                 extra_args: list[str] | None = None) -> Iterator[tuple[Browser, PoorLink]]:
    """Launch Chromium behind its own veth link; it reaches the web at TEST_SIDE:web_port.
    `chromium`: the browser type of a running Playwright (`browser.browser_type`)."""
    wrapper = folder / "chromium-poor-link"
    wrapper.write_text(WRAPPER.replace("{chromium}", CHROMIUM))
    wrapper.chmod(0o755)
    pidfile, ready = folder / "poor.pid", folder / "poor.ready"
    for stale in (pidfile, ready):
        stale.unlink(missing_ok=True)
    links: list[PoorLink] = []
    failures: list[BaseException] = []

    def configure() -> None:
        try:
            deadline = time.monotonic() + SETUP_TIMEOUT_SECONDS
            while not pidfile.exists() or not pidfile.read_text().strip():
                if time.monotonic() > deadline:
                    raise TimeoutError("the poor-link wrapper did not start")
                time.sleep(0.05)
            links.append(_connect(int(pidfile.read_text())))
        except BaseException as error:  # reported by the launching thread
            failures.append(error)
        finally:
            ready.touch()

    setup = threading.Thread(target=configure, daemon=True)
    setup.start()
    origin = f"http://{TEST_SIDE}:{web_port}"
    browser = chromium.launch(
        executable_path=str(wrapper), headless=True,
        # getUserMedia needs a secure context: an address other than localhost is not one.
        args=CHROMIUM_ARGS + [f"--unsafely-treat-insecure-origin-as-secure={origin}",
                              *(extra_args or [])],
        env={**os.environ, "PRAATBOX_POOR_PIDFILE": str(pidfile),
             "PRAATBOX_POOR_READY": str(ready)},
    )
    setup.join(timeout=SETUP_TIMEOUT_SECONDS)
    try:
        if failures:
            raise failures[0]
        yield browser, links[0]
    finally:
        browser.close()
        # The pair goes with the browser's namespace; this end too, once the other is gone.
        subprocess.run(["ip", "link", "del", TEST_DEVICE], capture_output=True, timeout=10)
