"""A returning user's launch writes only what changed: a class launching at once reads its
course's row and writes nothing to it (no queue on that row's lock); a new course title,
name or AGS endpoint is still written by the next launch."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event, select

from lti_tool.models import AuditEvent, Context, LearnerAccount
from tests.support.lti import follow, full_launch
from tests.support.platform import moodle_fixture

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


@contextmanager
def writes(app: Flask) -> Iterator[list[str]]:
    """The UPDATE statements run meanwhile, by table."""
    seen: list[str] = []
    engine = app.extensions["db_engine"]

    def note(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        words = statement.split()
        if words and words[0].upper() == "UPDATE":
            seen.append(words[1])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_returning_launch_with_the_same_claims_updates_nothing(app, client, platform, db):
    follow(client, full_launch(client, platform))
    context = db.scalars(select(Context)).one()
    stamped = context.updated_at
    with writes(app) as updates:
        page = follow(client, full_launch(client, platform))
    assert page.status_code == 200
    assert updates == []
    db.expire_all()
    assert db.scalars(select(Context)).one().updated_at == stamped
    # ... and the launch is still audited
    assert len(db.scalars(select(AuditEvent).where(AuditEvent.action == "lti.launch")).all()) == 2


def test_what_the_platform_changed_is_written_by_the_next_launch(app, client, platform, db):
    follow(client, full_launch(client, platform))
    context_claim = copy.deepcopy(moodle_fixture("instructor_claims_INTROPROG.json")[CONTEXT])
    context_claim["title"] = "Intro to Programming (renamed)"
    ags = copy.deepcopy(moodle_fixture("instructor_claims_INTROPROG.json").get(AGS) or {
        "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"]})
    ags["lineitems"] = "https://moodle.test/mod/lti/services.php/99/lineitems?type_id=1"
    with writes(app) as updates:
        page = follow(client, full_launch(client, platform, **{
            CONTEXT: context_claim, AGS: ags, "name": "Terry T. Teacher"}))
    assert page.status_code == 200
    assert sorted(set(updates)) == ["contexts", "learner_accounts"]
    db.expire_all()
    context = db.scalars(select(Context)).one()
    assert context.title == "Intro to Programming (renamed)"
    assert context.ags is not None and context.ags["lineitems"].endswith("/99/lineitems?type_id=1")
    account = db.scalars(select(LearnerAccount).where(LearnerAccount.sub == "3")).one()
    assert account.name == "Terry T. Teacher"


def test_two_first_launches_of_one_learner_at_once_both_succeed(base_app: Flask,
                                                                 transport: Any) -> None:
    """A double click (or two tabs): both launches find the learner off the roster; the
    second roster INSERT loses to the unique (course, account) and keeps the winner's row
    instead of failing that launch with a 500."""
    import pytest
    from sqlalchemy.orm import Session, sessionmaker

    from lti_tool.domain.lti import launch_context_from_claims
    from lti_tool.models import RosterEntry
    from lti_tool.services.launches import record_launch
    from lti_tool.services.roster import note_launch
    from tests.conftest import register_platform
    from tests.support.attacks import committed_rows_removed
    from tests.support.platform import TestPlatform

    engine = base_app.extensions["db_engine"]
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: the second launch cannot reach its INSERT "
                    "before the first commits")
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with committed_rows_removed(engine):
        test_platform = TestPlatform()
        with Session(engine) as session:
            row = register_platform(session, test_platform, transport)
            platform_id, deployment_pk = row.id, row.deployments[0].id
        body = test_platform.claims("learner_claims_INTROPROG.json", nonce="n",
                                    target_link_uri="https://tool.test/lti/launch")
        launch = launch_context_from_claims(body, launch_id="race", platform_id=platform_id,
                                            deployment_pk=deployment_pk,
                                            client_id=test_platform.client_id)
        with factory() as first:  # the learner and course exist, the roster entry not yet
            record = record_launch(first, launch)
            first.commit()
        errors: list[BaseException] = []

        def second_launch() -> None:
            try:
                with factory() as second:
                    note_launch(second, launch, account_id=record.account_id,
                                context_pk=record.context_pk)
                    second.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

        with factory() as first:
            note_launch(first, launch, account_id=record.account_id,
                        context_pk=record.context_pk)  # INSERT sent, not committed
            worker = threading.Thread(target=second_launch)
            worker.start()
            time.sleep(0.5)  # the second launch now waits on the first's INSERT
            first.commit()
        worker.join(timeout=30)
        assert not errors, errors
        with factory() as check:
            entries = check.scalars(select(RosterEntry).where(
                RosterEntry.context_id == record.context_pk)).all()
            assert [(e.account_id, e.status) for e in entries] == [(record.account_id,
                                                                     "active")]


LEARNER = "learner_claims_INTROPROG.json"


def test_a_returning_learner_is_kept_on_the_roster_by_the_launch_read(app, client, platform,
                                                                       db):
    """A learner's launch reads the roster entry with the account and course: an active
    member is left as is; an entry the launch made that was since marked inactive is made
    active again; one the platform's roster (NRPS) marked inactive stays so."""
    from lti_tool.models import RosterEntry

    assert follow(client, full_launch(client, platform, LEARNER)).status_code == 200
    entry = db.scalars(select(RosterEntry)).one()
    assert (entry.status, entry.source) == ("active", "launch")
    with writes(app) as updates:
        assert follow(client, full_launch(client, platform, LEARNER)).status_code == 200
    assert updates == []
    entry.status = "inactive"
    db.commit()
    assert follow(client, full_launch(client, platform, LEARNER)).status_code == 200
    db.expire_all()
    assert db.scalars(select(RosterEntry)).one().status == "active"
    entry = db.scalars(select(RosterEntry)).one()
    entry.status, entry.source = "inactive", "nrps"
    db.commit()
    assert follow(client, full_launch(client, platform, LEARNER)).status_code == 200
    db.expire_all()
    assert db.scalars(select(RosterEntry)).one().status == "inactive"


def test_a_returning_launch_on_postgresql_is_one_statement_outside_any_transaction(
        base_app: Flask, transport: Any) -> None:
    """On PostgreSQL a returning launch that changes nothing stored reads its rows and
    writes its audit row in one statement, in autocommit: no transaction is left open, and
    the row is committed at once. A launch that changes a stored value writes the same one
    audit row and its UPDATE in the session's transaction; a launch into a new resource link
    falls back to the upsert, which writes the audit row instead (never both); inside a
    transaction already open, the statement joins it."""
    import pytest
    from sqlalchemy import func
    from sqlalchemy.orm import Session, sessionmaker

    from lti_tool.domain.lti import launch_context_from_claims
    from lti_tool.models import ResourceLink
    from lti_tool.services.launches import record_launch
    from tests.conftest import register_platform
    from tests.support.attacks import committed_rows_removed
    from tests.support.platform import TestPlatform

    engine = base_app.extensions["db_engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("the autocommit statement is PostgreSQL's (SQLite keeps the session's "
                    "SELECT + INSERT)")
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    def audited(launch_id: str) -> int:
        with Session(engine) as other:  # another connection: sees committed rows only
            return other.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.launch_id == launch_id)) or 0

    with committed_rows_removed(engine):
        test_platform = TestPlatform()
        with Session(engine) as session:
            row = register_platform(session, test_platform, transport)
            platform_id, deployment_pk = row.id, row.deployments[0].id

        def launch_of(launch_id: str, *, without: str = "", **changes: Any) -> Any:
            body = test_platform.claims(LEARNER, nonce="n",
                                        target_link_uri="https://tool.test/lti/launch")
            body.update(changes)
            body.pop(without, None)
            return launch_context_from_claims(body, launch_id=launch_id,
                                              platform_id=platform_id,
                                              deployment_pk=deployment_pk,
                                              client_id=test_platform.client_id)

        with factory() as session:  # first launch: the upsert
            first = record_launch(session, launch_of("first"))
            session.commit()
        assert audited("first") == 1

        with factory() as session:  # the same claims again: one statement, autocommit
            again = record_launch(session, launch_of("again"), request_id="r-again")
            assert not session.in_transaction()
            assert audited("again") == 1  # committed already
            session.commit()
        assert (again.account_id, again.context_pk, again.resource_link_pk) == (
            first.account_id, first.context_pk, first.resource_link_pk)
        with Session(engine) as check:
            event_row = check.scalars(select(AuditEvent).where(
                AuditEvent.launch_id == "again")).one()
            assert (event_row.action, event_row.actor_account_id, event_row.platform_id,
                    event_row.context_id, event_row.subject_type, event_row.subject_id,
                    event_row.request_id) == (
                "lti.launch", first.account_id, platform_id, first.context_pk,
                "resource_link", str(first.resource_link_pk), "r-again")
            assert event_row.detail == {"message_type": "LtiResourceLinkRequest",
                                        "role": "learner"}

        with factory() as session:  # a new name: the same audit row, and its UPDATE
            record_launch(session, launch_of("renamed", name="Lee Renamed"))
            assert session.in_transaction()
            session.commit()
        assert audited("renamed") == 1
        with Session(engine) as check:
            assert check.get(LearnerAccount, first.account_id).name == "Lee Renamed"

        link_claim = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
        with factory() as session:  # a new resource link: the upsert audits, once
            moved = record_launch(session, launch_of(
                "new-link", **{link_claim: {"id": "another-link", "title": "Another"}}))
            session.commit()
        assert audited("new-link") == 1
        assert moved.resource_link_pk not in (None, first.resource_link_pk)
        with Session(engine) as check:
            assert check.get(ResourceLink, moved.resource_link_pk).title == "Another"

        for launch_id in ("no-course-1", "no-course-2"):  # outside any course: no context
            with factory() as session:
                outside = record_launch(session, launch_of(launch_id, without=CONTEXT))
                session.commit()
            assert audited(launch_id) == 1
            assert (outside.account_id, outside.context_pk) == (first.account_id, None)
        with Session(engine) as check:
            assert check.scalars(select(AuditEvent.context_id).where(
                AuditEvent.launch_id == "no-course-2")).one() is None

        with factory() as session:  # a transaction already open: the statement joins it
            session.get(LearnerAccount, first.account_id)
            assert session.in_transaction()
            record_launch(session, launch_of("joined"))
            assert audited("joined") == 0
            session.rollback()
        assert audited("joined") == 0
