"""Each platform's SDK stays in its own adapter: the services, storage and the other adapter never
import it (ruff's banned-api holds bot/ and storage/; this holds handlers/ too)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "handlers")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _importers(module: str) -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if module in _imports(path)
    }


def test_the_teams_sdk_is_imported_only_in_handlers_teams() -> None:
    importers = _importers("microsoft_agents")
    assert importers, "the Teams adapter imports the SDK"
    assert {path for path in importers if not path.startswith("handlers/teams/")} == set()


def test_the_slack_sdks_are_imported_only_in_handlers_slack_and_the_app_factory() -> None:
    allowed = ("handlers/slack/", "bot/app.py", "bot/server.py", "bot/cli.py", "bot/demo.py")
    for module in ("slack_sdk", "slack_bolt"):
        importers = _importers(module)
        assert importers
        assert {path for path in importers if not path.startswith(allowed)} == set(), module
