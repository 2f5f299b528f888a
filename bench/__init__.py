"""wflow's benchmark command, `python -m bench` (see `bench/README.md`).

Not tests: numbers to compare, from one run on one machine.
"""

__all__: list[str] = []
