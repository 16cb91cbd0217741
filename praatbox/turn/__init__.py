"""Bundled STUN/TURN server (RFC 8489 / RFC 8656), run as ``python -m praatbox.turn``.

See docs/turn.md. Nothing is imported here, so the web app can read ``praatbox.turn.config``
without loading the server.
"""
