"""The packages' layering and the absence of import cycles, read from the source with ``ast``.

geodata → optimizer → maps, siting on top: a lower package never imports a higher one, and no
module imports itself through others (imports inside functions count too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geodata", "optimizer", "maps", "siting")
#: What each package may import of ours.
ALLOWED = {
    "geodata": {"geodata"},
    "optimizer": {"geodata", "optimizer"},
    "maps": {"geodata", "optimizer", "maps"},
    "siting": set(PACKAGES),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """Our modules that ``path`` imports (``from x import y`` counts ``x.y`` when a module)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m in known}


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    known = {_module_name(p) for p in files}
    return {_module_name(p): _imports(p, known) - {_module_name(p)} for p in files}


def test_the_graph_sees_the_imports() -> None:
    graph = _graph()
    assert "siting.pipeline" in graph["siting.city"]
    assert "geodata.osm" in graph["siting.pipeline"]
    assert "optimizer.lockers" in graph["siting.options"]


@pytest.mark.parametrize("package", PACKAGES)
def test_lower_layers_never_import_higher_ones(package: str) -> None:
    bad = {(m, d) for m, deps in _graph().items() if m.split(".")[0] == package
           for d in deps if d.split(".")[0] not in ALLOWED[package]}
    assert not bad, f"{package} imports a higher layer: {sorted(bad)}"


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in on_path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own submodules
            found = visit(nxt)
            if found:
                return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    return visit(start)


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph()
    cycles = [c for m in sorted(graph) if (c := _cycle_from(m, graph))]
    assert not cycles, f"import cycles: {cycles[:3]}"
