"""Property-based run of schemathesis against /api/v1/openapi.json, in-process (WSGI): for
every operation, valid and invalid requests generated from the document, sent with a token
that holds every scope, must never get a 5xx (schemathesis' ``not_a_server_error`` check).

Path ids are mostly the real ids of a small seeded catalog (and, for the demonstration
and award operations, of a seeded course with an award), so updates, transitions, reviews
and award reads reach the services; sometimes random ones. Each operation is one test (in
its own rolled-back transaction), with a bounded number of examples per generation mode.

schemathesis' own pytest integration (``@schema.parametrize`` on a lazily loaded schema)
relies on pytest internals that pytest 9 removed, so the operations are listed from the
document and driven with Hypothesis directly through schemathesis' public strategies."""

from __future__ import annotations

import os
from collections import Counter

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from lti_tool.services.demonstration_import import import_demonstrations_csv
from lti_tool.web.api.openapi import openapi_document
from tests.conftest import register_platform
from tests.support.api import ALL_SCOPES, Api, make_issuer, make_token
from tests.support.demonstrations import (
    INSTRUCTOR,
    add_learners,
    awards_of,
    csv_text,
    make_course,
)
from tests.support.platform import TestPlatform

# Deeper, randomised runs: SCHEMATHESIS_MAX_EXAMPLES=500 pytest <this file>
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
DERANDOMIZE = "SCHEMATHESIS_MAX_EXAMPLES" not in os.environ
OPERATIONS = sorted(f"{method.upper()} {path}"
                    for path, item in openapi_document("http://localhost")["paths"].items()
                    for method in item)


def seed_catalog(api: Api) -> dict[str, list[int]]:
    skills = [api.create_skill(f"st.{i}", tags=["seed"])["id"] for i in range(3)]
    draft = api.create_credential("st.draft", ["st.0"])
    in_review = api.create_credential("st.review", ["st.1"])
    assert api.act(in_review["id"], "submit").status_code == 200
    pathway = api.post("/api/v1/pathways", json={
        "code": "st.path", "title": "Seed pathway",
        "target": {"external": {"name": "A certificate program"}},
        "groups": [{"key": "g", "title": "Core", "rule": "choose", "minimum": "1",
                    "steps": [{"credential": "st.draft"}, {"credential": "st.review"}]}]})
    assert pathway.status_code == 201, pathway.get_json()
    return {"skill_ids": skills,
            "version_ids": [draft["id"], in_review["id"], pathway.get_json()["id"]],
            "credential_ids": [draft["credential_id"], in_review["credential_id"]],
            "pathway_ids": [pathway.get_json()["pathway_id"]]}


def seed_tracking(db, transport, issuer) -> dict[str, list]:
    """A course of the fuzzing issuer with an offering, learners and one award, so that
    demonstrations, imports and awards reach the services."""
    test_platform = TestPlatform(issuer="https://moodle.fuzz.test", client_id="fuzz")
    register_platform(db, test_platform, transport, name="Fuzz Moodle")
    course = make_course(db, test_platform, issuer=issuer,
                         credentials=[("FZ", ("fz.1", "fz.2"))])
    learners = add_learners(db, course, 3, prefix="fz")
    import_demonstrations_csv(db, context=course.context, assessor=INSTRUCTOR, text=csv_text(
        [[learners[0].sub, code, "pass", "2025-01-01", ""] for code in ("fz.1", "fz.2")]))
    db.commit()
    award = awards_of(db, learners[0].person_id)[0]
    return {"offering_ids": [course.offering_id], "award_ids": [award.id, award.public_id],
            "course_ids": [course.context.id], "person_ids": [learners[0].person_id]}


def load_schema(app, ids: dict[str, list[int]]):
    config = SchemathesisConfig.from_dict({
        "generation": {"max-examples": MAX_EXAMPLES, "with-security-parameters": False},
        "dictionaries": {name: {"values": [str(i) for i in values]}
                         for name, values in ids.items()},
        "parameters": {
            "path.skill_id": {"dictionary": "skill_ids", "probability": 0.8},
            "path.credential_id": {"dictionary": "credential_ids", "probability": 0.8},
            "path.version_id": {"dictionary": "version_ids", "probability": 0.8},
            "path.pathway_id": {"dictionary": "pathway_ids", "probability": 0.8},
            "path.other_id": {"dictionary": "version_ids", "probability": 0.8},
            "path.award_id": {"dictionary": "award_ids", "probability": 0.8},
            "query.offering_id": {"dictionary": "offering_ids", "probability": 0.8},
            "path.offering_id": {"dictionary": "offering_ids", "probability": 0.8},
            "path.course_id": {"dictionary": "course_ids", "probability": 0.8},
            "query.course_id": {"dictionary": "course_ids", "probability": 0.8},
            "query.person_id": {"dictionary": "person_ids", "probability": 0.5},
        },
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def test_the_document_is_valid_openapi_3_0(client):
    from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

    document = client.get("/api/v1/openapi.json").get_json()
    errors = [str(e) for e in OPENAPI_30_VALIDATOR.iter_errors(document)]
    assert errors == []
    # 29 + POST /api/v1/verify + the courses, roster, offerings and demonstration reads
    # + the registrar's record (GET /api/v1/records/awards) + 10 for pathways
    assert len(OPERATIONS) == 47


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_makes_the_api_fail(app, client, db, transport, label):
    issuer = make_issuer(db, "fuzz-college")
    token = make_token(db, issuer, (*ALL_SCOPES, "demonstrations:write", "awards:read",
                                    "courses:read", "offerings:write", "records:read"))
    ids = seed_catalog(Api(client, token))
    if any(part in label for part in ("/demonstrations", "/awards", "/courses",
                                      "/offerings", "/records",
                                      "/learners/{person_id}/pathways")):
        ids.update(seed_tracking(db, transport, issuer))
    else:
        ids.update({"offering_ids": [1], "award_ids": [1], "course_ids": [1],
                    "person_ids": [1]})
    operation = load_schema(app, ids).find_operation_by_label(label)
    assert operation is not None, label
    headers = {"Authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=DERANDOMIZE,
                             database=None, suppress_health_check=list(hypothesis.HealthCheck),
                             phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate,
                                     hypothesis.Phase.shrink])
        def run(case) -> None:
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses[response.status_code] += 1

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            # No invalid request can be written for this operation (e.g. its only input is
            # a free-form header); the positive run covered it.
            assert mode is GenerationMode.NEGATIVE, label
    assert statuses, label
    assert max(statuses) < 500, statuses
