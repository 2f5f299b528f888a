"""The `wflow` command line.

Commands: `validate`, `schema`, `run`, `worker`, `dev`, and the process commands `spawn`,
`send`, `result`, `ls`, `cancel`, `terminate`, `update`, `query`. Exit codes: 0 success, 1 the
workflow failed (or no server could be reached or started), 2 bad usage or configuration.
"""

from wflow.cli._app import EXIT_FAILED, EXIT_OK, EXIT_USAGE, app, main

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "app", "main"]
