"""The layering of pipeline/ and flows/, read from the source with ast, so imports inside functions and
under TYPE_CHECKING count as much as top-level ones:

    core <- acquire, clean <- store <- run <- flows      (acquire and clean never import each other)

core is config, records, schemas, memory, forkserver, locks and locations; acquire, clean and store are their folders;
run is pipeline/run/ and every other module directly under pipeline/, the package's own __init__ too (it
is the public entry, `pipeline.run_incremental`, a lazy call of the run); flows is flows/. A module may import its own layer and the layers below it. Also: no import cycle between
modules, and no Prefect under pipeline/. Each test lists every offending import, one per line.
Imports by a computed name (importlib with a variable, multiprocessing preload lists) are not seen."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import REPO

PACKAGES = ("pipeline", "flows")
CORE = {
    "pipeline.config",
    "pipeline.records",
    "pipeline.schemas",
    "pipeline.memory",
    "pipeline.forkserver",
    "pipeline.locks",
    "pipeline.locations",
}
RANK = {"core": 0, "acquire": 1, "clean": 1, "store": 2, "run": 3, "flows": 4}
SIBLINGS = {"acquire", "clean"}  # same rank, and never import each other


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # a module of ours, or another package's top-level name
    where: str  # file:line, relative to the repository
    internal: bool


def modules(root: Path) -> dict[str, Path]:
    """module name -> file, for every .py file of PACKAGES under root."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> tuple[str, bool]:
    """An imported dotted name as the deepest module of ours it names, or another package's name."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n]), True
    return parts[0], False


def _dynamic_name(node: ast.Call) -> str | None:
    """The module of importlib.import_module("x") or __import__("x"), when written as a literal."""
    func = node.func
    named = (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
    )
    if named and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def imports(root: Path) -> Iterator[Import]:
    """Every import statement of every module, wherever it sits in the file."""
    known = modules(root)
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*up, *([base] if base else [])])
                # `from a import b` names module a.b when there is one, else a thing inside a
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            elif isinstance(node, ast.Call) and (name := _dynamic_name(node)):
                names = [name]
            for name in dict.fromkeys(names):
                target, internal = _resolve(name, known)
                if target != module:
                    yield Import(module, target, f"{rel}:{node.lineno}", internal)


def layer(module: str) -> str:
    top, _, rest = module.partition(".")
    if top == "flows":
        return "flows"
    if module in CORE:
        return "core"
    sub = rest.partition(".")[0]
    return sub if sub in ("acquire", "clean", "store") else "run"


def layer_violations(root: Path) -> list[str]:
    found = []
    for imp in imports(root):
        if not imp.internal:
            continue
        a, b = layer(imp.source), layer(imp.target)
        if {a, b} == SIBLINGS:
            why = f"{a} never imports {b}"
        elif RANK[b] > RANK[a]:
            why = f"an arrow up, {a} -> {b}"
        else:
            continue
        found.append(f"{imp.where}: {imp.source} imports {imp.target} ({why})")
    return sorted(set(found))


def prefect_imports(root: Path) -> list[str]:
    return sorted(
        {
            f"{imp.where}: {imp.source} imports {imp.target}"
            for imp in imports(root)
            if imp.source.split(".")[0] == "pipeline"
            and not imp.internal
            and (imp.target == "prefect" or imp.target.startswith("prefect_"))
        }
    )


def cycles(root: Path) -> list[str]:
    """Each import cycle between modules once (the shortest one through each module of a strongly
    connected group), with where each of its arrows is written."""
    edges: dict[str, dict[str, str]] = {}
    for imp in imports(root):
        if imp.internal:
            edges.setdefault(imp.source, {}).setdefault(imp.target, imp.where)
    seen: set[tuple[str, ...]] = set()
    found = []
    for start in sorted(edges):
        path = _shortest_cycle(start, edges)
        if path is None:
            continue
        i = path.index(min(path[:-1]))
        key = tuple(path[i:-1] + path[:i])
        if key in seen:
            continue
        seen.add(key)
        arrows = ", ".join(edges[a][b] for a, b in zip(path, path[1:]))
        found.append(f"{' -> '.join(path)}  ({arrows})")
    return sorted(found)


def _shortest_cycle(start: str, edges: dict[str, dict[str, str]]) -> list[str] | None:
    """The shortest path start -> ... -> start (breadth first), or None."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for target in sorted(edges.get(node, {})):
                if target == start:
                    path = [start]
                    while node != start:
                        path.append(node)
                        node = parent[node]
                    return [start, *reversed(path[1:]), start] if len(path) > 1 else [start, start]
                if target not in parent:
                    parent[target] = node
                    nxt.append(target)
        frontier = nxt
    return None


def _report(what: str, lines: list[str]) -> None:
    if lines:
        pytest.fail(f"{len(lines)} {what}:\n" + "\n".join(lines), pytrace=False)


def test_no_import_cycle_between_modules():
    _report("import cycles", cycles(REPO))


def test_no_import_against_the_layers():
    _report("imports against core <- acquire, clean <- store <- run <- flows", layer_violations(REPO))


def test_pipeline_never_imports_prefect():
    _report("Prefect imports under pipeline/", prefect_imports(REPO))


def test_the_scan_sees_every_kind_of_import(tmp_path):
    """The checks above can fail: a small package with each kind of import, read as the repository is."""
    files = {
        "pipeline/__init__.py": "VERSION = 1\n",
        "pipeline/config.py": "",
        "pipeline/acquire/__init__.py": "",
        "pipeline/acquire/warc.py": "from ..clean import site\n",  # relative, sibling
        "pipeline/clean/__init__.py": "",
        "pipeline/clean/site.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pipeline.store.tables import T\n"
        ),
        "pipeline/store/__init__.py": "",
        "pipeline/store/tables.py": (
            "import pipeline.config\ndef f():\n    import prefect.flows\n    from pipeline import clean\n"
            "    from pipeline.clean import site\n"
        ),
        "flows/__init__.py": "",
        "flows/process.py": "import importlib\nimportlib.import_module('pipeline.store.tables')\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    assert layer_violations(tmp_path) == [
        "pipeline/acquire/warc.py:1: pipeline.acquire.warc imports pipeline.clean.site (acquire never imports clean)",
        "pipeline/clean/site.py:3: pipeline.clean.site imports pipeline.store.tables (an arrow up, clean -> store)",
    ]
    assert prefect_imports(tmp_path) == ["pipeline/store/tables.py:3: pipeline.store.tables imports prefect"]
    assert cycles(tmp_path) == [
        "pipeline.clean.site -> pipeline.store.tables -> pipeline.clean.site  "
        "(pipeline/clean/site.py:3, pipeline/store/tables.py:5)"
    ]
    flows = [i for i in imports(tmp_path) if i.source == "flows.process"]
    assert [(i.target, i.internal) for i in flows] == [("importlib", False), ("pipeline.store.tables", True)]
