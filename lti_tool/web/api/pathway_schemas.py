"""Request and response schemas of the pathway routes (``web.api.pathways``), documented
in the OpenAPI document like the rest of the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from lti_tool.domain.catalog import Action
from lti_tool.domain.catalog_schemas import CODE_RE, Text
from lti_tool.domain.pathways import PathwayInputSchema
from lti_tool.web.api.schemas import (
    STATES,
    ReviewSchema,
    _PageSchema,
    _QuerySchema,
    _row_version,
)


class PathwayUpdateSchema(PathwayInputSchema):
    """A draft pathway version's full replacement (PUT)."""

    row_version = _row_version()


class PathwayListQuerySchema(_QuerySchema):
    q = Text(load_default="", validate=validate.Length(max=100),
             metadata={"description": "Search in code and title."})
    state = fields.String(load_default="", validate=validate.OneOf(STATES),
                          metadata={"description": "Lifecycle state of the latest version."})


class PathwayVersionSummarySchema(Schema):
    id = fields.Integer(required=True, metadata={"description": "The version's id."})
    pathway_id = fields.Integer(required=True)
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    title = fields.String(required=True)
    row_version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)


class PathwayVersionPageSchema(_PageSchema):
    items = fields.List(fields.Nested(PathwayVersionSummarySchema), required=True)


class PathwayVersionSchema(Schema):
    id = fields.Integer(required=True)
    pathway_id = fields.Integer(required=True)
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    allowed_actions = fields.List(fields.String(validate=validate.OneOf(
        [a.value for a in Action])), required=True)
    row_version = fields.Integer(required=True)
    author_name = fields.String(required=True)
    content = fields.Nested(PathwayInputSchema, required=True, metadata={
        "description": "The editable fields (send them back, changed, with PUT). Frozen once "
                       "published."})
    review_count = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(required=True, allow_none=True)
    approved_at = fields.DateTime(required=True, allow_none=True)
    published_at = fields.DateTime(required=True, allow_none=True)
    retired_at = fields.DateTime(required=True, allow_none=True)


class PathwaySchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, validate=validate.Regexp(CODE_RE))
    created_at = fields.DateTime(required=True)
    latest_version_id = fields.Integer(required=True)
    published_version_id = fields.Integer(required=True, allow_none=True)
    versions = fields.List(fields.Nested(PathwayVersionSummarySchema), required=True)


class PathwayReviewListSchema(Schema):
    items = fields.List(fields.Nested(ReviewSchema), required=True)


class StepProgressSchema(Schema):
    credential = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ["earned", "in_progress", "not_started"]))
    counts = fields.Boolean(required=True, metadata={
        "description": "Earned with a version that counts for this pathway."})


class GroupProgressSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    rule = fields.String(required=True, validate=validate.OneOf(
        ["all", "choose", "credits", "hours"]))
    satisfied = fields.Boolean(required=True)
    have = fields.String(required=True, metadata={
        "description": "Steps, credits or hours so far (by the rule), a decimal string."})
    needed = fields.String(required=True)
    steps = fields.List(fields.Nested(StepProgressSchema), required=True)


class LearnerPathwaySchema(Schema):
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "The public pathway page."})
    complete = fields.Boolean(required=True)
    steps_earned = fields.Integer(required=True)
    steps_total = fields.Integer(required=True)
    credits_earned = fields.String(required=True)
    hours_earned = fields.String(required=True)
    course_credit = fields.List(fields.String(), required=True, metadata={
        "description": "Course codes the earned steps exempt from or count toward."})
    next_steps = fields.List(fields.String(), required=True, metadata={
        "description": "Codes of the credentials to earn next (their predecessors earned)."})
    target_credential = fields.String(required=True, allow_none=True)
    target_awarded = fields.Boolean(required=True)
    groups = fields.List(fields.Nested(GroupProgressSchema), required=True)


class LearnerPathwayListSchema(Schema):
    person_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(LearnerPathwaySchema), required=True)
