"""Long-term credentials and stateless nonces.

Pure logic with time passed in: the request handler decides, this module only answers.
"""

import base64
import hashlib
import hmac
import secrets

from aioice.turn import make_integrity_key

from praatbox.credentials import parse_rest_username, rest_passwords

# 48 bits, as 8 base64url characters: a nonce only proves freshness (the credential still has
# to be right), and every byte of it is in each 401, which a forged source can aim at a victim.
NONCE_MAC_BYTES = 6


class Authenticator:
    """Check credentials in the coturn REST scheme (several secrets) or static test users."""

    def __init__(
        self,
        secrets_list: list[str],
        realm: str,
        nonce_lifetime_seconds: float,
        static_users: dict[str, str] | None = None,
        nonce_key: bytes | None = None,
    ) -> None:
        self.realm = realm
        self._secrets = list(secrets_list)
        self._static_users = dict(static_users or {})
        self._nonce_lifetime_seconds = nonce_lifetime_seconds
        # Nonces only need to survive this server (its workers share the key); clients get a
        # 438 after a restart.
        self._nonce_key = nonce_key or secrets.token_bytes(32)

    def make_nonce(self, now: float, client_ip: str) -> bytes:
        """Return a nonce bound to the client's IP that expires after the nonce lifetime."""
        issued = f"{int(now):08x}"
        return issued.encode("ascii") + self._nonce_mac(issued, client_ip)

    def nonce_is_valid(self, nonce: bytes, now: float, client_ip: str) -> bool:
        """Return True for a nonce we issued to this IP that has not expired."""
        try:
            issued = nonce[:8].decode("ascii")
            issued_at = int(issued, 16)
        except (UnicodeDecodeError, ValueError):
            return False
        if not hmac.compare_digest(nonce[8:], self._nonce_mac(issued, client_ip)):
            return False
        return 0 <= now - issued_at < self._nonce_lifetime_seconds

    def _nonce_mac(self, issued: str, client_ip: str) -> bytes:
        message = f"{issued}|{client_ip}".encode()
        digest = hmac.new(self._nonce_key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:NONCE_MAC_BYTES])

    def candidate_keys(self, username: str, wall_now: float) -> tuple[str, list[bytes]]:
        """Return ``(user id for quotas, possible integrity keys)`` for a new session.

        No keys means the credential is unknown or expired (coturn checks expiry only when
        a session starts; so do we).
        """
        if username in self._static_users:
            password = self._static_users[username]
            return username, [make_integrity_key(username, self.realm, password)]
        parsed = parse_rest_username(username)
        if parsed is None:
            return username, []
        expiry, user = parsed
        if expiry < wall_now:
            return user, []
        return user, [
            make_integrity_key(username, self.realm, password)
            for password in rest_passwords(self._secrets, username)
        ]
