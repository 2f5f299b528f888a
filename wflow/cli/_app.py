"""The `wflow` command line (typer): the app, its root options and `main`.

The commands live in one module per group (`_validate_commands`, `_run_commands`,
`_process_commands`, `_history_commands`) and are added here in the order `wflow --help`
lists them.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated, NoReturn

import typer

from wflow.cli import (
    _history_commands,
    _init_commands,
    _process_commands,
    _run_commands,
    _schedule_commands,
    _validate_commands,
)
from wflow.cli._common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, settings

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "app", "main"]

app = typer.Typer(
    name="wflow",
    help="Durable workflows in Lua or decorated Python, on Temporal.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


@app.callback()
def _root(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Show warnings and logs of Temporal's SDK and worker (hidden by default).",
        ),
    ] = False,
) -> None:
    """Durable workflows in Lua or decorated Python, on Temporal."""
    settings.verbose = verbose


_validate_commands.register(app)
_run_commands.register(app)
_process_commands.register(app)
_history_commands.register(app)
_init_commands.register(app)
_schedule_commands.register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the `wflow` command line (the console script's entry point).

    Args:
        argv: Arguments without the program name; `sys.argv[1:]` by default.
    """
    try:
        app(args=sys.argv[1:] if argv is None else argv, prog_name="wflow")
    except SystemExit as exit_:
        if not settings.hard_exit:
            raise
        _exit_now(exit_.code)


def _exit_now(code: object) -> NoReturn:
    """Exit without interpreter finalization, which a Temporal client's threads can crash.

    The SDK's Rust threads may still hold Python thread states when the interpreter finalizes
    and then abort the process (`PyGILState_Release: thread state ... must be current`,
    temporalio/sdk-python#300), turning a finished command into exit code -6. Output is
    flushed first.
    """
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if code is None:
        status = EXIT_OK
    elif isinstance(code, int):
        status = code
    else:
        with contextlib.suppress(Exception):
            sys.stderr.write(f"{code}\n")
            sys.stderr.flush()
        status = EXIT_FAILED
    os._exit(status)
