"""Quality reviews on the issuer's rubric (the review form and queue) and the rubric
itself."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from lti_tool.domain.catalog import (
    RUBRIC_LEVELS,
    LifecycleState,
    ReviewDecision,
    Scope,
    criterion_text,
    display_label,
)
from lti_tool.errors import Conflict, Forbidden, ValidationFailed
from lti_tool.models import CredentialVersion, MicroCredential
from lti_tool.services import catalog as catalog_service
from lti_tool.web.admin import forms
from lti_tool.web.admin.staff import (
    Staff,
    bp,
    current_staff,
    error_summary,
    go,
    posted_row_version,
    render,
)
from lti_tool.web.common.launch_session import check_csrf


# -- reviews ---------------------------------------------------------------------------------
def _review_block(staff: Staff, version: CredentialVersion) -> str:
    actor = staff.actor
    if actor.ref in (version.contributors or []) or actor.ref == version.author_ref:
        return _("You wrote or edited this version, so someone else must review it. Approval "
                 "is kept separate from authorship: ask a reviewer or another catalog "
                 "administrator to review it.")
    if not staff.can_review:
        return _("Reviewing needs the reviewer role. An institution administrator can grant "
                 "it on the People & roles page.")
    if version.state != LifecycleState.IN_REVIEW.value:
        return _("This version is %(state)s. Only a version in review can be reviewed.",
                 state=display_label(version.state).lower())
    return ""


def review_form_page(staff: Staff, status: int = 200, *, template: str, subject: Any,
                     blocked: str, extra: dict[str, Any] | None = None,
                     posted: dict[str, Any] | None = None,
                     errors: dict[str, list[str]] | None = None, conflict: str = "",
                     row_version: int | None = None,
                     not_met: list[str] | None = None) -> ResponseReturnValue:
    """The rubric review form for any reviewed catalog object (``subject``: a credential
    or pathway version) in ``template`` (``admin/review.html`` or one extending it)."""
    rubric = catalog_service.rubric_for(staff.session, staff.issuer.id)
    grouped: dict[str, list[tuple[int, Any]]] = {}
    for i, criterion in enumerate(rubric):
        grouped.setdefault(criterion.lens, []).append((i, criterion))
    errors = errors or {}
    titles = {f"level-{i}": criterion_text(c, "title") for i, c in enumerate(rubric)}
    titles.update({f"comment-{i}": _("Comment on %(criterion)s",
                                     criterion=criterion_text(c, "title"))
                   for i, c in enumerate(rubric)})
    titles.update({"decision": _("Decision"), "comment": _("Overall comment"),
                   "_form": _("Review"), "confirm_not_met": _("Approve although not met")})
    return render(template, status, version=subject, grouped=grouped,
                  posted=posted or {}, errors=errors,
                  summary=error_summary(errors, lambda n: titles.get(n, n)), conflict=conflict,
                  blocked=blocked,
                  row_version=subject.row_version if row_version is None else row_version,
                  decisions=[d.value for d in ReviewDecision], not_met=not_met or [],
                  **(extra or {}))


def _review_page(staff: Staff, version: CredentialVersion, status: int = 200,
                 **kwargs: Any) -> ResponseReturnValue:
    return review_form_page(staff, status, template="admin/review.html", subject=version,
                            blocked=_review_block(staff, version),
                            extra={"view": catalog_service.learner_view(version)}, **kwargs)


@dataclass
class PostedReview:
    posted: dict[str, Any]
    errors: dict[str, list[str]]
    not_met: list[str]
    data: dict[str, Any]

    @property
    def needs_confirmation(self) -> bool:
        """Approving with criteria scored "not met" and without the confirmation ticked:
        ask first, record nothing."""
        return bool(self.not_met) and not self.data["confirm_not_met"] and \
            self.posted["decision"] == ReviewDecision.APPROVE.value


def parse_review_post(staff: Staff) -> PostedReview:
    """The posted review form: what was posted (to show it again), field errors, the
    criteria scored "not met", and the service's input."""
    rubric = catalog_service.rubric_for(staff.session, staff.issuer.id)
    level_keys = {k for k, _label in RUBRIC_LEVELS}
    posted: dict[str, Any] = {"decision": request.form.get("decision", ""),
                              "comment": request.form.get("comment", "")}
    errors: dict[str, list[str]] = {}
    scores = []
    for i, criterion in enumerate(rubric):
        level = request.form.get(f"level-{i}", "")
        comment = request.form.get(f"comment-{i}", "")
        posted[f"level-{i}"], posted[f"comment-{i}"] = level, comment
        if level not in level_keys:
            errors[f"level-{i}"] = [_("Choose a level for this criterion.")]
        scores.append({"criterion": criterion.key, "level": level, "comment": comment})
    if posted["decision"] not in {d.value for d in ReviewDecision}:
        errors["decision"] = [_("Choose approve, request changes or reject.")]
    elif posted["decision"] != ReviewDecision.APPROVE.value and not posted["comment"].strip():
        errors["comment"] = [_("Explain what must change (or why it is rejected).")]
    not_met = [criterion_text(c, "title") for c, score in zip(rubric, scores, strict=True)
               if score["level"] == "not_met"]
    confirmed = request.form.get("confirm_not_met") == "1"
    return PostedReview(posted, errors, not_met,
                        {"decision": posted["decision"], "comment": posted["comment"],
                         "scores": scores, "confirm_not_met": confirmed})


def map_review_errors(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service's review errors ("scores.2.level") on the form's fields."""
    mapped: dict[str, list[str]] = {}
    for key, messages in raw.items():
        parts = key.split(".")
        if parts[0] == "scores" and len(parts) == 3 and parts[1].isdigit():
            name = f"{'level' if parts[2] == 'level' else 'comment'}-{parts[1]}"
        else:
            name = key if key in ("decision", "comment") else "_form"
        mapped.setdefault(name, []).extend(forms.friendly(name, m) for m in messages)
    return mapped


@bp.route("/versions/<int:version_id>/review", methods=["GET", "POST"])
def version_review(version_id: int) -> ResponseReturnValue:
    staff = current_staff()
    version = catalog_service.get_version(staff.session, staff.actor, version_id)
    if request.method == "GET":
        return _review_page(staff, version)
    check_csrf(staff.current)
    blocked = _review_block(staff, version)
    if blocked and version.state == LifecycleState.IN_REVIEW.value:
        # Separation of duties (or no reviewer role): refused, whatever was posted.
        raise Forbidden(blocked, code="review_not_allowed")
    row_version = posted_row_version()
    parsed = parse_review_post(staff)
    posted = parsed.posted
    if parsed.errors:
        return _review_page(staff, version, 422, posted=posted, errors=parsed.errors,
                            row_version=row_version)
    if parsed.needs_confirmation:
        # Ask before an approval that overrides the rubric; nothing is recorded yet.
        return _review_page(staff, version, 200, posted=posted, row_version=row_version,
                            not_met=parsed.not_met)
    try:
        catalog_service.review(staff.session, staff.actor, version_id, parsed.data,
                               expected_row_version=row_version)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _review_page(staff, version, 422, posted=posted,
                            errors=map_review_errors(exc.errors), row_version=row_version)
    except Conflict as exc:
        staff.session.rollback()
        version = catalog_service.get_version(staff.session, staff.actor, version_id)
        return _review_page(staff, version, 409, posted=posted, conflict=exc.public_message,
                            row_version=row_version)
    staff.session.commit()
    return go("admin.credential", f"review_{posted['decision']}",
              credential_id=version.credential_id, v=version.version)


@bp.get("/reviews")
def review_queue() -> ResponseReturnValue:
    """Versions waiting for review, with whether this user may review each."""
    staff = current_staff()
    versions = list(staff.session.scalars(
        select(CredentialVersion).join(MicroCredential)
        .where(MicroCredential.issuer_id == staff.issuer.id,
               CredentialVersion.state == LifecycleState.IN_REVIEW.value)
        .order_by(CredentialVersion.submitted_at, CredentialVersion.id)))
    rows = [(v, _review_block(staff, v)) for v in versions]
    from lti_tool.web.admin.pathways import review_queue_rows

    return render("admin/review_queue.html", rows=rows,
                  pathway_rows=review_queue_rows(staff))


# -- rubric ----------------------------------------------------------------------------------
def _rubric_stamp(criteria: list[Any]) -> str:
    """The rubric's version stamp: rubric rows have no row_version, so a digest of their
    content detects a concurrent change just as well."""
    raw = json.dumps([[c.key, c.lens, c.title, c.description] for c in criteria])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@bp.route("/rubric", methods=["GET", "POST"])
def rubric() -> ResponseReturnValue:
    staff = current_staff()
    criteria = catalog_service.rubric_for(staff.session, staff.issuer.id)
    stamp = _rubric_stamp(criteria)
    rows = forms.rubric_form(criteria)
    errors: dict[str, list[str]] = {}
    conflict = ""
    status = 200
    if request.method == "POST":
        check_csrf(staff.current)
        staff.actor.require(Scope.CATALOG_WRITE)
        rows = forms.rubric_form_from_post(request.form)
        posted_stamp = request.form.get("row_version", "")
        if posted_stamp != stamp:
            conflict = _("Someone else changed the rubric in the meantime. Reload to see their "
                         "changes, then apply yours again.")
            status = 409
        else:
            new_criteria, errors = forms.rubric_criteria(rows)
            if not errors:
                try:
                    catalog_service.set_rubric(staff.session, staff.actor, new_criteria)
                except ValidationFailed as exc:
                    staff.session.rollback()
                    errors = {"_form": [m for ms in exc.errors.values() for m in ms]}
                else:
                    staff.session.commit()
                    return go("admin.rubric", "rubric_saved")
            status = 422
        stamp = posted_stamp if status == 409 else stamp
    grouped: dict[str, list[Any]] = {}
    for c in criteria:
        grouped.setdefault(c.lens, []).append(c)
    return render("admin/rubric.html", status, criteria=criteria, grouped=grouped, rows=rows,
                  errors=errors, summary=error_summary(errors, forms.rubric_error_label),
                  conflict=conflict, row_version=stamp,
                  lenses=forms.lens_choices(r["lens"] for r in rows))
