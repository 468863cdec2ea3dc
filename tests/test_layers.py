"""The layers of ARCHITECTURE.md hold in the imports: read from the source, every import
(a function's own included), not from what happens to be loaded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "claude_sessions"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, by its absolute name (``from a import b`` names a and a.b:
    b may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None, f"{path}: imports are absolute"
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layer_files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def test_the_layer_folders_are_read():
    assert len(layer_files("views")) >= 5 and len(layer_files("importer")) >= 5
    assert "claude_sessions.model.message" in imports_of(PACKAGE / "views" / "lineage.py")


@pytest.mark.parametrize("path", layer_files("views"), ids=lambda p: p.name)
def test_views_import_nothing_of_the_capture_layer(path):
    above = ("claude_sessions.importer", "claude_sessions.capture")
    assert {name for name in imports_of(path) if name.startswith(above)} == set()


@pytest.mark.parametrize("path", layer_files("importer"), ids=lambda p: p.name)
def test_the_importer_reaches_the_store_only_through_its_face(path):
    import claude_sessions.store as store

    face = {f"claude_sessions.store.{name}" for name in store.__all__}
    reached = {name for name in imports_of(path) if name.startswith("claude_sessions.store.")}
    assert reached - face == set()


def test_the_store_s_reads_import_none_of_its_writes():
    reached = imports_of(PACKAGE / "store" / "reads.py")
    assert {name for name in reached if "writes" in name} == set()


def test_the_store_s_write_rules_run_no_sql():
    """The decisions of the writes are pure: nothing of the store below them."""
    reached = imports_of(PACKAGE / "store" / "write_rules.py")
    assert {name for name in reached if name.startswith("claude_sessions.store")} == set()
