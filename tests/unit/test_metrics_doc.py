"""docs/operations.md lists every metric the web, TURN and relay processes expose."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
METRIC_MODULES = ("praatbox/web_metrics.py", "praatbox/web_counters.py",
                  "praatbox/turn/metrics.py", "praatbox/relay/metrics.py")
METRIC_NAME = re.compile(r'"(praatbox_[a-z_]+)"')
COUNTER = re.compile(r'(?:Counter|CounterMetricFamily)\(\s*"(praatbox_[a-z_]+)"')


def test_every_metric_is_in_the_operations_table():
    table = (ROOT / "docs/operations.md").read_text()
    documented = set(re.findall(r"^\| `(praatbox_[a-z_]+)", table, re.MULTILINE))
    missing = []
    for module in METRIC_MODULES:
        source = (ROOT / module).read_text()
        counters = set(COUNTER.findall(source))
        for name in METRIC_NAME.findall(source):
            exposed = name + "_total" if name in counters else name  # prometheus-client's suffix
            if exposed not in documented:
                missing.append(exposed)
    assert missing == []
