"""docs/errors.md: every test it names as producing a message exists, so the page cannot drift."""

from __future__ import annotations

import re

from tests.helpers.paths import REPO

CATALOGUE = REPO / "docs" / "errors.md"


def test_every_named_test_exists() -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    named = set(re.findall(r"::(test_[a-z0-9_]+)", text))
    files = set(re.findall(r"`(tests/[a-z_/]+\.py)", text))
    assert len(named) > 30 and files
    sources = "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "tests").rglob("*.py"))
    defined = set(re.findall(r"def (test_[a-z0-9_]+)", sources))
    assert sorted(named - defined) == []
    assert sorted(f for f in files if not (REPO / f).exists()) == []
