"""LIS role URIs (full and short forms) map to the tool's roles; the most privileged wins."""

import pytest

from lti_tool.domain.lti import AppRole, ContextKind, map_role, map_roles, primary_role

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(("uri", "expected"), [
    (LIS + "membership#Instructor", AppRole.INSTRUCTOR),
    ("Instructor", AppRole.INSTRUCTOR),
    (LIS + "membership#Learner", AppRole.LEARNER),
    ("Learner", AppRole.LEARNER),
    (LIS + "membership/Instructor#TeachingAssistant", AppRole.TEACHING_ASSISTANT),
    (LIS + "membership#TeachingAssistant", AppRole.TEACHING_ASSISTANT),
    ("TeachingAssistant", AppRole.TEACHING_ASSISTANT),
    (LIS + "institution/person#Administrator", AppRole.ADMINISTRATOR),
    (LIS + "system/person#Administrator", AppRole.ADMINISTRATOR),
    (LIS + "membership#ContentDeveloper", AppRole.INSTRUCTOR),
    (LIS + "membership/Learner#NonCreditLearner", AppRole.LEARNER),
    (LIS + "membership#Mentor", None),
    (LIS + "institution/person#Student", None),
    ("http://purl.imsglobal.org/vocab/lti/system/person#TestUser", None),
    ("", None),
])
def test_map_role(uri, expected):
    assert map_role(uri) == expected


def test_moodle_admin_is_administrator_even_with_instructor_membership():
    roles = map_roles([LIS + "institution/person#Administrator", LIS + "membership#Instructor"])
    assert primary_role(roles) is AppRole.ADMINISTRATOR


def test_moodle_fixture_learner_and_unknown_roles():
    assert primary_role(map_roles([LIS + "membership#Learner"])) is AppRole.LEARNER
    assert primary_role(map_roles(["urn:unknown", 42])) is AppRole.OTHER  # type: ignore[list-item]


@pytest.mark.parametrize(("value", "expected"), [
    ("for-credit", ContextKind.FOR_CREDIT), ("For Credit", ContextKind.FOR_CREDIT),
    ("continuing_ed", ContextKind.CONTINUING_ED), ("continuing-education",
                                                   ContextKind.CONTINUING_ED),
    ("other", ContextKind.OTHER), ("bogus", None), (None, None), (3, None),
])
def test_context_kind_parse(value, expected):
    assert ContextKind.parse(value) == expected
