"""docs/versioning.md checked against a real run: its versioned scripts replay a history
recorded before the change, and without the version branch the replay fails with the very
text the page shows (from `wflow replay` and from `wflow.testing.replay`).

The project is the Quickstart's, built from docs/quickstart.md's file blocks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.doc_blocks import DOCS, blocks
from wflow.testing import WflowEnv, replay

pytestmark = pytest.mark.timeout(300)

PAGE = blocks(DOCS / "versioning.md")
ORDER = {"order_id": "A-1", "amount": 42}
WFLOW = str(Path(sys.executable).parent / "wflow")


def _quickstart_project(root: Path) -> Path:
    for block in blocks(DOCS / "quickstart.md"):
        if block.title and block.title.startswith("shop/") and "/tests/" not in block.title:
            target = root / block.title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
    return root / "shop"


def _add_the_fraud_check_function(shop: Path) -> None:
    # Written before anything imports shop_api: this process keeps the module it imported.
    with (shop / "shop_api.py").open("a", encoding="utf-8") as functions:
        functions.write('\n\ndef fraud_check(payment: dict) -> str:\n    return "ok"\n')


def _apply_the_change(shop: Path, lua: str) -> None:
    """The page's change: the scripts with the fraud check, and the check as an entry."""
    python = next(block for block in PAGE if block.lang == "python" and block.tab == "Python")
    (shop / "order_processor.lua").write_text(lua, encoding="utf-8")
    (shop / "order_processor.py").write_text(python.text, encoding="utf-8")
    workflows = shop / "workflows.yaml"
    text = workflows.read_text(encoding="utf-8")
    workflows.write_text(text.replace("[funcs, time]", "[funcs, time, workflow]"))
    with (shop / "api.yaml").open("a", encoding="utf-8") as api:
        api.write("  - name: fraud_check\n    kind: function.py\n")
        api.write("    module: shop_api\n    method: fraud_check\n")


def _wflow_replay(root: Path, *files: str) -> subprocess.CompletedProcess[str]:
    args = [WFLOW, "replay", "shop"] + [arg for name in files for arg in ("--file", name)]
    return subprocess.run(
        args, cwd=root, capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


async def test_the_versioning_page_replays_as_it_says(wflow_env: WflowEnv, tmp_path: Path) -> None:
    shop = _quickstart_project(tmp_path)
    _add_the_fraud_check_function(shop)
    for entry, name in [
        ("app.workflows:order_processor", "order-A-1"),
        ("app.workflows:order_processor_py", "order-py-A-1"),
    ]:
        record = await wflow_env.execute(shop, entry, ORDER)
        record.save_history(tmp_path / "histories" / f"{name}.json")

    lua = next(block for block in PAGE if block.lang == "lua").text
    _apply_the_change(shop, lua)
    done = _wflow_replay(tmp_path, "histories/order-A-1.json", "histories/order-py-A-1.json")
    assert done.returncode == 0, done.stdout + done.stderr  # the version branch keeps old runs

    version_line = '  if workflow.version("fraud-check", 1, 2) == 2 then\n'
    assert version_line in lua
    (shop / "order_processor.lua").write_text(lua.replace(version_line, "  do\n"))
    done = _wflow_replay(tmp_path, "histories/order-A-1.json")
    cli_text, kit_text = [block.text.strip() for block in PAGE if block.lang == "text"]
    assert done.returncode == 1
    assert cli_text in done.stdout

    with pytest.raises(AssertionError) as caught:
        await replay(shop, tmp_path / "histories" / "order-A-1.json")
    kit_report = str(caught.value).replace(f"{tmp_path}/", "")
    assert kit_report == kit_text
