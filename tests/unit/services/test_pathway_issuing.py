"""Program credentials are Open Badges 3.0 credentials like any other: schema-valid, signed,
verifying, with the stacked awards as evidence (each its own verifiable credential) and
the route "stacked"; the learner's CLR 2.0 record states the pathway's associations
(isPartOf, precedes) and is valid against the CLR 2.0 schema from the conformance suite."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from lti_tool.badges import schemas
from lti_tool.badges.verify import verify_credential
from lti_tool.services import catalog, issuing
from tests.support.issuing import BASE, vault_of
from tests.support.pathways import published_pathway
from tests.support.tracking_engine import Campus, record


def _conformance_clr_schema() -> dict:
    root = Path(os.environ.get("MICROCRED_CONFORMANCE_DIR", "/work/shared/conformance"))
    path = root / "schemas" / "clr20" / "clr_v2p0_clrcredential_schema.json"
    if not path.is_file():
        pytest.skip(f"the CLR 2.0 conformance schema is not at {path}")
    return json.loads(path.read_text())


def test_a_program_credential_verifies_and_the_clr_carries_associations(app, db):
    campus = Campus.create(db)
    for code, skill in (("A", "SA"), ("B", "SB"), ("PROG", "SP")):
        campus.credential(code, required=(skill,))
    published_pathway(db, campus.catalog, core=("A", "B"), order=(("A", "B"),))
    course = campus.course("CE-1", "continuing-ed")
    for code in ("A", "B"):
        campus.offer(course, catalog.published_version(db, campus.issuer.id, code))
    ada = campus.learner("ada", course, email="ada@example.edu")
    first = record(db, course, ada, campus.skill("SA")).new_awards
    second = record(db, course, ada, campus.skill("SB")).new_awards
    [a_award] = first
    b_award, program = second
    vault = vault_of(app)

    credential = issuing.issue_for_award(db, program, vault=vault, base_url=BASE).json
    assert schemas.schema_errors(credential, schemas.OB_ACHIEVEMENT_CREDENTIAL) == []
    assert credential["credentialSubject"]["achievement"]["humanCode"] == "PROG"
    evidence = credential["evidence"]
    assert [e["id"] for e in evidence] == [f"{BASE}/credentials/{a_award.public_id}",
                                          f"{BASE}/credentials/{b_award.public_id}"]
    assert "a step of the pathway Pathway PATH" in evidence[0]["narrative"]
    key_resolver, status_resolver = issuing.resolvers(db, base_url=BASE)
    report = verify_credential(credential, key_resolver=key_resolver,
                               status_resolver=status_resolver)
    assert report.result == "valid", report.steps

    clr = issuing.build_clr(db, ada.person_id, vault=vault, base_url=BASE)
    subject = clr["credentialSubject"]
    ids = {a["humanCode"]: a["id"] for a in subject["achievement"]}
    assert sorted(ids) == ["A", "B", "PROG"]
    assert subject["association"] == [
        {"type": "Association", "associationType": "isPartOf", "sourceId": ids["A"],
         "targetId": ids["PROG"]},
        {"type": "Association", "associationType": "isPartOf", "sourceId": ids["B"],
         "targetId": ids["PROG"]},
        {"type": "Association", "associationType": "precedes", "sourceId": ids["A"],
         "targetId": ids["B"]},
    ]
    assert schemas.schema_errors(clr, schemas.CLR_CREDENTIAL) == []
    unsigned = {k: v for k, v in clr.items() if k != "proof"}
    jsonschema.validate(unsigned, _conformance_clr_schema())
    assert verify_credential(clr, key_resolver=key_resolver,
                             status_resolver=status_resolver).result == "valid"
