"""Commands about the project's configuration: `validate` and `schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wflow.cli._common import EXIT_USAGE, ProjectArg, fail, load_registry, report
from wflow.model import WflowError

__all__ = ["register", "schema", "validate"]


def validate(project: ProjectArg) -> None:
    """Check a project: definition files, references, Lua sources.

    Prints each problem as `path:line: message`. Exits 0 when there is none, 2 otherwise.
    """
    from wflow.registry import ConfigError

    try:
        registry = load_registry(project)
    except ConfigError as error:
        # Problems are the command's output here, so they go to stdout.
        for problem in error.problems:
            typer.echo(str(problem))
        count = len(error.problems)
        fail(EXIT_USAGE, f"error: {count} {'problem' if count == 1 else 'problems'} found")
    except WflowError as error:
        report(error)
    files = {entry.file for entry in registry if entry.file is not None}
    typer.echo(f"ok: {len(registry)} entries in {len(files)} files")


def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of definition files (`_index.yaml`)."""
    from wflow.registry import definition_file_schema

    text = json.dumps(definition_file_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add `validate` and `schema` to `app`."""
    app.command()(validate)
    app.command()(schema)
