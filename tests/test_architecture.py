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


# The layers of core/, bottom-up. A module may import its own layer and the layers below, never above.
# A new core area gets its own subpackage and a place here (the test below fails until it has one).
LAYERS: tuple[frozenset[str], ...] = (
    # the shared vocabulary
    frozenset({"__init__", "types", "errors", "clock", "net", "messages", "request", "jobs", "data"}),
    # products (IMA's leaves as value objects), our model catalog; learned durations, polls and progress
    frozenset({"catalog", "timing"}),
    frozenset({"platform", "ports"}),  # the platform contract and the back-end seams
    # understanding, choosing a model, input media, telemetry, money
    frozenset({"intent", "selection", "media", "ops", "spend"}),
    frozenset({"ux"}),  # the words users read
    frozenset({"pipeline"}),  # service and runner: one generation from intake to delivery
    frozenset({"conversation"}),  # every intent, on top of the pipeline
)
CORE_ROOT_LIMIT = 10
IMA_WIRE_RULES = ("catalog_tree", "credit_rules", "payload", "reflection")


def _modules(path: Path) -> set[str]:
    """Every module ``path`` imports, in full (``from core import x`` counts as ``core.x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "core":
                found.update(f"core.{alias.name}" for alias in node.names)
    return found


def _core_imports(path: Path) -> set[str]:
    """The core areas ``path`` imports (``core.x...`` -> ``x``)."""
    return {m.split(".")[1] for m in _modules(path) if m.startswith("core.")}


def _area(path: Path) -> str:
    return path.relative_to(ROOT / "core").parts[0].removesuffix(".py")


def _layer(area: str) -> int:
    for index, layer in enumerate(LAYERS):
        if area in layer:
            return index
    raise AssertionError(f"core/{area} has no place in LAYERS (tests/test_architecture.py): give it one")


def test_every_core_area_has_a_layer() -> None:
    for path in (ROOT / "core").rglob("*.py"):
        _layer(_area(path))


def test_no_core_import_runs_from_a_lower_layer_to_a_higher_one() -> None:
    upward = sorted(
        f"{path.relative_to(ROOT)} (layer {_layer(_area(path))}) imports core.{target} "
        f"(layer {_layer(target)})"
        for path in (ROOT / "core").rglob("*.py")
        for target in _core_imports(path)
        if _layer(target) > _layer(_area(path))
    )
    assert upward == []


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from core.pipeline.service import GenerationService\nimport core.ux.renderer\n")
    assert _core_imports(sample) == {"pipeline", "ux"}
    assert _layer("pipeline") > _layer("ux") > _layer("catalog") > _layer("types")


def test_core_root_holds_at_most_ten_modules() -> None:
    modules = sorted(p.stem for p in (ROOT / "core").glob("*.py") if p.stem != "__init__")
    assert len(modules) <= CORE_ROOT_LIMIT, modules


def test_ima_wire_rules_live_beside_the_ima_client_and_core_never_imports_them() -> None:
    for name in IMA_WIRE_RULES:
        assert (ROOT / "adapters" / "ima" / f"{name}.py").is_file(), name
        assert not list((ROOT / "core").rglob(f"{name}.py")), name
    wire_rules = {f"adapters.ima.{name}" for name in IMA_WIRE_RULES}
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py") if _modules(p) & wire_rules]
    assert offenders == []
