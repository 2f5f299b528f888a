"""Start-up of the command line and of `import wflow`, against importing temporalio's client."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

__all__ = ["COMMANDS", "run_seconds"]

_BIN = Path(sys.executable).parent
_PROJECT = Path(__file__).resolve().parent / "project"

COMMANDS: dict[str, list[str]] = {
    "import temporalio.client": [sys.executable, "-c", "import temporalio.client"],
    "wflow --help": [str(_BIN / "wflow"), "--help"],
    "import wflow": [sys.executable, "-c", "import wflow"],
    "wflow validate": [str(_BIN / "wflow"), "validate", str(_PROJECT)],
}
"""What is timed, by name (the first is the reference)."""


def run_seconds(name: str) -> float:
    """Run the command `name` once; return its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run(COMMANDS[name], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start
