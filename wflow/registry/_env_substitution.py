"""`${env:NAME}` and `${env:NAME:-default}` in string values of definition files."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["EnvError", "interpolate_env"]

_REFERENCE = re.compile(r"\$\$(?=\{)|\$\{env:([^}:]*)(?::-([^}]*))?\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class EnvError(ValueError):
    """A string refers to an environment variable that is unset or badly named."""


def interpolate_env(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace every `${env:NAME}` in `text` with the variable's value.

    `${env:NAME:-default}` uses `default` when the variable is unset; `$${` is a literal `${`
    (so `$${env:X}` becomes the text `${env:X}`).

    Raises:
        EnvError: A variable without a default is unset, or a name is not a valid variable
            name.
    """
    if "$" not in text:
        return text
    env = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if not _NAME.match(name):
            raise EnvError(f"invalid environment variable name {name!r} in {match.group(0)!r}")
        value = env.get(name)
        if value is not None:
            return value
        if default is not None:
            return default
        raise EnvError(f"environment variable {name} is not set (referenced as ${{env:{name}}})")

    return _REFERENCE.sub(replace, text)
