"""Which catalog credentials this course offers (attach, detach) and the course kind,
which decides the route (for-credit or continuing education) its demonstrations count
toward."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState
from lti_tool.domain.labels import earning_rule, intl
from lti_tool.domain.lti import ContextKind
from lti_tool.domain.texts import LocalText
from lti_tool.domain.tracking import route_for_kind
from lti_tool.errors import NotFound
from lti_tool.models import Context, CredentialVersion, MicroCredential
from lti_tool.services import catalog as catalog_service
from lti_tool.services import tracking
from lti_tool.translate import gettext as _
from lti_tool.web.common import pathway_views
from lti_tool.web.lms.instructor.course import (
    KIND_LABELS,
    ROUTE_NAMES,
    bp,
    current_course,
    go,
    int_arg,
    manager_course,
    offered_credentials,
    posted_course,
    render,
)


def _rule_sentence(version: CredentialVersion) -> LocalText:
    return earning_rule(catalog_service.learner_view(version))


def _route_warning(context: Context, allowed_routes: Iterable[str]) -> str:
    here = route_for_kind(context.kind)
    if here is None:
        return _("This course's kind is not set: demonstrations recorded here count toward "
                 "no credential until it is set to for-credit or continuing education.")
    if here.value not in set(allowed_routes):
        return _("This credential cannot be earned through the %(route)s route this course "
                 "gives: demonstrations recorded here will not count toward it.",
                 route=ROUTE_NAMES[here.value])
    return ""


@dataclass(frozen=True)
class CatalogEntry:
    version: CredentialVersion
    view: dict[str, Any]
    attached: bool
    warning: str


@bp.get("/course/offerings")
def offerings() -> ResponseReturnValue:
    course = current_course()
    offered = offered_credentials(course)
    q = request.args.get("q", "").strip()[:100]
    results: list[CatalogEntry] | None = None
    issuer = course.issuer
    if course.can_manage and issuer is not None:
        attached = {o.offering.credential_id for o in offered}
        results = [CatalogEntry(v, catalog_service.learner_view(v),
                                v.credential_id in attached,
                                _route_warning(course.context,
                                               v.content.get("allowed_routes", [])))
                   for v in _published(course.session, issuer.id, q)]
    items = [(o, _rule_sentence(o.version), _route_warning(course.context, o.allowed_routes))
             for o in offered]
    course_pathways = pathway_views.course_pathways(
        course.session, issuer, [o.offering.credential_id for o in offered])
    return render("instructor/offerings.html", items=items, results=results, q=q,
                  kinds=[(k.value, KIND_LABELS[k.value]) for k in ContextKind],
                  active="offerings", pathways=course_pathways, for_learner=False)


def _published(session: Session, issuer_id: int, q: str, limit: int = 50,
               ) -> list[CredentialVersion]:
    """Published credentials of the issuer, matching q in the title or code."""
    query = (select(CredentialVersion).join(MicroCredential)
             .where(MicroCredential.issuer_id == issuer_id,
                    CredentialVersion.state == LifecycleState.PUBLISHED.value))
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(CredentialVersion.title).like(pattern, escape="\\"),
                                func.lower(MicroCredential.code).like(pattern, escape="\\")))
    return list(session.scalars(query.order_by(CredentialVersion.title).limit(limit)))


@bp.post("/course/offerings/attach")
def attach() -> ResponseReturnValue:
    course = posted_course(manager=True)
    issuer = course.issuer
    credential_id = int_arg(request.form.get("credential_id"))
    if issuer is None or credential_id is None:
        raise NotFound(_("No such micro-credential in your institution's catalog."))
    offering = tracking.attach_offering(course.session, issuer_id=issuer.id,
                                        context=course.context, credential_id=credential_id,
                                        by=course.assessor)
    version = catalog_service.published_version(course.session, issuer.id,
                                                offering.credential.code)
    course.session.commit()
    title = intl(version, "title").text if version else offering.credential.code
    return go("instructor.offerings", [_("%(credential)s is now offered in this course.",
                                         credential=title)])


@bp.route("/course/offerings/<int:offering_id>/detach", methods=["GET", "POST"])
def detach(offering_id: int) -> ResponseReturnValue:
    course = posted_course(manager=True) if request.method == "POST" else manager_course()
    item = next((o for o in offered_credentials(course) if o.offering.id == offering_id), None)
    if item is None:
        raise NotFound(_("No such offering in this course."))
    if request.method == "GET":
        return render("instructor/detach.html", item=item, active="offerings")
    tracking.detach_offering(course.session, context=course.context, offering_id=offering_id,
                             by=course.assessor)
    course.session.commit()
    return go("instructor.offerings", [
        _("%(credential)s is no longer offered in this course. Its demonstrations and awards "
          "are kept.", credential=intl(item.version, "title").text)])


@bp.post("/course/kind")
def set_kind() -> ResponseReturnValue:
    course = posted_course(manager=True)
    kind = request.form.get("kind", "")
    tracking.set_context_kind(course.session, course.context, kind, course.assessor)
    course.session.commit()
    return go("instructor.offerings",
              [_("This course is now %(kind)s.",
                 kind=str(KIND_LABELS.get(course.context.kind, kind)).lower())])

