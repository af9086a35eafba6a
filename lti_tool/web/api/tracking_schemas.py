"""Marshmallow schemas of the tracking API (/api/v1/courses, /api/v1/offerings,
/api/v1/demonstrations, /api/v1/awards): the request bodies, the query strings, and the
response bodies. The OpenAPI
document is generated from these classes (``lti_tool.web.api.openapi``), so what is documented
is what is enforced."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from lti_tool.domain.catalog import Route
from lti_tool.domain.catalog_schemas import HttpUrl, StrictSchema, Text
from lti_tool.domain.tracking import COURSE_METHODS, AwardStatus, Method, Outcome
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
    """A course as the learning platform knows it: its LTI context id (the course id in
    Moodle or Canvas). The platform's issuer URL, the tool's client id there and the
    deployment id are needed only when two of the institution's platforms use the same
    context id (409 ambiguous_course otherwise)."""

    context_id = Text(required=True, validate=validate.Length(min=1, max=255),
                      metadata={"description": "The LTI context id of the course."})
    issuer = Text(validate=validate.Length(min=1, max=500),
                  metadata={"description": "The platform's issuer (iss), e.g. "
                                           "https://moodle.example.edu."})
    client_id = Text(validate=validate.Length(min=1, max=255))
    deployment_id = Text(validate=validate.Length(min=1, max=255))


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
            raise ValidationError(_("give exactly one of platform_user_id, email, "
                                    "institutional_id"), "_schema")


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
                           validate=validate.OneOf([m.value for m in COURSE_METHODS]))
    evidence_url = HttpUrl(load_default="", metadata={"description": "An http(s) URL."})
    note = Text(load_default="", validate=validate.Length(max=MAX_NOTE))
    demonstrated_at = fields.AwareDateTime(metadata={
        "description": "RFC 3339 date-time with an offset; not in the future. Default: now."})

    @validates_schema
    def _one_course(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("offering_id" in data) == ("context" in data):
            raise ValidationError(_("give exactly one of offering_id and context"), "_schema")


# -- query strings ----------------------------------------------------------------------------
class CourseQuerySchema(Schema):
    """Which course a CSV import goes into: offering_id, or the platform's context_id (with
    issuer, client_id and deployment_id when two platforms share it)."""

    class Meta:
        unknown = EXCLUDE

    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Validate only: report what would happen and apply nothing."})
    offering_id = _id("An offering in the course (or give context_id).", strict=False)
    context_id = Text(validate=validate.Length(min=1, max=255),
                      metadata={"description": "The LTI context id of the course."})
    issuer = Text(validate=validate.Length(min=1, max=500),
                  metadata={"description": "The platform's issuer (only to tell two "
                                           "platforms' courses with the same context_id "
                                           "apart)."})
    client_id = Text(validate=validate.Length(min=1, max=255))
    deployment_id = Text(validate=validate.Length(min=1, max=255))

    @validates_schema
    def _one_course(self, data: dict[str, Any], **kwargs: Any) -> None:
        parts = [k for k in CONTEXT_KEYS if k in data]
        if "offering_id" in data and parts:
            raise ValidationError(_("give offering_id or context_id, not both"), "_schema")
        if "offering_id" not in data and "context_id" not in data:
            raise ValidationError(_("give offering_id or context_id"), "_schema")


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


# -- courses, offerings, roster, demonstrations (reads) ---------------------------------------
class CourseListQuerySchema(_QuerySchema):
    context_id = Text(load_default="", validate=validate.Length(max=255), metadata={
        "description": "Only the course with this LTI context id (the platform's course "
                       "id)."})
    q = Text(load_default="", validate=validate.Length(max=100), metadata={
        "description": "Words of the course title or label."})


class PlatformRefSchema(Schema):
    issuer = fields.String(required=True, metadata={"description": "The platform's issuer."})
    client_id = fields.String(required=True)
    deployment_id = fields.String(required=True)
    name = fields.String(required=True)


class OfferingSchema(Schema):
    """A micro-credential offered in a course (its id is what offering_id names)."""

    id = fields.Integer(required=True)
    course_id = fields.Integer(required=True)
    credential_id = fields.Integer(required=True)
    credential_code = fields.String(required=True)
    credential_title = fields.String(required=True, metadata={
        "description": "The title of its current published version."})
    version = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The version learners earn now; null when none is published (it "
                       "was retired): the offering then awards nothing new."})
    skill_codes = fields.List(fields.String(), required=True, metadata={
        "description": "The skills of that version, required first."})
    attached_at = fields.DateTime(required=True)
    detached_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When it was detached (null while offered)."})


class CourseSchema(Schema):
    """A course (LTI context) launched from one of the institution's platforms."""

    id = fields.Integer(required=True, metadata={"description": "MicroCred's id of the "
                                                                "course."})
    context_id = fields.String(required=True, metadata={
        "description": "The platform's id of the course (LTI context id)."})
    title = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(
        ["for-credit", "continuing-ed", "other"]))
    platform = fields.Nested(PlatformRefSchema, required=True)
    roster_size = fields.Integer(required=True, metadata={
        "description": "Active members on the course roster."})
    offerings = fields.List(fields.Nested(OfferingSchema), required=True)
    created_at = fields.DateTime(required=True, metadata={
        "description": "When it was first launched."})


class CoursePageSchema(_PageSchema):
    items = fields.List(fields.Nested(CourseSchema), required=True)


class OfferingListSchema(Schema):
    items = fields.List(fields.Nested(OfferingSchema), required=True)


class OfferingInputSchema(StrictSchema):
    """The micro-credential to offer in the course (a published one of the institution's
    catalog)."""

    credential_code = Text(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "The micro-credential's code."})


class RosterQuerySchema(_QuerySchema):
    status = fields.String(load_default="active", validate=validate.OneOf(
        ["active", "inactive", "all"]), metadata={
        "description": "active (default), inactive (left the course) or all."})


class RosterMemberSchema(Schema):
    account_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True, metadata={
        "description": "The person (one human across platforms; awards use it)."})
    name = fields.String(required=True, metadata={
        "description": "Name, else email, else a stable pseudonymous label."})
    email = fields.String(required=True)
    platform_user_id = fields.String(required=True, metadata={
        "description": "The user id on the platform (LTI sub): what a demonstration's "
                       "learner.platform_user_id names."})
    institutional_id = fields.String(required=True)
    learner = fields.Boolean(required=True, metadata={
        "description": "Whether the member is a learner (NRPS also lists staff)."})
    roles = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(["active", "inactive"]))
    source = fields.String(required=True, validate=validate.OneOf(["nrps", "launch"]),
                           metadata={"description": "nrps (the platform's member list) or "
                                                    "launch (seen launching)."})


class RosterPageSchema(_PageSchema):
    items = fields.List(fields.Nested(RosterMemberSchema), required=True)


class DemonstrationListQuerySchema(_QuerySchema):
    course_id = _id("Only demonstrations recorded in this course.", strict=False)
    offering_id = _id("Only this offering's: its course, the skills of its micro-credential.",
                      strict=False)
    person_id = _id("Only this person's.", strict=False)
    since = fields.AwareDateTime(metadata={
        "description": "Only those recorded at or after this RFC 3339 date-time (to read "
                       "what is new since the last call)."})


class DemonstrationItemSchema(DemonstrationSchema):
    supersedes_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The record this one corrects (null for a first record)."})
    superseded_by = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The record that corrected this one (null while it is current)."})


class DemonstrationPageSchema(_PageSchema):
    items = fields.List(fields.Nested(DemonstrationItemSchema), required=True)
