"""The registry and the YAML configuration schema (SPEC §3).

A project is a folder of YAML definition files (conventionally `_index.yaml`) whose entries
each have an ID `namespace:name` and a kind; Python decorators register entries into the same
registry. `load_project` reads a project into a `Registry`; `validate_project` lists its
problems without raising.

Exception tree (this package's part; the whole tree is drawn in `wflow.exceptions`):

    WflowError
    └── ConfigError     kind INVALID; `problems`: one `Problem` (file, line, message) each
"""

from wflow.registry import _schema
from wflow.registry._decorated import (
    DecoratedEntry,
    decorated_entries,
    decorated_entry_of,
    isolated_decorations,
    register_decorated,
    unwrap_target,
)
from wflow.registry._env_substitution import interpolate_env
from wflow.registry._jsonschema import DefinitionFile, definition_file_schema
from wflow.registry._problems import ConfigError, Problem
from wflow.registry._project import ExtraCheck, load_project, validate_project
from wflow.registry._registry import FunctionEntry, Registry, Role, WorkflowEntry
from wflow.registry._schema import *  # noqa: F403  (its __all__ is part of ours)

__all__ = [
    "ConfigError",
    "DecoratedEntry",
    "DefinitionFile",
    "ExtraCheck",
    "FunctionEntry",
    "Problem",
    "Registry",
    "Role",
    "WorkflowEntry",
    "decorated_entries",
    "decorated_entry_of",
    "definition_file_schema",
    "interpolate_env",
    "isolated_decorations",
    "load_project",
    "register_decorated",
    "unwrap_target",
    "validate_project",
]
__all__ += _schema.__all__
