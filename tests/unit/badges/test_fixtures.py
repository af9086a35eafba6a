"""Our verifier against the 1EdTech validator fixtures: the expected outcome of every
fixture in shared/conformance/fixtures/README.md that can be reproduced offline.

Each row: fixture, expected result (valid / warning / invalid), and the step that must
carry the error (the validator probe's counterpart) for invalid ones. Fixtures whose
expected outcome depends on the network, or on features we do not implement, are listed
in SKIPPED with the reason, so the gap stays visible.

One deliberate difference: the validator trusts a key written into the credential (the
``[controller]#[publicKeyMultibase]`` fragment, a VC-JWT ``jwk`` header). We check the
signature with it but require the key to be shown to be the issuer's (issue 8). The table
is run with ``published_by_fixture_issuers``, a stand-in for the example issuers
publishing the keys their credentials name; BINDING_REFUSED lists the fixtures that stay
invalid even so (a did:key signature on a credential naming an https issuer; JWTs whose
key is only in their header), and ``test_without_published_keys_...`` shows what an
unknown issuer's credentials get.
"""

from __future__ import annotations

import pytest

from lti_tool.badges.binding import IssuerKey
from lti_tool.badges.errors import BadgeError
from lti_tool.badges.multikey import decode_multikey
from lti_tool.badges.verify import verify

from .conftest import FIXTURES, NOW, needs_conformance, offline_status_resolver

pytestmark = needs_conformance

# (fixture, expected result, step that must be the error, validator probe it mirrors)
EXPECTED: list[tuple[str, str, str | None, str]] = [
    ("ob30/simple.json", "valid", None, "assertValid"),
    ("ob30/simple.1ob", "valid", None, "assertValid"),
    ("ob30/simple-context-alias.json", "valid", None, "assertValid"),
    ("ob30/simple-context-version.json", "warning", None, "ContextPropertyProbe warning"),
    ("ob30/simple-did-key-method.json", "valid", None, "assertValid"),
    ("ob30/simple-multiple-proofs.json", "invalid", "json-ld", "JsonLDValidationProbe"),
    ("ob30/simple_v1.json", "warning", None, "assertWarning"),
    ("ob30/simple-eddsa-2022.json", "warning", None, "assertWarning"),
    ("ob30/simple-json.png", "valid", None, "assertValid"),
    ("ob30/simple-jwt.png", "valid", None, "assertValid"),
    ("ob30/simple-jwt_v1.png", "warning", None, "assertWarning"),
    ("ob30/simple-json.svg", "valid", None, "assertValid"),
    ("ob30/simple-jwt.svg", "valid", None, "assertValid"),
    ("ob30/simple-jwt_v1.svg", "warning", None, "assertWarning"),
    ("ob30/velocity.jwt", "invalid", "context", "assertInvalid (missing extension context)"),
    ("ob30/simple-noproof.json", "invalid", "proof", "untested; no proof"),
    ("ob30/simple-err-type.json", "invalid", "type", "TypePropertyProbe"),
    ("ob30/simple-err-context.json", "invalid", "context", "ContextPropertyProbe"),
    ("ob30/simple-err-issuer.json", "invalid", "schema", "JsonSchemaProbe"),
    ("ob30/simple-err-expired.json", "invalid", "validity", "ExpirationProbe"),
    ("ob30/simple-err-issued.json", "invalid", "validity", "IssuanceProbe"),
    ("ob30/simple-err-proof-method.json", "invalid", "proof", "EmbeddedProofProbe"),
    ("ob30/simple-err-proof-method-no-scheme.json", "invalid", "proof", "EmbeddedProofProbe"),
    ("ob30/simple-err-proof-method-unknown-scheme.json", "invalid", "proof",
     "EmbeddedProofProbe"),
    ("ob30/simple-err-proof-method-unknown-did-method.json", "invalid", "proof",
     "EmbeddedProofProbe"),
    ("ob30/simple-err-proof-value.json", "invalid", "proof", "EmbeddedProofProbe"),
    ("ob30/simple-err-credential-subject-type.json", "invalid", "credentialSubject",
     "CredentialSubjectProbe"),
    ("ob30/simple-err-credential-subject-identifier-type.json", "invalid", "credentialSubject",
     "CredentialSubjectProbe"),
    ("ob30/simple-err-credential-subject-result-type.json", "invalid", "credentialSubject",
     "CredentialSubjectProbe"),
    ("ob30/simple-err-credential-subject-achievement-result-description-type.json", "invalid",
     "credentialSubject", "CredentialSubjectProbe"),
    ("ob30/simple-err-credential-subject-profile-type.json", "invalid", "credentialSubject",
     "CredentialSubjectProbe"),
    ("ob30/simple-err-evidence-type.json", "invalid", "evidence", "EvidenceProbe"),
    ("ob30/simple-err-issuer-type.json", "invalid", "issuer", "IssuerProbe"),
    ("ob30/simple-err-issuer-parentorg-type.json", "invalid", "issuer", "IssuerProbe"),
    ("ob30/simple-err-issuer-otheridentifier-type.json", "invalid", "issuer", "IssuerProbe"),
    ("ob30/endorsement-valid.json", "valid", None, "assertValid"),
    ("ob30/bit-string-list/testlist", "valid", None, "assertValid"),
    ("ob30/bit-string-list/credential-status-revoked.json", "invalid", "status",
     "BitstringStatusListProbe"),
    ("ob30/bit-string-list/credential-status-revoked-blank-nodes.json", "invalid", "status",
     "BitstringStatusListProbe"),
    ("ob30/sd/derivedcredential.json", "valid", None, "assertValid (ecdsa-sd-2023 derived)"),
    ("clr20/simple.json", "valid", None, "assertValid"),
    ("clr20/simple_v1.json", "warning", None, "assertWarning"),
    ("clr20/simple-noproof.json", "invalid", "context", "untested; draft context, no proof"),
    # Outcome reproduced, reason differs: the validator's reason needs the network.
    ("ob30/complete.json", "invalid", "endorsements",
     "InlineJsonSchemaProbe (404s); offline the embedded endorsements' placeholder proofs fail"),
    ("ob30/endorsement-err-schema-status-refresh.json", "invalid", "proof",
     "CredentialParseProbe (refresh URL); offline its signature does not verify"),
]

SKIPPED: dict[str, str] = {
    "ob30/simple-did-web-method.json": "validator test @Disabled; needs did:web (network)",
    "ob30/credential-status-revoked.json": "revocation comes from a remote "
                                           "1EdTechRevocationList and a did:web key (network)",
    "ob30/complete_v1.json": "expected failure is a 404 on remote schemas; VCDM 1.1 "
                             "'any' schemas unavailable",
    "ob30/simple.jwt": "extract-only in the validator (key not resolvable, old beta context)",
    "clr20/complex.json": "validator test commented out: embedded issuers need the network",
    "clr20/simple.jwt": "validator test @Disabled: draft CLR context is unavailable",
    "clr20/simple_old_safesigned.json": "untested upstream; draft CLR context is unavailable",
}


#: Valid for the validator, invalid here: the key is not the issuer's, whoever publishes it
#: (fixture: (step that says so, why)).
BINDING_REFUSED: dict[str, tuple[str, str]] = {
    "ob30/simple-did-key-method.json": ("issuer-key", "a did:key signed a credential naming "
                                                      "an https issuer"),
    "ob30/simple-jwt.png": ("issuer-key", "the JWT's key is only in its own jwk header"),
    "ob30/simple-jwt_v1.png": ("issuer-key", "the JWT's key is only in its own jwk header"),
    "ob30/simple-jwt.svg": ("issuer-key", "the JWT's key is only in its own jwk header"),
    "ob30/simple-jwt_v1.svg": ("issuer-key", "the JWT's key is only in its own jwk header"),
    "clr20/simple_v1.json": ("credentials", "the record's credentials are signed by a did:key "
                                            "that is not their issuer"),
}


def published_by_fixture_issuers(vm: str) -> IssuerKey | None:
    """As if each example issuer published, in its profile, the key its fixtures name
    (``https://example.com/issuers/876543#z6Mk...`` controlled by the URL before ``#``)."""
    base, _, fragment = vm.partition("#")
    if not vm.startswith(("https://", "http://", "urn:")) or not fragment.startswith("z"):
        return None
    try:
        key = decode_multikey(fragment)
    except BadgeError:
        return None
    return IssuerKey(key, base, f"published by {base} (test stand-in)")


@pytest.mark.parametrize(("fixture", "expected", "error_step", "probe"), EXPECTED,
                         ids=[row[0] for row in EXPECTED])
def test_fixture_outcome(fixture: str, expected: str, error_step: str | None,
                         probe: str) -> None:
    report = verify((FIXTURES / fixture).read_bytes(), now=NOW,
                    key_resolver=published_by_fixture_issuers,
                    status_resolver=offline_status_resolver)
    if fixture in BINDING_REFUSED:
        step, _why = BINDING_REFUSED[fixture]
        assert report.result == "invalid", report.steps
        assert report.reason.startswith(f"{step}:"), report.reason
        assert "not the issuer" in report.reason or "not shown to be" in report.reason \
            or "not to the issuer" in report.reason
        assert report.step("proof").status in ("ok", "warn")  # the signature itself holds
        return
    assert report.result == expected, (probe, report.reason, report.steps)
    if error_step is not None:
        failing = [s.name for s in report.errors()]
        assert error_step in failing, (probe, report.steps)
        assert report.reason.startswith(f"{error_step}:"), report.reason


EXACTLY_ONE_ERROR = [
    "ob30/simple-multiple-proofs.json",
    "ob30/simple-err-proof-method.json",
    "ob30/simple-err-proof-method-no-scheme.json",
    "ob30/simple-err-proof-method-unknown-scheme.json",
    "ob30/simple-err-proof-method-unknown-did-method.json",
    "ob30/simple-err-proof-value.json",
    "ob30/bit-string-list/credential-status-revoked.json",
]


@pytest.mark.parametrize("fixture", EXACTLY_ONE_ERROR)
def test_fixtures_the_validator_expects_exactly_one_error_from(fixture: str) -> None:
    report = verify((FIXTURES / fixture).read_bytes(), now=NOW,
                    key_resolver=published_by_fixture_issuers,
                    status_resolver=offline_status_resolver)
    assert len(report.errors()) == 1, report.steps


VALID_FOR_THE_VALIDATOR = sorted(row[0] for row in EXPECTED
                                 if row[1] in ("valid", "warning")
                                 and row[0] not in BINDING_REFUSED)


@pytest.mark.parametrize("fixture", VALID_FOR_THE_VALIDATOR)
def test_without_published_keys_a_signature_alone_proves_nothing(fixture: str) -> None:
    """Offline, nobody vouches for the example issuers' keys: the signature still checks,
    but only credentials of did:key issuers (signed by that did:key) stay valid."""
    report = verify((FIXTURES / fixture).read_bytes(), now=NOW,
                    status_resolver=offline_status_resolver)
    issuer = report.credential.get("issuer") if report.credential else None
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if isinstance(issuer_id, str) and issuer_id.startswith("did:key:"):
        assert report.result in ("valid", "warning"), report.reason
        return
    assert report.result == "invalid"
    assert report.reason.startswith("issuer-key:") and "not shown to be" in report.reason
    assert report.step("proof").status in ("ok", "warn")


def test_revoked_fixture_sets_the_revoked_flag() -> None:
    report = verify((FIXTURES / "ob30/bit-string-list/credential-status-revoked.json")
                    .read_bytes(), now=NOW, key_resolver=published_by_fixture_issuers,
                    status_resolver=offline_status_resolver)
    assert report.revoked
    assert "revoked" in report.reason


def test_expired_and_not_yet_valid_flags() -> None:
    expired = verify((FIXTURES / "ob30/simple-err-expired.json").read_bytes(), now=NOW,
                     key_resolver=published_by_fixture_issuers)
    future = verify((FIXTURES / "ob30/simple-err-issued.json").read_bytes(), now=NOW,
                    key_resolver=published_by_fixture_issuers)
    assert expired.expired and not expired.not_yet_valid
    assert future.not_yet_valid
    assert future.reason.startswith("validity: not yet valid")


def test_simple_err_issued_becomes_valid_in_time_only_for_the_dates() -> None:
    """The clock is injectable: in 2045 the 2040 validFrom has passed."""
    from datetime import UTC, datetime

    later = verify((FIXTURES / "ob30/simple-err-issued.json").read_bytes(),
                   now=datetime(2045, 1, 1, tzinfo=UTC), key_resolver=published_by_fixture_issuers)
    assert later.step("validity").status == "ok"


@pytest.mark.parametrize("fixture", sorted(SKIPPED))
def test_skipped_fixtures_still_get_a_report_without_network(fixture: str) -> None:
    """Not an outcome check (see SKIPPED for why): the verifier answers, offline, with a
    reason, and never raises."""
    report = verify((FIXTURES / fixture).read_bytes(), now=NOW,
                    status_resolver=offline_status_resolver)
    assert report.result in ("valid", "warning", "invalid")
    assert report.reason


def test_every_fixture_is_either_checked_or_listed_as_skipped() -> None:
    files = {str(p.relative_to(FIXTURES)) for p in (FIXTURES / "ob30").rglob("*") if p.is_file()}
    files |= {str(p.relative_to(FIXTURES)) for p in (FIXTURES / "clr20").rglob("*")
              if p.is_file()}
    covered = {row[0] for row in EXPECTED} | set(SKIPPED)
    assert files - covered == set()


def test_tampered_selective_disclosure_credential_is_invalid() -> None:
    import json

    derived = json.loads((FIXTURES / "ob30/sd/derivedcredential.json").read_text())
    derived["credentialSubject"]["achievement"]["name"] = "Something else"
    report = verify(json.dumps(derived), now=NOW, key_resolver=published_by_fixture_issuers)
    assert report.result == "invalid"
    assert report.reason.startswith("proof:") and "ecdsa-sd-2023" in report.reason


def test_simple_jwt_extracts_like_the_validator() -> None:
    """simple.jwt is extract-only upstream (PayloadParserTests#testJwtExtract)."""
    from lti_tool.badges.jwt_vc import decode_jwt

    decoded = decode_jwt((FIXTURES / "ob30/simple.jwt").read_text())
    assert decoded.uses_vc_claim
    assert decoded.credential["id"] == "http://example.edu/credentials/3732"
    report = verify((FIXTURES / "ob30/simple.jwt").read_bytes(), now=NOW)
    assert report.step("parse").status == "ok"
    assert "never fetched" in report.step("context").message
