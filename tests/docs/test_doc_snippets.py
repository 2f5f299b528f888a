"""Every code block of the docs is checked, so a page that drifts from the code fails.

- Lua blocks compile on the bridge's Lua and name only functions their modules have (the
  static check `wflow validate` runs on scripts).
- Python blocks compile; the test snippets of the Testing page are the project's own tests,
  word for word (and run with them).
- YAML blocks parse; definition files (`version`, `namespace`, `entries`) give every entry a
  `name` and a known `kind`.
- Every `wflow ...` command of a shell block names a command the CLI has.
- Content tabs come as linked Lua / Python pairs, and every page that shows a workflow shows
  it in both.

Complete projects are checked by running them: `test_quickstart.py`, `test_versioning_page.py`.
"""

from __future__ import annotations

import ast
import io
import re

import pytest
from ruamel.yaml import YAML

from lua_bridge import LuaScriptError
from lua_bridge._call_scan import scan
from lua_bridge._lua_state import compile_bytecode
from lua_bridge._static_check import module_members
from tests.docs.doc_blocks import DOCS, Block, blocks, pages
from tests.helpers.paths import REPO
from wflow.cli._app import app
from wflow.registry import KINDS

ALL = [block for page in pages() for block in blocks(page)]
# Pages others keep, whose Lua and Python are reference material side by side in sections.
LANGUAGE_PAGES = {"lua.md", "python.md", "processes.md", "errors.md", "performance.md"}


def _ids(found: list[Block]) -> list[str]:
    return [block.where() for block in found]


LUA = [block for block in ALL if block.lang == "lua"]
PYTHON = [block for block in ALL if block.lang == "python"]
YAML_BLOCKS = [block for block in ALL if block.lang == "yaml"]
SHELL = [block for block in ALL if block.lang in ("bash", "sh", "console")]


# `if x then ... end`: "code left out" on a page, not Lua's vararg.
_ELIDED = re.compile(r"\b(then|do|else)\s+\.\.\.\s+end\b")


@pytest.mark.parametrize("block", LUA, ids=_ids(LUA))
def test_lua_blocks_compile_and_use_only_real_module_functions(block: Block) -> None:
    source = _ELIDED.sub(r"\1 end", block.text)
    try:
        compile_bytecode(source, f"@{block.where()}")
    except LuaScriptError as exc:
        pytest.fail(f"{block.where()}: Lua does not compile: {exc.message}")
    _, unknown = scan(source, module_members())
    assert [f"line {u.line}: {u.spelled}" for u in unknown] == [], block.where()


@pytest.mark.parametrize("block", PYTHON, ids=_ids(PYTHON))
def test_python_blocks_compile(block: Block) -> None:
    try:
        compile(block.text, block.where(), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as exc:
        pytest.fail(f"{block.where()}:{exc.lineno}: {exc.msg}")


TEST_SNIPPETS = [
    block
    for block in PYTHON
    if block.page == "testing.md" and re.search(r"^(async )?def test_|^def _", block.text, re.M)
]


def test_the_testing_pages_snippets_are_real_tests() -> None:
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in (REPO / "tests", REPO / "wflow" / "cli")
        for path in folder.rglob("*.py")
    )
    assert len(TEST_SNIPPETS) >= 6
    # wflow init's templates are format strings: `{{` there is `{` in the generated test.
    sources += "\n" + sources.replace("{{", "{").replace("}}", "}")
    missing = [block.where() for block in TEST_SNIPPETS if block.text.strip() not in sources]
    assert missing == [], "these snippets are no longer word for word in a test"


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=_ids(YAML_BLOCKS))
def test_yaml_blocks_parse_and_entries_have_known_kinds(block: Block) -> None:
    data = YAML(typ="safe").load(io.StringIO(block.text))
    if isinstance(data, dict) and "entries" in data:
        assert isinstance(data.get("namespace"), str), block.where()
        for entry in data["entries"]:
            assert entry.get("name"), f"{block.where()}: an entry without a name"
            assert entry.get("kind") in KINDS, f"{block.where()}: {entry}"
    elif isinstance(data, list):  # an excerpt: entries of a definition file
        for entry in data:
            assert entry.get("name") and entry.get("kind") in KINDS, block.where()


def _commands() -> set[str]:
    import typer.main

    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


@pytest.mark.parametrize("block", SHELL, ids=_ids(SHELL))
def test_shell_blocks_name_real_wflow_commands(block: Block) -> None:
    commands = _commands()
    used = re.findall(
        r"(?:^|[\s$(|&;])(?:\.venv/bin/)?wflow\s+(?:-\S+\s+)*([a-z][a-z-]*)", block.text
    )
    unknown = sorted(set(used) - commands)
    assert unknown == [], f"{block.where()}: no such wflow command: {unknown}"


def _tab_groups(page: str) -> list[list[str]]:
    """The labels of each group of consecutive content tabs on the page."""
    groups: list[list[str]] = []
    previous_was_tab_content = False
    for line in (DOCS / page).read_text(encoding="utf-8").splitlines():
        match = re.match(r'^(\s*)=== "([^"]+)"', line)
        if match:
            if previous_was_tab_content and groups:
                groups[-1].append(match[2])
            else:
                groups.append([match[2]])
            previous_was_tab_content = True
        elif line.strip() and not line.startswith("    "):
            previous_was_tab_content = False
    return groups


@pytest.mark.parametrize("page", [page.name for page in pages()])
def test_tabs_are_lua_python_pairs_and_workflows_are_shown_in_both(page: str) -> None:
    groups = _tab_groups(page)
    assert all(group == ["Lua", "Python"] for group in groups), f"docs/{page}: {groups}"
    shows_workflow = any(
        (block.lang == "lua" and "funcs.call" in block.text)
        or (block.lang == "python" and "@wflow.workflow(" in block.text)
        for block in blocks(DOCS / page)
    )
    if shows_workflow and page not in LANGUAGE_PAGES:
        assert groups, f"docs/{page} shows a workflow but has no Lua / Python tabs"
