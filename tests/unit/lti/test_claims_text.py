"""Which id_tokens need their claims' text cleaned (``lti.validation``, step 6): the check
of the payload's JSON text must never miss a claim that ``clean_claims`` would change."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lti_tool.lti.validation import clean_claims, decode_unverified


def _token(payload: bytes) -> str:
    def b64u(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64u(json.dumps({"alg": "RS256"}).encode())
    return f"{header}.{b64u(payload)}.{b64u(b'sig')}"


def _storable(body: Any, *, ensure_ascii: bool) -> bool:
    text = json.dumps(body, ensure_ascii=ensure_ascii)
    return decode_unverified(_token(text.encode("utf-8", "surrogatepass"))).storable


PLAIN = [
    {"sub": "42", "name": "Ada Lovelace"},
    {"name": "Élodie Côté", "title": "Programmation I — été"},
    {"custom": {"emoji": "🎓", "cjk": "学习"}, "list": ["a", 1, None, True]},
    {"path": "C:\\u0000-not-an-escape"},  # a backslash, then the letters u0000
]
UNSTORABLE = [
    {"sub": "2\x00"},
    {"name": "x\ud800y"},
    {"custom": {"k\x00": "v"}},
    {"list": ["ok", "\udfff"]},
]


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("body", PLAIN + UNSTORABLE)
def test_the_text_check_never_misses_what_cleaning_would_change(body: dict[str, Any],
                                                                ensure_ascii: bool) -> None:
    """Escaped (\\u0000, \\ud800) or raw UTF-8-encoded surrogates alike: a payload said
    storable is one ``clean_claims`` leaves as it is."""
    storable = _storable(body, ensure_ascii=ensure_ascii)
    if body in UNSTORABLE:
        assert not storable
    if storable:
        assert clean_claims(dict(body)) == body


@pytest.mark.parametrize("body", PLAIN[:2])
def test_plain_text_is_not_walked(body: dict[str, Any]) -> None:
    """Accented letters, escaped (as PHP's json_encode sends them) or not."""
    assert _storable(body, ensure_ascii=True)
    assert _storable(body, ensure_ascii=False)


def test_a_well_formed_surrogate_pair_is_looked_at_and_kept() -> None:
    """An escaped emoji (\\ud83c\\udf93) makes the check look closer; cleaning keeps it."""
    body = {"name": "🎓"}
    assert not _storable(body, ensure_ascii=True)
    assert clean_claims(dict(body)) == body
