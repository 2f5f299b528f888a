"""Reading workflow histories from JSON files (fetching them is `Connection.history`)."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory

from wflow.model import ErrorKind, WflowError

__all__ = ["read_history_file"]


def read_history_file(path: Path) -> WorkflowHistory:
    """Read a history exported as JSON (`wflow history --raw`, `temporal workflow show -o json`).

    The workflow ID is the file's stem: the export does not hold it.

    Raises:
        WflowError: `INVALID` naming the file when it cannot be read or is not a history.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WflowError(f"cannot read history file {path}: {reason}", ErrorKind.INVALID) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WflowError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); expected a history as "
            "`wflow history --raw` or `temporal workflow show --output json` writes it",
            ErrorKind.INVALID,
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise WflowError(
            f"{path}: not a workflow history: expected a JSON object with an `events` list "
            "(as `wflow history --raw` or `temporal workflow show --output json` writes it)",
            ErrorKind.INVALID,
        )
    if not data["events"]:
        raise WflowError(f"{path}: the history has no events", ErrorKind.INVALID)
    try:
        return WorkflowHistory.from_json(path.stem, data)
    except Exception as exc:
        raise WflowError(
            f"{path}: not a valid workflow history: {exc}", ErrorKind.INVALID
        ) from None
