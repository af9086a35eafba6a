"""Errors raised by :mod:`lti_tool.badges`.

Every message is safe to show to the person who uploaded a credential: it names what was
wrong with *their input* and never includes a stack trace or server detail.
"""

from __future__ import annotations


class BadgeError(Exception):
    """Base class: something about a credential, key or image is not acceptable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ContextNotAllowedError(BadgeError):
    """A JSON-LD context URL that is not bundled; it is refused, never fetched."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD context {url!r} is not one of the bundled contexts; "
            "remote contexts are never fetched")
        self.url = url


class KeyFormatError(BadgeError):
    """A key (Multikey, did:key, JWK) cannot be decoded or has the wrong type."""


class CanonicalizationError(BadgeError):
    """The document cannot be turned into canonical N-Quads (RDFC-1.0)."""


class TooComplexError(CanonicalizationError):
    """The document is past the limits on size or canonicalization work: refused before it
    could cost more than the verification budget (nothing about it was verified)."""


class ProofError(BadgeError):
    """A proof cannot be created or does not verify."""


class JwtError(BadgeError):
    """A compact JWS / VC-JWT is malformed or does not verify."""


class BakingError(BadgeError):
    """A PNG or SVG cannot be baked, or holds no (or several) credentials."""


class StatusListError(BadgeError):
    """A Bitstring Status List is malformed or an index is out of range."""
