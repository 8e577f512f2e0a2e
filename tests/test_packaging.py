"""Layout guards: ``platform/`` must never shadow the standard library, and imports point one way."""

from __future__ import annotations

import ast
import platform
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# package -> packages of ours it may import
ALLOWED = {
    "schema_registry": {"schema_registry"},
    "search": {"search", "schema_registry"},
    "tessera": {"tessera", "schema_registry"},
    "workers": {"workers", "tessera", "schema_registry", "search"},
}
PACKAGE_DIRS = {
    "schema_registry": ROOT / "schema_registry",
    "search": ROOT / "search",
    "tessera": ROOT / "platform" / "tessera",
    "workers": ROOT / "workers",
}


def test_platform_is_not_a_package() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_import_platform_is_the_standard_library() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)
    assert sys.modules["platform"] is platform


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_imports_point_one_way() -> None:
    ours = set(ALLOWED)
    violations = []
    for package, directory in PACKAGE_DIRS.items():
        for path in directory.rglob("*.py"):
            illegal = (_imported_roots(path) & ours) - ALLOWED[package]
            if illegal:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(illegal)}")
    assert violations == []


def test_no_catch_all_module_names() -> None:
    banned = {"utils", "helpers", "manager", "misc", "common"}
    offenders = [str(p.relative_to(ROOT)) for d in PACKAGE_DIRS.values() for p in d.rglob("*.py")
                 if p.stem in banned]
    assert offenders == []
