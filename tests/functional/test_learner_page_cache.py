"""The learner's landing page is cached in Redis (web/lms/learner/page_cache.py) and still
always current: whatever writes what it shows (the services, Core statements, another
connection), the next load shows it; launch and CSRF tokens are never stored nor served to
another launch; a failing cache only costs a render."""

from __future__ import annotations

import re

import pytest
import redis as redis_lib
from sqlalchemy import insert, inspect, select, text, update

from lti_tool.models import Award, Base, Demonstration, Notification, Skill
from lti_tool.services import learner_records, tracking
from lti_tool.web.common.launch_session import csrf_for
from lti_tool.web.lms.learner import page_cache
from tests.conftest import REDIS_URL
from tests.support.learning import (
    INTROPROG,
    TEACHER,
    account_of,
    context_of,
    demonstrate,
    launch,
    make_issuer,
    offer,
    python_catalog,
    skill_block,
)

FOR_CREDIT = {"context_kind": "for-credit"}


@pytest.fixture()
def school(app, db, platform):
    issuer = make_issuer(db, platform)
    catalog, version = python_catalog(db, issuer)
    launch(app, platform, "instructor_claims_INTROPROG.json", custom=FOR_CREDIT)
    for sub, name in (("4", "Sam Student"), ("5", "Alex Learner")):
        launch(app, platform, INTROPROG, sub=sub, name=name, custom=FOR_CREDIT)
    intro = context_of(db, platform, "2")
    offer(db, issuer, intro, version)
    return {"issuer": issuer, "catalog": catalog, "intro": intro,
            "sam": account_of(db, platform, "4"), "alex": account_of(db, platform, "5")}


def _sam(app, platform, **kwargs):
    return launch(app, platform, INTROPROG, sub="4", name="Sam Student", **kwargs)


def _entries(app) -> dict[str, str]:
    client = redis_lib.Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = app.extensions["kv"].prefix + page_cache.KEY_PREFIX
    return {key: client.get(key) for key in client.scan_iter(match=prefix + "*")}


def test_a_reload_is_served_from_the_cache_with_no_launch_secret_stored(app, platform, school):
    sam = _sam(app, platform)
    first = sam.page()
    assert first.status == 200 and "Sam Student" in first.text
    [(key, stored)] = _entries(app).items()
    csrf = _csrf(app, sam)
    assert sam.lt in first.html
    assert sam.lt not in stored and page_cache.TOKEN_MARK in stored
    assert _launch_id(app, sam) not in stored
    if csrf in first.html:
        assert csrf not in stored
    # The next load is this entry (altered here to prove it), with the launch's token back.
    client = redis_lib.Redis.from_url(REDIS_URL)
    client.set(key, stored.replace("My skills & credentials", "From the cache"), ex=60)
    again = sam.page()
    assert "From the cache" in again.text and sam.lt in again.html
    assert again.html == first.html.replace("My skills & credentials", "From the cache")


def _launch_id(app, launched) -> str:
    from lti_tool.lti.runtime import runtime

    with app.test_request_context():
        return runtime().tokens.read(launched.lt)


def _csrf(app, launched) -> str:
    launch_id = _launch_id(app, launched)
    with app.app_context():
        return csrf_for(launch_id)


def test_a_demonstration_recorded_through_the_service_shows_on_the_next_load(
        app, db, platform, school):
    sam = _sam(app, platform)
    assert "Not yet" in skill_block(sam.page(), "Variables and types")
    assert sam.page().html == sam.page().html  # cached, stable
    demonstrate(db, school["intro"], school["sam"], school["catalog"].skills["PY-VAR"])
    block = skill_block(sam.page(), "Variables and types")
    assert "Demonstrated on" in block and "Not yet" not in block


def test_a_core_bulk_insert_and_update_show_on_the_next_load(app, db, platform, school):
    skills = school["catalog"].skills
    demonstrate(db, school["intro"], school["sam"], skills["PY-VAR"])
    sam = _sam(app, platform)
    assert "Not yet" in skill_block(sam.page(), "Control flow")
    table = Demonstration.__table__
    row = dict(db.execute(select(table).where(
        table.c.person_id == school["sam"].person_id)).mappings().one())
    row.pop("id")
    # Core, on its own connection's transaction: no ORM session event is involved.
    db.execute(insert(table), [{**row, "skill_id": skills["PY-FLOW"].id},
                               {**row, "skill_id": skills["PY-FUNC"].id}])
    db.commit()
    page = sam.page()
    assert "Demonstrated" in skill_block(page, "Control flow")
    assert "Demonstrated" in skill_block(page, "Functions")
    db.execute(update(Skill.__table__).where(Skill.__table__.c.id == skills["PY-DEBUG"].id)
               .values(name="Debugging and tracing"))
    db.commit()
    assert "Debugging and tracing" in sam.page().text


def test_an_award_and_its_revocation_show_on_the_next_load(app, db, platform, school):
    skills = school["catalog"].skills
    sam = _sam(app, platform)
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG"):
        demonstrate(db, school["intro"], school["sam"], skills[code])
    assert "4 of 5 skills demonstrated" in sam.page().text
    result = demonstrate(db, school["intro"], school["sam"], skills["PY-TEST"])
    assert result.new_awards
    earned = sam.page().html.split('id="earned-title"', 1)[1].split('id="progress-title"')[0]
    assert "Python Programming Fundamentals" in earned
    award = db.scalars(select(Award).where(Award.person_id == school["sam"].person_id)).one()
    tracking.revoke_award(db, award, reason="Recorded in error", by=TEACHER)
    db.commit()
    page = sam.page()
    assert 'id="revoked-title"' in page.html
    earned = page.html.split('id="earned-title"', 1)[1].split('id="progress-title"')[0]
    assert "Python Programming Fundamentals" not in earned


def test_a_catalog_edit_shows_on_every_learners_next_load(app, db, platform, school):
    sam, alex = _sam(app, platform), launch(app, platform, INTROPROG, sub="5",
                                            name="Alex Learner")
    for person in (sam, alex):
        assert "Variables and types" in person.page().text
    db.execute(update(Skill.__table__).where(Skill.__table__.c.code == "PY-VAR")
               .values(name="Variables, types and values"))
    db.commit()
    for person in (sam, alex):
        assert "Variables, types and values" in person.page().text


def test_a_notification_shows_on_the_next_load(app, db, platform, school):
    sam = _sam(app, platform)
    assert "Your request was decided" not in sam.page().text
    count = db.scalar(select(text("count(*)")).select_from(Notification.__table__))
    assert count == 0
    version = learner_records.page_state(db, school["sam"].id)
    alex_version = learner_records.page_state(db, school["alex"].id)
    db.execute(insert(Notification.__table__).values(
        issuer_id=school["issuer"].id, person_id=school["sam"].person_id,
        subject_type="plar_request", subject_id=1, kind="decided",
        subject="Your request was decided",
        body="", created_at=school["intro"].created_at))
    db.commit()
    assert learner_records.page_state(db, school["sam"].id).person_version > \
        version.person_version
    # Only Sam's counter moved: Alex's page stays cached.
    assert learner_records.page_state(db, school["alex"].id) == alex_version
    assert "Your request was decided" in sam.page().text


def test_two_learners_and_two_launches_never_see_each_others_page_or_tokens(
        app, db, platform, school):
    demonstrate(db, school["intro"], school["sam"], school["catalog"].skills["PY-VAR"])
    sam, alex = _sam(app, platform), launch(app, platform, INTROPROG, sub="5",
                                            name="Alex Learner")
    sam_page, alex_page = sam.page(), alex.page()
    assert "Sam Student" in sam_page.text and "Alex Learner" not in sam_page.text
    assert "Alex Learner" in alex_page.text and "Sam Student" not in alex_page.text
    assert "Demonstrated" in skill_block(sam_page, "Variables and types")
    assert "Not yet" in skill_block(alex_page, "Variables and types")
    assert alex.lt not in sam_page.html and sam.lt not in alex_page.html
    # A second launch of Sam shares the entry but gets its own tokens, never the first's.
    entries = len(_entries(app))
    again = _sam(app, platform)
    page = again.page()
    assert len(_entries(app)) == entries
    assert again.lt in page.html and sam.lt not in page.html
    assert _csrf(app, sam) not in page.html
    assert re.sub(re.escape(again.lt), "LT", page.html) == \
        re.sub(re.escape(sam.lt), "LT", sam.page().html).replace(
            _csrf(app, sam), _csrf(app, again))


def test_a_locale_switch_is_another_page(app, db, platform, school):
    from lti_tool.domain.lti import CLAIM_LAUNCH_PRESENTATION
    from tests.support.platform import moodle_fixture

    english = _sam(app, platform).page()
    presentation = dict(moodle_fixture(INTROPROG).get(CLAIM_LAUNCH_PRESENTATION, {}))
    presentation["locale"] = "fr-CA"
    french = _sam(app, platform, **{CLAIM_LAUNCH_PRESENTATION: presentation}).page()
    assert 'lang="en' in english.html and "My skills" in english.text
    assert 'lang="fr' in french.html and "Mes compétences" in french.text
    assert "Mes compétences" in _sam(app, platform, **{
        CLAIM_LAUNCH_PRESENTATION: presentation}).page().text


def test_a_failing_cache_still_serves_the_page(app, db, platform, school):
    sam = _sam(app, platform)
    first = sam.page()
    [key] = _entries(app)
    client = redis_lib.Redis.from_url(REDIS_URL)
    client.delete(key)
    client.rpush(key, "not a string")  # GET answers WRONGTYPE: a Redis error, not a page
    demonstrate(db, school["intro"], school["sam"], school["catalog"].skills["PY-VAR"])
    page = sam.page()
    assert page.status == 200 and "Demonstrated" in skill_block(page, "Variables and types")
    assert page.html != first.html


def test_with_the_cache_off_nothing_is_stored(app, platform, school):
    app.config["LEARNER_PAGE_CACHE_SECONDS"] = 0
    try:
        assert _sam(app, platform).page().status == 200
        assert _entries(app) == {}
    finally:
        app.config["LEARNER_PAGE_CACHE_SECONDS"] = 1800


def test_every_table_is_covered_by_a_page_version_trigger_or_exempt(db):
    """A new table the learner page reads must get a trigger (a new migration) or be
    declared exempt, with the reason, in ``learner_records.PAGE_EXEMPT_TABLES``."""
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.execute(text(
            "SELECT c.relname, t.tgtype FROM pg_trigger t JOIN pg_class c "
            "ON c.oid = t.tgrelid WHERE t.tgname LIKE 'mc_page_%'")).all()
        events: dict[str, set[str]] = {}
        for table, tgtype in rows:  # tgtype bits: 4 insert, 8 delete, 16 update
            found = events.setdefault(table, set())
            found |= {e for bit, e in ((4, "insert"), (8, "delete"), (16, "update"))
                      if tgtype & bit}
    else:
        rows = connection.execute(text(
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'mc_page_%'")).all()
        events = {}
        for table, name in rows:
            events.setdefault(table, set()).add(name.rsplit("_", 1)[1])
    tables = set(inspect(connection).get_table_names())
    assert set(Base.metadata.tables) <= tables
    expected = {"insert", "update", "delete"}
    uncovered = {t for t in tables - set(learner_records.PAGE_EXEMPT_TABLES)
                 if events.get(t) != (expected - {"insert"}
                                      if t in learner_records.PAGE_INSERT_EXEMPT_TABLES
                                      else expected)}
    assert uncovered == set()
    assert not set(events) & set(learner_records.PAGE_EXEMPT_TABLES)


def test_a_plar_decision_shows_on_the_learners_next_load(app, db, platform):
    from tests.support.plar import decide, make_plar_school, only_request, submit_request

    school = make_plar_school(app, db, platform)
    sam = school["sam"]
    assert "Recognition of prior learning" in sam.page("/app").text
    assert submit_request(school).status_code == 303
    assert "was received" in sam.page("/app").text
    req = only_request(db)
    sam.get(f"/plar/requests/{req.id}")  # opening it dismisses the notice
    quiet = sam.page("/app")
    assert "was received" not in quiet.text and "is being assessed" not in quiet.text
    assert sam.page("/app").html == quiet.html
    assert decide(school, req, "PY-VAR").status_code == 303
    assert "is being assessed" in sam.page("/app").text


def test_a_page_with_a_notice_parameter_is_neither_stored_nor_served_from_the_cache(
        app, platform, school):
    sam = _sam(app, platform)
    sam.page(name_saved="anything")
    assert _entries(app) == {}
    plain = sam.page()
    [(key, stored)] = _entries(app).items()
    client = redis_lib.Redis.from_url(REDIS_URL)
    client.set(key, stored.replace("My skills & credentials", "From the cache"), ex=60)
    assert "From the cache" not in sam.page(name_saved="anything").text
    assert "From the cache" in sam.page().text and "From the cache" not in plain.text


def test_a_courses_first_launch_and_its_roster_refresh_leave_cached_pages_valid(
        app, db, platform):
    """Writes a page never shows do not move the shared counter: a new course (its first
    launch), a roster refresh's status on the course. A renamed course does."""
    from lti_tool.models import Context, Deployment

    def shared() -> int:
        return db.execute(text(
            "SELECT version FROM learner_page_versions WHERE person_id = 0")).scalar_one()

    before = shared()
    deployment = db.scalars(select(Deployment)).first()
    if deployment is None:
        from lti_tool.models import Platform

        deployment = Deployment(platform_id=db.scalars(select(Platform)).first().id,
                                deployment_id="dep-page-test")
        db.add(deployment)
        db.commit()
        before = shared()
    course = Context(deployment_id=deployment.id, lti_context_id="new-course", title="New")
    db.add(course)
    db.commit()
    assert shared() == before
    course.roster_status = {"ok": True}
    db.commit()
    assert shared() == before
    course.title = "Renamed"
    db.commit()
    assert shared() > before


def _forget_account(app, launched) -> None:
    """As if the launched account were gone since the launch: its launch session now names
    an account id no row has."""
    from lti_tool.lti.runtime import runtime

    launch_id = _launch_id(app, launched)
    with app.app_context():
        store = runtime().store
        data = store.load_launch(launch_id)
        data["record"]["account_id"] = 2_000_000_000
        store.save_launch(launch_id, data, 600)


@pytest.mark.parametrize(("locale", "sentence"), [
    ("en", "Your account is not known here any more."),
    ("fr-CA", "Votre compte n'est plus connu ici."),
])
def test_an_account_gone_since_the_launch_gets_a_clear_404_cached_or_not(
        app, platform, school, locale, sentence):
    sam = _sam(app, platform, **{"https://purl.imsglobal.org/spec/lti/claim/"
                                 "launch_presentation": {"locale": locale}})
    assert sam.page().status == 200 and _entries(app)  # the landing page is cached
    _forget_account(app, sam)
    for path in ("/app", "/me", "/me/credentials/PY-FUND"):  # the cache, then person_of
        page = sam.page(path)
        assert page.status == 404, path
        assert sentence in page.text, path
