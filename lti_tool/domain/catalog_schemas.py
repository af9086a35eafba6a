"""Validation of catalog input (API bodies, admin forms, imports) with marshmallow.

One set of schemas serves every entry point, so a field is refused for the same reason
wherever it comes from. Text is stored as given (HTML is never interpreted: templates
escape it); URLs must be http(s); sizes and numbers are bounded.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from lti_tool.domain.catalog import (
    RUBRIC_LEVEL_KEYS,
    AssessmentKind,
    DeliveryMode,
    Grading,
    ReviewDecision,
    Route,
)

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Text(fields.String):
    """A trimmed string without control characters."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        result = super()._deserialize(value, attr, data, **kwargs)
        if CONTROL_RE.search(result):
            raise ValidationError("must not contain control characters")
        try:
            result.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("must be valid Unicode text") from None
        return result.strip()


class HttpUrl(fields.Url):
    """An http(s) URL; an optional one may also be "" (no URL), which is what it loads as
    when missing, so a loaded value always loads again (forms, API round trips, imports)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Length(max=1000))
        super().__init__(schemes={"http", "https"}, require_tld=False, **kwargs)

    def _validate(self, value: Any) -> None:
        if value == "" and not self.required:
            return
        super()._validate(value)


def _text(max_len: int, *, required: bool = False, min_len: int = 0) -> Text:
    checks = [validate.Length(min=max(min_len, 1 if required else 0), max=max_len)]
    if required:
        return Text(required=True, validate=checks)
    return Text(validate=checks, load_default="")


def _enum_list(enum: type[StrEnum], *, min_len: int = 0) -> fields.List[Any]:
    values = [e.value for e in enum]
    return fields.List(fields.String(validate=validate.OneOf(values)),
                       load_default=list, validate=validate.Length(min=min_len, max=len(values)))


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _must_be_object(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            raise ValidationError("must be a JSON object", "_schema")
        return data


class AlignmentSchema(StrictSchema):
    framework = _text(200, required=True)
    target_url = HttpUrl(required=True)
    target_code = _text(100)
    target_name = _text(300)
    target_type = Text(load_default="CFItem", validate=validate.OneOf(
        ["CFItem", "CFRubric", "CFRubricCriterion", "CFRubricCriterionLevel", "CTDL",
         "ceasn:Competency", "ceterms:Credential", "ceterms:Occupation", "ESCO", "Other"]))


# -- texts in other languages ------------------------------------------------------------------
#: The issuer-written texts that have a French version (the English one is the field itself):
#: per kind of catalog object, the text fields and the list-of-texts fields.
SKILL_TEXT_FIELDS = ("name", "description", "criteria")
ISSUER_TEXT_FIELDS = ("name", "description")
VERSION_TEXT_FIELDS = ("title", "short_description", "long_description", "assessment_method",
                       "stand_alone_value", "field_of_study", "level", "credit_system",
                       "image_alt")
VERSION_LIST_FIELDS = ("learning_outcomes", "target_occupations")
#: The other languages a text may be given in (``translations`` keys).
TRANSLATION_LANGUAGES = ("fr",)


def _empty_or_length(low: int, high: int) -> Any:
    """A text that is either empty (none given) or ``low``-``high`` characters long."""

    def check(value: str) -> None:
        if value and not low <= len(value) <= high:
            raise ValidationError(f"Length must be between {low} and {high}.")

    return check


class _TranslationSchema(StrictSchema):
    """The texts of one language; every field optional (a missing one falls back to English,
    visibly). Empty texts and lists are left out of the loaded value."""

    @post_load
    def _drop_empty(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if v not in ("", [], None)}


class _TranslationsSchema(StrictSchema):
    """``{"fr": {...}}``: one optional nested field per other language, so an unknown
    language is refused ("Unknown field") and errors read ``translations.fr.title``. A
    language without any text is left out."""

    @post_load
    def _drop_empty(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if v}


class SkillTextsSchema(_TranslationSchema):
    name = _text(200)
    description = _text(4000)
    criteria = _text(4000)


class IssuerTextsSchema(_TranslationSchema):
    name = _text(200)
    description = _text(4000)


class SkillTranslationsSchema(_TranslationsSchema):
    fr = fields.Nested(SkillTextsSchema)


class IssuerTranslationsSchema(_TranslationsSchema):
    fr = fields.Nested(IssuerTextsSchema)


class SkillInputSchema(StrictSchema):
    code = Text(required=True, validate=validate.Regexp(
        CODE_RE, error="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
                       "digit"))
    name = _text(200, required=True)
    description = _text(4000)
    criteria = _text(4000)
    alignments = fields.List(fields.Nested(AlignmentSchema), load_default=list,
                             validate=validate.Length(max=20))
    tags = fields.List(Text(validate=validate.Length(min=1, max=50)), load_default=list,
                       validate=validate.Length(max=30))
    translations = fields.Nested(SkillTranslationsSchema, load_default=dict)

    @post_load
    def _dedupe_tags(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["tags"] = list(dict.fromkeys(data["tags"]))
        return data


class OutcomeList(fields.List[Any]):
    """The ordered list of learning outcomes."""


class CredentialTextsSchema(_TranslationSchema):
    """A version's texts in one other language (same limits as the English fields)."""

    # Like the English title: 3 to 200 characters (or none: English is shown, marked).
    title = Text(load_default="", validate=_empty_or_length(3, 200),
                 metadata={"description": "3 to 200 characters, or empty (none)."})
    short_description = _text(500)
    long_description = _text(10000)
    learning_outcomes = OutcomeList(Text(validate=validate.Length(min=3, max=500)),
                                    load_default=list, validate=validate.Length(max=30))
    assessment_method = _text(4000)
    stand_alone_value = _text(4000)
    target_occupations = fields.List(Text(validate=validate.Length(min=1, max=200)),
                                     load_default=list, validate=validate.Length(max=30))
    field_of_study = _text(200)
    level = _text(100)
    credit_system = _text(200)
    image_alt = _text(300)


class CredentialTranslationsSchema(_TranslationsSchema):
    fr = fields.Nested(CredentialTextsSchema)


class CredentialInputSchema(StrictSchema):
    """The editable fields of a micro-credential version."""

    code = Text(required=True, validate=validate.Regexp(
        CODE_RE, error="use 1-64 letters, digits, '.', '_' or '-'"))
    title = _text(200, required=True, min_len=3)
    short_description = _text(500, required=True)
    long_description = _text(10000)
    learning_outcomes = OutcomeList(Text(validate=validate.Length(min=3, max=500)),
                                    required=True, validate=validate.Length(min=1, max=30))
    assessment_kind = fields.String(load_default=AssessmentKind.PASS_FAIL_DEMONSTRATION.value,
                                    validate=validate.OneOf([e.value for e in AssessmentKind]))
    assessment_method = _text(4000)
    grading = fields.String(load_default=Grading.PASS_FAIL.value,
                            validate=validate.OneOf([e.value for e in Grading]))
    notional_hours = fields.Decimal(required=True, places=1, as_string=True,
                                    validate=validate.Range(min=1, max=2000))
    credit_bearing = fields.Boolean(load_default=False)
    credit_value = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                  validate=validate.Range(min=0.01, max=120))
    credit_system = _text(200)
    delivery_modes = _enum_list(DeliveryMode, min_len=1)
    stand_alone_value = _text(4000)
    target_occupations = fields.List(Text(validate=validate.Length(min=1, max=200)),
                                     load_default=list, validate=validate.Length(max=30))
    field_of_study = _text(200)
    level = _text(100)
    image_url = HttpUrl(load_default="")
    image_alt = _text(300)
    expiry_months = fields.Integer(load_default=None, allow_none=True, strict=True,
                                   validate=validate.Range(min=1, max=240))
    languages = fields.List(Text(validate=validate.Regexp(LANG_RE)),
                            load_default=lambda: ["en"], validate=validate.Length(min=1, max=10))
    required_skills = fields.List(Text(validate=validate.Regexp(CODE_RE)), load_default=list,
                                  validate=validate.Length(max=60))
    optional_skills = fields.List(Text(validate=validate.Regexp(CODE_RE)), load_default=list,
                                  validate=validate.Length(max=60))
    optional_min = fields.Integer(load_default=0, strict=True,
                                  validate=validate.Range(min=0, max=60))
    allowed_routes = _enum_list(Route, min_len=1)
    tags = fields.List(Text(validate=validate.Length(min=1, max=50)), load_default=list,
                       validate=validate.Length(max=30))
    translations = fields.Nested(CredentialTranslationsSchema, load_default=dict)

    @validates_schema
    def _credit(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("credit_bearing"):
            errors = {}
            if data.get("credit_value") is None:
                errors["credit_value"] = ["is required for a credit-bearing credential"]
            if not data.get("credit_system"):
                errors["credit_system"] = ["is required for a credit-bearing credential"]
            if errors:
                raise ValidationError(errors)
        elif data.get("credit_value") is not None:
            raise ValidationError({"credit_value": ["must be empty unless credit-bearing"]})

    @post_load
    def _normalise(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["notional_hours"] = str(data["notional_hours"])
        if data.get("credit_value") is not None:
            data["credit_value"] = str(data["credit_value"])
        data["delivery_modes"] = list(dict.fromkeys(data["delivery_modes"]))
        data["allowed_routes"] = list(dict.fromkeys(data["allowed_routes"]))
        # No French texts: no key, so versions saved before bilingual content compare equal.
        if not data.get("translations"):
            data.pop("translations", None)
        return data


class CriterionScoreSchema(StrictSchema):
    criterion = Text(required=True, validate=validate.Length(min=1, max=50))
    level = fields.String(required=True, validate=validate.OneOf(RUBRIC_LEVEL_KEYS))
    comment = _text(2000)


class ReviewInputSchema(StrictSchema):
    decision = fields.String(required=True,
                             validate=validate.OneOf([d.value for d in ReviewDecision]))
    comment = _text(4000)
    # Approving while a criterion is scored "not_met" needs this, said explicitly.
    confirm_not_met = fields.Boolean(load_default=False)
    scores = fields.List(fields.Nested(CriterionScoreSchema), required=True,
                         validate=validate.Length(min=1, max=50))

    @validates_schema
    def _reasons(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("decision") in ("request_changes", "reject") and not data.get("comment"):
            raise ValidationError({"comment": ["explain what must change (or why it is "
                                               "rejected)"]})


class IssuerProfileSchema(StrictSchema):
    name = _text(200, required=True)
    url = HttpUrl(required=True)
    email = fields.Email(required=True, validate=validate.Length(max=320))
    image_url = HttpUrl(load_default="")
    description = _text(4000)
    languages = fields.List(Text(validate=validate.Regexp(LANG_RE)),
                            load_default=lambda: ["en"], validate=validate.Length(min=1, max=10))
    translations = fields.Nested(IssuerTranslationsSchema, load_default=dict)


class LenientSchema(Schema):
    class Meta:
        unknown = EXCLUDE


def first_errors(messages: Any) -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages to {"field.sub": [message, ...]}."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                name = "" if key == "_schema" else str(key)
                walk(f"{prefix}.{name}" if prefix and name else (prefix or name), inner)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_schema", []).extend(value)
        elif isinstance(value, list):
            for inner in value:
                walk(prefix, inner)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    walk("", messages)
    return flat
