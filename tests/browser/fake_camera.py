"""A small .y4m clip for Chromium's fake camera: 320×240 keeps 2–3 browsers within 2 cores."""

from __future__ import annotations

from pathlib import Path

WIDTH, HEIGHT, FPS, FRAMES = 320, 240, 15, 30


def write_test_clip(path: Path) -> Path:
    """A moving bar over a checkerboard background: frames differ, so video really flows."""
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in range(FRAMES):
            bar = (frame * WIDTH // FRAMES, (frame * WIDTH // FRAMES) + 40)
            rows = bytearray()
            for y in range(HEIGHT):
                row = bytearray(
                    235 if ((x // 16) + (y // 16)) % 2 else 16 for x in range(WIDTH)
                )
                row[bar[0]:bar[1]] = bytes([128]) * (min(bar[1], WIDTH) - bar[0])
                rows += row
            out.write(b"FRAME\n" + bytes(rows) + chroma + chroma)
    return path
