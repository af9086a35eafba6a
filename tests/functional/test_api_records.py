"""The registrar's record API for student information systems: every award across routes
(a course and a transfer here) with route, credit, hours, notation and the student number;
a term by dates; what changed since a time (a revocation shows up); paging links; the
records:read scope; bad filters are 422 and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lti_tool.domain.catalog import LifecycleState
from lti_tool.services import tracking
from tests.support.api import Api, make_token
from tests.support.other_issuers import recognise_by_transfer
from tests.support.tracking_engine import TEACHER, Campus, record

EMAIL = "ada@learners.example"


@pytest.fixture()
def campus(app, db):
    return Campus.create(db)


def _awards(db, campus):
    """Ada earns DATA by transfer; Bo earns PY in a for-credit course."""
    catalog = campus.catalog
    for code in ("DA1", "PY1"):
        campus.skill(code)
    data = catalog.credential("DATA", LifecycleState.PUBLISHED, required=("DA1",),
                              allowed_routes=["transfer"], credit_bearing=True,
                              credit_value="3", credit_system="College credits",
                              notional_hours="45")
    py = catalog.credential("PY", LifecycleState.PUBLISHED, required=("PY1",),
                            allowed_routes=["integrated"])
    course = campus.course("CS-1", "for-credit")
    campus.offer(course, py)
    ada = campus.learner("ada", course, email=EMAIL, sourcedid="300111222")
    bo = campus.learner("bo", course, email="bo@learners.example")
    [py_award] = record(db, course, bo, campus.skill("PY1")).new_awards
    request = recognise_by_transfer(db, issuer_id=campus.issuer.id,
                                    credential_id=data.credential_id, account=ada, email=EMAIL)
    assert request.state == "accepted"
    db.commit()
    return py_award, ada


def test_the_record_lists_every_route_with_credit_and_notation(app, client, db, campus):
    py_award, _ada = _awards(db, campus)
    api = Api(client, make_token(db, campus.issuer, ("records:read",)))
    today = datetime.now(UTC).date().isoformat()
    response = api.get("/api/v1/records/awards", query_string={"from": today, "to": today})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == 2
    by_route = {item["route"]: item for item in body["items"]}
    transferred = by_route["transfer"]
    assert transferred["studentNumbers"] == ["300111222"]
    assert transferred["credits"] == "3" and transferred["hours"] == "45"
    assert transferred["creditBearing"] is True and transferred["course"] is None
    assert "transfert" in transferred["notation"]["fr"]
    assert by_route["integrated"]["notation"] is None  # not credit-bearing
    assert by_route["integrated"]["course"] == "Course CS-1"
    # a term that ended yesterday has none of them
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert api.get("/api/v1/records/awards",
                   query_string={"to": yesterday}).get_json()["total"] == 0
    # changes since now: none; then a revocation shows up
    since = datetime.now(UTC).isoformat()
    assert api.get("/api/v1/records/awards",
                   query_string={"changed_since": since}).get_json()["total"] == 0
    tracking.revoke_award(db, py_award, reason="Recorded for the wrong learner.", by=TEACHER)
    db.commit()
    changed = api.get("/api/v1/records/awards", query_string={"changed_since": since})
    [item] = changed.get_json()["items"]
    assert item["status"] == "revoked" and item["revokedAt"]
    # one person's, paged
    page = api.get("/api/v1/records/awards", query_string={"per_page": 1})
    assert page.get_json()["total"] == 2 and len(page.get_json()["items"]) == 1
    assert 'rel="next"' in page.headers["Link"]


def test_the_record_needs_its_scope_and_valid_filters(app, client, db, campus):
    api = Api(client, make_token(db, campus.issuer, ("awards:read",)))
    assert api.get("/api/v1/records/awards").status_code == 403
    api = Api(client, make_token(db, campus.issuer, ("records:read",)))
    assert api.get("/api/v1/records/awards",
                   query_string={"from": "2026-13-01"}).status_code == 422
    assert api.get("/api/v1/records/awards",
                   query_string={"from": "2026-05-01", "to": "2026-04-01"}).status_code == 422
    assert api.get("/api/v1/records/awards",
                   query_string={"changed_since": "2026-05-01T00:00:00"}).status_code == 422
