"""The JSON Schema of a definition file, for editors (yaml-language-server) and docs."""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wflow.registry._schema import NAME_PATTERN, AnyEntry

__all__ = ["DefinitionFile", "definition_file_schema"]


class DefinitionFile(BaseModel):
    """A wflow definition file (conventionally `_index.yaml`).

    Top-level fields starting with `x-` are ignored, e.g. to hold YAML anchors.
    """

    model_config = ConfigDict(
        extra="forbid",
        title="wflow definition file",
        json_schema_extra={"patternProperties": {"^x-": {}}},
    )

    version: Literal["1.0"] = Field(description='The file format version; "1.0".')
    namespace: str = Field(
        pattern=NAME_PATTERN,
        description="The namespace of every entry in this file; entry IDs are namespace:name.",
    )
    entries: list[AnyEntry] = Field(
        default_factory=list, description="The entries, each with a name and a kind."
    )


_SCHEMA: dict[str, Any] | None = None


def definition_file_schema() -> dict[str, Any]:
    """The JSON Schema of a definition file.

    Point an editor at it with a first line like
    `# yaml-language-server: $schema=wflow-schema.json`.

    Returns:
        A fresh JSON-compatible dict (draft 2020-12).
    """
    global _SCHEMA
    if _SCHEMA is None:
        schema = DefinitionFile.model_json_schema()
        for definition in schema.get("$defs", {}).values():
            kind = definition.get("properties", {}).get("kind")
            if isinstance(kind, dict) and "const" in kind:
                kind.pop("default", None)
                required = definition.setdefault("required", [])
                if "kind" not in required:
                    required.insert(0, "kind")
        _SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return copy.deepcopy(_SCHEMA)
