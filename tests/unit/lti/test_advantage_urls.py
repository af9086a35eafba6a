"""The URL and message rules of the LTI Advantage services, as platforms send them: score URLs
built from line-item URLs that carry a query string (Moodle's ``?type_id=``), NRPS paging
links, members with short or full roles and without names, the AGS claim."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from lti_tool.domain.advantage import (
    AgsEndpoint,
    LineItemSpec,
    MemberStatus,
    find_lineitem,
    member_from_json,
    members_of_page,
    next_page_url,
    same_origin,
    score_body,
    with_query,
)
from lti_tool.domain.tracking import pseudonym
from lti_tool.lti.advantage import scores_url
from tests.support.advantage import captured

MOODLE_LINEITEM = "http://127.0.0.1:8088/mod/lti/services.php/2/lineitems/2/lineitem?type_id=1"


# -- scores URL --------------------------------------------------------------------------------
@pytest.mark.parametrize(("lineitem", "expected"), [
    # Moodle 5.0.6 (captured): the query string stays after the new path segment.
    (MOODLE_LINEITEM,
     "http://127.0.0.1:8088/mod/lti/services.php/2/lineitems/2/lineitem/scores?type_id=1"),
    # Canvas: no query string.
    ("https://canvas.test/api/lti/courses/7/line_items/12",
     "https://canvas.test/api/lti/courses/7/line_items/12/scores"),
    # A trailing slash is not doubled.
    ("https://lms.test/lineitems/12/", "https://lms.test/lineitems/12/scores"),
    ("https://lms.test/lineitems/12/?type_id=3", "https://lms.test/lineitems/12/scores?type_id=3"),
    # Several parameters, kept in order and unencoded as they were.
    ("https://lms.test/li/9?type_id=1&course=4&x=a%2Fb",
     "https://lms.test/li/9/scores?type_id=1&course=4&x=a%2Fb"),
    # A port, and a fragment (dropped: it is never sent to a server anyway).
    ("https://lms.test:8443/li/9?a=1#frag", "https://lms.test:8443/li/9/scores?a=1"),
])
def test_scores_url_appends_to_the_path_before_any_query(lineitem: str, expected: str):
    assert scores_url(lineitem) == expected


def test_scores_url_differs_from_naive_concatenation_on_moodle_urls():
    # What a naive "+ '/scores'" would send to Moodle: a type_id of "1/scores".
    assert scores_url(MOODLE_LINEITEM) != MOODLE_LINEITEM + "/scores"
    assert scores_url(MOODLE_LINEITEM).endswith("/lineitem/scores?type_id=1")


@pytest.mark.parametrize("bad", ["", "/relative/lineitem", "ftp://lms.test/li/1", "lineitem"])
def test_scores_url_refuses_what_is_not_an_absolute_http_url(bad: str):
    with pytest.raises(ValueError):
        scores_url(bad)


def test_the_captured_moodle_score_post_target_is_what_we_build():
    data = captured()
    item = data["ags_lineitems"]["body"][0]["id"]
    result = data["ags_results"]["body"][0]["id"]
    # Moodle's own results URL shows its rule: the segment goes into the path.
    assert result.startswith(item.split("?")[0] + "/results?type_id=1")
    assert scores_url(item) == item.split("?")[0] + "/scores?type_id=1"


def test_with_query_keeps_moodles_type_id():
    assert with_query("https://lms.test/lineitems?type_id=1", {"resource_id": "microcred-PY 1"}) \
        == "https://lms.test/lineitems?type_id=1&resource_id=microcred-PY+1"
    assert with_query("https://lms.test/lineitems?resource_id=old&a=1",
                      {"resource_id": "new"}) == "https://lms.test/lineitems?a=1&resource_id=new"


# -- paging --------------------------------------------------------------------------------------
def test_next_link_among_several_relations_keeps_its_case():
    header = ('<https://canvas.test/api/lti/courses/1/names_and_roles?page=bookmark:WzEsIjEiXQ'
              '&per_page=10>; rel="next", <https://canvas.test/api/lti/courses/1/names_and_roles'
              '?page=first&per_page=10>; rel="first", <https://canvas.test/x?page=9>; rel="last"')
    assert next_page_url(header, "https://canvas.test/api/lti/courses/1/names_and_roles") == (
        "https://canvas.test/api/lti/courses/1/names_and_roles?page=bookmark:WzEsIjEiXQ"
        "&per_page=10")


@pytest.mark.parametrize(("header", "expected"), [
    ('<https://lms.test/m?p=2>;rel=next', "https://lms.test/m?p=2"),
    ('<https://lms.test/m?p=2>; rel="prev next"', "https://lms.test/m?p=2"),
    ('<https://lms.test/m?p=2>; REL="Next"', "https://lms.test/m?p=2"),
    ('</m?p=3>; rel="next"', "https://lms.test/m?p=3"),   # relative to the current page
    ('<https://lms.test/m?p=1>; rel="first"', None),
    ('<https://lms.test/m?p=2>; rel="nextpage"', None),
    ("", None),
    (None, None),
])
def test_next_link_variants(header: str | None, expected: str | None):
    assert next_page_url(header, "https://lms.test/m?p=1") == expected


def test_same_origin():
    assert same_origin("https://lms.test/a?x=1", "https://LMS.test/b")
    assert not same_origin("https://lms.test/a", "https://evil.test/a")
    assert not same_origin("https://lms.test/a", "http://lms.test/a")
    assert not same_origin("https://lms.test/a", "https://lms.test:8443/a")


# -- members ---------------------------------------------------------------------------------
def test_moodle_members_have_short_roles_and_names():
    members = members_of_page(captured()["nrps_memberships"]["body"])
    by_sub = {m.sub: m for m in members}
    assert set(by_sub) == {"3", "4", "5"}
    assert by_sub["4"].is_learner and by_sub["5"].is_learner
    assert not by_sub["3"].is_learner            # "Instructor"
    assert by_sub["4"].name == "Sam Student" and by_sub["4"].email == "student1@example.com"
    assert by_sub["4"].status is MemberStatus.ACTIVE


def test_canvas_members_have_full_role_uris_and_may_have_no_name():
    member = member_from_json({
        "status": "Active", "user_id": "535fa085f22b4655f48cd5a36a9215f64c062838",
        "lti11_legacy_user_id": "535fa085f22b4655f48cd5a36a9215f64c062838",
        "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]})
    assert member is not None and member.is_learner
    assert (member.name, member.email, member.display_name) == ("", "", "")
    ta = member_from_json({"user_id": "t", "roles": [
        "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"]})
    assert ta is not None and not ta.is_learner


@pytest.mark.parametrize(("raw", "status"), [
    (None, MemberStatus.ACTIVE), ("Active", MemberStatus.ACTIVE),
    ("inactive", MemberStatus.INACTIVE), ("Deleted", MemberStatus.DELETED),
    ("Suspended", MemberStatus.INACTIVE),
])
def test_member_status(raw: str | None, status: MemberStatus):
    entry = {"user_id": "1", "roles": ["Learner"]}
    if raw is not None:
        entry["status"] = raw
    member = member_from_json(entry)
    assert member is not None and member.status is status


@pytest.mark.parametrize("entry", [{"roles": ["Learner"]}, {"user_id": "", "roles": []},
                                   {"user_id": None}, "x", {"user_id": "x" * 300}])
def test_entries_without_a_usable_user_id_are_skipped(entry: object):
    assert member_from_json(entry) is None


def test_a_body_that_is_not_a_membership_container_is_refused():
    with pytest.raises(ValueError):
        members_of_page({"context": {}})
    with pytest.raises(ValueError):
        members_of_page([])


# -- AGS claim, line item, score --------------------------------------------------------------
def test_ags_claim_from_the_moodle_launch():
    claim = {"lineitem": MOODLE_LINEITEM,
             "lineitems": "http://127.0.0.1:8088/mod/lti/services.php/2/lineitems?type_id=1",
             "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                       "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                       "https://example.test/not-an-ags-scope"]}
    endpoint = AgsEndpoint.from_claim(claim)
    assert endpoint is not None
    assert endpoint.can_create_lineitems and endpoint.can_read_lineitems
    assert endpoint.can_post_scores
    assert "https://example.test/not-an-ags-scope" not in endpoint.scopes
    assert AgsEndpoint.from_claim(endpoint.as_json()) == endpoint


@pytest.mark.parametrize("claim", [None, {}, {"lineitems": "/relative"}, {"lineitems": 3},
                                   "https://lms.test/lineitems"])
def test_unusable_ags_claims(claim: object):
    assert AgsEndpoint.from_claim(claim) is None


def test_read_only_scopes_cannot_create_or_score():
    endpoint = AgsEndpoint.from_claim({
        "lineitems": "https://lms.test/li",
        "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"]})
    assert endpoint is not None and endpoint.can_read_lineitems
    assert not endpoint.can_create_lineitems and not endpoint.can_post_scores


def test_our_line_item_is_found_by_resource_id_only():
    ours = LineItemSpec.for_credential("PYF", "Python Programming Fundamentals")
    assert ours.as_json() == {"label": "MicroCred credential earned (not a grade): Python "
                                       "Programming Fundamentals",
                              "scoreMaximum": 1, "resourceId": "microcred-PYF",
                              "tag": "microcred"}
    items = [*captured()["ags_lineitems"]["body"],
             {"id": "https://lms.test/li/5", "label": "Credential earned: Python Programming "
              "Fundamentals", "resourceId": "", "tag": "microcred"},      # not ours
             {"id": "https://lms.test/li/6", "resourceId": "microcred-PYF"}]
    assert find_lineitem(items, "microcred-PYF") == "https://lms.test/li/6"
    assert find_lineitem(items[:2], "microcred-PYF") is None


def test_score_body_is_complete_and_fully_graded():
    at = datetime(2026, 11, 28, 11, 23, 21, 430000, tzinfo=timezone(timedelta(hours=-5)))
    body = score_body("4", at=at, comment="Credential earned: X")
    assert body == {"userId": "4", "scoreGiven": 1, "scoreMaximum": 1,
                    "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                    "timestamp": "2026-11-28T16:23:21.430+00:00",
                    "comment": "Credential earned: X"}
    # The shape Moodle accepted in the captured score POST.
    sent = captured()["ags_score_post"]["sent"]
    assert set(body) == set(sent)
    with pytest.raises(ValueError):
        score_body("4", at=datetime(2026, 1, 1))
    assert score_body("4", at=datetime.now(UTC))["timestamp"].endswith("+00:00")


# -- pseudonyms ---------------------------------------------------------------------------------
def test_pseudonyms_are_stable_distinct_and_not_sequential_looking():
    labels = [pseudonym(i) for i in range(1, 5001)]
    assert len(set(labels)) == len(labels)
    assert labels[0] == pseudonym(1)
    assert all(label.startswith("Learner ") and len(label) == len("Learner 4F2A")
               for label in labels)
    # Consecutive accounts do not share a prefix that would give their order away.
    assert sum(a[:-1] == b[:-1] for a, b in itertools.pairwise(labels)) < 50
    assert pseudonym(2**20 + 5) != pseudonym(5)
    with pytest.raises(ValueError):
        pseudonym(-1)
