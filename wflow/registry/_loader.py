"""Definition files: finding them, parsing them and validating their entries."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from wflow.registry._problems import Problem
from wflow.registry._pydantic_messages import describe_error
from wflow.registry._schema import ENTRY_TYPES, KINDS, NAME_PATTERN, Entry
from wflow.registry._suggestions import suggest_name
from wflow.registry._yaml import YamlSyntaxError, line_of, node_line, parse_yaml, to_plain

__all__ = ["INDEX_NAMES", "SUPPORTED_VERSIONS", "discover_files", "load_file", "load_files"]

INDEX_NAMES = ("_index.yaml", "_index.yml")
SUPPORTED_VERSIONS = ("1.0",)
_TOP_LEVEL = ("version", "namespace", "entries")
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})
_LOOKS_LIKE_DEFINITIONS = re.compile(r"^entries\s*:", re.MULTILINE)
_NAME_RE = re.compile(NAME_PATTERN)


def discover_files(root: Path) -> list[Path]:
    """Every `*.yaml` / `*.yml` file below `root`, sorted.

    Hidden folders (`.wflow`, `.venv`, ...), `node_modules`, `__pycache__` and virtualenvs
    (folders holding `pyvenv.cfg`) are skipped.
    """
    found: list[Path] = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            name
            for name in dirnames
            if not name.startswith(".")
            and name not in _SKIP_DIRS
            and not (Path(folder) / name / "pyvenv.cfg").exists()
        )
        for filename in filenames:
            if filename.endswith((".yaml", ".yml")) and not filename.startswith("."):
                found.append(Path(folder) / filename)
    return sorted(found, key=lambda path: path.relative_to(root).parts)


@dataclasses.dataclass
class _FileResult:
    entries: list[Entry] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)


def load_files(paths: list[Path]) -> tuple[list[Entry], list[Problem]]:
    """Load every definition file among `paths`; other YAML files are ignored."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    for path in paths:
        result = load_file(path)
        entries.extend(result[0])
        problems.extend(result[1])
    return entries, problems


def load_file(path: Path) -> tuple[list[Entry], list[Problem]]:
    """Load the entries of one file; a YAML file that is not a definition file yields none."""
    result = _FileResult()
    is_index = path.name in INDEX_NAMES
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        if is_index or path.suffix in (".yaml", ".yml"):
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            result.problems.append(Problem(path, None, f"cannot read file: {reason}"))
        return result.entries, result.problems
    try:
        document = parse_yaml(text)
    except YamlSyntaxError as error:
        if is_index or _LOOKS_LIKE_DEFINITIONS.search(text):
            result.problems.append(Problem(path, error.line, error.message))
        return result.entries, result.problems
    # Another YAML file with wflow's header (version and namespace) is a definition file even
    # when its `entries` key is misspelt: otherwise its entries would silently vanish. (An
    # index file is one anyway and says so below.)
    is_definitions = isinstance(document, Mapping) and (
        "entries" in document
        or (not is_index and "version" in document and "namespace" in document)
    )
    if not is_definitions:
        if is_index:
            result.problems.append(
                Problem(
                    path,
                    node_line(document) or 1,
                    "a definition file must be a mapping with version, namespace and entries",
                )
            )
        return result.entries, result.problems
    _load_document(path, document, result)
    return result.entries, result.problems


def _scalar(path: Path, document: Any, key: str, result: _FileResult) -> tuple[Any, int | None]:
    line = line_of(document, (key,), 1)

    def env_error(at: int | None, message: str) -> None:
        result.problems.append(Problem(path, at or line, message))

    return to_plain(document.get(key), env_error, line), line


def _load_document(path: Path, document: Any, result: _FileResult) -> None:
    problems = result.problems
    for key in document:
        if key not in _TOP_LEVEL and not str(key).startswith("x-"):
            problems.append(
                Problem(
                    path,
                    line_of(document, (key,), 1),
                    f"unknown top-level field '{key}'{suggest_name(str(key), _TOP_LEVEL)} "
                    "(expected version, namespace, entries; 'x-' fields are free for YAML "
                    "anchors)",
                )
            )

    version, version_line = _scalar(path, document, "version", result)
    if "version" not in document:
        problems.append(Problem(path, 1, "missing required field 'version' (use version: \"1.0\")"))
    elif str(version) not in SUPPORTED_VERSIONS:
        problems.append(
            Problem(
                path,
                version_line,
                f"unsupported version {version!r} (supported: "
                f"{', '.join(repr(v) for v in SUPPORTED_VERSIONS)})",
            )
        )

    namespace, namespace_line = _scalar(path, document, "namespace", result)
    valid_namespace: str | None = None
    if "namespace" not in document:
        problems.append(Problem(path, 1, "missing required field 'namespace'"))
    elif not isinstance(namespace, str) or not _NAME_RE.match(namespace):
        problems.append(
            Problem(
                path,
                namespace_line,
                f"invalid namespace {namespace!r}: use dotted names like 'app.workflows' "
                "(letters, digits, '_', '-')",
            )
        )
    else:
        valid_namespace = namespace

    items = document.get("entries")
    if "entries" not in document:
        misspelt = [k for k in document if k not in _TOP_LEVEL and not str(k).startswith("x-")]
        if not misspelt:  # a misspelt `entries` was reported above, once is enough
            problems.append(Problem(path, 1, "missing required field 'entries' (a list)"))
        return
    if items is None:
        return
    if not isinstance(items, list):
        problems.append(
            Problem(path, line_of(document, ("entries",), 1), "'entries' must be a list")
        )
        return
    for index, item in enumerate(items):
        item_line = line_of(items, (index,), line_of(document, ("entries",), 1))
        entry = _load_entry(path, valid_namespace, item, item_line, result)
        if entry is not None:
            result.entries.append(entry)


def _load_entry(
    path: Path,
    namespace: str | None,
    node: Any,
    line: int | None,
    result: _FileResult,
) -> Entry | None:
    if not isinstance(node, Mapping):
        result.problems.append(
            Problem(path, line, "an entry must be a mapping with at least name and kind")
        )
        return None
    line = node_line(node) or line
    raw_name = node.get("name")
    entry_id = (
        f"{namespace}:{raw_name}"
        if namespace is not None and isinstance(raw_name, str) and _NAME_RE.match(raw_name)
        else None
    )
    found: list[Problem] = []

    def env_error(at: int | None, message: str) -> None:
        found.append(Problem(path, at or line, message, entry_id))

    data = to_plain(node, env_error, line)
    kind = data.get("kind")
    model = ENTRY_TYPES.get(kind) if isinstance(kind, str) else None
    if "kind" not in data:
        found.append(Problem(path, line, "missing required field 'kind'", entry_id))
    elif model is None:
        found.append(
            Problem(
                path,
                line_of(node, ("kind",), line),
                f"unknown kind {kind!r} (known kinds: {', '.join(KINDS)})",
                entry_id,
            )
        )
    if found or model is None:
        result.problems.extend(found)
        return None
    try:
        entry = model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            loc = tuple(detail["loc"])
            result.problems.append(
                Problem(path, line_of(node, loc, line), describe_error(detail, model), entry_id)
            )
        return None
    if namespace is None:
        return None
    entry.place(namespace, file=path, line=line)
    entry._node = node
    code_file = entry.code_file()
    if code_file is not None and not code_file.is_file():
        result.problems.append(
            Problem(
                path,
                entry.field_line(("source",)),
                f"source file not found: {code_file}",
                entry_id,
            )
        )
    return entry
