"""YAML syntax errors in plain words, with the offending line shown.

ruamel.yaml reports what its parser expected (`expected <block end>, but found '?'`), which
means nothing to someone who mis-indented one line. This module turns the common cases into
what went wrong and what to do, from the parser's two marks (where the construct started,
where it broke) and the text itself.
"""

from __future__ import annotations

import re

from ruamel.yaml.error import MarkedYAMLError

__all__ = ["explain_yaml_error"]

_CANNOT_START = re.compile(r"found character '(?P<char>.+?)' that cannot start any token")
_DUPLICATE_KEY = re.compile(r'found duplicate key "(?P<key>.*?)"')
_UNDEFINED_ALIAS = re.compile(r"found undefined alias '(?P<name>.*?)'")
_CLOSERS = {"flow sequence": ("[", "]"), "flow mapping": ("{", "}")}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _item_above(lines: list[str], line: int, indent: int) -> int:
    """The line of the nearest list item (`- `) above `line` at `indent`."""
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        if _indent(text) == indent and text.lstrip().startswith("- "):
            return number
    return line


def _spaces(count: int) -> str:
    return f"{count} space" + ("" if count == 1 else "s")


def _plain(error: MarkedYAMLError, lines: list[str], line: int | None, start: int | None) -> str:
    problem = str(error.problem or "")
    context = str(error.context or "")
    here = lines[line - 1] if line is not None and 0 < line <= len(lines) else ""
    opened = lines[start - 1] if start is not None and 0 < start <= len(lines) else ""
    previous = next((lines[i] for i in range((line or 1) - 2, -1, -1) if lines[i].strip()), "")
    under_a_value = (
        "this line is indented more than the line before it, which already has a value: "
        "indent it like the line before, or remove the value there"
    )

    if problem.startswith("expected <block end>"):
        if "block collection" in context and "- " in opened.lstrip()[:2]:
            item = _item_above(lines, line or 1, _indent(opened))
            return (
                f"this line is indented less than the list item it belongs to (line {item}): "
                f"indent it like the item's other keys ({_spaces(_indent(opened) + 2)}), "
                f"or start a new item with '- '"
            )
        if _indent(here) > _indent(previous) and not previous.rstrip().endswith(":"):
            return under_a_value
        return (
            f"this line's indentation ({_spaces(_indent(here))}) matches no block above it: "
            f"indent it like the other keys of its block"
            + (f" (the block starts at line {start})" if start else "")
        )
    if problem == "mapping values are not allowed here":
        if here.count(": ") + here.rstrip().endswith(":") >= 2:
            return "a second ':' on this line: put the value in quotes, e.g. key: \"a: b\""
        if previous and ":" not in previous.lstrip().removeprefix("- "):
            return (
                "the line before this one has no ':': every line of a block is `key: value` "
                "(or a list item starting with '- ')"
            )
        if _indent(here) > _indent(previous):
            return under_a_value
        return "a ':' where no key can start: check this line's indentation and quotes"
    for name, (opener, closer) in _CLOSERS.items():
        if name in context:
            return f"the '{opener}' opened on line {start} is never closed with '{closer}'"
    if "quoted scalar" in context:
        return f"the quote opened on line {start} is never closed"
    match = _CANNOT_START.search(problem)
    if match:
        char = match["char"]
        if char in ("\\t", "\t"):
            return "a tab character: YAML indents with spaces only"
        return f"a value cannot start with {char!r}: put the value in quotes"
    match = _DUPLICATE_KEY.search(problem)
    if match:
        where = f" (the block starts at line {start})" if start else ""
        return f"the key {match['key']!r} appears twice in the same block{where}: keep one"
    match = _UNDEFINED_ALIAS.search(problem)
    if match:
        name = match["name"]
        return f"'*{name}' refers to an anchor '&{name}' that is not defined above it"
    parts = [part for part in (context, problem) if part]
    return ": ".join(parts) or "invalid YAML"


def explain_yaml_error(error: MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """Return the 1-based line of a YAML syntax error and a plain-words message.

    The message's second line shows the offending line of `text`, so the reader does not
    need to open the file to see what is meant.
    """
    mark = error.problem_mark or error.context_mark
    line = None if mark is None else mark.line + 1
    start = None if error.context_mark is None else error.context_mark.line + 1
    lines = text.splitlines()
    message = _plain(error, lines, line, start)
    if start is not None and any(
        what in str(error.context or "") for what in ("flow sequence", "flow mapping", "quoted")
    ):
        line = start  # the parser breaks at the end of the file; the mistake is the opener
    if line is not None and 0 < line <= len(lines) and lines[line - 1].strip():
        message += f"\n    {line} | {lines[line - 1]}"
    return line, message
