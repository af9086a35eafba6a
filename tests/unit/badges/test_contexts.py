"""The bundled contexts and schemas ship with the package and are the conformance copies."""

from __future__ import annotations

import json
from pathlib import Path

from lti_tool.badges import contexts, schemas

from .conftest import CONFORMANCE, needs_conformance


def test_every_indexed_context_loads() -> None:
    for url in contexts.known_context_urls():
        assert "@context" in contexts.load_context(url)


def test_vcdm11_aliases_are_bundled() -> None:
    assert contexts.known_context_urls() >= contexts.VCDM11_ALIASES
    assert contexts.load_context(
        "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld") \
        == contexts.load_context("https://purl.imsglobal.org/spec/ob/v3p0/context.json")


@needs_conformance
def test_bundled_contexts_are_exactly_the_standard_ones_byte_for_byte() -> None:
    """Only standard contexts, no MicroCred vocabulary: what we can load, a verifier that
    trusts only the standard contexts can load too (the interop verifier loads this very
    folder, so this test is what ties it to the conformance copies)."""
    upstream = json.loads((CONFORMANCE / "contexts" / "index.json").read_text())
    assert set(upstream) == contexts.known_context_urls()
    bundled = Path(contexts.__file__).parent / "contexts"
    upstream_files = {p.name for p in (CONFORMANCE / "contexts").iterdir() if p.is_file()}
    assert {p.name for p in bundled.iterdir()} == upstream_files
    for name in upstream_files:
        assert (bundled / name).read_bytes() == (CONFORMANCE / "contexts" / name).read_bytes()


@needs_conformance
def test_bundled_schemas_are_the_conformance_copies() -> None:
    pairs = {
        schemas.OB_ACHIEVEMENT_CREDENTIAL: "ob30/ob_v3p0_achievementcredential_schema.json",
        schemas.OB_ACHIEVEMENT_CREDENTIAL_PLAIN:
            "ob30/plain-json-2024/ob_v3p0_achievementcredential_schema.json",
        schemas.OB_ENDORSEMENT_CREDENTIAL: "ob30/ob_v3p0_endorsementcredential_schema.json",
        schemas.CLR_CREDENTIAL: "clr20/clr_v2p0_clrcredential_schema.json",
    }
    for bundled, upstream in pairs.items():
        assert schemas.load_schema(bundled) == json.loads(
            (CONFORMANCE / "schemas" / upstream).read_text())
