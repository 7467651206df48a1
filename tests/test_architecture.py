"""Dependencies point inward: the domain never imports an edge library."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDGE_LIBRARIES = {"httpx", "discord", "lark_oapi", "aiosqlite", "av", "aiohttp", "starlette", "uvicorn",
                  "PIL", "pydantic_settings"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_edge_library() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & EDGE_LIBRARIES)
        for path in (ROOT / "core").rglob("*.py")
        if _imports(path) & EDGE_LIBRARIES
    }
    assert offenders == {}


def test_core_and_adapters_do_not_import_the_composition_root_or_simulator() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & {"bot", "sim"})
        for package in ("core", "adapters")
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & {"bot", "sim"}
    }
    assert offenders == {}


def test_core_does_not_import_adapters() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py") if "adapters" in _imports(p)]
    assert offenders == []
