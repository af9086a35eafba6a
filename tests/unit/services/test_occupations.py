"""Occupations: imports (JSON and CSV) validated whole with every problem located and
nothing changed on error; coverage of an occupation's skills by catalog skills (linked or
through framework alignments), credentials and pathways; a learner's outlook from their
demonstrated skills; the bundled sample."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState, Scope
from lti_tool.domain.occupations import PathwayRef, RequirementStatus
from lti_tool.errors import Forbidden, NotFound
from lti_tool.models import AuditEvent, LearnerAccount, Occupation, OccupationSkill, Skill
from lti_tool.services import occupations as svc
from lti_tool.services import tracking
from tests.support.catalog import CatalogBuilder, actor, make_issuer, skill_data
from tests.support.demonstrations import INSTRUCTOR, add_learners, make_course

ESCO = "http://data.europa.eu/esco/skill/"


def counts(db: Session) -> dict[str, int]:
    return {m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0
            for m in (Occupation, OccupationSkill, AuditEvent)}


def occupation(code: str = "NOC-21232", **overrides):
    return {"code": code, "noc_code": code[-5:] if code[-5:].isdigit() else "",
            "title": "Software developers and programmers",
            "title_fr": "Développeurs de logiciels", "source": "NOC 2021 Version 1.0",
            "mapping_note": "Our curriculum team",
            "skills": [{"name": "Programming", "name_fr": "Programmation", "skill": "S1"},
                       {"name": "Testing", "framework_url": ESCO + "s2"},
                       {"name": "Documentation", "importance": "optional"}],
            **overrides}


@pytest.fixture()
def built(db: Session):
    builder = CatalogBuilder(db)
    builder.skills("S1", "S2", "S3")
    builder.credential("CRED", LifecycleState.PUBLISHED, required=("S1",), optional=("S3",))
    builder.credential("NEXT", LifecycleState.IN_REVIEW, required=("S2",))
    return builder


def test_json_import_creates_and_reimport_changes_nothing(db, built):
    admin = built.author
    report = svc.import_occupations(db, admin, {"occupations": [occupation()]})
    assert report.ok and report.counts["occupations_created"] == 1
    found = svc.list_occupations(db, admin)
    assert [o.code for o in found] == ["NOC-21232"]
    saved = found[0]
    assert saved.translations == {"fr": {"title": "Développeurs de logiciels"}}
    assert [r.name for r in saved.requirements] == ["Programming", "Testing", "Documentation"]
    assert saved.requirements[0].skill is not None and saved.requirements[0].skill.code == "S1"
    assert saved.requirements[0].translations == {"fr": {"name": "Programmation"}}
    before = counts(db)
    again = svc.import_occupations(db, admin, svc.export_occupations(db, admin))
    assert again.ok and again.counts == {"occupations_created": 0, "occupations_replaced": 0,
                                         "occupations_unchanged": 1}
    assert counts(db) == before


def test_problems_are_located_and_nothing_changes(db, built):
    admin = built.author
    svc.import_occupations(db, admin, {"occupations": [occupation("KEEP")]})
    before = counts(db)
    bad = [
        occupation("NOC-21232", noc_code="2123"),
        occupation("X1", skills=[{"name": "A", "skill": "NOPE"},
                                 {"name": "B", "importance": "vital"},
                                 {"name": "C", "framework_url": "javascript:alert(1)"}]),
        occupation("X2", title=""),
        occupation("X1"),
        occupation("bad code!"),
        occupation("X3", noc_code="", esco_uri="", source=""),
        occupation("X4", esco_uri="https://example.org/not-esco"),
        occupation("X5", skills=[{"name": "Same"}, {"name": "same"}]),
        "not an object",
        occupation("X6", extra="field"),
    ]
    report = svc.import_occupations(db, admin, {"occupations": bad})
    assert not report.ok
    where = {(p["where"], p["field"]) for p in report.problems}
    assert ("occupations[0].noc_code", "noc_code") in where
    assert ("occupations[1].skills[0].skill", "skill") in where
    assert ("occupations[1].skills[1].importance", "importance") in where
    assert ("occupations[1].skills[2].framework_url", "framework_url") in where
    assert ("occupations[2].title", "title") in where
    assert ("occupations[3]", "code") in where  # X1 twice
    assert ("occupations[4].code", "code") in where
    assert ("occupations[5].source", "source") in where
    assert ("occupations[6].esco_uri", "esco_uri") in where
    assert ("occupations[7].skills", "skills") in where
    assert ("occupations[8]", "") in where
    assert ("occupations[9].extra", "extra") in where
    messages = " ".join(p["message"] for p in report.problems)
    assert "no skill with the code NOPE" in messages
    assert counts(db) == before
    assert [o.code for o in svc.list_occupations(db, admin)] == ["KEEP"]


@pytest.mark.parametrize("document", [None, 3, {"occupations": "x"}, {"format": "other",
                                                                       "occupations": []},
                                      {"occupations": [], "surprise": 1}])
def test_documents_of_the_wrong_shape(db, built, document):
    report = svc.import_occupations(db, built.author, document)
    assert not report.ok and report.problems[0]["where"] == "document"


def test_dry_run_lists_changes_and_changes_nothing(db, built):
    before = counts(db)
    report = svc.import_occupations(db, built.author, {"occupations": [occupation()]},
                                    dry_run=True)
    assert report.ok and report.dry_run and not report.applied
    assert report.changes == [{"kind": "occupation", "code": "NOC-21232", "change": "create",
                               "detail": "Software developers and programmers (3 skills)"}]
    assert counts(db) == before


def test_reimport_replaces_the_skill_list(db, built):
    admin = built.author
    svc.import_occupations(db, admin, {"occupations": [occupation()]})
    changed = occupation(skills=[{"name": "Only this", "skill": "S3"}])
    report = svc.import_occupations(db, admin, [changed])
    assert report.counts["occupations_replaced"] == 1
    saved = svc.list_occupations(db, admin)[0]
    assert [(r.name, r.skill.code if r.skill else None) for r in saved.requirements] == [
        ("Only this", "S3")]
    assert db.scalar(select(func.count()).select_from(OccupationSkill)) == 1


def test_import_needs_catalog_write_and_reading_is_per_issuer(db, built):
    reader = actor(built.issuer, scopes=frozenset({Scope.CATALOG_READ}))
    with pytest.raises(Forbidden):
        svc.import_occupations(db, reader, {"occupations": [occupation()]})
    svc.import_occupations(db, built.author, {"occupations": [occupation()]})
    saved = svc.list_occupations(db, reader)[0]
    other = actor(make_issuer(db))
    assert svc.list_occupations(db, other) == []
    with pytest.raises(NotFound):
        svc.design_aid(db, other, saved.id)
    with pytest.raises(NotFound):
        svc.delete_occupation(db, other, saved.id)
    with pytest.raises(Forbidden):
        svc.delete_occupation(db, reader, saved.id)
    svc.delete_occupation(db, built.author, saved.id)
    assert svc.list_occupations(db, reader) == []


def test_csv_import_groups_rows_and_locates_problems(db, built):
    admin = built.author
    header = ",".join(svc.CSV_COLUMNS)
    good = (header + "\r\n"
            "NOC-21232,21232,,Software developers,Développeurs,,,NOC 2021,Ours,"
            "Programming,Programmation,essential,S1,\r\n"
            "NOC-21232,21232,,Software developers,Développeurs,,,NOC 2021,Ours,"
            "Testing,,optional,,http://data.europa.eu/esco/skill/s2\r\n"
            "NOC-42201,42201,,Social workers,,,,NOC 2021,Ours,,,,,\r\n")
    report = svc.import_occupations_csv(db, admin, good.encode("utf-8-sig"))
    assert report.ok, report.problems
    by_code = {o.code: o for o in svc.list_occupations(db, admin)}
    assert [r.importance for r in by_code["NOC-21232"].requirements] == ["essential",
                                                                          "optional"]
    assert by_code["NOC-42201"].requirements == []
    # Export → import is a no-op.
    before = counts(db)
    again = svc.import_occupations_csv(db, admin, svc.export_occupations_csv(db, admin))
    assert again.ok and again.counts["occupations_unchanged"] == 2
    assert counts(db) == before

    bad = (header + "\n"
           "NOC-1,12345,,A title,,,,NOC,Ours,Skill one,,essential,NOPE,\n"
           "NOC-1,54321,,A title,,,,NOC,Ours,Skill two,,sometimes,,\n"
           ",,,,,,,,,,,,S1,\n"
           "NOC-2,1,,B,,,,NOC,Ours,,,,,\n")
    report = svc.import_occupations_csv(db, admin, bad)
    assert not report.ok
    where = {(p["where"], p["field"]) for p in report.problems}
    assert ("row 2", "skill_code") in where     # unknown skill code on its own row
    assert ("row 3", "noc_code") in where       # differs from row 2
    assert ("row 3", "importance") in where     # on the row of that skill
    assert ("row 4", "skill_name") in where     # a skill without a name
    assert ("row 5", "noc_code") in where
    assert counts(db) == before


@pytest.mark.parametrize(("data", "message"), [
    (b"\x81\x8d\x8f", "UTF-8"),
    ("code,title,colour\nA,B,C\n", "unknown columns: colour"),
    ("title\nA\n", "missing columns: code"),
    ("", "first row"),
    ('code,title\n"unterminated,x\n', "not valid CSV"),
])
def test_csv_files_that_cannot_be_read(db, built, data, message):
    report = svc.import_occupations_csv(db, built.author, data)
    assert not report.ok and message in report.problems[0]["message"]


def test_csv_export_neutralises_formulas_and_they_come_back(db, built):
    admin = built.author
    svc.import_occupations(db, admin, [occupation(title="=HYPERLINK(\"x\")")])
    text = svc.export_occupations_csv(db, admin)
    assert "'=HYPERLINK" in text
    assert svc.import_occupations_csv(db, admin, text).counts["occupations_unchanged"] == 1


def test_coverage_by_link_alignment_credentials_and_pathways(db, built):
    admin = built.author
    svc.import_occupations(db, admin, [occupation()])
    saved = svc.list_occupations(db, admin)[0]
    credential_ids = {}
    design = svc.design_aid(db, admin, saved.id)
    programming, testing, docs = design.items
    assert [(c.skill.code, c.via) for c in programming.skills] == [("S1", "link")]
    assert [c.code for c in programming.credentials] == ["CRED"]
    assert programming.status == RequirementStatus.COVERED
    # S2 is aligned to ESCO …/s2 (skill_data) and taught only by a credential in review.
    assert [(c.skill.code, c.via) for c in testing.skills] == [("S2", "alignment")]
    assert testing.credentials == () and [c.code for c in testing.in_development] == ["NEXT"]
    assert testing.status == RequirementStatus.SKILL_ONLY
    assert docs.status == RequirementStatus.GAP and docs.skills == ()
    assert not design.pathways_known

    credential_ids = {c.id for c in programming.credentials}

    def lookup(session, issuer_id, ids):
        assert issuer_id == built.issuer.id and credential_ids <= ids
        return [PathwayRef(7, "Applied Python", "/c/x/pathways/AP", frozenset(credential_ids))]

    design = svc.design_aid(db, admin, saved.id, pathways=lookup)
    assert design.pathways_known
    assert [p.title for p in design.items[0].pathways] == ["Applied Python"]
    assert design.items[1].pathways == ()


def test_a_newer_draft_does_not_hide_the_published_version(db, built):
    from lti_tool.services import catalog

    cred = next(c for c in svc._credential_refs(db, built.issuer.id) if c.code == "CRED")
    version = catalog.new_version(db, built.author, cred.id)
    assert version.state == "draft" and version.version == 2
    refs = {c.code: c for c in svc._credential_refs(db, built.issuer.id)}
    assert refs["CRED"].published and refs["CRED"].version == 1


def test_a_deleted_skill_leaves_the_requirement_as_a_gap(db, built):
    from lti_tool.services import catalog

    catalog.create_skill(db, built.author, skill_data("LONE", alignments=[]))
    svc.import_occupations(db, built.author,
                           [occupation(skills=[{"name": "Lonely", "skill": "LONE"}])])
    lone = db.scalars(select(Skill).where(Skill.code == "LONE")).one()
    catalog.delete_skill(db, built.author, lone.id)
    db.expire_all()
    saved = svc.list_occupations(db, built.author)[0]
    design = svc.design_aid(db, built.author, saved.id)
    assert design.items[0].status == RequirementStatus.GAP


def test_learner_outlook_from_demonstrated_skills(db, platform):
    course = make_course(db, platform, credentials=(("PYF", ("py.vars", "py.loops")),
                                                    ("CARE", ("care.lift",))))
    admin = course.builder.author
    svc.import_occupations(db, admin, [
        {"code": "DEV", "title": "Developer", "source": "ours",
         "skills": [{"name": "Variables", "skill": "py.vars"},
                    {"name": "Loops", "skill": "py.loops"},
                    {"name": "Testing"}]},
        {"code": "PSW", "title": "Support worker", "source": "ours",
         "skills": [{"name": "Lifting", "skill": "care.lift"},
                    {"name": "Charting", "importance": "optional"}]},
        {"code": "NONE", "title": "Unrelated", "source": "ours",
         "skills": [{"name": "Welding"}]},
    ])
    sam, kim = add_learners(db, course, 2)
    skills = {s.code: s for s in db.scalars(select(Skill))}

    def record(learner, code, outcome, supersedes=None):
        account = db.get(LearnerAccount, learner.account_id)
        return tracking.record_demonstration(
            db, context=course.context, account=account, skill=skills[code],
            outcome=outcome, method="observation", assessor=INSTRUCTOR,
            supersedes_id=supersedes, reason="corrected" if supersedes else "")

    assert svc.learner_outlook(db, person_id=sam.person_id, issuer_id=course.issuer.id) == []
    record(sam, "py.vars", "pass")
    record(sam, "care.lift", "pass")
    lifted = record(kim, "care.lift", "pass")
    record(kim, "care.lift", "fail", supersedes=lifted.demonstration.id)
    db.flush()
    found = svc.learner_outlook(db, person_id=sam.person_id, issuer_id=course.issuer.id)
    assert [f.occupation.code for f in found] == ["PSW", "DEV"]  # 1 of 1 essential first
    psw, dev = found
    assert psw.outlook.essential_met == psw.outlook.essential_total == 1
    assert [m.requirement.name for m in psw.outlook.missing] == ["Charting"]
    assert [m.requirement.name for m in dev.outlook.met] == ["Variables"]
    assert [m.requirement.name for m in dev.outlook.missing] == ["Loops", "Testing"]
    assert [c.code for c in dev.outlook.missing[0].credentials] == ["PYF"]
    # A pass corrected to a fail is not a demonstrated skill.
    assert svc.learner_outlook(db, person_id=kim.person_id, issuer_id=course.issuer.id) == []
    # Another institution's occupations are never mixed in.
    assert svc.learner_outlook(db, person_id=sam.person_id,
                               issuer_id=make_issuer(db).id) == []


def test_the_bundled_sample_imports_into_the_demo_catalog(app, db):
    from lti_tool.services.demo import seed_demo

    rt = app.extensions["lti"]
    result = seed_demo(db, rt.vault, rt.base_url)
    admin = actor(result.issuer)
    codes = [o.code for o in svc.list_occupations(db, admin)]
    assert sorted(codes) == ["NOC-21232", "NOC-21234", "NOC-33102", "NOC-42201", "NOC-44101"]
    assert svc.add_sample(db, admin) == []  # idempotent
    psw = next(o for o in svc.list_occupations(db, admin) if o.code == "NOC-33102")
    assert psw.noc_code == "33102"
    assert psw.title == "Nurse aides, orderlies and patient service associates"
    assert "Lakeshore College" in psw.mapping_note and "not text of" in psw.source
    assert psw.translations["fr"]["title"]
    design = svc.design_aid(db, admin, psw.id)
    statuses = {i.requirement.name: i for i in design.items}
    body = statuses["Safe body mechanics"]
    assert [(c.skill.code, c.via) for c in body.skills] == [("PSW-BODYMECH", "alignment")]
    assert statuses["Infection prevention and control"].status == RequirementStatus.GAP
    dev = next(o for o in svc.list_occupations(db, admin) if o.code == "NOC-21232")
    python = svc.design_aid(db, admin, dev.id).items[0]
    assert python.status == RequirementStatus.COVERED
    assert [c.code for c in python.credentials] == ["PYFUND"]


def test_sample_document_is_valid_and_honest():
    document = svc.sample_document()
    assert document["format"] == svc.FORMAT
    for item in document["occupations"]:
        assert item["noc_code"] and item["code"] == f"NOC-{item['noc_code']}"
        assert item["title_fr"] and "demo" in item["mapping_note"]
        assert all(s["name_fr"] for s in item["skills"])
    assert json.loads(json.dumps(copy.deepcopy(document))) == document


def test_french_names_of_skills_and_credentials_come_along(db):
    from lti_tool.services import catalog

    builder = CatalogBuilder(db)
    catalog.create_skill(db, builder.author, skill_data(
        "FR1", translations={"fr": {"name": "Compétence un"}}))
    builder.credential("CFR", LifecycleState.PUBLISHED, required=("FR1",),
                       translations={"fr": {"title": "Titre en français"}})
    builder.credential("CEN", LifecycleState.PUBLISHED, required=("FR1",))
    svc.import_occupations(db, builder.author, [occupation(skills=[{"name": "X",
                                                                    "skill": "FR1"}])])
    design = svc.design_aid(db, builder.author, svc.list_occupations(db, builder.author)[0].id)
    item = design.items[0]
    assert item.skills[0].skill.name_fr == "Compétence un"
    assert {c.code: c.title_fr for c in item.credentials} == {"CFR": "Titre en français",
                                                              "CEN": ""}
