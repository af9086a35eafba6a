"""Marshmallow schemas of the registrar's record API (``/api/v1/records``): the query and
the response, documented in the OpenAPI document from these classes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from lti_tool.domain.catalog import Route
from lti_tool.domain.tracking import AwardStatus
from lti_tool.web.api.schemas import _PageSchema, _QuerySchema

MAX_ID = 2**31 - 1


class RecordQuerySchema(_QuerySchema):
    from_ = fields.Date(data_key="from", attribute="from", metadata={
        "description": "Only awards made on or after this date (YYYY-MM-DD), e.g. the "
                       "first day of a term."})
    to = fields.Date(metadata={"description": "Only awards made on or before this date "
                                              "(inclusive)."})
    changed_since = fields.AwareDateTime(metadata={
        "description": "Only awards made, revoked or flagged after this RFC 3339 date-time "
                       "(what changed since a student information system's last run)."})
    person_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                               metadata={"description": "Only this person's awards."})


class NotationSchema(Schema):
    en = fields.String(required=True)
    fr = fields.String(required=True)


class RecordAwardSchema(Schema):
    """One award as the registrar's record holds it."""

    id = fields.String(required=True, metadata={
        "description": "The award's public identifier (its verification page)."})
    personId = fields.Integer(required=True)
    learnerName = fields.String(required=True)
    learnerEmail = fields.String(required=True, allow_none=True)
    studentNumbers = fields.List(fields.String(), required=True, metadata={
        "description": "The institutional ids (LTI lis_person_sourcedid) the learner's "
                       "platforms sent; prefixed with the platform's name when platforms "
                       "disagree."})
    credentialCode = fields.String(required=True)
    title = fields.String(required=True)
    version = fields.Integer(required=True)
    route = fields.String(required=True, validate=validate.OneOf([r.value for r in Route]),
                          metadata={"description": "How it was earned: integrated "
                                                   "(for-credit course), stand_alone "
                                                   "(continuing education), plar, transfer."})
    course = fields.String(required=True, allow_none=True)
    platform = fields.String(required=True, allow_none=True)
    awardedAt = fields.DateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        [s.value for s in AwardStatus]))
    revokedAt = fields.DateTime(required=True, allow_none=True)
    creditBearing = fields.Boolean(required=True)
    credits = fields.String(required=True, allow_none=True, metadata={
        "description": "Credit value, as a decimal string (credit-bearing only)."})
    creditSystem = fields.String(required=True, allow_none=True)
    hours = fields.String(required=True, metadata={
        "description": "Notional learning hours, as a decimal string."})
    notation = fields.Nested(NotationSchema, required=True, allow_none=True, metadata={
        "description": "Transcript notation in English and French (credit-bearing only), "
                       "from the issuer's templates."})
    changedAt = fields.DateTime(required=True, metadata={
        "description": "The latest of awarded, flagged and revoked."})


class RecordAwardPageSchema(_PageSchema):
    items = fields.List(fields.Nested(RecordAwardSchema), required=True)
