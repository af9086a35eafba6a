"""The bundled contexts and schemas ship with the package and are the conformance copies."""

from __future__ import annotations

import json

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
def test_bundled_contexts_are_identical_to_the_conformance_copies() -> None:
    upstream = json.loads((CONFORMANCE / "contexts" / "index.json").read_text())
    for url, file_name in upstream.items():
        assert contexts.load_context(url) == json.loads(
            (CONFORMANCE / "contexts" / file_name).read_text()), url
    assert set(upstream) | {contexts.MICROCRED_V1} == contexts.known_context_urls()


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
