"""The occupations pages of the catalog administration, through real launches and the pages'
own forms: who may read and who may change, the import (check, then import; a bad file
changes nothing and says where each problem is), the design aid's statuses in words, the
sample, delete, exports, and the pages in French."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from lti_tool.domain.catalog import CatalogRole, LifecycleState
from lti_tool.models import AuditEvent, Occupation, OccupationSkill
from lti_tool.services import catalog as catalog_service
from lti_tool.services import occupations as occupations_service
from lti_tool.services.platforms import find_platform
from lti_tool.web.common.launch_session import csrf_for
from tests.support.admin import INSTITUTION_ADMIN, INSTRUCTOR, LEARNER, Page, launch, make_issuer
from tests.support.catalog import CatalogBuilder, skill_data

ESCO = "http://data.europa.eu/esco/skill/"


def counts(db):
    db.expire_all()
    return {m.__tablename__: db.scalar(select(func.count()).select_from(m)) or 0
            for m in (Occupation, OccupationSkill, AuditEvent)}


def seed(db, issuer):
    builder = CatalogBuilder(db, issuer)
    builder.skills("PY", "GIT")
    builder.credential("PYF", LifecycleState.PUBLISHED, required=("PY",))
    catalog_service.create_skill(db, builder.author, skill_data("TEST", alignments=[
        {"framework": "ESCO", "target_url": ESCO + "testing", "target_type": "ESCO"}]))
    occupations_service.import_occupations(db, builder.author, [{
        "code": "NOC-21232", "noc_code": "21232", "title": "Software developers and programmers",
        "title_fr": "Développeurs de logiciels", "source": "NOC 2021", "mapping_note": "Ours",
        "skills": [{"name": "Python", "name_fr": "Python", "skill": "PY"},
                   {"name": "Testing", "name_fr": "Tests", "framework_url": ESCO + "testing"},
                   {"name": "Accessibility <b>WCAG</b>", "name_fr": "Accessibilité"}]}])
    db.commit()
    return db.scalars(select(Occupation)).one()


def grant(db, platform, issuer, sub, role):
    row = find_platform(db, platform.issuer, platform.client_id)
    actor = catalog_service.Actor("cli", "cli", issuer.id, catalog_service.scopes_for_roles(
        [CatalogRole.CATALOG_ADMIN]))
    catalog_service.grant_role(db, actor, row.id, sub, role)
    db.commit()


def test_learners_and_instructors_without_a_grant_are_refused(app, platform, db):
    issuer = make_issuer(db, platform)
    occupation = seed(db, issuer)
    sam = launch(app, platform, sub="4", name="Sam Student", roles=[LEARNER],
                 fixture="learner_claims_INTROPROG.json")
    terry = launch(app, platform, sub="3", name="Terry Teacher", roles=[INSTRUCTOR])
    for who in (sam, terry):
        assert who.get("/admin/occupations").status_code == 403
        assert who.get(f"/admin/occupations/{occupation.id}").status_code == 403
        assert who.get("/admin/occupations/export.json").status_code == 403
    assert app.test_client().get("/admin/occupations").status_code == 401


def test_a_reviewer_reads_the_design_aid_but_cannot_change_anything(app, platform, db):
    issuer = make_issuer(db, platform)
    occupation = seed(db, issuer)
    grant(db, platform, issuer, "3", CatalogRole.REVIEWER)
    rita = launch(app, platform, sub="3", name="Rita Reviewer", roles=[INSTRUCTOR])
    listing = rita.page("/admin/occupations")
    assert listing.status == 200
    assert "Software developers and programmers" in listing.text
    assert not listing.has_form("/admin/occupations/import")
    aid = rita.page(f"/admin/occupations/{occupation.id}")
    assert aid.status == 200 and "Delete this occupation" not in aid.text
    before = counts(db)
    with app.test_request_context():
        csrf = csrf_for(app.extensions["lti"].tokens.read(rita.lt))
    lt = rita.lt
    for path in ("/admin/occupations/sample", f"/admin/occupations/{occupation.id}/delete"):
        assert rita.client.post(path, data={"lt": lt, "csrf_token": csrf}).status_code == 403
    response = rita.client.post("/admin/occupations/import", data={
        "lt": lt, "csrf_token": csrf, "mode": "import",
        "file": (io.BytesIO(b'{"occupations": []}'), "o.json")},
        content_type="multipart/form-data")
    assert response.status_code == 403
    assert counts(db) == before


def test_design_aid_says_each_status_in_words(app, platform, db):
    issuer = make_issuer(db, platform)
    occupation = seed(db, issuer)
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    listing = avery.page("/admin/occupations")
    assert "1 of 3" in listing.text  # essential skills covered: Python (Testing: no credential)
    aid = avery.page(f"/admin/occupations/{occupation.id}")
    assert aid.status == 200
    text = aid.text
    assert "1 of 3 essential skills are covered by published micro-credentials" in text
    assert "Covered by a published micro-credential" in text
    assert "In the skills library, in no published micro-credential" in text
    assert "Gap: no skill in the catalog" in text
    assert "aligned to the framework item" in text and "linked directly" in text
    assert "Credential PYF" in text
    assert "Accessibility &lt;b&gt;WCAG&lt;/b&gt;" in aid.html  # issuer text is escaped
    assert "What to build next" in text and "include Skill TEST in a micro-credential" in text
    # Another institution's occupation is not found.
    assert avery.get(f"/admin/occupations/{occupation.id + 999}").status_code == 404


def test_import_check_then_import_and_a_bad_file_changes_nothing(app, platform, db):
    issuer = make_issuer(db, platform)
    seed(db, issuer)
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    form = avery.page("/admin/occupations").form("/admin/occupations/import")
    before = counts(db)
    bad = ("code,title,noc_code,source,skill_name,skill_code\n"
           "NOC-42201,Social workers,4220,NOC,Crisis work,NOPE\n")
    response = avery.client.post(form.action, data={
        **dict(form.data()), "mode": "import", "file": (io.BytesIO(bad.encode()), "x.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = Page(response)
    assert "problems in x.csv: nothing was imported" in page.text
    assert "row 2" in page.text and "noc_code" in page.text and "skill_code" in page.text
    assert counts(db) == before

    good = bad.replace("4220,", "42201,").replace("NOPE", "GIT")
    checked = avery.client.post(form.action, data={
        **dict(form.data()), "mode": "check", "file": (io.BytesIO(good.encode()), "x.csv")},
        content_type="multipart/form-data")
    assert checked.status_code == 200 and "This was a check only" in Page(checked).text
    assert counts(db) == before
    done = avery.client.post(form.action, data={
        **dict(form.data()), "mode": "import", "file": (io.BytesIO(good.encode()), "x.csv")},
        content_type="multipart/form-data")
    assert done.status_code == 200 and "Imported x.csv" in Page(done).text
    assert "Social workers" in Page(done).text
    assert counts(db)["occupations"] == before["occupations"] + 1

    # The CSRF token is checked: without it nothing happens.
    response = avery.client.post(form.action, data={
        "lt": avery.lt, "mode": "import",
        "file": (io.BytesIO(good.replace("42201", "42202").encode()), "y.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 403


def test_sample_delete_and_exports(app, platform, db):
    issuer = make_issuer(db, platform)
    occupation = seed(db, issuer)
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    listing = avery.page("/admin/occupations")
    added = avery.submit(listing.form("/admin/occupations/sample"))
    assert added.status_code == 303
    after = avery.page("/admin/occupations", done="sample_added")
    assert "The sample occupations were added." in after.text
    assert "Nurse aides, orderlies and patient service associates" in after.text

    exported = avery.get("/admin/occupations/export.json")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].endswith('-occupations.json"')
    # The sample's NOC-21232 was already in the list: kept as it was, the four others added.
    document = json.loads(exported.get_data(as_text=True))
    assert len(document["occupations"]) == 5
    mine = next(o for o in document["occupations"] if o["code"] == "NOC-21232")
    assert mine["mapping_note"] == "Ours"
    as_csv = avery.get("/admin/occupations/export.csv")
    assert as_csv.get_data(as_text=True).startswith("code,noc_code,esco_uri,title")

    confirm = avery.page(f"/admin/occupations/{occupation.id}/delete")
    assert "Delete the occupation" in confirm.text
    done = avery.submit(confirm.form(f"/admin/occupations/{occupation.id}/delete"))
    assert done.status_code == 303
    gone = occupation.id
    db.expire_all()
    assert db.scalar(select(Occupation).where(Occupation.id == gone)) is None


def test_pages_in_french(app, platform, db):
    issuer = make_issuer(db, platform)
    occupation = seed(db, issuer)
    from tests.support.lti import full_launch
    from tests.support.platform import query_of

    client = app.test_client()
    response = full_launch(client, platform, "instructor_claims_INTROPROG.json", sub="admin-2",
                           name="Avery Admin", email="a@example.edu",
                           **{"https://purl.imsglobal.org/spec/lti/claim/roles":
                              [INSTITUTION_ADMIN],
                              "https://purl.imsglobal.org/spec/lti/claim/"
                              "launch_presentation": {"locale": "fr-CA"}})
    lt = query_of(response.headers["Location"])["lt"]
    page = Page(client.get(f"/admin/occupations/{occupation.id}", query_string={"lt": lt}))
    assert page.status == 200
    assert "Développeurs de logiciels" in page.text
    assert "Compétences exigées par cette profession" in page.text
    assert "Lacune : aucune compétence au catalogue" in page.text
    assert "Accessibilité" in page.text


def test_link_a_required_skill_to_a_library_skill(app, platform, db):
    issuer = make_issuer(db, platform)
    occupation = seed(db, issuer)
    accessibility = occupation.requirements[2]
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    aid = avery.page(f"/admin/occupations/{occupation.id}")
    action = f"/requirements/{accessibility.id}/link"
    form = aid.form(action)
    assert form.value("row_version") == str(occupation.row_version)

    before = counts(db)
    bad = avery.submit(form, skill_code="NOPE")
    assert bad.status_code == 422
    page = Page(bad)
    assert "No skill with this code in your skills library." in page.text
    assert 'aria-invalid="true"' in page.html and 'value="NOPE"' in page.html
    assert counts(db) == before

    done = avery.submit(form, skill_code="GIT")
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"#requirement-{accessibility.id}")
    aid = avery.page(f"/admin/occupations/{occupation.id}", done="linked")
    assert "The link was saved." in aid.text
    row = aid.html.split(f'id="requirement-{accessibility.id}"')[1].split("</tr>")[0]
    assert "GIT" in row and "linked directly" in row
    assert "In the skills library, in no published micro-credential" in row

    # The old form (stale row_version) is refused, and says so.
    stale = avery.submit(form, skill_code="PY")
    assert stale.status_code == 409
    assert "Someone else changed this occupation" in Page(stale).text

    # Unlink with an empty code (from the fresh form).
    fresh = avery.page(f"/admin/occupations/{occupation.id}").form(action)
    assert avery.submit(fresh, skill_code="").status_code == 303
    db.expire_all()
    assert db.get(OccupationSkill, accessibility.id).skill_id is None

    # A reviewer cannot link; without CSRF nobody can.
    grant(db, platform, issuer, "3", CatalogRole.REVIEWER)
    rita = launch(app, platform, sub="3", name="Rita Reviewer", roles=[INSTRUCTOR])
    assert not rita.page(f"/admin/occupations/{occupation.id}").has_form(action)
    with app.test_request_context():
        csrf = csrf_for(app.extensions["lti"].tokens.read(rita.lt))
    path = f"/admin/occupations/{occupation.id}{action}"
    assert rita.client.post(path, data={"lt": rita.lt, "csrf_token": csrf, "row_version": "9",
                                        "skill_code": "GIT"}).status_code == 403
    assert avery.client.post(path, data={"lt": avery.lt, "row_version": "9",
                                         "skill_code": "GIT"}).status_code == 403


def test_import_problems_in_french(app, platform, db):
    issuer = make_issuer(db, platform)
    seed(db, issuer)
    from tests.support.lti import full_launch
    from tests.support.platform import query_of

    client = app.test_client()
    response = full_launch(client, platform, "instructor_claims_INTROPROG.json", sub="admin-3",
                           name="Avery Admin", email="a3@example.edu",
                           **{"https://purl.imsglobal.org/spec/lti/claim/roles":
                              [INSTITUTION_ADMIN],
                              "https://purl.imsglobal.org/spec/lti/claim/"
                              "launch_presentation": {"locale": "fr-CA"}})
    lt = query_of(response.headers["Location"])["lt"]
    form = Page(client.get("/admin/occupations", query_string={"lt": lt})).form(
        "/admin/occupations/import")
    before = counts(db)
    bad = json.dumps({"occupations": [{"code": "NOC-1", "title": "T", "source": "s",
                                       "skills": [{"name": "A", "skill": "NOPE"}]}]})
    result = client.post(form.action, data={**dict(form.data()), "mode": "import",
                                             "file": (io.BytesIO(bad.encode()), "o.json")},
                         content_type="multipart/form-data")
    assert result.status_code == 422
    text = Page(result).text
    assert "rien n'a été importé" in text
    assert "aucune compétence du catalogue n'a le code NOPE" in text
    assert counts(db) == before
