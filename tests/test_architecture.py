"""docs/ARCHITECTURE.md's layer table holds: imports only go up the table, and no cycles."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bayesprune"
GROUPED = ("data", "figures")  # subpackages counted as one module


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _group(name: str) -> str:
    head = name.split(".")[0]
    return head if head in GROUPED else name


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports at run time (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(path.read_text())
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    skip = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", None) == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom | ast.Import):
            continue
        if isinstance(node, ast.Import):
            found |= {a.name[11:] for a in node.names if a.name.startswith("bayesprune.")}
            continue
        if node.level:
            base = ".".join(package[: len(package) - node.level + 1] + [node.module or ""])
        elif (node.module or "").startswith("bayesprune"):
            base = node.module[len("bayesprune.") :] if node.module != "bayesprune" else ""
        else:
            continue
        base = base.strip(".")
        for alias in node.names:
            full = f"{base}.{alias.name}".strip(".")
            found.add(full if full in modules else base)
    return {_group(m) for m in found if m in modules}


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in files.items():
        if name:
            graph[_group(name)] |= _imports(path, set(files)) - {_group(name)}
    return graph


def _layers() -> dict[str, int]:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    section = text.split("## Layers of the package", 1)[1].split("\n## ", 1)[0]
    layers = {}
    for row in re.findall(r"^\| (\d+) [^|]*\| (.+) \|$", section, flags=re.M):
        for name in re.findall(r"`([^`]+)`", row[1]):
            layers[name.rstrip("/").replace("/", ".")] = int(row[0])
    return layers


def test_every_module_is_in_the_layer_table():
    assert set(_graph()) == set(_layers())


def test_imports_only_go_up_the_layer_table():
    layers = _layers()
    wrong = [
        f"{m} (layer {layers[m]}) imports {d} (layer {layers[d]})"
        for m, deps in _graph().items()
        for d in deps
        if layers[d] > layers[m]
    ]
    assert not wrong, wrong


def test_no_import_cycles():
    graph, done = _graph(), set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        if node not in done:
            for dep in graph[node]:
                visit(dep, (*path, node))
            done.add(node)

    for node in graph:
        visit(node, ())
