"""The layers point one way: a lower layer never imports a higher one.

data → scoring → metamodel → portfolio → contribution → tournament → store → api / cli / demo / client
"""

from __future__ import annotations

import ast
from pathlib import Path

import kardashev

PACKAGE_ROOT = Path(kardashev.__file__).parent

LAYERS: dict[str, int] = {
    "errors": 0,
    "execution": 0,
    "data": 1,
    "scoring": 2,
    "metamodel": 3,
    "portfolio": 4,
    "contribution": 5,
    "tournament": 6,
    "store": 7,
    "api": 8,
    "client": 8,
    "cli": 8,
    "demo": 8,
}


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "kardashev" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_every_subpackage_has_a_layer():
    for child in PACKAGE_ROOT.iterdir():
        if child.name.startswith("_") or child.name == "py.typed" or child.suffix not in ("", ".py"):
            continue
        if child.is_dir() and not (child / "__init__.py").exists():
            continue
        assert child.stem in LAYERS, f"{child.name} has no layer in tests/test_layers.py"


def test_no_module_imports_a_higher_layer():
    violations = []
    for path in PACKAGE_ROOT.rglob("*.py"):
        relative = path.relative_to(PACKAGE_ROOT)
        if len(relative.parts) == 1:
            continue  # kardashev/__init__.py, __main__.py: the package root
        own = LAYERS[relative.parts[0].removesuffix(".py")]
        for name in _imports(path):
            layer = _layer_of(name)
            if layer is None or layer not in LAYERS:
                continue
            if LAYERS[layer] > own:
                violations.append(f"{relative} imports {name}")
    assert not violations, "layering violated:\n" + "\n".join(sorted(set(violations)))
