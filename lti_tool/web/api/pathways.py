"""REST API for pathways (issue 12), on the catalog blueprint ``api``:

- ``/api/v1/pathways`` (catalog:read to list, catalog:write to create a draft v1),
  ``/api/v1/pathways/<id>`` and ``.../versions`` (a new draft);
- ``/api/v1/pathway-versions/<id>`` (read; PUT edits a draft with its row_version),
  ``.../transitions`` (submit, withdraw, publish, retire) and ``.../reviews`` (review scope);
- ``/api/v1/learners/<person_id>/pathways`` (awards:read): the learner's progress on the
  issuer's published pathways, what it is worth and what comes next.

Views are thin like the catalog's: parse, call ``services.pathways`` with the token's Actor,
commit once (``write``), serialise. Another issuer's ids are 404.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy import select

from lti_tool.domain.catalog import Action, LifecycleState, Scope, allowed_actions
from lti_tool.domain.catalog_schemas import first_errors
from lti_tool.domain.pathways import PathwayInputSchema
from lti_tool.errors import NotFound, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import Award, Issuer, Pathway, PathwayVersion, Person
from lti_tool.services import pathways as service
from lti_tool.services.public_pathways import decimal_text, pathway_url
from lti_tool.web.api import pathway_schemas as P
from lti_tool.web.api import schemas as S
from lti_tool.web.api.catalog import bp, review_out
from lti_tool.web.api.common import (
    ID,
    actor,
    expected_row_version,
    json_object,
    load_query,
    needs,
    respond,
    respond_page,
    write,
)

CONTENT_FIELDS = tuple(PathwayInputSchema().fields)


def summary_out(version: PathwayVersion) -> dict[str, Any]:
    result: dict[str, Any] = S.dump(P.PathwayVersionSummarySchema, {
        "id": version.id, "pathway_id": version.pathway_id, "code": version.pathway.code,
        "version": version.version, "state": version.state, "title": version.title,
        "row_version": version.row_version, "updated_at": version.updated_at})
    return result


def version_out(version: PathwayVersion) -> dict[str, Any]:
    content = service.input_of(version)
    result: dict[str, Any] = S.dump(P.PathwayVersionSchema, {
        "id": version.id, "pathway_id": version.pathway_id, "code": version.pathway.code,
        "version": version.version, "state": version.state,
        "allowed_actions": [a.value for a in allowed_actions(LifecycleState(version.state))],
        "row_version": version.row_version, "author_name": version.author_name,
        "content": {k: content[k] for k in CONTENT_FIELDS if k in content},
        "review_count": len(version.reviews),
        "created_at": version.created_at, "updated_at": version.updated_at,
        "submitted_at": version.submitted_at, "approved_at": version.approved_at,
        "published_at": version.published_at, "retired_at": version.retired_at})
    return result


def pathway_out(pathway: Pathway) -> dict[str, Any]:
    published = [v for v in pathway.versions if v.state == LifecycleState.PUBLISHED.value]
    result: dict[str, Any] = S.dump(P.PathwaySchema, {
        "id": pathway.id, "code": pathway.code, "created_at": pathway.created_at,
        "latest_version_id": pathway.versions[-1].id,
        "published_version_id": published[-1].id if published else None})
    result["versions"] = [summary_out(v) for v in pathway.versions]
    return result


@bp.get("/pathways")
@needs(Scope.CATALOG_READ)
def list_pathways() -> ResponseReturnValue:
    args = load_query(P.PathwayListQuerySchema())
    page = service.list_pathways(db_session(), actor(), **args)
    return respond_page(page, [summary_out(v) for v in page.items], "api.list_pathways", args)


@bp.post("/pathways")
@needs(Scope.CATALOG_WRITE)
def create_pathway() -> ResponseReturnValue:
    body = json_object()
    version = write(lambda: service.create_pathway(db_session(), actor(), body))
    return respond(version_out(version), 201, row_version=version.row_version,
                   headers={"Location": url_for("api.get_pathway_version",
                                                version_id=version.id)})


@bp.get(f"/pathways/<{ID}:pathway_id>")
@needs(Scope.CATALOG_READ)
def get_pathway(pathway_id: int) -> ResponseReturnValue:
    return respond(pathway_out(service.get_pathway(db_session(), actor(), pathway_id)))


@bp.post(f"/pathways/<{ID}:pathway_id>/versions")
@needs(Scope.CATALOG_WRITE)
def create_pathway_version(pathway_id: int) -> ResponseReturnValue:
    version = write(lambda: service.new_version(db_session(), actor(), pathway_id))
    return respond(version_out(version), 201, row_version=version.row_version,
                   headers={"Location": url_for("api.get_pathway_version",
                                                version_id=version.id)})


@bp.get(f"/pathway-versions/<{ID}:version_id>")
@needs(Scope.CATALOG_READ)
def get_pathway_version(version_id: int) -> ResponseReturnValue:
    version = service.get_version(db_session(), actor(), version_id)
    return respond(version_out(version), row_version=version.row_version)


@bp.put(f"/pathway-versions/<{ID}:version_id>")
@needs(Scope.CATALOG_WRITE)
def update_pathway_version(version_id: int) -> ResponseReturnValue:
    body = json_object()
    expected = expected_row_version(body, required=True)
    version = write(lambda: service.update_draft(db_session(), actor(), version_id, body,
                                                 expected_row_version=expected))
    return respond(version_out(version), row_version=version.row_version)


@bp.post(f"/pathway-versions/<{ID}:version_id>/transitions")
@needs(Scope.CATALOG_WRITE)
def pathway_transition(version_id: int) -> ResponseReturnValue:
    body = json_object()
    expected = expected_row_version(body, required=False)
    try:
        values = S.TransitionInputSchema().load(body)
    except ValidationError as exc:
        raise ValidationFailed(first_errors(exc.messages)) from None
    action = Action(values["action"])
    version = write(lambda: service.transition(db_session(), actor(), version_id, action,
                                               expected_row_version=expected))
    return respond(version_out(version), row_version=version.row_version)


@bp.get(f"/pathway-versions/<{ID}:version_id>/reviews")
@needs(Scope.CATALOG_READ)
def list_pathway_reviews(version_id: int) -> ResponseReturnValue:
    version = service.get_version(db_session(), actor(), version_id)
    return respond({"items": [review_out(r) for r in version.reviews]})  # type: ignore[arg-type]


@bp.post(f"/pathway-versions/<{ID}:version_id>/reviews")
@needs(Scope.REVIEW)
def create_pathway_review(version_id: int) -> ResponseReturnValue:
    body = json_object()
    expected = expected_row_version(body, required=False)
    review = write(lambda: service.review(db_session(), actor(), version_id, body,
                                          expected_row_version=expected))
    return respond(review_out(review), 201,  # type: ignore[arg-type]
                   headers={"Location": url_for("api.list_pathway_reviews",
                                                version_id=version_id)})


@bp.get(f"/learners/<{ID}:person_id>/pathways")
@needs(Scope.AWARDS_READ)
def learner_pathways(person_id: int) -> ResponseReturnValue:
    """The learner's progress on every published pathway of the token's issuer. 404 for
    someone with no award of this issuer (like the learner record)."""
    session = db_session()
    issuer_id = actor().issuer_id
    known = session.scalars(select(Award.id).where(Award.person_id == person_id,
                                                   Award.issuer_id == issuer_id)
                            .limit(1)).first()
    if known is None or session.get(Person, person_id) is None:
        raise NotFound("This learner has no credentials from this issuer.")
    issuer = session.get(Issuer, issuer_id)
    assert issuer is not None
    base = current_app.config["PUBLIC_BASE_URL"]
    held, _flagged = service.holdings(session, person_id, issuer_id)
    items = []
    for lp in service.progress_for_person(session, person_id, issuer_id):
        pr, spec = lp.progress, lp.pathway.spec
        items.append({
            "code": lp.pathway.code, "version": lp.pathway.version, "title": spec.title,
            "url": pathway_url(base, issuer, lp.pathway.code),
            "complete": pr.complete, "steps_earned": pr.steps_earned,
            "steps_total": pr.steps_total,
            "credits_earned": decimal_text(pr.credits_earned) or "0",
            "hours_earned": decimal_text(pr.hours_earned) or "0",
            "course_credit": list(dict.fromkeys(c.code for c in pr.courses)),
            "next_steps": [s.credential for s in pr.next_steps],
            "target_credential": spec.target_credential,
            "target_awarded": spec.target_credential is not None
            and spec.target_credential in held,
            "groups": [{"key": g.group.key, "title": g.group.title,
                        "rule": g.group.rule.value, "satisfied": g.satisfied,
                        "have": decimal_text(g.have) or "0",
                        "needed": decimal_text(g.needed) or "0",
                        "steps": [{"credential": s.step.credential,
                                   "title": s.step.title or s.step.credential,
                                   "status": s.status.value, "counts": s.counts}
                                  for s in g.steps]} for g in pr.groups]})
    return respond(S.dump(P.LearnerPathwayListSchema, {"person_id": person_id,
                                                       "items": items}))
