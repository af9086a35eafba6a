"""A micro-credential earned by transfer, checked from outside: another institution's
OB 3.0 credential (its own did:key; its status list on a real local server) is recognised
by an approved equivalency, and the credential MicroCred then issues — which says in
standard vocabulary (``credentialSubject.source``) that it was earned by transfer —
verifies with the independent verifier (Digital Bazaar's libraries) in JSON-LD and VC-JWT.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from lti_tool.domain.catalog import LifecycleState
from lti_tool.extensions import session_scope
from lti_tool.models import Award
from lti_tool.services import issuing
from tests.interop.test_independent_verifier import _node, independent_verify
from tests.support.issuing import vault_of
from tests.support.live_server import serve
from tests.support.other_issuers import recognise_by_transfer
from tests.support.tracking_engine import Campus

EMAIL = "lena@example.edu"


def _recognise(session: Any, base_url: str, vault: Any) -> str:
    campus = Campus.create(session)
    campus.skill("DA1")
    version = campus.catalog.credential(
        "DATA", LifecycleState.PUBLISHED, required=("DA1",), title="Data Analysis",
        allowed_routes=["integrated", "transfer"], credit_bearing=True, credit_value="3",
        credit_system="College credits")
    course = campus.course("CS-T", "for-credit")
    learner = campus.learner("lena", course, email=EMAIL)
    request = recognise_by_transfer(session, issuer_id=campus.issuer.id,
                                    credential_id=version.credential_id, account=learner,
                                    email=EMAIL, base_url=base_url)
    assert request.state == "accepted", request.reason
    [award_id] = request.award_ids
    award = session.get(Award, award_id)
    issuing.issue_for_award(session, award, vault=vault, base_url=base_url)
    return str(award.public_id)


def test_a_credential_earned_by_transfer_verifies_independently(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    _node()
    with serve(tmp_path_factory.mktemp("transfer-interop")) as server:
        app = server.app
        with app.app_context(), session_scope(app) as session:
            public_id = _recognise(session, server.url, vault_of(app))
        path = f"{server.url}/credentials/{public_id}"
        json_form = requests.get(path, headers={"Accept": "application/ld+json"}, timeout=10)
        jwt_form = requests.get(path, headers={"Accept": "application/vc+jwt"}, timeout=10)
        assert json_form.status_code == 200 and jwt_form.status_code == 200
        credential = json_form.json()
        source = credential["credentialSubject"]["source"]
        assert source["type"] == ["Profile"]
        assert source["name"] == "Transfer (recognised from another institution)"
        results = independent_verify([
            {"name": "transfer.json", "form": "json", "data": json_form.text},
            {"name": "transfer.jwt", "form": "jwt", "data": jwt_form.text}], server)
        for name, result in results.items():
            assert result["verified"] is True, (name, result["errors"])
            assert result["revoked"] is False, name
