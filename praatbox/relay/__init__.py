"""Media relay for group rooms; only `auth` may be imported by the web process (no aiortc)."""
