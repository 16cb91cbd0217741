"""Run axe-core (vendored for the tests only, see scripts/vendor.sh) against the current page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 640}

RUN_AXE = """async (tags) => {
  const results = await window.axe.run(document, {
    runOnly: { type: "tag", values: tags }, resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def violations(page: Page) -> list[dict[str, Any]]:
    """WCAG 2.1 A/AA violations axe finds on the page as it is now."""
    # Evaluated through the DevTools protocol: no script tag, so the page's CSP stays intact.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_21_AA)
    return result


def assert_accessible(page: Page, what: str, sizes=(DESKTOP, PHONE)) -> None:
    """No violations at desktop and phone size; the message lists each one with its elements."""
    found = []
    for size in sizes:
        page.set_viewport_size(size)
        found += [dict(v, size=f"{size['width']}x{size['height']}") for v in violations(page)]
    assert not found, f"axe violations on {what}:\n" + "\n".join(
        f"- [{v['size']}] {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in found)
