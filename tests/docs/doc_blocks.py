"""The fenced code blocks of the docs' Markdown pages, as the site renders them.

Blocks inside content tabs (`=== "Lua"`) are indented; they are read dedented, with the tab
they sit in. A block's `title="..."` is the file it shows; an HTML comment on the line before
(`<!-- quickstart-test: install -->`) is a note to the tests.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

from tests.helpers.paths import REPO

DOCS = REPO / "docs"

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)(?P<attrs>[^`]*)$")
_TAB = re.compile(r'^(?P<indent>\s*)=== "(?P<label>[^"]+)"\s*$')
_TITLE = re.compile(r'title="(?P<title>[^"]+)"')
_NOTE = re.compile(r"^\s*<!--\s*(?P<note>[^>]*?)\s*-->\s*$")


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str
    line: int  # of the opening fence, from 1
    lang: str
    title: str | None
    tab: str | None
    note: str | None
    text: str

    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Return the page's fenced code blocks in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    tab: tuple[int, str] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if match := _TAB.match(line):
            tab = (len(match["indent"]), match["label"])
        elif tab is not None and line.strip() and len(line) - len(line.lstrip()) <= tab[0]:
            tab = None  # a line as far left as the tab marker ends the tab
        match = _FENCE.match(line)
        if match is None:
            i += 1
            continue
        indent = match["indent"]
        title = _TITLE.search(match["attrs"])
        previous = lines[i - 1] if i > 0 else ""
        note = _NOTE.match(previous)
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != f"{indent}```":
            body.append(lines[j])
            j += 1
        assert j < len(lines), f"docs/{page.name}:{i + 1}: code block never closed"
        found.append(
            Block(
                page=page.name,
                line=i + 1,
                lang=match["lang"],
                title=title["title"] if title else None,
                tab=tab[1] if tab and len(indent) > tab[0] else None,
                note=note["note"] if note else None,
                text=textwrap.dedent("\n".join(body)) + "\n",
            )
        )
        i = j + 1
    return found


def pages() -> list[Path]:
    """Every Markdown page of the site."""
    return sorted(DOCS.glob("*.md"))
