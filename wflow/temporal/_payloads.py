"""wflow's payload converter: JSON by the same rules as the Lua side (SPEC §5).

temporalio's default `json/plain` converter is lenient: it writes `NaN` and `Infinity`
(which are not JSON, and which the Lua side then refuses), turns a `set` or any other iterable
into a list, and accepts integers no Lua state can hold. wflow's converter refuses those with
a message naming the path of the bad value (`payload.items[2]: nan is not a JSON number`),
and writes valid values byte for byte as the default converter does (compact separators,
sorted keys), so a Lua workflow and its Python twin keep identical histories.

Every Temporal client, worker and replayer wflow creates uses `DATA_CONVERTER`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Mapping
from typing import Any

import temporalio.api.common.v1
import temporalio.converter
from temporalio.client import Client
from temporalio.converter import (
    AdvancedJSONEncoder,
    BinaryNullPayloadConverter,
    BinaryPlainPayloadConverter,
    BinaryProtoPayloadConverter,
    CompositePayloadConverter,
    DataConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
    JSONProtoPayloadConverter,
)

from wflow.model import ErrorKind, WflowError

__all__ = [
    "DATA_CONVERTER",
    "MAX_DEPTH",
    "PAYLOAD_SIZE_LIMIT",
    "PayloadError",
    "StrictJSONPayloadConverter",
    "WflowPayloadConverter",
    "check_json",
    "check_payload_sizes",
    "json_problem",
    "with_wflow_converter",
]

MAX_DEPTH = 200
"""Deepest nesting of arrays/objects a payload may have (the Lua encoder's limit too)."""

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1


class PayloadError(TypeError):
    """A value that is not JSON data by wflow's rules; the message names its path.

    A `TypeError`, as `json.dumps` raises for what it cannot encode, so temporalio handles it
    where it handled those: inside workflow code it fails the workflow task (a fixed deploy
    resumes the run), on a client it is raised to the caller.
    """


def json_problem(value: Any, path: str = "value") -> str | None:
    """Return what makes `value` not JSON data (`path.to.item: ...`), or None when it is.

    JSON data: None, bool, int in the 64-bit range, finite float, str, list/tuple of JSON data,
    and dict with str keys and JSON values, nested at most `MAX_DEPTH` levels.

    Args:
        value: The value to check.
        path: How the value is named in the message (`result`, `args[0]`, ...).
    """
    if _plain_json(value, 0):
        return None
    return _problem(value, path, 0, set())


def _plain_json(item: Any, depth: int) -> bool:
    """True when `item` is JSON data made of exactly the built-in types; False: look closer.

    Every call's arguments and result are checked, so the common case goes first: no path
    strings, no cycle set (a cycle nests past `MAX_DEPTH` and lands here as False), no
    `isinstance` chains. False does not mean bad (a subclass of `int`, say): `_problem`
    decides, and names the path of what is bad.
    """
    kind = type(item)
    if kind is str or item is None or kind is bool:
        return True
    if kind is int:
        number: int = item
        return _INT_MIN <= number <= _INT_MAX
    if kind is float:
        return math.isfinite(item)
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        for key, child in item.items():
            if type(key) is not str:
                return False
            kind = type(child)
            if kind is not str and not _plain_json(child, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        for child in item:
            kind = type(child)
            if kind is not str and not _plain_json(child, depth + 1):
                return False
        return True
    return False


def _problem(item: Any, where: str, depth: int, active: set[int]) -> str | None:
    if item is None or isinstance(item, (bool, str)):
        return None
    if isinstance(item, int):
        if not _INT_MIN <= item <= _INT_MAX:
            return (
                f"{where}: integer {item} is outside the 64-bit range (-2^63 .. 2^63-1); "
                "send it as a string"
            )
        return None
    if isinstance(item, float):
        if math.isnan(item) or math.isinf(item):
            return f"{where}: {item!r} is not a JSON number"
        return None
    if not isinstance(item, (list, tuple, dict)):
        return f"{where}: {_describe(item)} is not JSON data{_hint(item)}"
    if depth >= MAX_DEPTH:
        return f"{where}: nested too deeply (more than {MAX_DEPTH} levels)"
    # Only a container met again on the path from the root is a cycle; one shared by two
    # siblings is fine.
    if id(item) in active:
        return f"{where}: contains itself (cycle)"
    active.add(id(item))
    try:
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"{where}: object key {key!r} is not a string"
                problem = _problem(child, _key_path(where, key), depth + 1, active)
                if problem is not None:
                    return problem
        else:
            for index, child in enumerate(item):
                problem = _problem(child, f"{where}[{index}]", depth + 1, active)
                if problem is not None:
                    return problem
    finally:
        active.discard(id(item))
    return None


def _key_path(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def _describe(value: Any) -> str:
    return f"a value of type {type(value).__name__}"


def _hint(value: Any) -> str:
    if isinstance(value, (set, frozenset)):
        return " (use a sorted list)"
    if isinstance(value, (bytes, bytearray)):
        return " (use a string, e.g. base64)"
    if dataclasses.is_dataclass(value) or isinstance(value, Mapping):
        return " (use a dict)"
    return ""


def check_json(value: Any, path: str = "value") -> None:
    """Raise `PayloadError` naming the path when `value` is not JSON data (see `json_problem`).

    Raises:
        PayloadError: The value is not JSON data.
    """
    problem = json_problem(value, path)
    if problem is not None:
        raise PayloadError(problem)


PAYLOAD_SIZE_LIMIT = 2 * 1024 * 1024
"""Largest payload wflow sends: Temporal's default blob size limit (`limit.blobSize.error`).

A larger one would be refused by the server after the fact (failing the workflow task or the
start); wflow refuses it before sending, naming what it was for.
"""

_SIZER: Any = None

_ENCODER = AdvancedJSONEncoder(separators=(",", ":"), sort_keys=True)
"""The encoder of temporalio's json/plain writer (its `json.dumps` arguments), made once:
`json.dumps` makes a new one for every value."""

_PAYLOAD_OVERHEAD = 64
"""More than a `json/plain` payload adds to its data: the `encoding` metadata entry (24
bytes) and the data field's tag and length (at most 11)."""


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB ({size} bytes)"


def check_payload_sizes(
    values: Any, owner: str, what: str = "argument", *, limit: int = PAYLOAD_SIZE_LIMIT
) -> None:
    """Refuse a value whose JSON payload is over Temporal's size limit, before it is sent.

    Args:
        values: The arguments (a list: each is one payload, numbered from 1 in the message), or
            one value when `what` is not `argument` (a result, a message).
        owner: What the payloads are for: the entry ID (`app.api:charge_card`), a message, ...
        what: `argument`, `result`, `message`, ...
        limit: The limit in bytes.

    Raises:
        WflowError: `INVALID`, not retryable: `app.api:charge_card: argument 1 is 2.5 MiB
            (2621440 bytes), over Temporal's payload size limit of 2.0 MiB (2097152 bytes)`.
    """
    global _SIZER
    if _SIZER is None:
        # temporalio's json/plain writer: for JSON data the same bytes as the strict
        # converter's, without first walking the value to check it (every call would check
        # each argument twice; the converter that sends it checks it once).
        _SIZER = JSONPlainPayloadConverter()
    items = list(enumerate(values, start=1)) if what == "argument" else [(0, values)]
    for index, value in items:
        try:
            # The writer's text alone first: a payload is its data plus a few bytes of
            # metadata, so only data within `_PAYLOAD_OVERHEAD` of the limit needs the
            # payload itself built and measured (almost no value comes that close).
            if len(_ENCODER.encode(value).encode()) + _PAYLOAD_OVERHEAD <= limit:
                continue
            payload = _SIZER.to_payload(value)
        except (TypeError, ValueError):
            continue  # not JSON data: the converter's own check reports it, with its path
        size = payload.ByteSize() if payload is not None else 0
        if size > limit:
            try:
                check_json(value, "payload")
            except PayloadError:
                continue  # as above: not JSON data is reported as that, not as too large
            name = f"argument {index}" if what == "argument" else what
            raise WflowError(
                f"{owner}: {name} is {_size_text(size)}, over Temporal's payload size limit of "
                f"{_size_text(limit)}; nothing was sent (store large data elsewhere and pass a "
                "reference)",
                ErrorKind.INVALID,
                retryable=False,
                details={"owner": owner, "what": name, "size": size, "limit": limit},
            )


class _NotAJSONNumber(ValueError):
    """`NaN`, `Infinity` or `-Infinity` met while decoding (raised through `json.loads`)."""


def _no_constant(name: str) -> Any:
    raise _NotAJSONNumber(f"{name} is not a JSON number")


class _StrictDecoder(json.JSONDecoder):
    """Python's JSON decoder, refusing the constants `NaN`, `Infinity` and `-Infinity`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(parse_constant=_no_constant, **kwargs)


class StrictJSONPayloadConverter(JSONPlainPayloadConverter):
    """`json/plain` by wflow's rules: refuses what is not JSON data, in and out.

    Valid values are written exactly as temporalio's `JSONPlainPayloadConverter` writes them.
    """

    def __init__(self) -> None:
        """Build the converter (temporalio's, decoding with the strict decoder)."""
        # The payload is decoded once, refusing the constants as it goes, instead of once to
        # check and once more by temporalio.
        super().__init__(decoder=_StrictDecoder)
        self._encoding_name = self.encoding.encode()

    def to_payload(self, value: Any) -> temporalio.api.common.v1.Payload | None:
        """Return the `json/plain` payload of `value`.

        Raises:
            PayloadError: `value` is not JSON data; the message names the path.
        """
        if _plain_json(value, 0):
            # Built-in types only, so temporalio's writer would make these very bytes (its
            # encoder's `default` is never reached), but with a new encoder for every value.
            return temporalio.api.common.v1.Payload(
                metadata={"encoding": self._encoding_name}, data=_ENCODER.encode(value).encode()
            )
        check_json(value, "payload")
        return super().to_payload(value)

    def from_payload(
        self, payload: temporalio.api.common.v1.Payload, type_hint: type | None = None
    ) -> Any:
        """Return the value of a `json/plain` payload; `NaN`/`Infinity` are refused.

        Raises:
            PayloadError: The payload holds `NaN`, `Infinity` or `-Infinity`.
        """
        # Only the constants are wflow's refusal; other decoding errors pass as temporalio
        # reports them.
        try:
            return super().from_payload(payload, type_hint)
        except _NotAJSONNumber as exc:
            raise PayloadError(f"payload: {exc}") from None


@functools.cache
def _converters() -> tuple[EncodingPayloadConverter, ...]:
    # temporalio makes a payload converter per workflow (its class is called); the encoding
    # converters hold no state, so every one of them shares these.
    return (
        BinaryNullPayloadConverter(),
        StrictJSONPayloadConverter(),
        BinaryPlainPayloadConverter(),
        JSONProtoPayloadConverter(),
        BinaryProtoPayloadConverter(),
    )


class WflowPayloadConverter(CompositePayloadConverter):
    """temporalio's default converters, with `json/plain` strict and tried before the binary ones.

    None still goes out as `binary/null` (as before: histories are unchanged); every other
    value must be JSON data, so bytes or protobuf messages are refused rather than sent in an
    encoding the Lua side cannot read. Payloads in the other encodings can still be read.
    """

    def __init__(self) -> None:
        """Build the converter."""
        super().__init__(*_converters())


DATA_CONVERTER: DataConverter = dataclasses.replace(
    temporalio.converter.DataConverter.default, payload_converter_class=WflowPayloadConverter
)
"""The data converter of every client, worker and replayer wflow makes."""


def with_wflow_converter(client: Client) -> Client:
    """Return `client`, or a client on the same connection with wflow's data converter.

    A client made elsewhere (a test's `WorkflowEnvironment`, a caller's own `Client.connect`)
    has temporalio's lenient converter; workers built on it would write NaN into histories.
    """
    config = client.config()
    if config["data_converter"].payload_converter_class is WflowPayloadConverter:
        return client
    config["data_converter"] = DATA_CONVERTER
    return Client(**config)
