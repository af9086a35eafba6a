"""Property-based run of schemathesis against /api/v1/openapi.json, in-process (WSGI): for
every operation, valid and invalid requests generated from the document, sent with a token
that holds every scope, must never get a 5xx (schemathesis' ``not_a_server_error`` check).

Path ids are mostly the real ids of a small seeded catalog, so updates, transitions and
reviews reach the services; sometimes random ones. Each operation is one test (in its own
rolled-back transaction), with a bounded number of examples per generation mode.

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

from lti_tool.web.openapi import openapi_document
from tests.support.api import Api, make_issuer, make_token

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
    return {"skill_ids": skills,
            "version_ids": [draft["id"], in_review["id"]],
            "credential_ids": [draft["credential_id"], in_review["credential_id"]]}


def load_schema(app, ids: dict[str, list[int]]):
    config = SchemathesisConfig.from_dict({
        "generation": {"max-examples": MAX_EXAMPLES, "with-security-parameters": False},
        "dictionaries": {name: {"values": [str(i) for i in values]}
                         for name, values in ids.items()},
        "parameters": {
            "path.skill_id": {"dictionary": "skill_ids", "probability": 0.8},
            "path.credential_id": {"dictionary": "credential_ids", "probability": 0.8},
            "path.version_id": {"dictionary": "version_ids", "probability": 0.8},
            "path.other_id": {"dictionary": "version_ids", "probability": 0.8},
        },
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def test_the_document_is_valid_openapi_3_0(client):
    from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

    document = client.get("/api/v1/openapi.json").get_json()
    errors = [str(e) for e in OPENAPI_30_VALIDATOR.iter_errors(document)]
    assert errors == []
    assert len(OPERATIONS) == 22


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_makes_the_api_fail(app, client, db, label):
    token = make_token(db, make_issuer(db, "fuzz-college"))
    ids = seed_catalog(Api(client, token))
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
