"""Bitstring Status List v1.0: encoding, bit order, entries, and the 1EdTech test list."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from lti_tool.badges import status_list
from lti_tool.badges.errors import StatusListError

from .conftest import FIXTURES, needs_conformance


def test_new_list_is_16kb_and_encodes_as_multibase_base64url_gzip() -> None:
    bits = status_list.StatusList()
    assert bits.size == 131_072
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bytes(16 * 1024)


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bits = status_list.StatusList()
    bits.set(0)
    bits.set(9)
    raw = bits.to_bytes()
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0100_0000
    decoded = status_list.StatusList.decode(bits.encode())
    assert [i for i in range(16) if decoded.get(i)] == [0, 9]
    decoded.set(9, False)
    assert not decoded.get(9)


def test_out_of_range_and_too_small() -> None:
    bits = status_list.StatusList()
    with pytest.raises(StatusListError, match="outside"):
        bits.get(131_072)
    with pytest.raises(StatusListError):
        status_list.StatusList(size=8)
    with pytest.raises(StatusListError):
        status_list.encode_bitstring(b"\0" * 10)


def test_entry_shape() -> None:
    entry = status_list.build_status_entry("https://t.example/status/1", 94567)
    assert entry == {"id": "https://t.example/status/1#94567",
                     "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                     "statusListIndex": "94567",
                     "statusListCredential": "https://t.example/status/1"}


def test_decode_refuses_garbage_and_bombs() -> None:
    with pytest.raises(StatusListError):
        status_list.decode_encoded_list("u!!!")
    with pytest.raises(StatusListError):
        status_list.decode_encoded_list("u" + base64.urlsafe_b64encode(b"plain").decode())
    bomb = gzip.compress(bytes(status_list.MAX_LIST_BYTES + 10))
    with pytest.raises(StatusListError, match="too large"):
        status_list.decode_encoded_list("u" + base64.urlsafe_b64encode(bomb).decode())


def test_purpose_mismatch_is_refused() -> None:
    bits = status_list.StatusList()
    list_credential = status_list.build_status_list_credential(
        "https://t.example/s", "https://t.example/i", bits, valid_from="2026-01-01T00:00:00Z",
        purpose="suspension")
    entry = status_list.build_status_entry("https://t.example/s", 3)
    with pytest.raises(StatusListError, match="for 'suspension'"):
        status_list.check_status(entry, list_credential)


@needs_conformance
def test_the_1edtech_testlist_has_only_bit_23_set() -> None:
    testlist = json.loads((FIXTURES / "ob30/bit-string-list/testlist").read_text())
    bits = status_list.StatusList.decode(testlist["credentialSubject"]["encodedList"])
    assert bits.size == 131_072
    assert [i for i in range(bits.size) if bits.get(i)] == [23]
