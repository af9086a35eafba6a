"""Catalog import/export: lossless JSON round trip, atomic imports that report every problem
with its location, dry runs, skills CSV, and the ``microcred catalog`` commands."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState, RubricCriterion, Scope
from lti_tool.errors import Forbidden
from lti_tool.models import AuditEvent, MicroCredential, Skill
from lti_tool.services import catalog
from lti_tool.services.catalog_io import (
    CSV_COLUMNS,
    export_catalog,
    export_skills_csv,
    import_catalog,
    import_skills_csv,
    parse_catalog_json,
)
from lti_tool.services.demo import seed_demo
from tests.support.catalog import (
    CatalogBuilder,
    actor,
    catalog_counts,
    make_issuer,
    skill_data,
)

HOSTILE = "<script>alert('x')</script> & \"quotes\" ✓ ünïcødé"


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without what legitimately differs between two exports."""
    out = json.loads(json.dumps(doc))  # what really travels: JSON text
    out.pop("exported_at")
    out.pop("issuer")
    return out


@pytest.fixture()
def full_catalog(app: Flask, db: Session) -> CatalogBuilder:
    """The demo catalog (retired, published, in review with a request for changes,
    approved, draft) plus a rejected credential, a custom rubric and hostile text."""
    rt = app.extensions["lti"]
    issuer = seed_demo(db, rt.vault, rt.base_url).issuer
    b = CatalogBuilder(db, issuer)
    b.skills("S1", "S2", "S3")
    catalog.update_skill(db, b.author, catalog.skill_by_code(db, issuer.id, "S3").id,
                         skill_data("S3", name=HOSTILE, alignments=[
                             skill_data("S3")["alignments"][0],
                             {"framework": "CASE", "target_url": "https://case.example/uri/1",
                              "target_type": "CFItem"}]))
    b.credential("REJ", LifecycleState.REJECTED, title=HOSTILE, optional=("S3",),
                 optional_min=1)
    return b


def test_export_import_export_round_trips_losslessly(full_catalog: CatalogBuilder,
                                                      db: Session) -> None:
    first = export_catalog(db, full_catalog.author)
    states = {v["state"] for c in first["credentials"] for v in c["versions"]}
    assert states == {s.value for s in LifecycleState}  # every lifecycle state is covered
    assert any(v["reviews"] for c in first["credentials"] for v in c["versions"])

    target = make_issuer(db, "empty-college")
    importer = actor(target, "account:importer", "Ivy Importer")
    report = import_catalog(db, importer, json.loads(json.dumps(first)))

    assert report.ok, report.problems
    assert report.counts["credentials_created"] == len(first["credentials"])
    assert report.counts["skills_created"] == len(first["skills"])
    db.expire_all()  # read back what was stored, not the objects still in memory
    second = export_catalog(db, importer)
    assert _comparable(second) == _comparable(first)
    assert second["issuer"]["slug"] == "empty-college"


def test_imported_catalog_keeps_states_history_and_public_snapshot(
        full_catalog: CatalogBuilder, db: Session) -> None:
    source = full_catalog.issuer
    target = make_issuer(db, "copy-college")
    importer = actor(target, "account:importer")
    assert import_catalog(db, importer, export_catalog(db, full_catalog.author)).ok
    db.expire_all()

    original = catalog.published_version(db, source.id, "PYFUND")
    copied = catalog.published_version(db, target.id, "PYFUND")
    assert copied is not None and original is not None
    assert copied.version == 2
    assert catalog.learner_view(copied) == catalog.learner_view(original)
    assert copied.published_at == original.published_at
    assert [r.decision for r in copied.reviews] == ["approve"]
    history = db.scalars(select(MicroCredential).where(
        MicroCredential.issuer_id == target.id, MicroCredential.code == "PYFUND")).one()
    assert [(v.version, v.state) for v in history.versions] == [(1, "retired"),
                                                                (2, "published")]
    # The imported draft is a normal draft: the imported author can keep editing it.
    draft = catalog.list_credentials(db, importer, state="draft").items[0]
    assert draft.credential.code == "PSW-TRANSFER"
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "catalog.imported")).one()


def _bad_document(good: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(good)
    doc["skills"][7]["alignments"].append({"framework": "Evil",
                                           "target_url": "javascript:alert(1)"})
    doc["skills"][3]["code"] = "has spaces"
    pyfund = next(i for i, c in enumerate(doc["credentials"]) if c["code"] == "PYFUND")
    doc["credentials"][pyfund]["versions"][0]["content"]["title"] = ""
    doc["credentials"][pyfund]["versions"][1]["state"] = "live"
    sheets = next(i for i, c in enumerate(doc["credentials"]) if c["code"] == "SHEETS")
    doc["credentials"][sheets]["versions"][0]["required_skills"].append("NOPE")
    codemath = next(i for i, c in enumerate(doc["credentials"]) if c["code"] == "CODEMATH")
    doc["credentials"][codemath]["versions"][0]["content"]["optional_min"] = 5
    doc["credentials"][sheets]["versions"].append(
        {**copy.deepcopy(doc["credentials"][sheets]["versions"][0]), "state": "draft",
         "reviews": []})
    return doc


def test_a_bad_document_applies_nothing_and_reports_every_problem_with_its_place(
        full_catalog: CatalogBuilder, db: Session) -> None:
    good = export_catalog(db, full_catalog.author)
    doc = _bad_document(good)
    target = make_issuer(db, "target-college")
    catalog.create_skill(db, actor(target), skill_data("PY-VARS", name="Old name"))
    before = catalog_counts(db)

    report = import_catalog(db, actor(target), doc)

    assert not report.ok
    assert catalog_counts(db) == before
    assert catalog.skill_by_code(db, target.id, "PY-VARS").name == "Old name"
    pyfund = next(i for i, c in enumerate(doc["credentials"]) if c["code"] == "PYFUND")
    sheets = next(i for i, c in enumerate(doc["credentials"]) if c["code"] == "SHEETS")
    codemath = next(i for i, c in enumerate(doc["credentials"]) if c["code"] == "CODEMATH")
    where = {(p["where"], p["field"]) for p in report.problems}
    evil = len(doc["skills"][7]["alignments"]) - 1
    expected = {
        (f"skills[7].alignments[{evil}].target_url", f"alignments.{evil}.target_url"),
        ("skills[3].code", "code"),
        (f"credentials[{pyfund}].versions[0].content.title", "title"),
        (f"credentials[{pyfund}].versions[1].state", "state"),
        (f"credentials[{sheets}].versions[0].required_skills", "required_skills"),
        (f"credentials[{sheets}].versions[1].version", "version"),  # duplicate number
        (f"credentials[{sheets}].versions", "versions"),  # two open versions
        (f"credentials[{codemath}].versions[0].content.optional_min", "optional_min"),
    }
    assert expected <= where, report.problems
    messages = " ".join(p["message"] for p in report.problems)
    assert "NOPE" in messages


def test_dry_run_reports_what_would_happen_and_changes_nothing(
        full_catalog: CatalogBuilder, db: Session) -> None:
    doc = export_catalog(db, full_catalog.author)
    target = make_issuer(db, "dry-college")
    before = catalog_counts(db)

    report = import_catalog(db, actor(target), doc, dry_run=True)

    assert report.ok and report.dry_run and not report.applied
    assert report.counts["credentials_created"] == len(doc["credentials"])
    assert report.counts["versions_created"] == sum(len(c["versions"])
                                                    for c in doc["credentials"])
    assert catalog_counts(db) == before


def test_reimporting_an_export_changes_nothing_and_skills_are_upserted(
        full_catalog: CatalogBuilder, db: Session) -> None:
    doc = export_catalog(db, full_catalog.author)
    report = import_catalog(db, full_catalog.author, json.loads(json.dumps(doc)))
    assert report.ok, report.problems
    assert report.changes == []
    assert report.counts["credentials_unchanged"] == len(doc["credentials"])
    assert report.counts["credentials_created"] == report.counts["credentials_updated"] == 0

    skills_only = {**doc, "credentials": [], "skills": [
        {**s, "name": s["name"] + " (revised)"} if s["code"] == "S1" else s
        for s in doc["skills"]]}
    s1 = catalog.skill_by_code(db, full_catalog.issuer.id, "S1")
    version_before = s1.row_version
    dry = import_catalog(db, full_catalog.author, skills_only, dry_run=True)
    assert dry.changes == [{"kind": "skill", "code": "S1", "change": "update",
                            "detail": "name"}]
    assert not s1.name.endswith("(revised)")
    report = import_catalog(db, full_catalog.author, skills_only)
    assert report.ok
    assert report.counts["skills_updated"] == 1
    assert report.counts["skills_unchanged"] == len(doc["skills"]) - 1
    assert s1.name.endswith("(revised)") and s1.row_version == version_before + 1


def _credential(doc: dict, state: str) -> dict:
    return next(c for c in doc["credentials"] if c["versions"][-1]["state"] == state)


def test_a_newer_export_updates_a_draft_and_adds_versions(full_catalog: CatalogBuilder,
                                                          db: Session) -> None:
    doc = export_catalog(db, full_catalog.author)
    changed = json.loads(json.dumps(doc))
    draft = _credential(changed, "draft")
    draft["versions"][-1]["content"]["title"] = "Retitled in the other system"
    published = _credential(changed, "published")
    newer = json.loads(json.dumps(published["versions"][-1]))
    newer.update(version=newer["version"] + 1, state="draft", snapshot=None, reviews=[],
                 published_at=None, approved_at=None, submitted_at=None)
    newer["content"]["title"] = "The next edition"
    published["versions"].append(newer)

    dry = import_catalog(db, full_catalog.author, changed, dry_run=True)
    assert dry.ok, dry.problems
    assert {(c["code"], c["change"]) for c in dry.changes} == {
        (draft["code"], "update"), (published["code"], "add_version")}
    update = next(c for c in dry.changes if c["change"] == "update")
    assert update["detail"].endswith(": title")
    assert export_catalog(db, full_catalog.author)["credentials"] == doc["credentials"]

    report = import_catalog(db, full_catalog.author, changed)
    assert report.ok and report.counts["versions_updated"] == 1
    assert report.counts["versions_created"] == 1
    db.expire_all()
    after = export_catalog(db, full_catalog.author)
    titles = {c["code"]: [v["content"]["title"] for v in c["versions"]]
              for c in after["credentials"]}
    assert titles[draft["code"]][-1] == "Retitled in the other system"
    assert titles[published["code"]][-1] == "The next edition"
    # Importing the same file again changes nothing.
    assert import_catalog(db, full_catalog.author, changed).changes == []


def test_an_import_never_rewrites_reviewed_or_published_versions(
        full_catalog: CatalogBuilder, db: Session) -> None:
    doc = json.loads(json.dumps(export_catalog(db, full_catalog.author)))
    published = _credential(doc, "published")
    published["versions"][-1]["content"]["title"] = "Quietly changed"
    in_review = _credential(doc, "in_review")
    in_review["versions"][-1]["state"] = "approved"
    report = import_catalog(db, full_catalog.author, doc)
    assert not report.ok
    messages = " ".join(p["message"] for p in report.problems)
    assert "is published in this catalog and differs from the file" in messages
    assert "an import does not move versions through review" in messages
    db.expire_all()
    again = export_catalog(db, full_catalog.author)
    assert "Quietly changed" not in json.dumps(again)


def test_custom_rubric_travels_with_the_catalog(db: Session) -> None:
    b = CatalogBuilder(db)
    catalog.set_rubric(db, b.author, [RubricCriterion("fit", "sector", "Fit", "Fits."),
                                      RubricCriterion("rigour", "educational", "Rigour", "")])
    doc = export_catalog(db, b.author)
    target = make_issuer(db)
    report = import_catalog(db, actor(target), doc)
    assert report.ok and report.counts["rubric_replaced"] == 1
    assert [c.key for c in catalog.rubric_for(db, target.id)] == ["fit", "rigour"]


@pytest.mark.parametrize(("doc", "where"), [
    ([], "document"),
    ({"format": "something-else", "format_version": 1}, "format"),
    ({"format": "microcred-catalog", "format_version": 99}, "format_version"),
])
def test_not_a_catalog_is_one_clear_problem(db: Session, doc: Any, where: str) -> None:
    b = CatalogBuilder(db)
    report = import_catalog(db, b.author, doc)
    assert not report.ok
    assert [p["where"] for p in report.problems] == [where]


def test_scopes_are_required(db: Session) -> None:
    b = CatalogBuilder(db)
    reader = actor(b.issuer, scopes=frozenset({Scope.CATALOG_READ}))
    nobody = actor(b.issuer, scopes=frozenset({Scope.REVIEW}))
    doc = export_catalog(db, reader)
    with pytest.raises(Forbidden):
        import_catalog(db, reader, doc)
    with pytest.raises(Forbidden):
        import_skills_csv(db, reader, "code,name\nA,B\n")
    with pytest.raises(Forbidden):
        export_catalog(db, nobody)
    with pytest.raises(Forbidden):
        export_skills_csv(db, nobody)


def test_parse_catalog_json_reports_bad_text_as_one_problem() -> None:
    assert parse_catalog_json(b"\xff\xfe\x00garbage")[1][0]["message"] == "is not UTF-8 text"
    doc, problems = parse_catalog_json('{"format": ')
    assert doc is None and problems[0]["message"] == "is not valid JSON"
    assert parse_catalog_json('{"a": 1}') == ({"a": 1}, [])


# -- CSV ------------------------------------------------------------------------------------
def test_skills_csv_export_then_import_into_an_empty_catalog(full_catalog: CatalogBuilder,
                                                             db: Session) -> None:
    text = export_skills_csv(db, full_catalog.author)
    lines = text.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert len(lines) == 1 + len(catalog.list_skills(db, full_catalog.author).items)

    target = make_issuer(db)
    report = import_skills_csv(db, actor(target), text)
    assert report.ok, report.problems
    source = {s["code"]: s for s in export_catalog(db, full_catalog.author)["skills"]}
    copied = {s["code"]: s for s in export_catalog(db, actor(target))["skills"]}
    assert copied.keys() == source.keys()
    for code, skill in source.items():
        # CSV carries the first alignment only (the JSON export carries them all).
        assert copied[code] == {**skill, "alignments": skill["alignments"][:1]}


def test_csv_cells_that_look_like_formulas_are_neutralised_and_restored(db: Session) -> None:
    b = CatalogBuilder(db)
    catalog.create_skill(db, b.author, skill_data("F1", name="=HYPERLINK(\"http://x\")",
                                                  description="-1 + 2", criteria="'= quoted"))
    text = export_skills_csv(db, b.author)
    assert "'=HYPERLINK" in text and ",'-1 + 2," in text
    target = make_issuer(db)
    assert import_skills_csv(db, actor(target), text).ok
    copied = catalog.skill_by_code(db, target.id, "F1")
    assert (copied.name, copied.description, copied.criteria) == (
        "=HYPERLINK(\"http://x\")", "-1 + 2", "'= quoted")


def test_csv_import_is_atomic_and_names_rows_and_columns(db: Session) -> None:
    b = CatalogBuilder(db)
    text = ("code,name,description,tags,alignment_framework,alignment_url\n"
            "GOOD1,Good one,,a;b,,\n"
            "bad code,Bad code,,,,\n"
            "GOOD2,Good two,,,ESCO,http://data.europa.eu/esco/skill/x\n"
            "NOURL,No URL,,,ESCO,javascript:alert(1)\n"
            "\n"
            "GOOD1,Twice,,,,\n"
            "NONAME,,,,,\n")
    before = catalog_counts(db)
    report = import_skills_csv(db, b.author, text)
    assert not report.ok
    assert catalog_counts(db) == before
    assert {(p["where"], p["field"]) for p in report.problems} == {
        ("row 3", "code"), ("row 5", "alignment_url"), ("row 7", "code"), ("row 8", "name")}


def test_csv_import_upserts_by_code_and_keeps_further_alignments(db: Session) -> None:
    b = CatalogBuilder(db)
    catalog.create_skill(db, b.author, skill_data("K1", alignments=[
        {"framework": "ESCO", "target_url": "http://data.europa.eu/esco/skill/one"},
        {"framework": "CASE", "target_url": "https://case.example/uri/two"}]))
    text = ("code,name,alignment_framework,alignment_url\n"
            "K1,Renamed,ESCO,http://data.europa.eu/esco/skill/uno\n"
            "K2,New skill,,\n")
    report = import_skills_csv(db, b.author, text)
    assert report.ok
    assert report.counts == {"skills_created": 1, "skills_updated": 1, "skills_unchanged": 0}
    k1 = catalog.skill_by_code(db, b.issuer.id, "K1")
    assert k1.name == "Renamed"
    assert k1.description == "About K1."  # a column the file does not have is kept
    assert [a["target_url"] for a in k1.alignments] == [
        "http://data.europa.eu/esco/skill/uno", "https://case.example/uri/two"]
    again = import_skills_csv(db, b.author, text)
    assert again.counts == {"skills_created": 0, "skills_updated": 0, "skills_unchanged": 2}
    dry = import_skills_csv(db, b.author, text.replace("Renamed", "Renamed again"),
                            dry_run=True)
    assert dry.ok and dry.counts["skills_updated"] == 1
    assert k1.name == "Renamed"


@pytest.mark.parametrize(("payload", "message"), [
    # Neither UTF-8 nor Windows-1252 (0x81 and 0x8D are undefined there).
    (b"code,name\n\x81\x8dA,B\n", "UTF-8"),
    ("", "first row"),
    ('{"format": "microcred-catalog"}', "first row"),
    ("code,name,colour\nA,B,red\n", "unknown columns: colour"),
    ("name,description\nA,B\n", "missing columns: code"),
    ("code,name\nA,\"unterminated\n", "not valid CSV"),
    ("code,name\nA,B\0\n", "not valid CSV"),
    ("code,name\n" + "".join(f"C{i},Name {i}\n" for i in range(5001)), "at most 5000"),
    ("code,name,description\n" + "A,B," + "x" * 1_000_001 + "\n", "larger than 1 MB"),
])
def test_a_file_that_is_not_a_skills_csv_is_one_problem(db: Session, payload: str | bytes,
                                                        message: str) -> None:
    b = CatalogBuilder(db)
    before = catalog_counts(db)
    report = import_skills_csv(db, b.author, payload)
    assert not report.ok
    assert len(report.problems) == 1, report.problems
    assert message in report.problems[0]["message"]
    assert catalog_counts(db) == before


def test_csv_with_bom_and_crlf_from_a_spreadsheet_is_accepted(db: Session) -> None:
    b = CatalogBuilder(db)
    data = "\ufeffCode,Name,Tags\r\nX1,\"Multi\r\nline\",a; b ;\r\n".encode()
    report = import_skills_csv(db, b.author, data)
    assert report.ok, report.problems
    skill = catalog.skill_by_code(db, b.issuer.id, "X1")
    assert skill.tags == ["a", "b"]


def test_csv_import_of_hostile_text_stores_it_verbatim(db: Session) -> None:
    b = CatalogBuilder(db)
    text = f'code,name\nH1,"{HOSTILE.replace(chr(34), chr(34) * 2)}"\n'
    assert import_skills_csv(db, b.author, text).ok
    assert db.scalars(select(Skill.name).where(Skill.code == "H1")).one() == HOSTILE


def test_a_credential_using_skills_already_in_the_catalog_imports(db: Session) -> None:
    b = CatalogBuilder(db)
    b.skills("S1", "S2")
    b.credential("ONE", LifecycleState.PUBLISHED)
    doc = export_catalog(db, b.author)
    target = CatalogBuilder(db)
    target.skills("S1", "S2")
    report = import_catalog(db, target.author, {**doc, "skills": []})
    assert report.ok, report.problems
    assert report.counts["skills_created"] == 0
    published = catalog.published_version(db, target.issuer.id, "ONE")
    assert published is not None
    assert [link.skill.issuer_id for link in published.skill_links] == [target.issuer.id] * 2
