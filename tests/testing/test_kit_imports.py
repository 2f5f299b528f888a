"""Importing wflow.testing costs a Python-only user no Lua."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.paths import REPO


def test_importing_wflow_testing_imports_no_lua() -> None:
    code = (
        "import sys, wflow.testing\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('lupa', 'lua_bridge'))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
