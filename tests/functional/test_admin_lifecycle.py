"""The lifecycle through the admin UI: submit, a refused self-review, a second administrator
requesting changes then approving on the rubric, publish, retire; refused actions from
stale pages; editing a published version makes a new draft (the published one never
changes); version history and diffs; the full review history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.domain.catalog import DEFAULT_RUBRIC
from lti_tool.models import CredentialVersion, Review
from tests.support.admin import (
    INSTITUTION_ADMIN,
    INSTRUCTOR,
    Page,
    credential_fields,
    launch,
    make_issuer,
)


@pytest.fixture()
def people(app, platform, db):
    make_issuer(db, platform)
    avery = launch(app, platform, sub="admin-1", name="Avery Admin",
                   roles=[INSTITUTION_ADMIN, INSTRUCTOR])
    blake = launch(app, platform, sub="admin-2", name="Blake Board",
                   roles=[INSTITUTION_ADMIN])
    return avery, blake


def create_draft(avery, **overrides):
    for code, name in (("PY-VAR", "Variables and types"), ("PY-FUNC", "Functions")):
        form = avery.page("/admin/skills/new").form("/admin/skills/new")
        assert avery.submit(form, code=code, name=name).status_code == 303
    form = avery.page("/admin/credentials/new").form("/admin/credentials/new")
    response = avery.submit(form, **credential_fields(required_skills=["PY-VAR", "PY-FUNC"],
                                                      **overrides))
    assert response.status_code == 303
    return response.headers["Location"].split("?")[0]


def act(person, credential_path, action):
    """Press a lifecycle button on the credential page (it must be there); publishing and
    retiring ask first, and the confirmation is given."""
    page = person.page(credential_path)
    response = person.submit(page.form("/transition", containing=action))
    if action in ("publish", "retire"):
        asked = Page(response)
        assert asked.status == 200 and "This cannot be undone" in asked.text, asked.text[:800]
        response = person.submit(asked.form("/transition", containing=action))
    return response


def version_of(db, number=1):
    db.expire_all()
    return db.scalars(select(CredentialVersion).where(CredentialVersion.version == number)).one()


def review_form_values(decision, comment="", level="met"):
    values = {f"level-{i}": level for i in range(len(DEFAULT_RUBRIC))}
    values.update({"decision": decision, "comment": comment,
                   "comment-0": "Clear structure; admission requirements stated."})
    return values


def test_full_lifecycle_with_separation_of_duties(people, db):
    avery, blake = people
    path = create_draft(avery)
    draft_page = avery.page(path)
    assert draft_page.has_form("/transition", containing="submit")
    assert not draft_page.has_form("/transition", containing="publish")

    assert act(avery, path, "submit").status_code == 303
    version = version_of(db)
    assert version.state == "in_review"

    # The author cannot review: an explanation instead of the form, and a POST is refused.
    own = avery.page(f"/admin/versions/{version.id}/review")
    assert own.status == 200
    assert "You wrote or edited this version, so someone else must review it" in own.text
    assert not own.has_form("/review")
    assert "Review this version" not in avery.page(path).text
    with_csrf = avery.page(path).form("/transition")
    refused = avery.client.post(f"/admin/versions/{version.id}/review", data={
        "lt": avery.lt, "csrf_token": with_csrf.value("csrf_token"),
        "row_version": str(version.row_version), **review_form_values("approve")})
    assert refused.status_code == 403
    assert "someone else must review it" in refused.get_data(as_text=True)
    assert version_of(db).state == "in_review"
    assert db.scalars(select(Review)).first() is None

    # A second administrator reviews: every criterion grouped by lens, a radio per level.
    review_page = blake.page(f"/admin/versions/{version.id}/review")
    form = review_page.form("/review")
    assert review_page.html.count('<fieldset class="lens">') == 3
    for lens in ("Educational goals and standards", "Institutional accountability",
                 "Provincial and sector accountability"):
        assert lens in review_page.text
    assert set(form.options["level-0"]) == {"not_met", "partially_met", "met", "exemplary"}
    assert "Python Programming Fundamentals" in review_page.text  # the preview is there

    # Missing levels and a "request changes" without a comment: errors, nothing recorded.
    incomplete = Page(blake.submit(form, decision="request_changes"))
    assert incomplete.status == 422
    assert "Choose a level" in incomplete.field_error("level-3")
    assert "Explain what must change" in incomplete.field_error("comment")
    assert db.scalars(select(Review)).first() is None

    changes = review_form_values("request_changes", "Outcome 2 needs a measurable verb.",
                                 level="partially_met")
    response = blake.submit(form, **changes)
    assert response.status_code == 303
    assert version_of(db).state == "draft"
    shown = Page(blake.client.get(response.headers["Location"]))
    assert "changes requested" in shown.text

    # Avery revises and resubmits; Blake approves.
    edit = avery.page(f"/admin/versions/{version.id}/edit").form("/edit")
    assert avery.submit(edit, learning_outcomes="Write programs with variables\n"
                        "Apply control flow to solve problems").status_code == 303
    assert act(avery, path, "submit").status_code == 303
    form = blake.page(f"/admin/versions/{version.id}/review").form("/review")
    # Approving with a criterion "not met" asks first; nothing is recorded until confirmed.
    overriding = {**review_form_values("approve", "Good."), "level-2": "not_met"}
    asked = Page(blake.submit(form, **overriding))
    assert asked.status == 200
    assert "Approve although a criterion is not met?" in asked.text
    assert db.scalars(select(Review).where(Review.decision == "approve")).first() is None
    assert version_of(db).state == "in_review"
    confirm = asked.form("/review")
    assert confirm.value("level-2") == "not_met"   # the scores are kept
    assert blake.submit(confirm, confirm_not_met="1").status_code == 303
    assert version_of(db).state == "approved"
    approval = db.scalars(select(Review).where(Review.decision == "approve")).one()
    assert approval.confirmed_not_met == [DEFAULT_RUBRIC[2].key]

    # Publish (Avery): the page asks first and changes nothing until confirmed; the
    # public snapshot is then frozen.
    first = Page(avery.submit(avery.page(path).form("/transition", containing="publish")))
    assert first.status == 200 and "This cannot be undone" in first.text
    assert "never changes again" in first.text
    assert version_of(db).state == "approved"
    assert act(avery, path, "publish").status_code == 303
    published = version_of(db)
    assert published.state == "published" and published.snapshot is not None
    page = avery.page(path)
    assert "Published" in page.text
    assert page.has_form("/transition", containing="retire")

    # The full review history, newest first, with per-criterion levels grouped by lens.
    history = page.text
    assert history.index("Version 1: Approved") < history.index("Version 1: Changes requested")
    assert "by Blake Board" in history
    assert "Approved although 1 criterion was scored “Not met” (the reviewer confirmed it)." \
        in history
    assert "Outcome 2 needs a measurable verb." in history
    assert "Clear structure; admission requirements stated." in history
    assert "Structure and admission requirements : Partially met" in history
    assert "Institutional accountability" in history

    assert act(avery, path, "retire").status_code == 303
    assert version_of(db).state == "retired"


def test_a_reviewer_can_review_and_a_catalog_admin_only_cannot(people, db, app, platform):
    from lti_tool.domain.catalog import CatalogRole
    from lti_tool.services import catalog as catalog_service
    from lti_tool.services.platforms import find_platform

    avery, _ = people
    path = create_draft(avery)
    act(avery, path, "submit")
    version = version_of(db)
    issuer_id = version.credential.issuer_id
    platform_id = find_platform(db, platform.issuer, platform.client_id).id
    actor = catalog_service.Actor("cli", "cli", issuer_id,
                                  catalog_service.scopes_for_roles([CatalogRole.CATALOG_ADMIN]))
    catalog_service.grant_role(db, actor, platform_id, "3", CatalogRole.CATALOG_ADMIN)
    catalog_service.grant_role(db, actor, platform_id, "5", CatalogRole.REVIEWER)
    db.commit()
    editor = launch(app, platform, sub="3", name="Terry Teacher", roles=[INSTRUCTOR])
    blocked = editor.page(f"/admin/versions/{version.id}/review")
    assert "Reviewing needs the reviewer role" in blocked.text
    assert not blocked.has_form("/review")

    reviewer = launch(app, platform, sub="5", name="Rita Reviewer", roles=[INSTRUCTOR])
    queue = reviewer.page("/admin/reviews")
    assert "Python Programming Fundamentals" in queue.text
    form = reviewer.page(f"/admin/versions/{version.id}/review").form("/review")
    assert reviewer.submit(form, **review_form_values("approve")).status_code == 303
    assert version_of(db).state == "approved"
    # A reviewer has no lifecycle buttons (publishing needs catalog:write).
    assert not reviewer.page(path).has_form("/transition")


def test_refused_actions_from_stale_pages_show_the_reason_and_change_nothing(people, db):
    avery, blake = people
    path = create_draft(avery)
    stale_page = avery.page(path)
    stale_submit = stale_page.form("/transition", containing="submit")
    assert act(avery, path, "submit").status_code == 303  # in another tab

    again = Page(avery.submit(stale_submit))
    assert again.status == 409
    assert "Someone else saved this in the meantime" in again.text
    assert "In review" in again.text  # the page shows the current state
    assert version_of(db).state == "in_review"

    # A transition the state does not allow is refused with the lifecycle's reason.
    current = avery.page(path).form("/transition", containing="withdraw")
    publish = Page(avery.submit(current, action="publish"))
    assert publish.status == 409
    assert "Only an approved version can be published. This version is in review." \
        in publish.text
    assert version_of(db).state == "in_review"

    # A review from a stale review page (the version was withdrawn meanwhile) is refused.
    review_form = blake.page(f"/admin/versions/{version_of(db).id}/review").form("/review")
    assert act(avery, path, "withdraw").status_code == 303
    late = Page(blake.submit(review_form, **review_form_values("approve")))
    assert late.status == 409
    assert "Someone else saved this" in late.text
    assert version_of(db).state == "draft"
    assert db.scalars(select(Review)).first() is None


def publish_v1(avery, blake, db, path):
    act(avery, path, "submit")
    version = version_of(db)
    form = blake.page(f"/admin/versions/{version.id}/review").form("/review")
    assert blake.submit(form, **review_form_values("approve")).status_code == 303
    assert act(avery, path, "publish").status_code == 303
    return version_of(db)


def test_editing_a_published_version_creates_a_new_draft_and_diff_shows_it(people, db):
    avery, blake = people
    path = create_draft(avery)
    v1 = publish_v1(avery, blake, db, path)
    snapshot_before = dict(v1.snapshot)

    edit_page = avery.page(f"/admin/versions/{v1.id}/edit")
    assert "Saving creates draft version 2" in edit_page.text
    form = edit_page.form("/edit")
    bad = Page(avery.submit(form, notional_hours="0"))
    assert bad.status == 422
    assert len(db.scalars(select(CredentialVersion)).all()) == 1  # nothing half-made

    response = avery.submit(form, title="Python Programming Fundamentals (2025)",
                            notional_hours="45",
                            learning_outcomes="Write programs with variables and types\n"
                                              "Use control flow")
    assert response.status_code == 303
    shown = Page(avery.client.get(response.headers["Location"]))
    assert "saved as a new draft version" in shown.text
    v1 = version_of(db, 1)
    v2 = version_of(db, 2)
    assert v1.state == "published" and v1.title == "Python Programming Fundamentals"
    assert v1.snapshot == snapshot_before
    assert v2.state == "draft" and v2.title == "Python Programming Fundamentals (2025)"
    assert "version 2" in shown.text.lower()

    # While version 2 is open, version 1 cannot be edited again.
    blocked = avery.page(f"/admin/versions/{v1.id}/edit")
    assert "Version 1 is not the latest: edit version 2 instead." in blocked.text
    assert not blocked.has_form("/edit")

    diff = avery.page(path + "/diff", a="1", b="2")
    assert diff.status == 200
    text = diff.text
    assert "Changes from version 1 to version 2" in text
    assert "Title Python Programming Fundamentals Python Programming Fundamentals (2025)" \
        in text
    assert "Notional learning hours 40 45" in text
    assert "Removed: Write and call functions" in text  # the dropped outcome, marked
    assert "Short description" not in text  # unchanged fields are not listed
    same = avery.page(path + "/diff", a="2", b="2")
    assert "Choose two different versions" in same.text

    # Version history lists both versions; version 1 is still readable as published.
    page = avery.page(path)
    assert "Version 1" in page.text and "Version 2" in page.text
    old = avery.page(path, v="1")
    assert "frozen when version 1 was published" in old.text
    assert "Python Programming Fundamentals" in old.text


def test_start_new_version_button_and_refusal_while_one_is_open(people, db):
    avery, blake = people
    path = create_draft(avery)
    publish_v1(avery, blake, db, path)
    page = avery.page(path)
    start = page.form("/new-version")
    response = avery.submit(start)
    assert response.status_code == 303
    assert "/edit" in response.headers["Location"]
    assert version_of(db, 2).state == "draft"
    again = Page(avery.submit(start))  # the same (now stale) button
    assert again.status == 409
    assert len(db.scalars(select(CredentialVersion)).all()) == 2
