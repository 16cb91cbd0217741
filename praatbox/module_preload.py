"""Which ES modules a page script imports, for `<link rel="modulepreload">` in its page.

Without it the browser learns of a module only once the module importing it has arrived: the
call page's scripts came in five levels, one round trip after another, before the page could
even ask for the camera. With every module of the graph named in the page's head they are
fetched at once, while the page is parsed.
"""

from __future__ import annotations

import functools
import os
import re

from flask import Flask

# Static imports and re-exports of a sibling module (`import { A } from "./a.js";`, `import
# "./a.js";`, `export { B } from "./b.js";`); a dynamic `import("./blur.js")` is loaded on use.
STATIC_IMPORT = re.compile(
    r"""^(?:import|export)\b[^;"'()]*?["']\./([\w.-]+\.js)["']""", re.MULTILINE
)


def imported_modules(source: str) -> list[str]:
    """Return the sibling modules one module's source imports, in order of appearance."""
    return STATIC_IMPORT.findall(source)


@functools.cache
def module_graph(folder: str, entry: str) -> tuple[str, ...]:
    """Return every module `entry` (a file in `folder`) imports, directly or not, itself left
    out; read once per process (the files change only with a new release)."""
    seen: dict[str, None] = {}
    pending = [entry]
    while pending:
        name = pending.pop(0)
        with open(os.path.join(folder, name), encoding="utf-8") as module:
            for imported in imported_modules(module.read()):
                if imported != entry and imported not in seen:
                    seen[imported] = None
                    pending.append(imported)
    return tuple(seen)


def init_module_preload(app: Flask) -> None:
    """Let templates list what a script in `static/js/` imports: `module_imports("room.js")`."""
    folder = os.path.join(str(app.static_folder), "js")
    app.jinja_env.globals["module_imports"] = lambda entry: module_graph(folder, entry)
