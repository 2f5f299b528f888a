"""docs/quickstart.md executed as written: its files created, its commands run, its output seen.

Every block with a `title` is written to that path (below a fresh folder); every `bash` block
is run there, in page order, by `bash -e` with the venv's `bin` first on `PATH` (what the page's
`. .venv/bin/activate` does); a `text` block right after a command block is output that
command must print. The one block not run is the install (marked on the page): this test runs
in the venv it would make.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.doc_blocks import DOCS, Block, blocks

pytestmark = pytest.mark.timeout(300)

PAGE = DOCS / "quickstart.md"
VENV_BIN = Path(sys.executable).parent


def _run(block: Block, folder: Path) -> str:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        ["bash", "-e", "-c", block.text],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, (
        f"{block.where()}: the page's command failed (exit {done.returncode}):\n{block.text}\n"
        f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    return done.stdout


def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    page = blocks(PAGE)
    installs = [block for block in page if block.note == "quickstart-test: install"]
    assert [block.lang for block in installs] == ["bash"]
    assert "pip install" in installs[0].text

    written: list[str] = []
    outputs: dict[int, str] = {}  # block index -> what the command block printed
    for index, block in enumerate(page):
        if block.title is not None:
            target = tmp_path / block.title
            assert not target.exists(), f"{block.where()}: {block.title} is written twice"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
            written.append(block.title)
        elif block.lang == "bash" and block not in installs:
            outputs[index] = _run(block, tmp_path)
        elif block.lang == "text" and block.tab is None:
            # Output shown after a command (or after the tabs of one command each).
            before = [i for i in outputs if i < index]
            assert before, f"{block.where()}: output block with no command before it"
            printed = [outputs[i] for i in before if i >= before[-1] - 1]
            for line in block.text.strip().splitlines():
                assert all(line in out for out in printed), (
                    f"{block.where()}: the page says the command prints {line!r}; it printed "
                    f"{printed}"
                )

    assert "shop/order_processor.lua" in written and "shop/order_processor.py" in written
    assert len(outputs) >= 4  # validate, a run per language, pytest
    assert "2 passed" in outputs[max(outputs)]  # the page's last command: the tests pass
