"""The layers of ARCHITECTURE.md, checked on every import statement of the tree (at module top
or inside a function): config/ <- models/ <- oversight/ <- bot/ and jobs/ <- lianxi/, sandbox/,
demo/. bot/ and jobs/ never import each other (they meet in the database, through the outbox);
nothing below the edges imports Telegram."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"config", "models", "oversight", "bot", "jobs", "lianxi", "sandbox", "demo", "localbotapi", "bench", "tests"}
TOPS = {"config", "models", "oversight", "bot", "jobs", "lianxi", "sandbox", "demo", "localbotapi"}
# What each package may import of ours (itself always).
MAY_IMPORT: dict[str, set[str]] = {
    "config": set(),
    "models": {"config"},
    "oversight": {"config", "models"},
    "bot": {"config", "models", "oversight"},
    "jobs": {"config", "models", "oversight"},
    "localbotapi": set(),  # the simulated Bot API server stands alone
    "lianxi": TOPS - {"lianxi"},  # the CLI assembles everything
    "sandbox": TOPS - {"sandbox", "lianxi"},
    "demo": TOPS - {"demo", "lianxi"},
}
NO_TELEGRAM = ("config", "models", "oversight", "jobs")


def imports_of(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Each module of `package` -> the top-level names it imports (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted((root / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(root))] = names
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_the_layers_below_it(package):
    allowed = MAY_IMPORT[package] | {package}
    wrong = {
        module: sorted((names & OURS) - allowed)
        for module, names in imports_of(package).items()
        if (names & OURS) - allowed
    }
    assert wrong == {}


@pytest.mark.parametrize("package", NO_TELEGRAM)
def test_the_rules_and_the_worker_import_no_telegram(package):
    assert {m for m, names in imports_of(package).items() if "telegram" in names} == set()


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    """A late import is an import too: a bot module that reached into jobs/ from a function is found."""
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "sneaky.py").write_text("def f():\n    from jobs.worker import Worker\n    return Worker\n")
    assert imports_of("bot", root=tmp_path) == {"bot/sneaky.py": {"jobs"}}
