"""Payload codecs a `temporal.client` entry declares: compression, AES-GCM encryption, custom.

A codec chain turns every payload the client (and the workers on it) sends into stored bytes,
and back; workflows and functions of both languages never see it. The first codec of the list
is applied first when encoding (so `[compression, encryption]` compresses, then encrypts) and
last when decoding.

The encodings follow Temporal's samples, so a codec server written to that convention can
decode them for the web UI: `binary/zlib` (zlib of the serialized inner payload) and
`binary/encrypted` (12-byte nonce + AES-256-GCM of the serialized inner payload, metadata
`encryption-key-id`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import importlib
import os
import zlib
from collections.abc import Sequence

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from wflow.model import ErrorKind, WflowError
from wflow.registry import TemporalClientEntry
from wflow.registry._production_schema import CodecSpec

__all__ = [
    "ENCRYPTED_ENCODING",
    "ZLIB_ENCODING",
    "AesGcmCodec",
    "ChainCodec",
    "CompressionCodec",
    "build_codec",
    "data_converter_for",
    "decode_in_place",
]

ZLIB_ENCODING = b"binary/zlib"
"""Metadata `encoding` of a compressed payload."""
ENCRYPTED_ENCODING = b"binary/encrypted"
"""Metadata `encoding` of an encrypted payload."""
_KEY_ID = "encryption-key-id"


class CompressionCodec(PayloadCodec):
    """zlib-compresses payloads of at least `min_size` bytes.

    Args:
        level: zlib level, 1 (fast) to 9 (small).
        min_size: Smaller payloads are left as they are.
    """

    def __init__(self, level: int = 6, min_size: int = 0) -> None:
        self._level = level
        self._min_size = min_size

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Compress each payload (when it is large enough)."""
        out = []
        for payload in payloads:
            if payload.ByteSize() < self._min_size:
                out.append(payload)
                continue
            data = zlib.compress(payload.SerializeToString(), self._level)
            out.append(Payload(metadata={"encoding": ZLIB_ENCODING}, data=data))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decompress the compressed payloads; leave others as they are."""
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ZLIB_ENCODING:
                out.append(payload)
                continue
            out.append(Payload.FromString(zlib.decompress(payload.data)))
        return out


class AesGcmCodec(PayloadCodec):
    """Encrypts payloads with AES-256-GCM (the `cryptography` package; `pip install wflow[codecs]`).

    Args:
        key: 32 bytes.
        key_id: Written with each payload; a payload with another key ID is refused on decode.
    """

    def __init__(self, key: bytes, key_id: str = "default") -> None:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError:  # pragma: no cover - depends on the installation
            raise WflowError(
                "the encryption codec needs the `cryptography` package: "
                "pip install 'wflow[codecs]'",
                ErrorKind.INVALID,
            ) from None
        if len(key) != 32:
            raise WflowError(
                f"encryption key must be 32 bytes (AES-256), got {len(key)}", ErrorKind.INVALID
            )
        self._aes = AESGCM(key)
        self._key_id = key_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload."""
        out = []
        for payload in payloads:
            nonce = os.urandom(12)
            data = nonce + self._aes.encrypt(nonce, payload.SerializeToString(), None)
            out.append(
                Payload(
                    metadata={"encoding": ENCRYPTED_ENCODING, _KEY_ID: self._key_id.encode()},
                    data=data,
                )
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt the encrypted payloads; leave others as they are.

        Raises:
            WflowError: `PERMISSION_DENIED` for a payload of another key or one that does not
                decrypt with this key.
        """
        from cryptography.exceptions import InvalidTag

        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
                out.append(payload)
                continue
            key_id = payload.metadata.get(_KEY_ID, b"").decode(errors="replace")
            if key_id != self._key_id:
                raise WflowError(
                    f"payload encrypted with key {key_id!r}, this client has key {self._key_id!r}",
                    ErrorKind.PERMISSION_DENIED,
                )
            try:
                plain = self._aes.decrypt(payload.data[:12], payload.data[12:], None)
            except InvalidTag:
                raise WflowError(
                    f"payload does not decrypt with key {key_id!r} (wrong key?)",
                    ErrorKind.PERMISSION_DENIED,
                ) from None
            out.append(Payload.FromString(plain))
        return out


class ChainCodec(PayloadCodec):
    """Applies codecs in order when encoding, in reverse order when decoding."""

    def __init__(self, codecs: Sequence[PayloadCodec]) -> None:
        self.codecs = list(codecs)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encode with each codec in turn."""
        out = list(payloads)
        for codec in self.codecs:
            out = list(await codec.encode(out))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decode with each codec in reverse order."""
        out = list(payloads)
        for codec in reversed(self.codecs):
            out = list(await codec.decode(out))
        return out


def _key(spec: CodecSpec, where: str) -> bytes:
    name = spec.key_env or ""
    text = os.environ.get(name, "").strip()
    if not text:
        raise WflowError(
            f"{where}: encryption key variable {name} is not set (32 bytes, base64 or 64 hex "
            "digits)",
            ErrorKind.INVALID,
        )
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise WflowError(
            f"{where}: {name} is neither 64 hex digits nor base64", ErrorKind.INVALID
        ) from None
    if len(key) != 32:
        raise WflowError(
            f"{where}: {name} holds {len(key)} bytes; AES-256 needs 32", ErrorKind.INVALID
        )
    return key


def _custom(spec: CodecSpec, where: str) -> PayloadCodec:
    module_name, _, class_name = (spec.class_ or "").partition(":")
    try:
        target: object = importlib.import_module(module_name)
        for part in class_name.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise WflowError(
            f"{where}: codec class {spec.class_!r} cannot be loaded: {exc}", ErrorKind.INVALID
        ) from None
    codec = target() if isinstance(target, type) else None
    if not isinstance(codec, PayloadCodec):
        raise WflowError(
            f"{where}: codec class {spec.class_!r} is not a temporalio PayloadCodec",
            ErrorKind.INVALID,
        )
    return codec


def build_codec(entry: TemporalClientEntry) -> PayloadCodec | None:
    """Return the codec chain `entry.codecs` declares, or None when it declares none.

    Raises:
        WflowError: `INVALID` naming the client for an unset or malformed key variable, or a
            custom class that cannot be loaded or is no `PayloadCodec`.
    """
    if not entry.codecs:
        return None
    where = f"temporal.client {entry.id}"
    codecs: list[PayloadCodec] = []
    for spec in entry.codecs:
        if spec.type == "compression":
            codecs.append(CompressionCodec(spec.level, spec.min_size))
        elif spec.type == "encryption":
            codecs.append(AesGcmCodec(_key(spec, where), spec.key_id))
        else:
            codecs.append(_custom(spec, where))
    return codecs[0] if len(codecs) == 1 else ChainCodec(codecs)


def data_converter_for(entry: TemporalClientEntry | None, base: DataConverter) -> DataConverter:
    """Return `base` with the entry's codec chain (or `base` itself when it has none)."""
    codec = build_codec(entry) if entry is not None else None
    if codec is None:
        return base
    return dataclasses.replace(base, payload_codec=codec)


def _payloads_in(message: Message, found: list[Payload]) -> None:
    if isinstance(message, Payload):
        found.append(message)
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE or field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            values = list(value.values())
        elif field.is_repeated:
            values = list(value)
        else:
            values = [value]
        for item in values:
            if isinstance(item, Message):
                _payloads_in(item, found)


async def decode_in_place(message: Message, codec: PayloadCodec) -> None:
    """Decode every payload inside `message` (a history, an event) with `codec`, in place.

    Payloads the codec did not write (search attributes, plain ones) stay as they are.
    """
    found: list[Payload] = []
    _payloads_in(message, found)
    if not found:
        return
    for payload, decoded in zip(found, await codec.decode(found), strict=True):
        if decoded is not payload:
            payload.CopyFrom(decoded)
