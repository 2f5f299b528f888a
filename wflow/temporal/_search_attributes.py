"""Custom search attributes: typed keys from the YAML's declarations, and their registration.

A `temporal.client` declares `search_attributes: {CustomerId: Keyword, Amount: Double}`. The
declared type picks the Temporal key a value is written with (a string may be a Keyword or a
Text), so what `workflow.attrs{search=...}`, a schedule and `wflow ls --attr` use agree; on the
embedded dev server (or any server wflow may administer) they are registered automatically.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)
from temporalio.service import RPCError, RPCStatusCode

from wflow.model import ErrorKind, WflowError

__all__ = [
    "register_search_attributes",
    "search_key",
    "search_update",
    "typed_search_attributes",
    "visibility_literal",
]

_INDEXED = {
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


def _inferred(value: Any) -> str:
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "Keyword"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "KeywordList"
    raise WflowError(
        f"search attribute value {value!r}: expected a string, number, boolean or list of strings",
        ErrorKind.INVALID,
    )


def search_key(name: str, value: Any, declared: Mapping[str, str]) -> tuple[Any, Any]:
    """Return the typed key and the converted value for `name` = `value`.

    The declared type wins; an undeclared attribute's type follows its value (a string is a
    Keyword).

    Raises:
        WflowError: `INVALID` when the value does not fit the declared type.
    """
    kind = declared.get(name) or _inferred(value)
    try:
        if kind == "Text":
            return SearchAttributeKey.for_text(name), _checked(str, value)
        if kind == "Keyword":
            return SearchAttributeKey.for_keyword(name), _checked(str, value)
        if kind == "Int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
            return SearchAttributeKey.for_int(name), value
        if kind == "Double":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError
            return SearchAttributeKey.for_float(name), float(value)
        if kind == "Bool":
            return SearchAttributeKey.for_bool(name), _checked(bool, value)
        if kind == "Datetime":
            return SearchAttributeKey.for_datetime(name), datetime.fromisoformat(
                _checked(str, value).replace("Z", "+00:00")
            )
        if kind == "KeywordList":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError
            return SearchAttributeKey.for_keyword_list(name), list(value)
    except (TypeError, ValueError):
        pass
    raise WflowError(
        f"search attribute {name!r} is declared {kind}, got {value!r}", ErrorKind.INVALID
    )


def search_update(name: str, value: Any, declared: Mapping[str, str]) -> SearchAttributeUpdate[Any]:
    """Return the upsert of `name` = `value` (`workflow.attrs{search=...}`), typed as declared.

    Raises:
        WflowError: `INVALID` when the value does not fit the declared type.
    """
    key, converted = search_key(name, value, declared)
    update: SearchAttributeUpdate[Any] = key.value_set(converted)
    return update


def _checked(kind: type, value: Any) -> Any:
    if not isinstance(value, kind):
        raise TypeError
    return value


def typed_search_attributes(
    values: Mapping[str, Any], declared: Mapping[str, str]
) -> TypedSearchAttributes:
    """Return `values` as temporalio's typed search attributes, by the declared types."""
    pairs = [
        SearchAttributePair(*search_key(name, value, declared)) for name, value in values.items()
    ]
    return TypedSearchAttributes(pairs)


def visibility_literal(name: str, value: str, declared: Mapping[str, str]) -> str:
    """Return `value` (as typed on a command line) as a literal of a visibility query."""
    kind = declared.get(name, "Keyword")
    if kind in ("Int", "Double"):
        try:
            float(value)
        except ValueError:
            raise ValueError(f"{name} is declared {kind}: give a number, not {value!r}") from None
        return value
    if kind == "Bool":
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{name} is a Bool: give true or false, not {value!r}")
        return value.lower()
    return "'" + value.replace("'", "\\'") + "'"


async def register_search_attributes(client: Client, declared: Mapping[str, str]) -> list[str]:
    """Register the declared search attributes the server does not know yet.

    Args:
        client: A client of the server (its namespace is used).
        declared: Name -> type.

    Returns:
        The names that were added.

    Raises:
        WflowError: `CONFLICT` when the server knows a name with another type.
    """
    if not declared:
        return []
    try:
        known = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        existing = {**known.system_attributes, **known.custom_attributes}
    except RPCError as exc:
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        # The time-skipping test server cannot list them but does accept new ones (their
        # types cannot be checked there): add each, one the server has is not an error.
        return await _add_each_unlisted(client, declared)
    missing: dict[str, Any] = {}
    for name, kind in declared.items():
        if name in existing:
            if existing[name] != _INDEXED[kind]:
                have = IndexedValueType.Name(existing[name]).removeprefix("INDEXED_VALUE_TYPE_")
                raise WflowError(
                    f"search attribute {name!r} is declared {kind} but the server has it as {have}",
                    ErrorKind.CONFLICT,
                )
            continue
        missing[name] = _INDEXED[kind]
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)


async def _add_each_unlisted(client: Client, declared: Mapping[str, str]) -> list[str]:
    added = []
    for name, kind in declared.items():
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=client.namespace, search_attributes={name: _INDEXED[kind]}
                )
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
            continue
        added.append(name)
    return sorted(added)
