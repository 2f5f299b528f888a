"""mkdocs hook: generate the definition-file reference from wflow's JSON Schema.

A page containing the marker `<!-- wflow:schema-reference -->` gets it replaced by one table per
entry kind and per nested object, built from `wflow.registry.definition_file_schema()` at build
time, so the reference cannot drift from the schema `wflow validate` enforces.
"""

from __future__ import annotations

import json
from typing import Any

MARKER = "<!-- wflow:schema-reference -->"


def _anchor(name: str) -> str:
    return "def-" + name.lower()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " or ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            parts: list[str] = []
            for part in schema[key]:
                text = _type(part)
                if text not in parts:
                    parts.append(text)
            return " or ".join(parts)
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(_type({**schema, "type": item}) for item in kind)
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, dict) and "discriminator" in items:
            return "list of entries, each one of the [entry kinds](#entry-kinds)"
        return f"list of {_type(items)}"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return f"map of string to {_type(extra)}"
        return "object"
    if isinstance(kind, str):
        return kind
    return "any"


def _table(schema: dict[str, Any]) -> list[str]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    lines = [
        "| field | type | required | default | description |",
        "|---|---|---|---|---|",
    ]
    for name, prop in properties.items():
        default = ""
        if name == "kind" and isinstance(prop, dict) and "const" in prop:
            required.add(name)  # the discriminator: always written, never defaulted
        elif isinstance(prop, dict) and prop.get("default") is not None:
            default = f"`{json.dumps(prop['default'])}`"
        examples = prop.get("examples") if isinstance(prop, dict) else None
        description = prop.get("description", "") if isinstance(prop, dict) else ""
        if examples:
            description += " Examples: " + ", ".join(f"`{json.dumps(e)}`" for e in examples)
        lines.append(
            f"| `{name}` | {_cell(_type(prop))} | {'yes' if name in required else ''} "
            f"| {_cell(default)} | {_cell(description)} |"
        )
    return lines


def _kind_of(schema: dict[str, Any]) -> str | None:
    kind = schema.get("properties", {}).get("kind", {})
    value = kind.get("const") if isinstance(kind, dict) else None
    return value if isinstance(value, str) else None


def render_reference(schema: dict[str, Any]) -> str:
    """Return Markdown describing every entry kind and field of a definition-file schema."""
    defs: dict[str, Any] = schema.get("$defs", {})
    out: list[str] = ["## Definition file", ""]
    if schema.get("description"):
        out += [_cell(schema["description"]), ""]
    out += [*_table(schema), ""]

    kinds = sorted(
        ((kind, name, body) for name, body in defs.items() if (kind := _kind_of(body))),
        key=lambda item: item[0],
    )
    out += ["## Entry kinds", ""]
    out += [
        "Every entry has `name` and `kind`; the other fields depend on the kind and sit at the "
        "entry's root.",
        "",
    ]
    for kind, name, body in kinds:
        out += [f"### `{kind}` {{#{_anchor(name)}}}", ""]
        if body.get("description"):
            out += [_cell(body["description"]), ""]
        out += [*_table(body), ""]

    nested = sorted(
        (name, body)
        for name, body in defs.items()
        if not _kind_of(body) and isinstance(body, dict) and "properties" in body
    )
    if nested:
        out += ["## Nested objects", ""]
        for name, body in nested:
            out += [f"### {name} {{#{_anchor(name)}}}", ""]
            if body.get("description"):
                out += [_cell(body["description"]), ""]
            out += [*_table(body), ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace the marker with the generated reference (mkdocs event)."""
    if MARKER not in markdown:
        return markdown
    from wflow.registry import definition_file_schema

    return markdown.replace(MARKER, render_reference(definition_file_schema()))
