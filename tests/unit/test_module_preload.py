"""The call page names every module its script imports, so the browser fetches them at once."""

from __future__ import annotations

import re
from pathlib import Path

from praatbox.module_preload import imported_modules, module_graph
from tests.forms import post_terms

JS = Path(__file__).resolve().parents[2] / "static" / "js"

SOURCE = '''// @ts-check
import { A } from "./a.js";
import {
  B,
  C,
} from "./multi-line.js";
import "./side-effect.js";
export { D } from "./re-export.js";
/** @type {import("./types").RoomConfig} */
const blur = await import("./blur.js");
'''


def test_every_static_import_form_is_found_and_dynamic_ones_are_not():
    assert imported_modules(SOURCE) == ["a.js", "multi-line.js", "side-effect.js", "re-export.js"]


def test_room_page_preloads_the_whole_graph_of_room_js(client):
    room = post_terms(client, "/start").headers["Location"]
    html = client.get(room).get_data(as_text=True)
    preloaded = re.findall(r'<link rel="modulepreload" href="/static/js/([\w.-]+)">', html)
    assert set(preloaded) == set(module_graph(str(JS), "room.js"))
    # Three imports deep (room → entry → preview → level), and loaded only on use.
    assert {"entry.js", "preview.js", "level.js"} <= set(preloaded)
    assert "blur.js" not in preloaded and "room.js" not in preloaded
