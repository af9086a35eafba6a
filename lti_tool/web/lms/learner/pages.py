"""The learner's own records inside a course (``/me``): "My skills" and "My credentials".

A learner sees only their own records: the Person is always the launched account's
(nothing in a URL or form names a learner), an evidence file is served only from the
learner's own demonstrations, and a deep link's credential code is accepted only from the
launch's issuer. No grades anywhere. Thin: the page is built by
``services.learner_records``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response

from lti_tool.domain.labels import ROLE as ROLE_LABELS
from lti_tool.domain.lti import AppRole
from lti_tool.errors import NotFound
from lti_tool.extensions import db_session, read_connection
from lti_tool.i18n import (
    bound_template_gettext,
    current_short,
    long_date,
    long_date_short_time,
)
from lti_tool.models import Award, Context, EvidenceFile, MicroCredential
from lti_tool.services import issuing, learner_records, occupations
from lti_tool.services.catalog import published_version
from lti_tool.translate import gettext as _
from lti_tool.web.common import pathway_views
from lti_tool.web.common.catalog_access import issuer_for_launch
from lti_tool.web.common.launch_session import CurrentLaunch, check_csrf, require_roles
from lti_tool.web.common.local_text import local_text
from lti_tool.web.lms.learner import page_cache
from lti_tool.web.lms.learner.actions import learner_actions

bp = Blueprint("learner", __name__, url_prefix="/me")

CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Evidence is always downloaded, never shown inline; types a browser could run as a page
# are sent as plain bytes.
ACTIVE_TYPES = ("html", "xml", "svg", "javascript", "ecmascript", "xhtml")


def _fmt_date(value: datetime | None) -> str:
    """``6 décembre 2026`` / ``December 6, 2026``."""
    return long_date(value) if value else ""


def _fmt_dt(value: datetime | None) -> str:
    """``6 décembre 2026, 14 h 05 UTC`` / ``December 6, 2026, 2:05 PM UTC``."""
    if not value:
        return ""
    date_text, time_text = long_date_short_time(value)
    return _("%(date)s, %(time)s UTC", date=date_text, time=time_text)


@bp.app_template_filter("learner_date")
def learner_date(value: datetime | None) -> str:
    return _fmt_date(value)


@bp.app_template_filter("learner_datetime")
def learner_datetime(value: datetime | None) -> str:
    return _fmt_dt(value)


def _learner() -> CurrentLaunch:
    return require_roles(AppRole.LEARNER)


def credential_of_issuer(current: CurrentLaunch, code: str) -> MicroCredential | None:
    """The launch's issuer's credential with this code (None for anything else: a code of
    another institution, a malformed value)."""
    if not isinstance(code, str) or not CODE.match(code):
        return None
    session = db_session()
    issuer = issuer_for_launch(session, current)
    if issuer is None:
        return None
    return session.scalars(select(MicroCredential).where(
        MicroCredential.issuer_id == issuer.id, MicroCredential.code == code)).first()


def _person_id(current: CurrentLaunch) -> int:
    """The launched account's Person now (never an id from the request)."""
    account_id = (current.record or {}).get("account_id")
    if account_id is None:
        raise NotFound(_("MicroCred does not know who you are in this launch. Open it from "
                         "your course again."))
    return person_of_account(int(account_id))


def person_of_account(account_id: int) -> int:
    """``learner_records.person_of``, read once per request (the landing page's parts all
    need it)."""
    known = g.get("learner_person_id")
    if known is not None and known[0] == account_id:
        return int(known[1])
    person_id = learner_records.person_of(db_session(), account_id)
    g.learner_person_id = (account_id, person_id)
    return person_id


def _page(current: CurrentLaunch, *, only: MicroCredential | None = None,
          person_id: int | None = None) -> dict[str, Any]:
    session = db_session()
    record = current.record or {}
    if person_id is None:
        person_id = _person_id(current)
    context = session.get(Context, record["context_pk"]) \
        if record.get("context_pk") is not None else None
    issuer = issuer_for_launch(session, current)
    records = learner_records.for_learner(session, person_id=person_id, context=context,
                                          issuer_id=issuer.id if issuer else None, only=only,
                                          lang=current_short(),
                                          issuer_slug=issuer.slug if issuer else None)
    if records.new_awards:
        session.commit()
    # What the learner can do with each earned credential (issued here if not yet).
    actions = {e.award.id: learner_actions(session, e.award)
               for e in [*records.earned, *records.revoked]}
    learner_pathways = pathway_views.learner_pathways(session, issuer, person_id,
                                                      records.offered_codes)
    page: dict[str, Any] = {"current": current, "role_label": ROLE_LABELS[current.launch.role],
                            "pathways": learner_pathways, "for_learner": True,
                            "records": records, "public_url": _public_url, "only": only,
                            "award_actions": actions,
                            "saved_name_choice": request.args.get("name_saved", "")}
    if only is None and issuer is not None:
        # Where the learner's demonstrated skills lead ("jobs in view").
        found = occupations.learner_outlook(session, person_id=person_id,
                                            issuer_id=issuer.id)
        page["occupations"] = found
        page["occupations_offered"] = bool(found) or occupations.has_occupations(
            session, issuer.id)
        page["requirement_rows"] = {item.occupation.id: {r.id: r for r in
                                                         item.occupation.requirements}
                                    for item in found}
        page["issuer_slug"] = issuer.slug
        page["occupation_text"] = local_text
    if only is not None:
        version = published_version(session, only.issuer_id, only.code) or \
            (only.versions[-1] if only.versions else None)
        page["only_title"] = version.title if version else only.code
    return page


def _public_url(issuer_slug: str, code: str, version: int) -> str:
    if not issuer_slug:
        return ""
    return url_for("public_catalog.credential_version", issuer_slug=issuer_slug, code=code,
                   number=version)


def render_home(current: CurrentLaunch) -> str:
    """The learner's landing page (``lti/learner_home.html``), also served at ``/me``;
    cached while nothing it shows changes (``page_cache``)."""
    raw_account = (current.record or {}).get("account_id")
    if raw_account is None:
        _person_id(current)  # raises: who is this?
    account_id = int(str(raw_account))
    with read_connection() as connection:  # a page from the cache needs nothing else
        state = learner_records.page_state(connection, account_id)
    g.learner_person_id = (account_id, state.person_id)

    def render() -> tuple[str, bool]:
        html = render_template("lti/learner_home.html",
                               **_page(current, person_id=state.person_id),
                               **bound_template_gettext())
        # Storable only if nothing the page shows changed while it was rendered, this
        # request's own writes included (an award made on the way, a credential issued):
        # the page must never be stored under versions a rollback could bring back.
        return html, learner_records.page_state(db_session(), account_id) == state

    return page_cache.cached(current, state, render)


@bp.get("")
def home() -> ResponseReturnValue:
    return render_home(_learner())


@bp.get("/credentials/<code>")
def credential(code: str) -> ResponseReturnValue:
    current = _learner()
    found = credential_of_issuer(current, code)
    if found is None:
        raise NotFound(_("No such micro-credential in your institution's catalog."))
    return render_template("learner/credential.html", **_page(current, only=found))


@bp.post("/awards/<public_id>/public-name")
def public_name(public_id: str) -> ResponseReturnValue:
    """The learner's choice: show their name on the credential's public page, or not
    ("a learner"). Only their own award (anyone else's is 404, unchanged)."""
    current = _learner()
    check_csrf(current)
    session = db_session()
    award = session.scalars(select(Award).where(
        Award.public_id == public_id[:64], Award.person_id == _person_id(current))).first()
    if award is None:
        raise NotFound(_("No such credential among yours."))
    show = request.form.get("show") == "1"
    award.extra = {**(award.extra or {}), "public_name": show}  # a new dict: JSON change
    session.commit()
    return redirect(url_for("learner.home", lt=current.token, name_saved=public_id)
                    + f"#award-{public_id}", code=303)


@bp.get("/learner-record.json")
def learner_record() -> ResponseReturnValue:
    """The learner's CLR 2.0 record (a signed ClrCredential) of the launch's issuer."""
    current = _learner()
    session = db_session()
    issuer = issuer_for_launch(session, current)
    clr = issuing.build_clr(session, _person_id(current), vault=current_app.extensions["lti"].vault,
                            base_url=current_app.config["PUBLIC_BASE_URL"],
                            issuer_id=issuer.id if issuer else None)
    session.commit()  # credentials issued for it, if any were not yet
    response = Response(json.dumps(clr, ensure_ascii=False, indent=2),
                        mimetype="application/ld+json")
    response.headers["Content-Disposition"] = 'attachment; filename="learner-record.json"'
    return response


@bp.get("/evidence/<int:demonstration_id>")
def evidence(demonstration_id: int) -> ResponseReturnValue:
    current = _learner()
    session = db_session()
    demo = learner_records.evidence_file_of(session, person_id=_person_id(current),
                                            demonstration_id=demonstration_id)
    stored = session.get(EvidenceFile, demo.evidence_file_id)
    if stored is None:
        raise NotFound(_("No such evidence file among your records."))
    content_type = stored.content_type or "application/octet-stream"
    if any(word in content_type.lower() for word in ACTIVE_TYPES):
        content_type = "application/octet-stream"
    response = Response(stored.data, mimetype=content_type)
    safe_name = re.sub(r'[^A-Za-z0-9._ -]', "_", stored.filename or "evidence")[:150]
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.after_request
def _no_store(response: Response) -> Response:
    # Pages carry the launch token and the learner's own records.
    response.headers["Cache-Control"] = "private, no-store"
    return response
