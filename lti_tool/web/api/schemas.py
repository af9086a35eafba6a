"""Marshmallow schemas of the REST API (/api/v1): query strings, the few request bodies that
are API-only (transitions, optimistic-locking fields), and every response body.

Request bodies for skills, micro-credentials and reviews are the domain's own input schemas
(``lti_tool.domain.catalog_schemas``), so a field is refused for the same reason whether it
comes from the admin UI, an import or the API. The OpenAPI document is generated from these
classes (``lti_tool.web.api.openapi``), so what is documented is what is enforced.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from lti_tool.domain.catalog import (
    RUBRIC_LEVEL_KEYS,
    Action,
    LifecycleState,
    ReviewDecision,
)
from lti_tool.domain.catalog_schemas import (
    CODE_RE,
    AlignmentSchema,
    CredentialInputSchema,
    CredentialTranslationsSchema,
    CriterionScoreSchema,
    IssuerTranslationsSchema,
    ReviewInputSchema,
    SkillInputSchema,
    SkillTranslationsSchema,
    StrictSchema,
    Text,
)

FRENCH_TEXTS = ("Texts in other languages: {\"fr\": {...}} with the French text of each "
                "field that has one (the English text is the field itself). A field without "
                "a French text falls back to English.")

MAX_PAGE = 100_000
MAX_PER_PAGE = 100
STATES = [s.value for s in LifecycleState]
TRANSITION_ACTIONS = [Action.SUBMIT.value, Action.WITHDRAW.value, Action.PUBLISH.value,
                      Action.RETIRE.value]

_ROW_VERSION_DOC = ("The row_version you read (alternative to the If-Match header); the save "
                    "is refused with 409 if someone saved in the meantime.")


def _row_version() -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1),
                          metadata={"description": _ROW_VERSION_DOC})


# -- query strings ------------------------------------------------------------------------------
class _QuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # cache busters and the like are ignored, not refused

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": "Page number, from 1."})
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": "Items per page (1-100)."})


class SkillListQuerySchema(_QuerySchema):
    q = Text(load_default="", validate=validate.Length(max=100),
             metadata={"description": "Search in code, name and description."})
    tag = Text(load_default="", validate=validate.Length(max=50),
               metadata={"description": "Only skills with this tag."})


class CredentialListQuerySchema(_QuerySchema):
    q = Text(load_default="", validate=validate.Length(max=100),
             metadata={"description": "Search in code, title and short description."})
    state = fields.String(load_default="", validate=validate.OneOf(STATES),
                          metadata={"description": "Lifecycle state of the latest version."})
    credit_bearing = fields.Boolean(load_default=None, allow_none=True,
                                    metadata={"description": "true or false."})


class ImportQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Validate only: report what would change and apply nothing."})


class CsvExportQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    separator = fields.String(load_default="comma", validate=validate.OneOf(
        ["comma", "semicolon"]), metadata={
        "description": "comma (default, UTF-8), or semicolon: what spreadsheets in a French "
                       "locale open straight into columns (UTF-8 with a byte-order mark)."})


# -- request bodies ---------------------------------------------------------------------------
class SkillUpdateSchema(SkillInputSchema):
    """A skill's full replacement (PUT)."""

    row_version = _row_version()


class CredentialUpdateSchema(CredentialInputSchema):
    """A draft version's full replacement (PUT)."""

    row_version = _row_version()


class ReviewCreateSchema(ReviewInputSchema):
    """A review of a version in review: every rubric criterion scored, and a decision."""

    row_version = _row_version()


class TransitionInputSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(
        TRANSITION_ACTIONS,
        error="must be one of: submit, withdraw, publish, retire (approve, request changes and "
              "reject are review decisions: POST to the version's reviews)"))
    row_version = _row_version()


# -- responses ------------------------------------------------------------------------------
class SkillSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    criteria = fields.String(required=True)
    alignments = fields.List(fields.Nested(AlignmentSchema), required=True)
    tags = fields.List(fields.String(), required=True)
    translations = fields.Nested(SkillTranslationsSchema, required=True,
                                 metadata={"description": FRENCH_TEXTS})
    row_version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class _PageSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class SkillPageSchema(_PageSchema):
    items = fields.List(fields.Nested(SkillSchema), required=True)


class VersionSummarySchema(Schema):
    id = fields.Integer(required=True, metadata={"description": "The version's id."})
    credential_id = fields.Integer(required=True)
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    title = fields.String(required=True)
    short_description = fields.String(required=True)
    notional_hours = fields.Decimal(required=True, as_string=True, places=1)
    credit_bearing = fields.Boolean(required=True)
    field_of_study = fields.String(required=True)
    translations = fields.Nested(CredentialTranslationsSchema, required=True, metadata={
        "description": "The French title and short description, when there are: " +
                       FRENCH_TEXTS})
    row_version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)


class VersionPageSchema(_PageSchema):
    items = fields.List(fields.Nested(VersionSummarySchema), required=True)


class VersionSkillSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    requirement = fields.String(required=True, validate=validate.OneOf(["required", "optional"]))
    translations = fields.Nested(SkillTranslationsSchema, metadata={
        "description": "The skill's French texts (as frozen with the version). " +
                       FRENCH_TEXTS})


class VersionSchema(Schema):
    id = fields.Integer(required=True)
    credential_id = fields.Integer(required=True)
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    allowed_actions = fields.List(fields.String(validate=validate.OneOf(
        [a.value for a in Action])), required=True)
    row_version = fields.Integer(required=True)
    author_name = fields.String(required=True)
    content = fields.Nested(CredentialInputSchema, required=True, metadata={
        "description": "The editable fields (send them back, changed, with PUT). Frozen once "
                       "published."})
    skills = fields.List(fields.Nested(VersionSkillSchema), required=True)
    earning_rule = fields.String(required=True)
    missing_translations = fields.List(fields.String(), required=True, metadata={
        "description": "Texts with an English version but no French one: fields of content "
                       "(title, learning_outcomes …) and of its skills "
                       "(skills.<code>.<field>). French readers see them in English, "
                       "marked; review checks them when the issuer publishes in French."})
    review_count = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(required=True, allow_none=True)
    approved_at = fields.DateTime(required=True, allow_none=True)
    published_at = fields.DateTime(required=True, allow_none=True)
    retired_at = fields.DateTime(required=True, allow_none=True)


class CredentialSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, validate=validate.Regexp(CODE_RE))
    created_at = fields.DateTime(required=True)
    latest_version_id = fields.Integer(required=True)
    published_version_id = fields.Integer(required=True, allow_none=True)
    versions = fields.List(fields.Nested(VersionSummarySchema), required=True)


class RubricRefSchema(Schema):
    key = fields.String(required=True)
    lens = fields.String(required=True)
    title = fields.String(required=True)


class ReviewSchema(Schema):
    id = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    reviewer_name = fields.String(required=True)
    decision = fields.String(required=True,
                             validate=validate.OneOf([d.value for d in ReviewDecision]))
    comment = fields.String(required=True)
    scores = fields.List(fields.Nested(CriterionScoreSchema), required=True)
    rubric = fields.List(fields.Nested(RubricRefSchema), required=True)
    confirmed_not_met = fields.List(fields.String(), required=True, metadata={
        "description": "Criteria scored not met that the reviewer confirmed approving "
                       "despite (empty unless the decision is approve)."})
    created_at = fields.DateTime(required=True)


class ReviewListSchema(Schema):
    items = fields.List(fields.Nested(ReviewSchema), required=True)


class FieldChangeSchema(Schema):
    field = fields.String(required=True)
    before = fields.Raw(required=True, allow_none=True)
    after = fields.Raw(required=True, allow_none=True)


class DiffSchema(Schema):
    from_version = fields.Nested(VersionSummarySchema, required=True, data_key="from")
    to_version = fields.Nested(VersionSummarySchema, required=True, data_key="to")
    changes = fields.List(fields.Nested(FieldChangeSchema), required=True)


class RubricLevelSchema(Schema):
    key = fields.String(required=True, validate=validate.OneOf(RUBRIC_LEVEL_KEYS))
    label = fields.String(required=True)


class RubricLensSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)


class RubricCriterionSchema(Schema):
    key = fields.String(required=True)
    lens = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)


class RubricSchema(Schema):
    levels = fields.List(fields.Nested(RubricLevelSchema), required=True)
    lenses = fields.List(fields.Nested(RubricLensSchema), required=True)
    criteria = fields.List(fields.Nested(RubricCriterionSchema), required=True)


class IssuerSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    url = fields.Url(required=True)
    email = fields.Email(required=True)
    image_url = fields.String(required=True)
    description = fields.String(required=True)
    languages = fields.List(fields.String(), required=True, metadata={
        "description": "The languages the issuer publishes its catalog and credentials in."})
    translations = fields.Nested(IssuerTranslationsSchema, required=True,
                                 metadata={"description": FRENCH_TEXTS})
    row_version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)


class ImportProblemSchema(Schema):
    where = fields.String(required=True, metadata={
        "description": "Where the problem is: e.g. skills[3].code or row 4."})
    field = fields.String(required=True, allow_none=True)
    message = fields.String(required=True)


class ImportChangeSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(
        ["skill", "credential", "rubric"]))
    code = fields.String(required=True)
    change = fields.String(required=True, validate=validate.OneOf(
        ["create", "update", "add_version", "replace"]))
    detail = fields.String(required=True, metadata={
        "description": "In words: the fields that change, the versions added."})


class ImportReportSchema(Schema):
    ok = fields.Boolean(required=True)
    dry_run = fields.Boolean(required=True)
    applied = fields.Boolean(required=True, metadata={
        "description": "Whether anything was saved (never on a dry run or any problem)."})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    changes = fields.List(fields.Nested(ImportChangeSchema), required=True, metadata={
        "description": "Every change the import made (on a dry run: would make)."})
    problems = fields.List(fields.Nested(ImportProblemSchema), required=True)


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    message = fields.String(required=True)
    request_id = fields.String(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                          data_key="fields", metadata={
                              "description": "Field name → what is wrong with it (422)."})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)
    report = fields.Nested(ImportReportSchema, metadata={
        "description": "Imports only: the full report (every problem, where it is)."})


def dump(schema: type[Schema], obj: Any, *, many: bool = False) -> Any:
    return schema(many=many).dump(obj)
