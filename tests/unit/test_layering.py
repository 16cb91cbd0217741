"""Imports point downward: codecs ← state (`rooms/`) ← I/O (`hub/`, `signaling/`, `views/`)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "praatbox"
# The state layer holds no I/O: no web framework, no store, no event loop, no socket handlers.
FORBIDDEN_IN_ROOMS = ("flask", "werkzeug", "redis", "gevent", "simple_websocket", "aiortc",
                      "praatbox.hub", "praatbox.signaling", "praatbox.views")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules imported when the module loads: not inside functions, not for type checking."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody)

    visit(tree.body)
    return found


MODULES = {module_name(path): top_level_imports(path) for path in PACKAGE.rglob("*.py")}


def imports_of(prefix: str) -> dict[str, set[str]]:
    return {name: imported for name, imported in MODULES.items()
            if name == prefix or name.startswith(prefix + ".")}


def test_room_state_imports_no_io():
    offending = {
        name: sorted(i for i in imported
                     if any(i == f or i.startswith(f + ".") for f in FORBIDDEN_IN_ROOMS))
        for name, imported in imports_of("praatbox.rooms").items()
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_the_hub_never_imports_views():
    offending = {name: sorted(i for i in imported if i.startswith("praatbox.views"))
                 for name, imported in imports_of("praatbox.hub").items()}
    assert {name: found for name, found in offending.items() if found} == {}


def test_no_import_cycles_in_the_package():
    # The root package (the app factory) is loaded before anything in it, never because of it.
    graph = {name: {i for i in imported if i in MODULES and i not in (name, "praatbox")}
             for name, imported in MODULES.items()}
    for name in graph:  # `import praatbox.x.y` also loads its packages
        graph[name] |= {package for i in list(graph[name]) for package in _packages_of(i)
                        if package in MODULES and package != name and package != "praatbox"}
    cycles = [cycle for cycle in (_cycle_from(start, graph) for start in graph) if cycle]
    assert cycles == []


def _packages_of(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """Return an import path from `start` back to itself, if there is one."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph[node]:
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None
