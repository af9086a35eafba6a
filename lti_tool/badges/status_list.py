"""W3C Bitstring Status List v1.0: revocation bits for issued credentials.

https://www.w3.org/TR/vc-bitstring-status-list/

* A status list is a bitstring of at least 131,072 bits (16 KB, for group privacy).
* ``encodedList`` = multibase base64url (``u`` prefix, no padding) of the GZIP-compressed
  bitstring (§3.1 / §3.2 "Bitstring Encoding").
* Index 0 is the *left-most* bit: the most significant bit of the first byte (§3.2).
* Every credential carries a ``BitstringStatusListEntry`` (§2.1) naming the status list
  credential URL and its index; revoking flips that bit to 1.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lti_tool.badges.contexts import VC_V2
from lti_tool.badges.errors import StatusListError

MIN_BITS = 131_072
#: Largest decompressed list we accept (a gzip bomb guard): 16 MiB = 134M entries.
MAX_LIST_BYTES = 16 * 1024 * 1024
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusList"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
PURPOSES = ("revocation", "suspension", "refresh", "message")


def encode_bitstring(bits: bytes) -> str:
    """``encodedList`` for raw bitstring bytes (GZIP, then multibase base64url)."""
    if len(bits) * 8 < MIN_BITS:
        raise StatusListError(f"a status list must have at least {MIN_BITS} bits")
    # mtime=0 keeps the encoding deterministic for identical lists.
    compressed = gzip.compress(bits, compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_encoded_list(encoded: str) -> bytes:
    """Raw bitstring bytes from an ``encodedList``. Raises StatusListError."""
    if not isinstance(encoded, str) or not encoded:
        raise StatusListError("encodedList is missing")
    # The spec says multibase base64url ('u'); older lists omitted the prefix.
    body = encoded[1:] if encoded.startswith("u") else encoded
    try:
        compressed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_",
                                      validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StatusListError("encodedList is not base64url") from exc
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
            bits = stream.read(MAX_LIST_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise StatusListError("encodedList is not GZIP data") from exc
    if len(bits) > MAX_LIST_BYTES:
        raise StatusListError("status list is too large")
    return bits


class StatusList:
    """A mutable bitstring; ``get``/``set`` use the spec's left-to-right indexing."""

    def __init__(self, bits: bytes | bytearray | None = None, *, size: int = MIN_BITS) -> None:
        if bits is None:
            if size < MIN_BITS or size % 8:
                raise StatusListError(f"size must be a multiple of 8 and >= {MIN_BITS}")
            self._bits = bytearray(size // 8)
        else:
            self._bits = bytearray(bits)

    @classmethod
    def decode(cls, encoded: str) -> StatusList:
        return cls(decode_encoded_list(encoded))

    @property
    def size(self) -> int:
        return len(self._bits) * 8

    def _check(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise StatusListError("status list index must be an integer")
        if not 0 <= index < self.size:
            raise StatusListError(f"status list index {index} is outside the list "
                                  f"(0..{self.size - 1})")

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self._bits[index // 8] & (0x80 >> (index % 8)))

    def set(self, index: int, value: bool = True) -> None:
        self._check(index)
        mask = 0x80 >> (index % 8)
        if value:
            self._bits[index // 8] |= mask
        else:
            self._bits[index // 8] &= ~mask & 0xFF

    def encode(self) -> str:
        return encode_bitstring(bytes(self._bits))

    def to_bytes(self) -> bytes:
        return bytes(self._bits)


def build_status_entry(status_list_credential: str, index: int,
                       purpose: str = "revocation") -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` for a credential (§2.1).

    ``statusListIndex`` is a base-10 string, as the spec requires.
    """
    if purpose not in PURPOSES:
        raise StatusListError(f"unknown statusPurpose {purpose!r}")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError("status list index must be a non-negative integer")
    return {
        "id": f"{status_list_credential}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": status_list_credential,
    }


def build_status_list_credential(credential_id: str, issuer: str | Mapping[str, Any],
                                 status_list: StatusList, *, valid_from: str,
                                 purpose: str = "revocation",
                                 valid_until: str | None = None) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (§2.2); sign it with eddsa.sign."""
    credential: dict[str, Any] = {
        "@context": [VC_V2],
        "id": credential_id,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": dict(issuer) if isinstance(issuer, Mapping) else issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{credential_id}#list",
            "type": LIST_TYPE,
            "statusPurpose": purpose,
            "encodedList": status_list.encode(),
        },
    }
    if valid_until:
        credential["validUntil"] = valid_until
    return credential


def entry_index(entry: Mapping[str, Any]) -> int:
    """``statusListIndex`` as an int (string per spec; integers seen in the wild)."""
    raw = entry.get("statusListIndex")
    if isinstance(raw, bool):
        raise StatusListError("statusListIndex must be a base-10 integer string")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 20:
        return int(raw)
    raise StatusListError("statusListIndex must be a base-10 integer string")


@dataclass(frozen=True)
class StatusCheck:
    """Result of looking a credential up in its status list."""

    purpose: str
    index: int
    set: bool

    @property
    def message(self) -> str:
        if not self.set:
            return f"not {_participle(self.purpose)} (status list bit {self.index} is 0)"
        return f"{_participle(self.purpose)} (status list bit {self.index} is set)"


def _participle(purpose: str) -> str:
    return {"revocation": "revoked", "suspension": "suspended"}.get(purpose, f"{purpose} flag")


def check_status(entry: Mapping[str, Any],
                 status_list_credential: Mapping[str, Any]) -> StatusCheck:
    """Look ``entry`` up in an (already verified) status list credential.

    Raises StatusListError when the entry or the list is malformed or they disagree.
    """
    if entry.get("type") != ENTRY_TYPE:
        raise StatusListError(f"credentialStatus type {entry.get('type')!r} is not "
                              f"{ENTRY_TYPE}")
    purpose = entry.get("statusPurpose")
    if purpose not in PURPOSES:
        raise StatusListError(f"unknown statusPurpose {purpose!r}")
    index = entry_index(entry)
    types = status_list_credential.get("type")
    types = types if isinstance(types, list) else [types]
    if LIST_CREDENTIAL_TYPE not in types:
        raise StatusListError("the status list credential is not a "
                              "BitstringStatusListCredential")
    subject = status_list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise StatusListError("the status list credential has no credentialSubject")
    list_purpose = subject.get("statusPurpose")
    list_purposes = list_purpose if isinstance(list_purpose, list) else [list_purpose]
    if purpose not in list_purposes:
        raise StatusListError(f"the status list is for {list_purpose!r}, the credential "
                              f"asks about {purpose!r}")
    bits = StatusList.decode(str(subject.get("encodedList", "")))
    if bits.size < MIN_BITS:
        raise StatusListError(f"the status list has fewer than {MIN_BITS} bits")
    return StatusCheck(str(purpose), index, bits.get(index))
