"""The README is the front door: its configuration table and commands must stay true."""

from __future__ import annotations

import re
from pathlib import Path

from openstatus_common.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented_and_nothing_else() -> None:
    documented = set(re.findall(r"^\| `(OPENSTATUS_[A-Z_]+)` \|", README, re.MULTILINE))
    actual = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert documented == actual


def test_readme_commands_exist_in_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup", "run", "test", "lint", "bench"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
