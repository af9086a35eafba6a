"""REST API under /api/v1: the catalog (skills, micro-credentials and their versions,
lifecycle transitions, reviews, the rubric, the issuer profile, import/export) and the
OpenAPI document of the whole API.

A token sees its own issuer's data and nothing else (another issuer's ids are 404). Views
are thin: they parse the request, call a service with the token's ``Actor``, commit once,
and serialise with ``schemas``. Authentication, scopes, ETags and row_version
preconditions are in ``common``; errors are JSON (``web/errors.py``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from marshmallow import ValidationError

from lti_tool.domain.catalog import (
    LENSES,
    RUBRIC_LEVELS,
    Action,
    LifecycleState,
    Scope,
    allowed_actions,
)
from lti_tool.domain.catalog_schemas import (
    CredentialInputSchema,
    IssuerTranslationsSchema,
    SkillTranslationsSchema,
    first_errors,
)
from lti_tool.errors import Conflict, ValidationFailed
from lti_tool.extensions import db_session
from lti_tool.models import CredentialVersion, Issuer, MicroCredential, Review, Skill
from lti_tool.services import catalog as catalog_service
from lti_tool.services import catalog_io
from lti_tool.web.api import schemas as S
from lti_tool.web.api.common import (
    CSV_TYPES,
    ID,
    InvalidToken,
    UnsupportedMediaType,
    actor,
    api_headers,
    authenticate,
    digest,
    expected_row_version,
    import_response,
    json_body,
    json_object,
    load_query,
    media_type_ok,
    needs,
    no_content,
    respond,
    respond_page,
    write,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(authenticate)
bp.after_request(api_headers)

CONTENT_FIELDS = tuple(CredentialInputSchema().fields)


# -- serialisation --------------------------------------------------------------------------------
def skill_out(skill: Skill) -> dict[str, Any]:
    result: dict[str, Any] = S.dump(S.SkillSchema, skill)
    result["translations"] = S.dump(SkillTranslationsSchema, skill.translations or {})
    return result


def summary_out(version: CredentialVersion) -> dict[str, Any]:
    data = {"id": version.id, "credential_id": version.credential_id,
            "code": version.credential.code, "version": version.version,
            "state": version.state, "title": version.title,
            "short_description": version.short_description,
            "notional_hours": version.notional_hours, "credit_bearing": version.credit_bearing,
            "field_of_study": version.field_of_study, "row_version": version.row_version,
            "updated_at": version.updated_at, "translations": {
                lang: {k: texts[k] for k in ("title", "short_description") if texts.get(k)}
                for lang, texts in (version.content.get("translations") or {}).items()}}
    result: dict[str, Any] = S.dump(S.VersionSummarySchema, data)
    return result


def version_out(version: CredentialVersion) -> dict[str, Any]:
    view = catalog_service.learner_view(version)  # the frozen snapshot once published
    data = {
        "id": version.id, "credential_id": version.credential_id,
        "code": version.credential.code, "version": version.version, "state": version.state,
        "allowed_actions": [a.value for a in allowed_actions(LifecycleState(version.state))],
        "row_version": version.row_version, "author_name": version.author_name,
        "content": {k: view[k] for k in CONTENT_FIELDS if k in view},
        "skills": view.get("skills", []), "earning_rule": view.get("earning_rule", ""),
        "missing_translations": catalog_service.missing_translations(view),
        "review_count": len(version.reviews),
        "created_at": version.created_at, "updated_at": version.updated_at,
        "submitted_at": version.submitted_at, "approved_at": version.approved_at,
        "published_at": version.published_at, "retired_at": version.retired_at,
    }
    result: dict[str, Any] = S.dump(S.VersionSchema, data)
    return result


def credential_out(credential: MicroCredential) -> dict[str, Any]:
    published = [v for v in credential.versions if v.state == LifecycleState.PUBLISHED.value]
    data = {"id": credential.id, "code": credential.code, "created_at": credential.created_at,
            "latest_version_id": credential.versions[-1].id,
            "published_version_id": published[-1].id if published else None}
    result: dict[str, Any] = S.dump(S.CredentialSchema, data)
    result["versions"] = [summary_out(v) for v in credential.versions]
    return result


def review_out(review: Review) -> dict[str, Any]:
    result: dict[str, Any] = S.dump(S.ReviewSchema, review)
    result["confirmed_not_met"] = list(review.confirmed_not_met or [])
    return result


def issuer_out(issuer: Issuer) -> dict[str, Any]:
    result: dict[str, Any] = S.dump(S.IssuerSchema, issuer)
    result["translations"] = S.dump(IssuerTranslationsSchema, issuer.translations or {})
    return result


# -- skills ---------------------------------------------------------------------------------------
@bp.get("/skills")
@needs(Scope.CATALOG_READ)
def list_skills() -> ResponseReturnValue:
    args = load_query(S.SkillListQuerySchema())
    page = catalog_service.list_skills(db_session(), actor(), **args)
    return respond_page(page, [skill_out(s) for s in page.items], "api.list_skills", args)


@bp.post("/skills")
@needs(Scope.CATALOG_WRITE)
def create_skill() -> ResponseReturnValue:
    body = json_object()
    skill = write(lambda: catalog_service.create_skill(db_session(), actor(), body))
    return respond(skill_out(skill), 201, row_version=skill.row_version,
                   headers={"Location": url_for("api.get_skill", skill_id=skill.id)})


@bp.get(f"/skills/<{ID}:skill_id>")
@needs(Scope.CATALOG_READ)
def get_skill(skill_id: int) -> ResponseReturnValue:
    skill = catalog_service.get_skill(db_session(), actor(), skill_id)
    return respond(skill_out(skill), row_version=skill.row_version)


@bp.put(f"/skills/<{ID}:skill_id>")
@needs(Scope.CATALOG_WRITE)
def update_skill(skill_id: int) -> ResponseReturnValue:
    body = json_object()
    expected = expected_row_version(body, required=True)
    skill = write(lambda: catalog_service.update_skill(db_session(), actor(), skill_id, body,
                                                       expected_row_version=expected))
    return respond(skill_out(skill), row_version=skill.row_version)


@bp.delete(f"/skills/<{ID}:skill_id>")
@needs(Scope.CATALOG_WRITE)
def delete_skill(skill_id: int) -> ResponseReturnValue:
    expected = expected_row_version(None, required=False)

    def delete() -> None:
        session = db_session()
        if expected is not None:
            skill = catalog_service.get_skill(session, actor(), skill_id)
            if skill.row_version != expected:
                raise Conflict(_("Someone else saved this skill in the meantime. Reload it "
                                 "before deleting."), code="stale_version")
        catalog_service.delete_skill(session, actor(), skill_id)

    write(delete)
    return no_content()


# -- micro-credentials and versions --------------------------------------------------------------
@bp.get("/credentials")
@needs(Scope.CATALOG_READ)
def list_credentials() -> ResponseReturnValue:
    args = load_query(S.CredentialListQuerySchema())
    page = catalog_service.list_credentials(db_session(), actor(), **args)
    return respond_page(page, [summary_out(v) for v in page.items], "api.list_credentials",
                        args)


@bp.post("/credentials")
@needs(Scope.CATALOG_WRITE)
def create_credential() -> ResponseReturnValue:
    body = json_object()
    version = write(lambda: catalog_service.create_credential(db_session(), actor(), body))
    return respond(version_out(version), 201, row_version=version.row_version,
                   headers={"Location": url_for("api.get_version", version_id=version.id)})


@bp.get(f"/credentials/<{ID}:credential_id>")
@needs(Scope.CATALOG_READ)
def get_credential(credential_id: int) -> ResponseReturnValue:
    credential = catalog_service.get_credential(db_session(), actor(), credential_id)
    return respond(credential_out(credential))


@bp.post(f"/credentials/<{ID}:credential_id>/versions")
@needs(Scope.CATALOG_WRITE)
def create_version(credential_id: int) -> ResponseReturnValue:
    version = write(lambda: catalog_service.new_version(db_session(), actor(), credential_id))
    return respond(version_out(version), 201, row_version=version.row_version,
                   headers={"Location": url_for("api.get_version", version_id=version.id)})


@bp.get(f"/versions/<{ID}:version_id>")
@needs(Scope.CATALOG_READ)
def get_version(version_id: int) -> ResponseReturnValue:
    version = catalog_service.get_version(db_session(), actor(), version_id)
    return respond(version_out(version), row_version=version.row_version)


@bp.put(f"/versions/<{ID}:version_id>")
@needs(Scope.CATALOG_WRITE)
def update_version(version_id: int) -> ResponseReturnValue:
    body = json_object()
    expected = expected_row_version(body, required=True)
    version = write(lambda: catalog_service.update_draft(db_session(), actor(), version_id,
                                                         body, expected_row_version=expected))
    return respond(version_out(version), row_version=version.row_version)


@bp.post(f"/versions/<{ID}:version_id>/transitions")
@needs(Scope.CATALOG_WRITE)
def transition(version_id: int) -> ResponseReturnValue:
    body = json_object()
    expected = expected_row_version(body, required=False)
    try:
        values = S.TransitionInputSchema().load(body)
    except ValidationError as exc:
        raise ValidationFailed(first_errors(exc.messages)) from None
    action = Action(values["action"])
    version = write(lambda: catalog_service.transition(db_session(), actor(), version_id,
                                                       action, expected_row_version=expected))
    return respond(version_out(version), row_version=version.row_version)


@bp.get(f"/versions/<{ID}:version_id>/reviews")
@needs(Scope.CATALOG_READ)
def list_reviews(version_id: int) -> ResponseReturnValue:
    version = catalog_service.get_version(db_session(), actor(), version_id)
    return respond({"items": [review_out(r) for r in version.reviews]})


@bp.post(f"/versions/<{ID}:version_id>/reviews")
@needs(Scope.REVIEW)
def create_review(version_id: int) -> ResponseReturnValue:
    body = json_object()
    expected = expected_row_version(body, required=False)
    review = write(lambda: catalog_service.review(db_session(), actor(), version_id, body,
                                                  expected_row_version=expected))
    return respond(review_out(review), 201,
                   headers={"Location": url_for("api.list_reviews", version_id=version_id)})


@bp.get(f"/versions/<{ID}:version_id>/diff/<{ID}:other_id>")
@needs(Scope.CATALOG_READ)
def diff(version_id: int, other_id: int) -> ResponseReturnValue:
    session = db_session()
    older = catalog_service.get_version(session, actor(), version_id)
    newer = catalog_service.get_version(session, actor(), other_id)
    if older.credential_id != newer.credential_id:
        raise ValidationFailed({"other_id": [_("is a version of another micro-credential")]},
                               _("Only versions of the same micro-credential can be compared."))
    changes = catalog_service.version_diff(older, newer)
    body = {"from": summary_out(older), "to": summary_out(newer),
            "changes": [{"field": c.field, "before": c.before, "after": c.after}
                        for c in changes]}
    return respond(body)


# -- rubric and issuer ----------------------------------------------------------------------------
@bp.get("/rubric")
@needs(Scope.CATALOG_READ)
def rubric() -> ResponseReturnValue:
    who = actor()
    criteria = catalog_service.rubric_for(db_session(), who.issuer_id)
    body = {"levels": [{"key": k, "label": label} for k, label in RUBRIC_LEVELS],
            "lenses": [{"key": k, "title": title} for k, title in LENSES.items()],
            "criteria": [{"key": c.key, "lens": c.lens, "title": c.title,
                          "description": c.description} for c in criteria]}
    return respond(S.dump(S.RubricSchema, body))


@bp.get("/issuer")
@needs(Scope.CATALOG_READ)
def issuer() -> ResponseReturnValue:
    who = actor()
    row = db_session().get(Issuer, who.issuer_id)
    if row is None:  # the token's issuer was deleted while the request ran
        raise InvalidToken()
    return respond(issuer_out(row), row_version=row.row_version)


# -- import / export ---------------------------------------------------------------------------
@bp.get("/catalog/export")
@needs(Scope.CATALOG_READ)
def export_catalog() -> ResponseReturnValue:
    document = catalog_io.export_catalog(db_session(), actor())
    # exported_at changes on every call: leave it out of the ETag so 304 can happen.
    tag = digest(current_app.json.dumps({**document, "exported_at": None}))
    return respond(document, etag=tag)


@bp.post("/catalog/import")
@needs(Scope.CATALOG_WRITE)
def import_catalog() -> ResponseReturnValue:
    dry_run = load_query(S.ImportQuerySchema())["dry_run"]
    document = json_body()
    report = write(lambda: catalog_io.import_catalog(db_session(), actor(), document,
                                                     dry_run=dry_run))
    return import_response(report)


@bp.get("/skills.csv")
@needs(Scope.CATALOG_READ)
def export_skills_csv() -> ResponseReturnValue:
    separator = load_query(S.CsvExportQuerySchema())["separator"]
    text = catalog_io.export_skills_csv(db_session(), actor(),
                                        delimiter=";" if separator == "semicolon" else ",")
    tag = digest(text)
    if request.if_none_match.contains_weak(tag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(text, mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="skills.csv"'
    response.set_etag(tag, weak=True)
    return response


@bp.post("/skills.csv")
@needs(Scope.CATALOG_WRITE)
def import_skills_csv() -> ResponseReturnValue:
    dry_run = load_query(S.ImportQuerySchema())["dry_run"]
    if not media_type_ok(CSV_TYPES):
        raise UnsupportedMediaType(_("Send the skills as CSV with 'Content-Type: text/csv'."))
    raw = request.get_data(cache=True)
    report = write(lambda: catalog_io.import_skills_csv(db_session(), actor(), raw,
                                                        dry_run=dry_run))
    return import_response(report)


# -- OpenAPI --------------------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    from lti_tool.web.api.openapi import openapi_document

    return respond(openapi_document(current_app.config["PUBLIC_BASE_URL"]))
