"""What MicroCred issues, checked from outside by an independent verifier (issue 8).

``tests/interop/verify.mjs`` is a small Node program on Digital Bazaar's VC / Data
Integrity libraries, ``jose`` and ``ajv``. It loads ONLY the standard JSON-LD contexts
(``lti_tool/badges/contexts``, which ``tests/unit/badges/test_contexts.py`` keeps equal to
the conformance copies) and fetches keys and status lists live from a real MicroCred server,
binding every key to the credential's issuer. Real credentials are issued by the real
services, fetched over HTTP as a learner or a registrar would, and checked in every form:
JSON-LD, VC-JWT, baked PNG and SVG, the CLR learner record and the status list credential;
then a revocation, and the forgeries of the issue, which our own ``/api/v1/verify`` must
refuse too.

Needs Node (>= 18) and ``npm ci`` in ``tests/interop`` (``.ci/run`` does it). Under CI the
tests fail when that is missing; locally they are skipped with the reason.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed25519

from lti_tool.badges import eddsa, jwt_vc, ob
from lti_tool.badges.multikey import did_key_verification_method
from lti_tool.extensions import session_scope
from lti_tool.models import Award, Issuer
from lti_tool.models.base import utcnow
from lti_tool.services import issuer_keys, issuing
from lti_tool.services.tracking import Assessor
from tests.support.issuing import earn, vault_of
from tests.support.live_server import LiveServer, serve

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CONTEXTS = ROOT / "lti_tool" / "badges" / "contexts"
SCHEMAS = ROOT / "lti_tool" / "badges" / "schemas"
CREDIT = {"credit_bearing": True, "credit_value": "1.50",
          "credit_system": "College credits (1 credit = 14 hours)",
          "notional_hours": "21", "delivery_modes": ["asynchronous", "in_person"]}
REGISTRAR = Assessor(ref="account:registrar", name="Rae Registrar")


def _node() -> str:
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "Node.js is not installed (the independent verifier runs on Node >= 18)"
    elif not (HERE / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        problem = ("the independent verifier's packages are not installed: run "
                   "`npm ci --prefix tests/interop`")
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; CI must run the interop tests (.ci/run installs them)")
        pytest.skip(problem)
    assert node is not None
    return node


@dataclass
class Seeded:
    server: LiveServer
    issuer_slug: str
    issuer_name: str
    public_ids: dict[str, str]
    person_id: int
    clr: dict[str, Any]
    fetched: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.server.url + path


def independent_verify(items: list[dict[str, str]], server: LiveServer) -> dict[str, dict]:
    """Run verify.mjs on ``items`` ({"name", "form", "data"}); results by name."""
    node = _node()
    completed = subprocess.run(
        [node, str(HERE / "verify.mjs"), "--contexts", str(CONTEXTS), "--origin", server.url,
         "--schemas", str(SCHEMAS)],
        input=json.dumps({"items": items}), capture_output=True, text=True, timeout=120,
        check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = json.loads(completed.stdout)
    for url in out["fetched"]:
        assert url.startswith(server.url), url  # nothing but the tool under test
    return {r["name"]: r for r in out["results"]}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    _node()
    with serve(tmp_path_factory.mktemp("interop")) as server:
        app = server.app
        with app.app_context(), session_scope(app) as session:
            first = earn(session, email="lena@example.edu", code="PYF", **CREDIT)
            second = earn(session, campus=first.campus, course=first.course,
                          email="lena@example.edu", sub=first.learner.sub, code="SQL")
            other = earn(session, campus=first.campus, email="omar@example.edu", code="GIT")
            vault = vault_of(app)
            for earned in (first, second, other):
                issuing.issue_for_award(session, earned.award, vault=vault,
                                        base_url=server.url)
            clr = issuing.build_clr(session, first.learner.person_id, vault=vault,
                                    base_url=server.url)
            seeded = Seeded(server, first.campus.issuer.slug, first.campus.issuer.name,
                            {"first": first.award.public_id, "second": second.award.public_id,
                             "other": other.award.public_id},
                            first.learner.person_id, clr)
        yield seeded


def _get(seeded: Seeded, path: str, accept: str = "*/*") -> requests.Response:
    response = requests.get(seeded.url(path), headers={"Accept": accept}, timeout=10)
    assert response.status_code == 200, (path, response.status_code)
    return response


def _forms(seeded: Seeded, which: str) -> list[dict[str, str]]:
    """The credential ``which`` in every form MicroCred hands out, fetched over HTTP."""
    public_id = seeded.public_ids[which]
    path = f"/credentials/{public_id}"
    return [
        {"name": f"{which}.json", "form": "json",
         "data": _get(seeded, path, "application/ld+json").text},
        {"name": f"{which}.jwt", "form": "jwt",
         "data": _get(seeded, path, "application/vc+jwt").text},
        {"name": f"{which}.png", "form": "png", "data": base64.b64encode(
            _get(seeded, f"{path}/badge.png").content).decode()},
        {"name": f"{which}.svg", "form": "svg", "data": _get(seeded, f"{path}/badge.svg").text},
    ]


def test_every_form_we_issue_verifies_with_the_independent_verifier(seeded: Seeded) -> None:
    items = _forms(seeded, "first") + _forms(seeded, "other") + [
        {"name": "clr", "form": "json", "data": json.dumps(seeded.clr)},
        {"name": "status-list", "form": "json",
         "data": _get(seeded, f"/issuers/{seeded.issuer_slug}/status/1").text},
    ]
    results = independent_verify(items, seeded.server)
    assert set(results) == {i["name"] for i in items}
    for name, result in results.items():
        assert result["verified"] is True, (name, result["errors"])
        assert result["errors"] == []
        assert result["issuer"] == seeded.url(f"/issuers/{seeded.issuer_slug}"), name
    assert results["first.json"]["kind"] == "ob" and results["clr"]["kind"] == "clr"
    assert results["status-list"]["kind"] == "status-list"
    for name in ("first.json", "first.jwt", "first.png", "first.svg"):
        assert results[name]["revoked"] is False, name  # the status list was really read
    # a learner record has no status of its own; each credential in it was checked (above)
    assert results["clr"]["revoked"] is None


def test_what_we_issue_states_hours_and_delivery_in_standard_terms(seeded: Seeded) -> None:
    credential = json.loads(_get(seeded, f"/credentials/{seeded.public_ids['first']}",
                                 "application/ld+json").text)
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2",
                                      "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                                      "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]
    narrative = credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert "Notional learning hours: 21." in narrative
    assert "Delivery: Online, asynchronous; In person." in narrative
    assert credential["credentialSubject"]["achievement"]["creditsAvailable"] == 1.5


def test_after_a_revoke_the_independent_verifier_reports_revoked(seeded: Seeded) -> None:
    app = seeded.server.app
    with app.app_context(), session_scope(app) as session:
        award = session.query(Award).filter_by(public_id=seeded.public_ids["other"]).one()
        issuing.revoke(session, award, reason="Evidence was not the learner's own.",
                       by=REGISTRAR, vault=vault_of(app), base_url=seeded.server.url)
    results = independent_verify(_forms(seeded, "other") + _forms(seeded, "first")[:2],
                                 seeded.server)
    for form in ("json", "jwt", "png", "svg"):
        assert results[f"other.{form}"]["revoked"] is True, results[f"other.{form}"]
    assert results["first.json"]["revoked"] is False
    assert results["first.jwt"]["revoked"] is False


def _our_verify(seeded: Seeded, data: str | bytes) -> dict[str, Any]:
    response = requests.post(seeded.url("/api/v1/verify"), data=data, timeout=30,
                             headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def _forgeries(seeded: Seeded) -> list[dict[str, str]]:
    genuine = json.loads(_get(seeded, f"/credentials/{seeded.public_ids['first']}",
                              "application/ld+json").text)
    unsigned = eddsa.unsecured_document(genuine)
    unsigned["name"] = "Advanced Python Mastery"
    fresh = ed25519.Ed25519PrivateKey.generate()
    issuer_url = seeded.url(f"/issuers/{seeded.issuer_slug}")
    under_our_url = eddsa.sign(unsigned, fresh, ob.verification_method_id(issuer_url,
                                                                         fresh.public_key()))
    by_did_key = eddsa.sign(unsigned, fresh, did_key_verification_method(fresh.public_key()))
    jwk_only = jwt_vc.sign_jwt(unsigned, fresh)  # no kid: the key rides in the header
    tampered = copy.deepcopy(genuine)
    tampered["name"] = "Advanced Python Mastery"
    return [
        {"name": "a: our issuer URL, fresh key", "form": "json",
         "data": json.dumps(under_our_url)},
        {"name": "b: VC-JWT, key only in its jwk header", "form": "jwt", "data": jwk_only},
        {"name": "c: did:key signature naming our issuer", "form": "json",
         "data": json.dumps(by_did_key)},
        {"name": "tampered after signing", "form": "json", "data": json.dumps(tampered)},
    ]


def test_forgeries_are_refused_by_both_verifiers_with_a_clear_reason(seeded: Seeded) -> None:
    forgeries = _forgeries(seeded)
    independent = independent_verify(forgeries, seeded.server)
    for forgery in forgeries:
        assert independent[forgery["name"]]["verified"] is False, forgery["name"]
        report = _our_verify(seeded, forgery["data"])
        assert report["result"] == "invalid", (forgery["name"], report)
        if forgery["name"].startswith(("a:", "b:", "c:")):
            assert report["reason"].startswith("issuer-key:") or "publishes no such key" in \
                report["reason"], report["reason"]
    name = seeded.issuer_name
    assert f"{name} publishes no such key" in _our_verify(seeded, forgeries[0]["data"])["reason"]
    assert _our_verify(seeded, forgeries[1]["data"])["reason"].startswith(
        f"issuer-key: the signature is correct, but the key that made it is not shown to be "
        f"{name}'s: it came from the token's own header")
    assert _our_verify(seeded, forgeries[2]["data"])["reason"].startswith(
        "issuer-key: the key belongs to did:key:")
    assert _our_verify(seeded, forgeries[3]["data"])["reason"].startswith("proof:")
    independent_reasons = " ".join(independent[forgeries[2]["name"]]["errors"])
    assert "Credential issuer must match the verification method controller" in \
        independent_reasons


def test_a_revoked_issuer_key_stops_counting_and_the_reissued_copy_verifies(
        seeded: Seeded) -> None:
    old_items = _forms(seeded, "second")[:2]
    app = seeded.server.app
    with app.app_context(), session_scope(app) as session:
        issuer = session.query(Issuer).filter_by(slug=seeded.issuer_slug).one()
        key = issuer_keys.active_key(session, issuer)
        assert key is not None
        issuing.revoke_issuer_key(session, issuer, key.public_multibase,
                                  compromised_since=utcnow() - timedelta(hours=2),
                                  reason="Backup drive lost", vault=vault_of(app),
                                  base_url=seeded.server.url)
        while issuing.reissue_signed_by(session, key, vault=vault_of(app),
                                        base_url=seeded.server.url):
            pass
    stale = independent_verify([{**i, "name": "stale " + i["name"]} for i in old_items],
                               seeded.server)
    fresh = independent_verify(_forms(seeded, "second"), seeded.server)
    for result in stale.values():
        assert result["verified"] is False, result
    for name, result in fresh.items():
        assert result["verified"] is True, (name, result["errors"])
    report = _our_verify(seeded, old_items[0]["data"])
    assert report["result"] == "invalid"
    assert "withdrew the key that signed this copy" in report["reason"]
    assert "(Backup drive lost)" in report["reason"]
    assert f"the valid copy is at {seeded.url('/credentials/')}" in report["reason"]


FRENCH_TEXTS = {
    "title": "Fondements de la programmation",
    "short_description": "Écrire et déboguer de petits programmes.",
    "learning_outcomes": ["Écrire un programme qui lit une entrée.",
                          "Corriger un défaut de façon méthodique."],
    "assessment_method": "Tâches pratiques observées.",
}


def test_a_french_credential_is_issued_in_french_verifies_and_reads_in_english_too(
        seeded: Seeded) -> None:
    """Issue 10's acceptance: a credential defined with French texts, issued to a learner
    whose launches are in French, states its language, verifies independently, and its
    public page (and the achievement's English edition) can be read in English."""
    app = seeded.server.app
    with app.app_context(), session_scope(app) as session:
        earned = earn(session, email="amelie@example.edu", code="PROG-FR", locale="fr-CA",
                      translations={"fr": FRENCH_TEXTS}, **CREDIT)
        issuing.issue_for_award(session, earned.award, vault=vault_of(app),
                                base_url=seeded.server.url)
        seeded.public_ids["french"] = public_id = earned.award.public_id
        english_title = earned.version.title
    credential = json.loads(_get(seeded, f"/credentials/{public_id}",
                                 "application/ld+json").text)
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["inLanguage"] == "fr-CA"
    assert credential["name"] == achievement["name"] == "Fondements de la programmation"
    assert achievement["description"] == "Écrire et déboguer de petits programmes."
    narrative = achievement["criteria"]["narrative"]
    assert "Résultats d'apprentissage :" in narrative
    assert "1. Écrire un programme qui lit une entrée." in narrative
    assert "Heures d'apprentissage théoriques : 21." in narrative
    assert "Mode de prestation : En ligne, asynchrone; En personne." in narrative
    # The English edition of the same achievement, in standard OB 3.0 terms (Related).
    assert achievement["related"] == [{
        "id": achievement["id"] + "?lang=en", "type": ["Related"], "inLanguage": "en",
        "version": achievement["version"]}]

    # The badge pictures (the achievement's, shown, and baked into the downloads) are
    # French too.
    assert achievement["image"]["id"].endswith("/badges/PROG-FR.svg?lang=fr")
    picture = _get(seeded, achievement["image"]["id"].removeprefix(seeded.server.url)).text
    assert "Fondements de la programmation" in picture and 'lang="fr-CA"' in picture
    svg = _get(seeded, f"/credentials/{public_id}/image.svg").text
    assert 'lang="fr-CA"' in svg and "MICROCERTIFICATION" in svg and "Fondements" in svg

    results = independent_verify(_forms(seeded, "french"), seeded.server)
    for name, result in results.items():
        assert result["verified"] is True, (name, result["errors"])

    english_page = _get(seeded, f"/credentials/{public_id}?lang=en", "text/html").text
    assert '<html lang="en"' in english_page and english_title in english_page
    french_page = _get(seeded, f"/credentials/{public_id}?lang=fr", "text/html").text
    assert '<html lang="fr-CA"' in french_page
    assert "Fondements de la programmation" in french_page
    edition = _get(seeded, achievement["related"][0]["id"].removeprefix(seeded.server.url),
                   "text/html").text
    assert english_title in edition
    assert '<h1 id="credential-title">Fondements de la programmation</h1>' in french_page
    assert f'<h1 id="credential-title">{english_title}</h1>' in english_page
