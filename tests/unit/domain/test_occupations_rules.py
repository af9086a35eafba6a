"""Occupation coverage as pure rules: which skills cover a required skill (linked or
aligned, each once), which credentials teach it (published first-class, drafts apart),
statuses, the summary, and a learner's outlook ranking."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from lti_tool.domain.occupations import (
    CatalogIndex,
    CredentialRef,
    OccupationInputSchema,
    PathwayRef,
    Requirement,
    RequirementStatus,
    SkillRef,
    coverage,
    outlook,
    summarize,
)

URL = "http://data.europa.eu/esco/skill/"
SKILLS = [SkillRef(1, "PY", "Python", frozenset({URL + "py"})),
          SkillRef(2, "PY2", "Python again", frozenset({URL + "py"})),
          SkillRef(3, "GIT", "Git", frozenset())]
CREDENTIALS = [
    CredentialRef(10, "B", "Beta", 2, "published", frozenset({1}), frozenset()),
    CredentialRef(11, "A", "Alpha", 1, "published", frozenset(), frozenset({2})),
    CredentialRef(12, "D", "Draft one", 1, "draft", frozenset({3}), frozenset()),
]


def req(rid, skill_id=None, url="", importance="essential"):
    return Requirement(rid, f"R{rid}", importance, skill_id, url)


def test_linked_skill_first_then_aligned_ones_each_once():
    index = CatalogIndex(SKILLS, CREDENTIALS)
    found = index.covering_skills(req(1, skill_id=2, url=URL + "py"))
    assert [(c.skill.code, c.via) for c in found] == [("PY2", "link"), ("PY", "alignment")]
    assert index.covering_skills(req(2, url=" " + URL + "py ")) != ()
    assert index.covering_skills(req(3, skill_id=999)) == ()  # a deleted skill's id


def test_statuses_credentials_in_title_order_and_pathways():
    paths = [PathwayRef(1, "Applied Python", "/p/1", frozenset({11})),
             PathwayRef(2, "Drafty", "/p/2", frozenset({12}))]
    items = coverage([req(1, url=URL + "py"), req(2, skill_id=3), req(3, url=URL + "none")],
                     SKILLS, CREDENTIALS, paths)
    python, git, nothing = items
    assert [c.code for c in python.credentials] == ["A", "B"]  # Alpha before Beta
    assert python.status == RequirementStatus.COVERED
    assert [p.title for p in python.pathways] == ["Applied Python"]
    assert git.status == RequirementStatus.SKILL_ONLY
    assert [c.code for c in git.in_development] == ["D"] and git.pathways == ()
    assert nothing.status == RequirementStatus.GAP
    summary = summarize(items)
    assert (summary.essential_covered, summary.essential_total, summary.gaps) == (1, 3, 2)
    assert summary.credential_ids == frozenset({10, 11})


def test_outlook_ranks_by_share_of_essential_skills_met():
    index = CatalogIndex(SKILLS, CREDENTIALS)
    occupations = {
        1: coverage([req(1, skill_id=1), req(2, skill_id=3), req(3)], index),   # 1 of 3
        2: coverage([req(4, skill_id=1), req(5, importance="optional")], index),  # 1 of 1
        3: coverage([req(6, skill_id=3)], index),                                 # none
        4: coverage([req(7, skill_id=1, importance="optional")], index),  # no essential
    }
    ranked = outlook(occupations, demonstrated={1})
    assert [o.occupation_id for o in ranked] == [2, 4, 1]
    assert ranked[0].share == 1.0 and ranked[1].share == 1.0 and ranked[2].essential_met == 1
    assert [m.requirement.id for m in ranked[2].missing] == [2, 3]
    assert outlook(occupations, demonstrated=set()) == []


@pytest.mark.parametrize(("data", "field"), [
    ({"code": "X", "title": "T"}, "source"),
    ({"code": "X", "title": "T", "noc_code": "123456"}, "noc_code"),
    ({"code": "X", "title": "T", "esco_uri": "https://example.org/x"}, "esco_uri"),
    ({"code": "X", "title": "T", "source": "s", "skills": [{"name": "a"}, {"name": "A"}]},
     "skills"),
    ({"code": "X", "title": "T\x07", "source": "s"}, "title"),
])
def test_input_refusals(data, field):
    with pytest.raises(ValidationError) as caught:
        OccupationInputSchema().load(data)
    assert field in caught.value.messages


def test_input_defaults():
    loaded = OccupationInputSchema().load({
        "code": "NOC-33102", "title": " Nurse aides ", "noc_code": "33102",
        "esco_uri": "http://data.europa.eu/esco/occupation/abc",
        "skills": [{"name": "Lifting"}]})
    assert loaded["title"] == "Nurse aides"
    assert loaded["skills"] == [{"name": "Lifting", "name_fr": "", "importance": "essential",
                                 "skill": "", "framework_url": ""}]
