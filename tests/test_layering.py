"""The packages import downward only (geodata <- optimizer <- maps <- siting) and no module
imports itself back through others. Every executed import counts, module-level or inside a
function; imports under ``if TYPE_CHECKING:`` are for annotations only and never run."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geodata", "optimizer", "maps", "siting")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _imported(node: ast.Import | ast.ImportFrom, name: str, is_package: bool) -> list[str]:
    """Absolute names a statement of module ``name`` imports: modules, or modules' members."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        here = name.split(".") if is_package else name.split(".")[:-1]
        here = here[: len(here) - (node.level - 1)]
        base = ".".join([*here, base] if base else here)
    return [f"{base}.{alias.name}" for alias in node.names]


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of the import statements under ``if TYPE_CHECKING:``."""
    return {id(inner) for node in ast.walk(tree)
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
            for stmt in node.body for inner in ast.walk(stmt)}


def _targets(tree: ast.AST, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """Project modules that the code ``tree`` of module ``name`` imports when it runs."""
    found = set()
    skipped = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for target in _imported(node, name, is_package):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> nx.DiGraph[str]:
    """Project module -> project modules it imports (a member resolves to its module)."""
    modules = _modules()
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target in _targets(tree, name, path.name == "__init__.py", set(modules)):
            graph.add_edge(name, target)
    return graph


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph[str]:
    return import_graph()


def test_imports_of_every_kind_are_resolved() -> None:
    modules = set(_modules())
    code = """
import numpy
import geodata.errors
from geodata import user_inputs
from maps.files import atomic_file
from .. import milp
from .solution import Solution

def later():
    from siting.scenario import load_many
"""
    found = _targets(ast.parse(code), "optimizer.models.cover", False, modules)
    assert found == {"geodata.errors", "geodata.user_inputs", "maps.files", "optimizer.milp",
                     "optimizer.models.solution", "siting.scenario"}
    assert _targets(ast.parse("from . import cover"), "optimizer.models", True, modules) == {
        "optimizer.models.cover"}


def test_the_graph_holds_every_project_module(graph: nx.DiGraph[str]) -> None:
    assert {"geodata.errors", "optimizer.models.cover", "maps.report", "siting.cli"} <= set(graph)
    assert graph.has_edge("siting.batch_cli", "siting.batch")  # an import inside a function


@pytest.mark.parametrize(("package", "above"), [
    ("geodata", ("optimizer", "maps", "siting")),
    ("optimizer", ("maps", "siting")),
    ("maps", ("siting",)),
])
def test_packages_import_downward_only(graph: nx.DiGraph[str], package: str,
                                       above: tuple[str, ...]) -> None:
    upward = sorted(f"{a} -> {b}" for a, b in graph.edges
                    if a.split(".")[0] == package and b.split(".")[0] in above)
    assert not upward, f"{package} imports from a layer above it: {upward}"


def test_no_import_cycles(graph: nx.DiGraph[str]) -> None:
    cycles = sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)
    assert not cycles, f"import cycles: {cycles}"


#: Each tier's model: it takes arrays and reach triplets built in geodata, never a geometry.
TIER_MODELS = ("optimizer.lockers", "optimizer.stations", "optimizer.rural", "optimizer.hubs")
#: What a model must not import: geometry and graph libraries, networks and their distances.
GEOMETRY = ("geopandas", "shapely", "networkx", "osmnx", "geodata.network",
            "geodata.distances.network_distances")


@pytest.mark.parametrize("module", TIER_MODELS)
def test_tier_models_see_no_geometry_or_network(module: str) -> None:
    path = _modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = {target for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
             for target in _imported(node, module, False)}
    seen = sorted(n for n in names if any(n == g or n.startswith(f"{g}.") for g in GEOMETRY))
    assert not seen, f"{module} imports {seen}: build the arrays in geodata instead"
