"""Who is acting in the admin pages and what every admin page shares: the launched catalog
user (``Staff``: issuer, scopes, institution administrator or not), links that carry the
launch token, the fixed success notices (``done`` codes), row_version checks, names of the
people who did something, and the page template wrapper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.domain.catalog import (
    Scope,
    criterion_text,
    display_label,
    lens_title,
    level_label,
    rubric_levels,
)
from lti_tool.domain.lti import ROLE_LABELS, AppRole
from lti_tool.errors import Conflict, Forbidden, ToolError
from lti_tool.extensions import db_session
from lti_tool.i18n import current_short, format_date, format_decimal
from lti_tool.models import Issuer, LearnerAccount
from lti_tool.services.catalog import Actor
from lti_tool.web.common.catalog_access import catalog_actor, has_catalog_access, issuer_for_launch
from lti_tool.web.common.launch_session import CurrentLaunch, load_current_launch

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 20
NOTICES = {
    "platform_added": _l("The platform was added. Paste MicroCred's values into it, then launch "
                      "MicroCred from a course to check."),
    "platform_linked": _l("The link was saved: its courses now use that institution's catalog."),
    "platform_deactivated": _l("Deactivated: nothing launches MicroCred through it until it is "
                            "reactivated. Its courses and records are kept."),
    "platform_activated": _l("Reactivated: it can launch MicroCred again."),
    "issuer_created": _l("Your institution is set up. Its catalog is ready."),
    "issuer_saved": _l("The institution profile was saved."),
    "skill_created": _l("The skill was created."),
    "skill_saved": _l("The skill was saved."),
    "skill_deleted": _l("The skill was deleted."),
    "credential_created": _l("The draft micro-credential was created."),
    "pathway_created": _l("The draft pathway was created."),
    "draft_saved": _l("The draft was saved."),
    "new_version": _l("A new draft version was started. The published version is unchanged."),
    "new_version_saved": _l("Your changes were saved as a new draft version. The published "
                         "version is unchanged."),
    "submit": _l("Submitted for review."),
    "withdraw": _l("Withdrawn from review: it is a draft again."),
    "publish": _l("Published. This version will never change; edit it to start a new version."),
    "retire": _l("Retired. No new offerings; existing awards stay verifiable."),
    "review_approve": _l("Your review was recorded: approved. It can now be published."),
    "review_request_changes": _l("Your review was recorded: changes requested. The version is "
                              "a draft again."),
    "review_reject": _l("Your review was recorded: rejected."),
    "rubric_saved": _l("The rubric was saved. Past reviews keep the rubric they were scored on."),
    "token_revoked": _l("The API token was revoked. It no longer works."),
    "role_granted": _l("The role was granted."),
    "role_revoked": _l("The role was revoked."),
    "settings_saved": _l("The settings were saved."),
    "link_confirmed": _l("The accounts are linked: they are one person now, and their "
                      "demonstrated skills count together."),
    "link_dismissed": _l("The proposal was dismissed. The accounts stay apart."),
    "link_undone": _l("The link was undone. The account and its records are separate again."),
}
STALE_FORM = _l("This form is missing its version stamp. Reload the page and try again.")


@dataclass(frozen=True)
class Staff:
    """The launched catalog user of this request."""

    session: Session
    current: CurrentLaunch
    issuer: Issuer
    actor: Actor

    @property
    def is_institution_admin(self) -> bool:
        return AppRole.ADMINISTRATOR in self.current.launch.app_roles

    @property
    def can_write(self) -> bool:
        return self.actor.can(Scope.CATALOG_WRITE)

    @property
    def can_review(self) -> bool:
        return self.actor.can(Scope.REVIEW)

    @property
    def can_transfer(self) -> bool:
        return self.actor.can(Scope.TRANSFER)

    @property
    def can_read_records(self) -> bool:
        return self.actor.can(Scope.RECORDS_READ)


def current_staff() -> Staff:
    current = load_current_launch()
    session = db_session()
    issuer = issuer_for_launch(session, current)
    actor = catalog_actor(session, current, issuer)
    assert issuer is not None  # catalog_actor refuses a launch without an issuer
    staff = Staff(session, current, issuer, actor)
    g.staff = staff
    return staff


def writer_staff() -> Staff:
    staff = current_staff()
    staff.actor.require(Scope.CATALOG_WRITE)
    return staff


def require_institution_admin(staff: Staff) -> None:
    if not staff.is_institution_admin:
        raise Forbidden(_("Only an institution administrator (from the learning platform) can "
                          "do this."), code="not_institution_admin")


def admin_url(endpoint: str, **values: Any) -> str:
    current: CurrentLaunch = load_current_launch()
    return url_for(endpoint, lt=current.token, **values)


def go(endpoint: str, done: str | None = None, **values: Any) -> WerkzeugResponse:
    if done:
        values["done"] = done
    return redirect(admin_url(endpoint, **values), code=303)


def render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    current = load_current_launch()
    context.setdefault("notice", NOTICES.get(request.args.get("done", "")))
    return render_template(template, current=current, staff=g.get("staff"),
                           role_label=ROLE_LABELS[current.launch.role], **context), status


def posted_row_version() -> int:
    raw = request.form.get("row_version", "")
    if not raw.isdigit():
        raise ToolError(str(STALE_FORM), code="missing_row_version")
    return int(raw)


def check_fresh(current_row_version: int, expected: int) -> None:
    if current_row_version != expected:
        raise Conflict(_("Someone else saved this in the meantime. Reload to see their "
                         "changes, then apply yours again."), code="stale_version")


def int_arg(name: str, default: int = 1) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 7 else default


def error_summary(errors: dict[str, list[str]], labeller: Any) -> list[tuple[str, str, str]]:
    """(field name, label, message) for the error summary, in the form's order."""
    return [(name, labeller(name), message) for name, messages in errors.items()
            for message in messages]


@bp.after_request
def _no_store(response: WerkzeugResponse) -> WerkzeugResponse:
    # Pages carry the launch token, CSRF tokens and (once) API token secrets.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"admin_url": admin_url, "label": display_label, "fmt_dt": fmt_dt,
            "fmt_num": fmt_num, "plural_count": plural_count, "lens_title": lens_title,
            "criterion_text": criterion_text, "level_label": level_label,
            "rubric_levels": rubric_levels, "state_label": display_label}


@bp.app_context_processor
def _catalog_link() -> dict[str, Any]:
    """``catalog_access()`` for the LTI landing pages: whether to show the catalog link."""

    def catalog_access() -> bool:
        current = g.get("current_launch")
        if current is None:
            return False
        try:
            return has_catalog_access(db_session(), current)
        except ToolError:
            return False

    return {"catalog_access": catalog_access}


def fmt_dt(value: datetime | None) -> str:
    """A moment in the reader's language: ``Dec 6, 2026, 18:53 UTC`` /
    ``6 déc. 2026, 18 h 53 UTC`` (times are kept and shown in UTC)."""
    if not value:
        return "—"
    return _("%(date)s, %(time)s UTC", date=format_date(value, "medium"),
             time=format_time(value, "HH:mm" if current_short() == "en" else "short"))


def fmt_num(value: Any) -> str:
    """3.00 → 3, 12.5 → 12.5 / 12,5 (hours and credits are stored as decimals; the
    reader's decimal separator)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    if not number.is_finite():
        return str(value)
    return format_decimal(number.normalize(), "#,##0.###")


def plural_count(value: Any) -> int:
    """The whole number that picks a plural form for a decimal quantity (gettext's plural
    forms take integers): 12 → 12; 1.5 → 1 in French (« 1,5 heure ») and 2 in English
    ("1.5 hours")."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return 2
    if not number.is_finite():
        return 2
    if number == number.to_integral_value():
        return int(number)
    return 1 if current_short() == "fr" and 0 <= number < 2 else 2


def institution_admin_staff() -> Staff:
    staff = current_staff()
    require_institution_admin(staff)
    return staff


def people_names(session: Session, refs: Any) -> dict[str, str]:
    """``account:<id>`` → the person's name, for 'created by' and 'granted by' columns."""
    ids = {int(ref.split(":", 1)[1]) for ref in refs
           if isinstance(ref, str) and ref.startswith("account:") and ref[8:].isdigit()}
    if not ids:
        return {}
    rows = session.execute(select(LearnerAccount.id, LearnerAccount.name, LearnerAccount.email)
                           .where(LearnerAccount.id.in_(ids))).all()
    return {f"account:{r[0]}": r[1] or r[2] or _("account %(id)s", id=r[0]) for r in rows}
