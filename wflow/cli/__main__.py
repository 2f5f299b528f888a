"""`python -m wflow.cli`: the same as the `wflow` command."""

from wflow.cli import main

__all__: list[str] = []

main()
