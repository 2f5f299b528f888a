"""YAML with line numbers: parsing, plain-value conversion and line lookup (ruamel.yaml)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from wflow.registry._env_substitution import EnvError, interpolate_env
from wflow.registry._yaml_messages import explain_yaml_error

__all__ = ["YamlSyntaxError", "line_of", "node_line", "parse_yaml", "to_plain"]


class YamlSyntaxError(ValueError):
    """The text is not valid YAML.

    Attributes:
        line: The 1-based line of the error, if known.
        message: What is wrong in plain words, without location; its second line shows the
            offending line of the file.
    """

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def parse_yaml(text: str) -> Any:
    """Parse one YAML document with the round-trip loader, keeping line numbers.

    Raises:
        YamlSyntaxError: The text is not valid YAML (or holds more than one document).
    """
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as error:
        line, message = explain_yaml_error(error, text)
        raise YamlSyntaxError(message, line) from None
    except YAMLError as error:
        raise YamlSyntaxError(str(error).strip() or "invalid YAML", None) from None


def node_line(node: Any) -> int | None:
    """The 1-based line where a mapping or sequence node starts, if known."""
    if isinstance(node, CommentedBase):
        line = node.lc.line
        return None if line is None else int(line) + 1
    return None


def _recorded_line(node: Any, key: Any, part: str) -> int | None:
    """The 1-based line ruamel recorded for a mapping's key or value (`part`) or an item."""
    lc: Any = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if isinstance(node, Mapping):
            return int(getattr(lc, part)(key)[0]) + 1
        if isinstance(node, Sequence):
            return int(lc.item(key)[0]) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return None


def _child_line(node: Any, key: Any) -> int | None:
    return _recorded_line(node, key, "key")


def _value_line(node: Any, key: Any) -> int | None:
    return _recorded_line(node, key, "value")


def line_of(node: Any, loc: Sequence[str | int], default: int | None) -> int | None:
    """The line of the field at `loc` below `node`, else its closest parent's, else `default`."""
    line = default
    for part in loc:
        in_mapping = isinstance(node, Mapping) and part in node
        in_sequence = (
            isinstance(node, Sequence)
            and not isinstance(node, str)
            and isinstance(part, int)
            and 0 <= part < len(node)
        )
        if in_mapping or in_sequence:
            found = _child_line(node, part)
            node = node[part]
        else:
            break
        if found is not None:
            line = found
    return line


def to_plain(
    node: Any,
    on_env_error: Callable[[int | None, str], None],
    line: int | None = None,
) -> Any:
    """Convert a round-trip YAML tree to plain dicts, lists and scalars.

    Every string value has its `${env:NAME}` references resolved; an unresolvable one is
    reported through `on_env_error(line, message)` and left as written.
    """
    if isinstance(node, Mapping):
        return {
            str(key): to_plain(value, on_env_error, _value_line(node, key) or line)
            for key, value in node.items()
        }
    if isinstance(node, (list, tuple)):
        return [
            to_plain(value, on_env_error, _child_line(node, index) or line)
            for index, value in enumerate(node)
        ]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        try:
            return interpolate_env(str(node))
        except EnvError as error:
            on_env_error(line, str(error))
            return str(node)
    if hasattr(node, "value") and hasattr(node, "tag"):  # a TaggedScalar: keep its text
        return to_plain(node.value, on_env_error, line)
    return node
