"""Marshmallow schemas of the tracking API (/api/v1/demonstrations, /api/v1/awards): the
request body of a demonstration, the query strings, and the response bodies. The OpenAPI
document is generated from these classes (``lti_tool.web.api.openapi``), so what is documented
is what is enforced."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from lti_tool.domain.catalog import Route
from lti_tool.domain.catalog_schemas import HttpUrl, StrictSchema, Text
from lti_tool.domain.tracking import AwardStatus, Method, Outcome
from lti_tool.services.tracking import MAX_NOTE
from lti_tool.web.api.schemas import ImportReportSchema, _PageSchema, _QuerySchema

MAX_ID = 2**31 - 1
LEARNER_KEYS = ("platform_user_id", "email", "institutional_id")
CONTEXT_KEYS = ("issuer", "client_id", "deployment_id", "context_id")


def _id(description: str, *, strict: bool = True) -> fields.Integer:
    """A database id; ``strict`` (JSON bodies) refuses "5" for 5, a query string cannot."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID),
                          metadata={"description": description})


# -- request bodies -----------------------------------------------------------------------------
class CourseRefSchema(StrictSchema):
    """A course as the learning platform knows it: the platform's issuer URL and the tool's
    client id there (one registration), the deployment id and the LTI context id."""

    issuer = Text(required=True, validate=validate.Length(min=1, max=500),
                  metadata={"description": "The platform's issuer (iss), e.g. "
                                           "https://moodle.example.edu."})
    client_id = Text(required=True, validate=validate.Length(min=1, max=255))
    deployment_id = Text(required=True, validate=validate.Length(min=1, max=255))
    context_id = Text(required=True, validate=validate.Length(min=1, max=255),
                      metadata={"description": "The LTI context id of the course."})


class LearnerRefSchema(StrictSchema):
    """Exactly one identifier of a learner on the course's roster."""

    platform_user_id = Text(validate=validate.Length(min=1, max=255), metadata={
        "description": "The learner's user id on the platform (LTI sub)."})
    email = Text(validate=validate.Length(min=3, max=320), metadata={
        "description": "The learner's email as the platform sent it (case-insensitive)."})
    institutional_id = Text(validate=validate.Length(min=1, max=255), metadata={
        "description": "The learner's institutional id (LTI lis_person_sourcedid)."})

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = [k for k in LEARNER_KEYS if data.get(k)]
        if len(given) != 1:
            raise ValidationError("give exactly one of platform_user_id, email, "
                                  "institutional_id", "_schema")


class DemonstrationInputSchema(StrictSchema):
    """One demonstration of one skill by one learner, in a course identified by our offering
    id or by the platform's ids (give exactly one of offering_id and context)."""

    offering_id = _id("An offering (a micro-credential attached to the course): the "
                      "demonstration is recorded in that course.")
    context = fields.Nested(CourseRefSchema)
    learner = fields.Nested(LearnerRefSchema, required=True)
    skill_code = Text(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "A skill of a micro-credential offered in the course."})
    outcome = fields.String(required=True, validate=validate.OneOf([o.value for o in Outcome]))
    method = fields.String(load_default=Method.IN_COURSE_ASSIGNMENT.value,
                           validate=validate.OneOf([m.value for m in Method]))
    evidence_url = HttpUrl(load_default="", metadata={"description": "An http(s) URL."})
    note = Text(load_default="", validate=validate.Length(max=MAX_NOTE))
    demonstrated_at = fields.AwareDateTime(metadata={
        "description": "RFC 3339 date-time with an offset; not in the future. Default: now."})

    @validates_schema
    def _one_course(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("offering_id" in data) == ("context" in data):
            raise ValidationError("give exactly one of offering_id and context", "_schema")


# -- query strings ----------------------------------------------------------------------------
class CourseQuerySchema(Schema):
    """Which course a CSV import goes into: offering_id, or the four platform ids."""

    class Meta:
        unknown = EXCLUDE

    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Validate only: report what would happen and apply nothing."})
    offering_id = _id("An offering in the course (or give the four platform ids).",
                      strict=False)
    issuer = Text(validate=validate.Length(min=1, max=500),
                  metadata={"description": "The platform's issuer (with client_id, "
                                           "deployment_id and context_id)."})
    client_id = Text(validate=validate.Length(min=1, max=255))
    deployment_id = Text(validate=validate.Length(min=1, max=255))
    context_id = Text(validate=validate.Length(min=1, max=255),
                      metadata={"description": "The LTI context id of the course."})

    @validates_schema
    def _one_course(self, data: dict[str, Any], **kwargs: Any) -> None:
        parts = [k for k in CONTEXT_KEYS if k in data]
        if "offering_id" in data and parts:
            raise ValidationError("give offering_id or the platform ids, not both", "_schema")
        if "offering_id" not in data and len(parts) != len(CONTEXT_KEYS):
            raise ValidationError("give offering_id, or all of issuer, client_id, "
                                  "deployment_id and context_id", "_schema")


class AwardListQuerySchema(_QuerySchema):
    credential = Text(load_default="", validate=validate.Length(max=64), metadata={
        "description": "Only awards of the micro-credential with this code."})
    person_id = _id("Only this person's awards.", strict=False)
    status = fields.String(load_default="", validate=validate.OneOf(
        [s.value for s in AwardStatus]), metadata={"description": "active, flagged or "
                                                                  "revoked."})
    since = fields.AwareDateTime(metadata={
        "description": "Only awards made at or after this RFC 3339 date-time."})


# -- responses ------------------------------------------------------------------------------
class DemonstrationRefSchema(Schema):
    id = fields.Integer(required=True)
    skill_code = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf([o.value for o in Outcome]))
    demonstrated_at = fields.DateTime(required=True)


class AwardSchema(Schema):
    id = fields.Integer(required=True)
    public_id = fields.String(required=True, metadata={
        "description": "The award's public identifier (its verification page)."})
    credential_id = fields.Integer(required=True)
    credential_code = fields.String(required=True)
    credential_title = fields.String(required=True)
    version = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    learner_name = fields.String(required=True, metadata={
        "description": "The learner's name, or a stable pseudonymous label when the platform "
                       "sent none."})
    route = fields.String(required=True, validate=validate.OneOf([r.value for r in Route]))
    context_id = fields.Integer(required=True, allow_none=True)
    context_title = fields.String(required=True, metadata={
        "description": "The course it was earned in."})
    awarded_at = fields.DateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        [s.value for s in AwardStatus]))
    flagged_at = fields.DateTime(required=True, allow_none=True)
    flag_reason = fields.String(required=True)
    revoked_at = fields.DateTime(required=True, allow_none=True)
    revoked_reason = fields.String(required=True)
    demonstrations = fields.List(fields.Nested(DemonstrationRefSchema), required=True,
                                 metadata={"description": "The demonstrations it rests on."})


class AwardPageSchema(_PageSchema):
    items = fields.List(fields.Nested(AwardSchema), required=True)


class DemonstrationSchema(Schema):
    id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    account_id = fields.Integer(required=True, allow_none=True)
    learner_name = fields.String(required=True)
    skill_code = fields.String(required=True)
    skill_name = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf([o.value for o in Outcome]))
    method = fields.String(required=True, validate=validate.OneOf([m.value for m in Method]))
    evidence_url = fields.String(required=True)
    note = fields.String(required=True)
    demonstrated_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)
    route = fields.String(required=True, allow_none=True, metadata={
        "description": "integrated (for-credit course), stand_alone (continuing education), "
                       "or null (a course of another kind: it counts towards no award)."})
    context_id = fields.Integer(required=True, allow_none=True)
    context_title = fields.String(required=True)
    assessor_name = fields.String(required=True)


class DemonstrationResultSchema(Schema):
    demonstration = fields.Nested(DemonstrationSchema, required=True)
    awards = fields.List(fields.Nested(AwardSchema), required=True, metadata={
        "description": "Awards this demonstration completed (usually none)."})


class ImportedAwardSchema(Schema):
    id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "null on a dry run."})
    public_id = fields.String(required=True, allow_none=True)
    person_id = fields.Integer(required=True)
    learner = fields.String(required=True)
    credential_code = fields.String(required=True)
    credential_title = fields.String(required=True)
    version = fields.Integer(required=True)
    route = fields.String(required=True)


class DemonstrationImportReportSchema(ImportReportSchema):
    """What the import did (or, with dry_run, would do). counts: rows, recorded,
    already_recorded (identical rows recorded before: skipped), passes, fails, learners,
    skills, awards_created, problems."""

    awards = fields.List(fields.Nested(ImportedAwardSchema), required=True, metadata={
        "description": "Awards the import created (would create, on a dry run)."})
