"""The layers keep to their roles: ``checker`` returns results, the commands live in ``tinnhiem``.

Reads the source of every module of ``checker/`` and ``dsl/`` with :mod:`ast` (nothing is imported)
and fails on a call that prints or exits, or on a write to ``sys.stdout``/``sys.stderr``; checks that
each command entry point is in a ``tinnhiem/*_command.py`` module; and that "two decisions differ" is
defined once (:mod:`checker.pairwise`), not restated by ``diff``, ``mutate`` or ``properties``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = sorted((ROOT / "checker").glob("*.py")) + sorted((ROOT / "dsl").glob("*.py"))


def _io_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in ("print", "exit", "quit", "input"):
                found.append(f"{f.id}() at line {node.lineno}")
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "sys" and f.attr == "exit":
                found.append(f"sys.exit() at line {node.lineno}")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sys" \
                and node.attr in ("stdout", "stderr"):
            found.append(f"sys.{node.attr} at line {node.lineno}")
        if isinstance(node, ast.Name) and node.id == "SystemExit":
            found.append(f"SystemExit at line {node.lineno}")
    return found


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_library_modules_never_print_or_exit(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    assert _io_calls(tree) == [], f"{path.name} does I/O a command should do"


def test_the_detector_sees_printing() -> None:
    """The check above can fail: it finds each way of printing or exiting in a sample."""
    sample = "import sys\nprint('x')\nsys.stdout.write('y')\nsys.exit(2)\nraise SystemExit(1)\n"
    found = sorted(f.split(" at ")[0] for f in _io_calls(ast.parse(sample)))
    assert found == ["SystemExit", "print()", "sys.exit()", "sys.stdout"]


def test_command_entry_points_live_in_tinnhiem() -> None:
    for path in LIBRARY:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert not names & {"main", "fuzz_main", "diff_main", "check_main"}, path.name
        assert "argparse" not in {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}, path.name
    for name in ("check_command", "diff_command", "fuzz_command", "mutate_command"):
        assert (ROOT / "tinnhiem" / f"{name}.py").is_file()


def test_decides_differently_is_defined_once() -> None:
    """diff, mutation equivalence and refinement compare decisions only through checker.pairwise."""
    for name in ("diff.py", "mutate.py", "properties.py"):
        text = (ROOT / "checker" / name).read_text(encoding="utf-8")
        assert "from checker.pairwise import" in text, name
        assert "def _differ(" not in text, name
