"""A program credential (issue 12: a pathway completed, route "stacked") and the learner
record with the pathway's associations, checked from outside by the independent verifier
(``verify.mjs`` on Digital Bazaar's libraries; see test_independent_verifier.py), fetched
over HTTP from a real MicroCred server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import requests

from lti_tool.extensions import session_scope
from lti_tool.services import catalog, issuing
from tests.interop.test_independent_verifier import _node, independent_verify
from tests.support.issuing import vault_of
from tests.support.live_server import serve
from tests.support.pathways import published_pathway
from tests.support.tracking_engine import Campus, record


def test_a_program_credential_and_its_learner_record_verify(tmp_path: Path) -> None:
    _node()
    with serve(tmp_path) as server:
        with server.app.app_context(), session_scope(server.app) as session:
            campus = Campus.create(session)
            for code, skill in (("A", "SA"), ("B", "SB"), ("PROG", "SP")):
                campus.credential(code, required=(skill,))
            published_pathway(session, campus.catalog, core=("A", "B"), order=(("A", "B"),))
            course = campus.course("CE-1", "continuing-ed")
            for code in ("A", "B"):
                campus.offer(course, catalog.published_version(session, campus.issuer.id,
                                                               code))
            ada = campus.learner("ada", course, email="ada@example.edu")
            record(session, course, ada, campus.skill("SA"))
            *_, program = record(session, course, ada, campus.skill("SB")).new_awards
            assert program.route == "stacked"
            vault = vault_of(server.app)
            issuing.issue_for_award(session, program, vault=vault, base_url=server.url)
            clr = issuing.build_clr(session, ada.person_id, vault=vault, base_url=server.url)
            public_id = program.public_id
        assert [a["associationType"] for a in clr["credentialSubject"]["association"]] == [
            "isPartOf", "isPartOf", "precedes"]
        path = f"{server.url}/credentials/{public_id}"

        def get(url: str, accept: str = "*/*") -> requests.Response:
            response = requests.get(url, headers={"Accept": accept}, timeout=10)
            assert response.status_code == 200, url
            return response

        items = [
            {"name": "program.json", "form": "json",
             "data": get(path, "application/ld+json").text},
            {"name": "program.jwt", "form": "jwt", "data": get(path, "application/vc+jwt").text},
            {"name": "program.png", "form": "png",
             "data": base64.b64encode(get(f"{path}/badge.png").content).decode()},
            {"name": "clr", "form": "json", "data": json.dumps(clr)},
        ]
        results = independent_verify(items, server)
        for name, result in results.items():
            assert result["verified"] is True, (name, result["errors"])
        assert results["clr"]["kind"] == "clr"
        assert results["program.json"]["revoked"] is False
        credential = json.loads(items[0]["data"])
        assert len(credential["evidence"]) == 2
        assert all(e["id"].startswith(f"{server.url}/credentials/")
                   for e in credential["evidence"])

