"""The JSON-LD contexts MicroCred knows, bundled, and an offline PyLD document loader.

Canonicalizing (RDFC-1.0) or expanding a credential needs its ``@context`` documents. We
never fetch them: every context we accept ships in ``lti_tool/badges/contexts/`` and is
mapped URL -> file by ``contexts/index.json``. They are exactly the standard contexts of the
conformance data (``shared/conformance/contexts``, see ``SOURCES.md``; a test keeps them
equal): W3C VCDM, Data Integrity, DID, Multikey, 1EdTech OB 3.0 and CLR 2.0. MicroCred has
no context of its own, so whatever a verifier that trusts only standard contexts can load,
we can, and the other way round. Any other URL is refused with
:class:`~lti_tool.badges.errors.ContextNotAllowedError`, so a hostile credential cannot
make the server reach an arbitrary host.

Specs: https://www.w3.org/TR/json-ld11-api/#loaddocumentcallback ,
https://www.w3.org/TR/vc-data-model-2.0/#contexts
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from lti_tool.badges.errors import ContextNotAllowedError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_V3P0_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CLR_V2P0 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"

#: Any OB 3.0 context version (``context.json``, ``context-3.0.x.json``); the same pattern
#: the 1EdTech JSON Schema uses for ``@context[1]``.
OB_CONTEXT_PATTERN = re.compile(
    r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$")
CLR_CONTEXT_PATTERN = re.compile(
    r"^https://purl\.imsglobal\.org/spec/clr/v2p0/context(-2\.\d\.\d)*\.json$")

#: VCDM 1.1 era URLs: still loadable (old credentials verify) but reported as outdated.
#: ``context/ob_v3p0.jsonld`` is an alias the 1EdTech validator maps to ``context.json``.
VCDM11_ALIASES: frozenset[str] = frozenset({
    VC_V1,
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld",
    "https://purl.imsglobal.org/spec/clr/v2p0/context.json",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://w3id.org/security/data-integrity/v1",
})

_PACKAGE = "lti_tool.badges"


@cache
def context_index() -> dict[str, str]:
    """URL -> bundled file name (``contexts/index.json``)."""
    text = resources.files(_PACKAGE).joinpath("contexts", "index.json").read_text("utf-8")
    index: dict[str, str] = json.loads(text)
    return index


def known_context_urls() -> frozenset[str]:
    return frozenset(context_index())


def is_known_context(url: str) -> bool:
    return url in context_index()


@cache
def _load(file_name: str) -> dict[str, Any]:
    text = resources.files(_PACKAGE).joinpath("contexts", file_name).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_context(url: str) -> dict[str, Any]:
    """The bundled context document for ``url``.

    Raises ContextNotAllowedError for any URL that is not bundled (never fetched).
    """
    file_name = context_index().get(url)
    if file_name is None:
        raise ContextNotAllowedError(url)
    return _load(file_name)


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """PyLD ``documentLoader``: serve bundled contexts, refuse everything else.

    PyLD wraps the raised error in a ``JsonLdError`` whose cause chain contains the
    :class:`ContextNotAllowedError`; :func:`find_refused_context` digs it out.
    """
    document = load_context(url)
    # tag "static": PyLD caches a resolved remote context across operations only when the
    # loader tags it, which makes canonicalization several times faster. Our contexts are
    # immutable bundled files, so static is exactly right.
    return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}


def find_refused_context(exc: BaseException) -> ContextNotAllowedError | None:
    """The ContextNotAllowedError somewhere in ``exc``'s cause/details chain, if any."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ContextNotAllowedError):
            return current
        if isinstance(current, BaseException):
            stack.extend([current.__cause__, current.__context__])
            stack.append(getattr(current, "cause", None))
            details = getattr(current, "details", None)
            if isinstance(details, dict):
                stack.extend(v for v in details.values() if isinstance(v, BaseException))
    return None
