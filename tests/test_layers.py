"""Layers import downward only, and no spikecore module imports one that imports it back.

Layers, bottom up (docs/architecture.md): the core (``spikecore`` without its CLI: units,
models, ir, network, io, engine, result, plotting, registry ...), then ``hwmodels``
(IR -> IR passes; imports only the core) and ``backends`` (compilers; import the core and
hwmodels, never another backend), then the CLI (``spikecore.cli``, ``spikecore.__main__``).
Every import counts, including those inside functions; the core reaches the layers above
it only through spikecore.registry's tables of module names.
"""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("spikecore", "backends", "hwmodels")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict:
    """module name -> source path, for every module of the three packages (Cython ones too)."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted([*(ROOT / pkg).rglob("*.py"), *(ROOT / pkg).rglob("*.pyx")]):
            out[_module_name(path)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The longest known module that ``name`` is or lies in (None: not ours)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _syntax_tree(path: Path) -> ast.AST:
    """A module's syntax tree; of a Cython module, only its Python import lines (not cimports)."""
    text = path.read_text()
    if path.suffix == ".pyx":
        text = "\n".join(line.strip() for line in text.splitlines()
                         if re.match(r"\s*(import|from\s+\S+\s+import)\s", line) and "cimport" not in line)
    return ast.parse(text, str(path))


def imports_of(module: str, path: Path) -> set:
    """The modules of ours that ``module`` imports anywhere in its source."""
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(_syntax_tree(path)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            # "from pkg import mod" imports the module pkg.mod when there is one
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]
        else:
            continue
        for t in targets:
            r = _resolve(t)
            if r is not None and r != module:
                out.add(r)
    return out


GRAPH = {m: imports_of(m, p) for m, p in MODULES.items()}


def layer(module: str) -> str:
    if module in ("spikecore.__main__",) or module.startswith("spikecore.cli"):
        return "cli"
    return module.split(".")[0].replace("spikecore", "core")


def backend_of(module: str) -> str | None:
    """The backend a backends module belongs to (None: the shared package and base)."""
    part = module.split(".")[1] if "." in module else ""
    if part in ("", "base"):
        return None
    return part.lstrip("_").split("_")[0]


def upward_imports(graph: dict) -> list:
    allowed = {"core": {"core"}, "hwmodels": {"core", "hwmodels"}, "backends": {"core", "hwmodels", "backends"},
               "cli": {"core", "hwmodels", "backends", "cli"}}
    bad = []
    for m, deps in graph.items():
        for d in deps:
            if layer(d) not in allowed[layer(m)]:
                bad.append(f"{m} -> {d}")
            elif layer(m) == layer(d) == "backends" and backend_of(d) not in (None, backend_of(m)):
                bad.append(f"{m} -> {d} (a backend imports another)")
    return sorted(bad)


def cycles(graph: dict) -> list:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_walk_sees_every_kind_of_import():
    # relative, absolute, "from package import module", and inside functions
    assert "spikecore.models.base" in GRAPH["spikecore.models.lif_cuba"]
    assert "spikecore.models.lif_cuba" in GRAPH["spikecore.models"]
    assert "spikecore.registry" in GRAPH["spikecore.network"]          # inside Network.run
    assert "hwmodels.loihi" in GRAPH["backends.lava"]
    assert "backends" in GRAPH["spikecore.cli.run"]


def test_the_checks_catch_what_they_forbid():
    assert upward_imports({"spikecore.network": {"backends"}}) == ["spikecore.network -> backends"]
    assert upward_imports({"hwmodels.batch": {"backends.native"}}) == ["hwmodels.batch -> backends.native"]
    assert upward_imports({"backends.lava": {"backends.brian2", "backends._lava_models", "backends.base"}}) == [
        "backends.lava -> backends.brian2 (a backend imports another)"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_import_downward_only():
    assert upward_imports(GRAPH) == []


def test_no_import_cycles():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("module", ["hwmodels.passes", "hwmodels.batch", "hwmodels.conversion", "hwmodels.loihi",
                                    "spikecore.models", "spikecore.io.nir"])
def test_ir_passes_and_models_run_without_the_compiled_engine(module):
    code = ("import sys; sys.modules['spikecore.engine'] = None\n"   # any import of it now fails
            f"import {module}\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
