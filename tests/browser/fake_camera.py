"""A small .y4m clip for Chromium's fake camera: 320×240 keeps 2–3 browsers within 2 cores."""

from __future__ import annotations

import random
from pathlib import Path

WIDTH, HEIGHT, FPS, FRAMES = 320, 240, 15, 30


def write_test_clip(path: Path) -> Path:
    """A moving bar over a checkerboard background: frames differ, so video really flows."""
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in range(FRAMES):
            out.write(b"FRAME\n" + bytes(_bar_over_checkerboard(frame)) + chroma + chroma)
    return path


def _bar_over_checkerboard(frame: int) -> bytearray:
    """The luma plane of one frame of the test clip."""
    bar = (frame * WIDTH // FRAMES, (frame * WIDTH // FRAMES) + 40)
    rows = bytearray()
    for y in range(HEIGHT):
        row = bytearray(235 if ((x // 16) + (y // 16)) % 2 else 16 for x in range(WIDTH))
        row[bar[0]:bar[1]] = bytes([128]) * (min(bar[1], WIDTH) - bar[0])
        rows += row
    return rows


# Colours as (Y, U, V): skin, dark hair, a blue shirt, dark eyes and mouth.
SKIN, HAIR, SHIRT, FEATURE = (184, 103, 157), (45, 120, 139), (77, 175, 101), (40, 128, 128)


def _person_spans(y: int, sway: int, scale: int) -> list[tuple[int, int, tuple[int, int, int]]]:
    """Spans (x0, x1, colour) of a head-and-shoulders figure on row y, in 1/scale pixels."""
    cx, head_cy, head_rx, head_ry = WIDTH // 2 + sway, 92, 36, 46
    spans: list[tuple[int, int, tuple[int, int, int]]] = []
    dy = y - head_cy
    if abs(dy) < head_ry:
        half = int(head_rx * (1 - (dy / head_ry) ** 2) ** 0.5)
        spans.append((cx - half, cx + half, HAIR if dy < -head_ry // 2 else SKIN))
        if -12 <= dy <= -6:
            spans += [(cx - 18, cx - 8, FEATURE), (cx + 8, cx + 18, FEATURE)]
        if 20 <= dy <= 24:
            spans.append((cx - 12, cx + 12, FEATURE))
    if head_cy + head_ry - 6 <= y < 150:
        spans.append((cx - 14, cx + 14, SKIN))  # the neck
    if y >= 150:
        half = min(110, 40 + (y - 150) * 3)  # shoulders widen, then the torso goes straight down
        spans.append((cx - half, cx + half, SHIRT))
    return [(max(0, x0 // scale), min(WIDTH // scale, x1 // scale), colour)
            for x0, x1, colour in spans]


def write_person_clip(path: Path) -> Path:
    """A head-and-shoulders figure swaying in front of a sharp checkerboard (to test blur)."""
    background = bytearray()
    for y in range(HEIGHT):
        background += bytes(235 if ((x // 16) + (y // 16)) % 2 else 16 for x in range(WIDTH))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in range(FRAMES):
            sway = round(8 * (1 - 4 * abs(frame / FRAMES - 0.5)))  # -8 … 8 … -8 pixels
            luma = bytearray(background)
            chroma = [bytearray([128]) * ((WIDTH // 2) * (HEIGHT // 2)) for _ in range(2)]
            for y in range(HEIGHT):
                for x0, x1, colour in _person_spans(y, sway, 1):
                    luma[y * WIDTH + x0:y * WIDTH + x1] = bytes([colour[0]]) * (x1 - x0)
            for cy in range(HEIGHT // 2):
                for x0, x1, colour in _person_spans(cy * 2, sway, 2):
                    for plane, value in zip(chroma, colour[1:], strict=True):
                        row = cy * (WIDTH // 2)
                        plane[row + x0:row + x1] = bytes([value]) * (x1 - x0)
            out.write(b"FRAME\n" + bytes(luma) + bytes(chroma[0]) + bytes(chroma[1]))
    return path


def write_busy_clip(path: Path, noise_levels: int = 5) -> Path:
    """The test clip with a real camera's sensor noise (± `noise_levels` of luma, new every
    frame): the encoder then wants ~570 kbit/s, where the clean clip needs ~100 and fits through
    any limit the poor-link tests set."""
    noise = random.Random(17)
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in range(FRAMES):
            luma = bytes(value + noise.randint(-noise_levels, noise_levels)
                         for value in _bar_over_checkerboard(frame))
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path
