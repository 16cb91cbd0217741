"""Caddy with the shipped deploy/Caddyfile in front of a web process, on private loopback ports.

Only what a test needs differs from production: Caddy's own CA (the documented local-trial
`tls internal` line, uncommented), loopback ports, no admin endpoint, no HTTP redirect server,
and no change to the host's trust store. Caddy keeps its CA, certificates and autosaved config
in the test's folder (HOME, XDG_DATA_HOME, XDG_CONFIG_HOME), never in the host's.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.live import ROOT, HttpUser, LiveServer, free_port

CADDY = shutil.which("caddy") or "/usr/bin/caddy"
DEPLOY_CADDYFILE = ROOT / "deploy" / "Caddyfile"
DEPLOY_ENVIRONMENT = ROOT / "deploy" / "praatbox.env.example"
LOCAL_TRIAL_TLS = ("\t# tls internal\n", "\ttls internal\n")
TEST_OPTIONS = """{{
\tadmin off
\tskip_install_trust
\tdefault_bind 127.0.0.1
\thttp_port {http_port}
\thttps_port {https_port}
\tauto_https disable_redirects
"""
ROOT_CERTIFICATE = "caddy/pki/authorities/local/root.crt"


def deploy_setting(name: str) -> str:
    """A setting as deploy/praatbox.env.example ships it (the proxy and the app must agree)."""
    for line in DEPLOY_ENVIRONMENT.read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise KeyError(name)


def trial_caddyfile(https_port: int) -> str:
    """deploy/Caddyfile with the test's global options and Caddy's own CA."""
    text = DEPLOY_CADDYFILE.read_text()
    commented, active = LOCAL_TRIAL_TLS
    assert text.count(commented) == 1 and text.count("\n{\n") == 1
    options = TEST_OPTIONS.format(http_port=free_port(), https_port=https_port)
    return text.replace(commented, active).replace("\n{\n", "\n" + options, 1)


class CaddySite(LiveServer):
    """Caddy serving https://localhost:<port>; `tls` trusts its CA (and nothing else)."""

    def tls(self) -> ssl.SSLContext:
        folder = self.log_path.parent
        return ssl.create_default_context(cafile=str(folder / "data" / ROOT_CERTIFICATE))

    def visitor(self) -> HttpUser:
        """A browser-less visitor with its own cookies, over HTTPS to this site."""
        user = HttpUser(self.url)
        user.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(user.jar),
            urllib.request.HTTPSHandler(context=self.tls()))
        return user

    def fetch(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
        """GET over HTTPS, verifying Caddy's certificate; (status, headers, body) for any status."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.tls()) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read().decode()


def start_caddy(folder: Path, https_port: int, upstream: str) -> CaddySite:
    """Run `caddy run` on deploy/Caddyfile for https://localhost:<https_port> → `upstream`
    (host:port), and wait until it answers over HTTPS with a certificate of its own CA."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "Caddyfile"
    config.write_text(trial_caddyfile(https_port))
    environment = dict(os.environ)
    environment.update({
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "PRAATBOX_DOMAIN": f"localhost:{https_port}",
        "PRAATBOX_WEB_UPSTREAMS": upstream,
    })
    log_path = folder / "caddy.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"],
            cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
    site = CaddySite(f"https://localhost:{https_port}", process, log_path)
    # Caddy answers /metrics itself (404), whatever the upstream; before its CA, certificate and
    # listener exist, the request raises OSError.
    site.wait_until(lambda: site.fetch("/metrics"), "caddy")
    return site
