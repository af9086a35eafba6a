"""HTML form ↔ catalog schema input for the admin UI. No Flask request here (only the
messages, in the reader's language, come from Flask-Babel): the views hand in the posted
values (a ``MultiDict``-like object) and get back the dict the marshmallow schemas expect, and
the schemas' error keys are mapped back to the form's field names.

Form field names are the schema's names, except for repeated groups
(``alignments-<row>-<field>``, ``rubric-<row>-<field>``). Blank inputs are left out of the
schema input, so a missing required field reads "is required" and an optional one takes its
default (e.g. no expiry).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from lti_tool.domain.catalog import LENSES, EarningRule, RubricCriterion, lens_title
from lti_tool.domain.catalog_schemas import (
    ISSUER_TEXT_FIELDS,
    SKILL_TEXT_FIELDS,
    VERSION_LIST_FIELDS,
    VERSION_TEXT_FIELDS,
    AlignmentSchema,
)
from lti_tool.i18n import format_decimal

MAX_ALIGNMENT_ROWS = 20
BLANK_ALIGNMENT_ROWS = 2
MAX_RUBRIC_ROWS = 50
BLANK_RUBRIC_ROWS = 2
ALIGNMENT_FIELDS = ("framework", "target_url", "target_code", "target_name", "target_type")
ALIGNMENT_TYPES: tuple[str, ...] = tuple(
    AlignmentSchema().fields["target_type"].validators[0].choices)  # type: ignore[attr-defined]
RUBRIC_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


Errors = dict[str, list[str]]

SKILL_LABELS = {
    "code": _l("Code"), "name": _l("Name"), "description": _l("Description"),
    "criteria": _l("Demonstration criteria"), "tags": _l("Tags"), "alignments": _l("Alignments"),
}
ALIGNMENT_LABELS = {"framework": _l("Framework"), "target_url": _l("Target URL"),
                    "target_code": _l("Code in the framework"),
                    "target_name": _l("Name in the framework"),
                    "target_type": _l("Type")}
CREDENTIAL_LABELS = {  # in the order of the form, so the error summary reads top-down
    "code": _l("Code"), "title": _l("Title"), "short_description": _l("Short description"),
    "long_description": _l("Long description"), "field_of_study": _l("Field of study"),
    "level": _l("Level"), "languages": _l("Languages"), "tags": _l("Tags"),
    "learning_outcomes": _l("Learning outcomes"), "assessment_kind": _l("Kind of assessment"),
    "assessment_method": _l("Assessment method"), "grading": _l("Grading"),
    "notional_hours": _l("Notional learning hours"),
    "credit_bearing": _l("Carries academic credit"),
    "credit_value": _l("Credit value"), "credit_system": _l("Credit system"),
    "delivery_modes": _l("Delivery modes"), "allowed_routes": _l("Routes allowed"),
    "required_skills": _l("Required skills"), "optional_skills": _l("Optional skills"),
    "optional_min": _l("Optional skills to demonstrate (k)"),
    "stand_alone_value": _l("Stand-alone value"),
    "target_occupations": _l("Target occupations and employers"), "image_url": _l("Image URL"),
    "image_alt": _l("Image description (alt text)"), "expiry_months": _l("Expires after (months)"),
}
ISSUER_LABELS = {"name": _l("Institution name"), "url": _l("Website"), "email": _l("Contact email"),
                 "image_url": _l("Logo URL"), "description": _l("Description"),
                 "languages": _l("Languages"), "slug": _l("Short name for web addresses (slug)")}
RUBRIC_LABELS = {"key": _l("Key"), "lens": _l("Lens"), "title": _l("Title"),
                 "description": _l("Description"),
                 "position": _l("Position")}

_FRIENDLY = {
    "Missing data for required field.": _l("This is required."),
    "Field may not be null.": _l("This is required."),
    "Not a valid URL.": _l("Enter a web address starting with http:// or https://."),
    "String does not match expected pattern.": _l("This is not in the expected format."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid email address.": _l("Enter an email address such as name@example.org."),
}
_SHORTER = re.compile(r"^Shorter than minimum length (\d+)\.$")
_LONGER = re.compile(r"^Longer than maximum length (\d+)\.$")
_RANGE = re.compile(r"^Must be greater than or equal to ([\d.]+) and less than or equal to "
                    r"([\d.]+)\.$")
_BETWEEN = re.compile(r"^Length must be between (\d+) and (\d+)\.$")


_LIST_FIELDS = frozenset({"delivery_modes", "allowed_routes", "learning_outcomes", "languages",
                          "tags", "target_occupations", "alignments", "required_skills",
                          "optional_skills"})


def format_number(text: str | int) -> str:
    """A bound from a message (``0.5``, ``2000``) in the reader's way of writing numbers."""
    try:
        return format_decimal(Decimal(str(text)), "0.###")
    except ArithmeticError:
        return str(text)


def friendly(field: str, message: str, *, item: bool = False) -> str:
    """marshmallow's message in the words of the form (``item``: about one entry of a
    list field rather than the list)."""
    between = _BETWEEN.match(message)
    shorter = _SHORTER.match(message)
    longer = _LONGER.match(message)
    if field in _LIST_FIELDS and not item:
        if field in ("delivery_modes", "allowed_routes") and (between or shorter):
            return _("Choose at least one.")
        if field == "learning_outcomes" and between:
            return _("Enter between %(min)s and %(max)s learning outcomes, one per line.",
                     min=between.group(1), max=between.group(2))
        if between:
            return _("Give between %(min)s and %(max)s.", min=between.group(1),
                     max=between.group(2))
        if longer:
            return _("Give at most %(max)s.", max=longer.group(1))
    if field == "languages" and message.startswith("String does not match"):
        return _("Use language codes such as en, fr or fr-CA.")
    if between and between.group(1) == "0":
        return _("Too long: use at most %(max)s characters.", max=between.group(2))
    if between:
        return _("Use between %(min)s and %(max)s characters.", min=between.group(1),
                 max=between.group(2))
    if message == "Shorter than minimum length 1.":
        return _("This is required.")
    if shorter:
        return _("Too short: use at least %(min)s characters.", min=shorter.group(1))
    if longer:
        return _("Too long: use at most %(max)s characters.", max=longer.group(1))
    in_range = _RANGE.match(message)
    if in_range:
        return _("Enter a number from %(min)s to %(max)s.", min=format_number(in_range.group(1)),
                 max=format_number(in_range.group(2)))
    known = _FRIENDLY.get(message)
    return str(known) if known is not None else _sentence(message)


def _sentence(message: str) -> str:
    """Service messages are predicates ("is required for …"): make them read as a
    sentence next to the field."""
    if not message or not message[0].islower():
        return message
    if message.startswith(("is ", "must ", "cannot ")):  # English predicates only
        message = "This " + message
    else:
        message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


def _clean(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _commas(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _number(text: str) -> Any:
    """Whole numbers become ints (the schema is strict); anything else stays text so the
    schema reports it."""
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def _put(data: dict[str, Any], key: str, value: str) -> None:
    if value != "":
        data[key] = value


def _item_errors(errors: Errors, field: str, key: str, messages: list[str],
                 item_word: str) -> None:
    """``learning_outcomes.2`` → an error on the textarea, naming the line."""
    rest = key[len(field) + 1:]
    index = rest.split(".", 1)[0]
    for m in messages:
        text = friendly(field, m, item=index.isdigit())
        errors.setdefault(field, []).append(
            _("%(item)s %(number)d: %(message)s", item=item_word, number=int(index) + 1,
              message=text) if index.isdigit() else text)


# -- French texts (fields "fr-<name>" beside the English "<name>") -------------------------
FRENCH_PREFIX = "fr-"


def _french_form(values: Mapping[str, Any], text_fields: Iterable[str],
                 list_fields: Iterable[str] = ()) -> dict[str, str]:
    """The French fields of a form from an object's ``translations`` (lists one per line)."""
    translations = values.get("translations") or {}
    french = translations.get("fr") if isinstance(translations, Mapping) else None
    french = french if isinstance(french, Mapping) else {}
    form = {f: str(french.get(f) or "") for f in text_fields}
    for f in list_fields:
        items = french.get(f)
        form[f] = "\n".join(str(i) for i in items) if isinstance(items, list) else ""
    return form


def _french_from_post(posted: MultiDict[str, str], names: Iterable[str]) -> dict[str, str]:
    return {f: _clean(posted.get(FRENCH_PREFIX + f, "")) for f in names}


def _french_input(french: Mapping[str, str], text_fields: Iterable[str],
                  list_fields: Iterable[str] = ()) -> dict[str, Any]:
    """``{"fr": {...}}`` with the filled French fields ({} when none is)."""
    texts: dict[str, Any] = {f: french[f] for f in text_fields if french.get(f)}
    for f in list_fields:
        if french.get(f):
            texts[f] = _lines(french[f])
    return {"fr": texts} if texts else {}


def _french_error(key: str) -> tuple[str, str] | None:
    """``translations.fr.title`` (or ``translations.fr.learning_outcomes.2``) → ("fr-title",
    the rest after the field); None for any other key."""
    parts = key.split(".")
    if len(parts) >= 3 and parts[0] == "translations" and parts[1] == "fr":
        return FRENCH_PREFIX + parts[2], ".".join(parts[3:])
    if len(parts) >= 2 and parts[0] == "translations":
        return "_form", ""
    return None


def french_label(name: str, labels: Mapping[str, Any]) -> str | None:
    """The error summary's label of a French field ("Title (French)"), None otherwise."""
    if name.startswith(FRENCH_PREFIX):
        return _("%(field)s (French)", field=labels.get(name[len(FRENCH_PREFIX):], name))
    return None


def _french_errors(errors: Errors, key: str, messages: list[str]) -> bool:
    """Put the messages of a French field's error under its form name; False if ``key`` is
    not about a French text."""
    found = _french_error(key)
    if found is None:
        return False
    name, rest = found
    field = name[len(FRENCH_PREFIX):]
    index = rest.split(".", 1)[0]
    for m in messages:
        text = friendly(field, m, item=index.isdigit())
        errors.setdefault(name, []).append(
            _("%(item)s %(number)d: %(message)s", item=_("Line"), number=int(index) + 1,
              message=text) if index.isdigit() else text)
    return True


# -- skills -------------------------------------------------------------------------------
def skill_form(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The form's values from a skill's dict (``skill_as_dict``) or blank."""
    values = values or {}
    form: dict[str, Any] = {
        "code": values.get("code", ""), "name": values.get("name", ""),
        "description": values.get("description", ""), "criteria": values.get("criteria", ""),
        "tags": ", ".join(values.get("tags") or []),
        "fr": _french_form(values, SKILL_TEXT_FIELDS),
    }
    rows = [{f: str(a.get(f) or "") for f in ALIGNMENT_FIELDS}
            for a in values.get("alignments") or []]
    form["alignments"] = rows + [dict.fromkeys(ALIGNMENT_FIELDS, "")
                                 for _ in range(BLANK_ALIGNMENT_ROWS)]
    return form


def skill_form_from_post(posted: MultiDict[str, str]) -> dict[str, Any]:
    form: dict[str, Any] = {k: _clean(posted.get(k, "")) for k in
                            ("code", "name", "description", "criteria", "tags")}
    form["fr"] = _french_from_post(posted, SKILL_TEXT_FIELDS)
    rows = []
    for i in range(MAX_ALIGNMENT_ROWS + BLANK_ALIGNMENT_ROWS):
        row = {f: _clean(posted.get(f"alignments-{i}-{f}", "")) for f in ALIGNMENT_FIELDS}
        if any(posted.get(f"alignments-{i}-{f}") is not None for f in ALIGNMENT_FIELDS):
            rows.append(row)
    filled = [r for r in rows if any(r[f] for f in ALIGNMENT_FIELDS if f != "target_type")]
    form["alignments"] = filled + [dict.fromkeys(ALIGNMENT_FIELDS, "")
                                   for _ in range(BLANK_ALIGNMENT_ROWS)]
    return form


def skill_input(form: Mapping[str, Any]) -> dict[str, Any]:
    """Schema input from the form values (``skill_form_from_post``). Alignment rows are
    already compacted there, so row ``i`` of the form is ``alignments[i]`` of the input."""
    data: dict[str, Any] = {}
    for key in ("code", "name", "description", "criteria"):
        _put(data, key, form[key])
    data["tags"] = _commas(form["tags"])
    alignments = []
    for row in form["alignments"]:
        if not any(row[f] for f in ALIGNMENT_FIELDS if f != "target_type"):
            continue
        item: dict[str, Any] = {}
        for f in ALIGNMENT_FIELDS:
            _put(item, f, row[f])
        alignments.append(item)
    data["alignments"] = alignments
    data["translations"] = _french_input(form.get("fr") or {}, SKILL_TEXT_FIELDS)
    return data


def skill_errors(raw: Errors) -> Errors:
    errors: Errors = {}
    for key, messages in raw.items():
        parts = key.split(".")
        if _french_errors(errors, key, messages):
            continue
        if parts[0] == "alignments" and len(parts) >= 3 and parts[1].isdigit():
            name = f"alignments-{parts[1]}-{parts[2]}"
            errors.setdefault(name, []).extend(friendly(parts[2], m) for m in messages)
        elif parts[0] == "tags" and len(parts) > 1:
            _item_errors(errors, "tags", key, messages, _("Tag"))
        elif parts[0] in SKILL_LABELS:
            errors.setdefault(parts[0], []).extend(friendly(parts[0], m) for m in messages)
        else:
            errors.setdefault("_form", []).extend(messages)
    return errors


def skill_error_label(name: str) -> str:
    if name.startswith("alignments-"):
        _prefix, row, field = name.split("-", 2)
        return _("Alignment %(number)d: %(field)s", number=int(row) + 1,
                 field=ALIGNMENT_LABELS.get(field, field))
    return french_label(name, SKILL_LABELS) or str(SKILL_LABELS.get(name, name))


# -- micro-credentials --------------------------------------------------------------------
_CREDENTIAL_TEXT = ("code", "title", "short_description", "long_description",
                    "assessment_kind", "assessment_method", "grading", "credit_system",
                    "stand_alone_value", "field_of_study", "level", "image_url", "image_alt")
_CREDENTIAL_LISTS = ("delivery_modes", "allowed_routes", "required_skills", "optional_skills")


def credential_form(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The form's values from a version's input (``input_of``) or the defaults of a new
    micro-credential."""
    if values is None:
        values = {"assessment_kind": "pass_fail_demonstration", "grading": "pass_fail",
                  "languages": ["en"], "optional_min": 0}
    form: dict[str, Any] = {k: str(values.get(k) or "") for k in _CREDENTIAL_TEXT}
    for key in _CREDENTIAL_LISTS:
        form[key] = list(values.get(key) or [])
    form["learning_outcomes"] = "\n".join(values.get("learning_outcomes") or [])
    form["target_occupations"] = "\n".join(values.get("target_occupations") or [])
    form["languages"] = ", ".join(values.get("languages") or [])
    form["tags"] = ", ".join(values.get("tags") or [])
    form["credit_bearing"] = bool(values.get("credit_bearing"))
    for key in ("notional_hours", "credit_value", "expiry_months"):
        value = values.get(key)
        form[key] = "" if value is None else str(value)
    form["optional_min"] = str(values.get("optional_min") or 0)
    form["fr"] = _french_form(values, VERSION_TEXT_FIELDS, VERSION_LIST_FIELDS)
    return form


def credential_form_from_post(posted: MultiDict[str, str]) -> dict[str, Any]:
    form: dict[str, Any] = {k: _clean(posted.get(k, "")) for k in _CREDENTIAL_TEXT}
    for key in ("learning_outcomes", "target_occupations", "languages", "tags",
                "notional_hours", "credit_value", "expiry_months", "optional_min"):
        form[key] = _clean(posted.get(key, ""))
    for key in _CREDENTIAL_LISTS:
        form[key] = [_clean(v) for v in posted.getlist(key) if _clean(v)]
    form["credit_bearing"] = posted.get("credit_bearing") in ("1", "on", "true", "yes")
    form["fr"] = _french_from_post(posted, (*VERSION_TEXT_FIELDS, *VERSION_LIST_FIELDS))
    return form


def credential_input(form: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in _CREDENTIAL_TEXT:
        _put(data, key, form[key])
    for key in _CREDENTIAL_LISTS:
        data[key] = list(form[key])
    outcomes = _lines(form["learning_outcomes"])
    if outcomes or form["learning_outcomes"]:
        data["learning_outcomes"] = outcomes
    data["target_occupations"] = _lines(form["target_occupations"])
    languages = _commas(form["languages"])
    if languages:
        data["languages"] = languages
    data["tags"] = _commas(form["tags"])
    data["credit_bearing"] = bool(form["credit_bearing"])
    if form["notional_hours"]:
        data["notional_hours"] = form["notional_hours"].replace(",", ".")
    # Empty numbers mean "none": no credit value, no expiry, no optional skills to choose.
    data["credit_value"] = form["credit_value"].replace(",", ".") or None
    data["expiry_months"] = _number(form["expiry_months"]) if form["expiry_months"] else None
    data["optional_min"] = _number(form["optional_min"]) if form["optional_min"] else 0
    french = _french_input(form.get("fr") or {}, VERSION_TEXT_FIELDS, VERSION_LIST_FIELDS)
    if french:
        data["translations"] = french
    return data


def credential_cross_checks(form: Mapping[str, Any]) -> Errors:
    """The checks that span fields (credit, earning rule). The schema runs them only once
    every single field is valid; running them here too shows all problems at once."""
    errors: Errors = {}
    if form["credit_bearing"]:
        if not form["credit_value"]:
            errors["credit_value"] = [_("This is required for a credit-bearing credential.")]
        if not form["credit_system"]:
            errors["credit_system"] = [_("This is required for a credit-bearing credential.")]
    elif form["credit_value"]:
        errors["credit_value"] = [_("This must be empty unless credit-bearing.")]
    optional_min = _number(form["optional_min"]) if form["optional_min"] else 0
    if isinstance(optional_min, int):
        rule = EarningRule(tuple(form["required_skills"]), tuple(form["optional_skills"]),
                           optional_min)
        for key, messages in rule.problems().items():
            errors.setdefault("required_skills" if key == "skills" else key, []).extend(
                friendly(key, m) for m in messages)
    return errors


def credential_errors(raw: Errors, form: Mapping[str, Any] | None = None) -> Errors:
    errors: Errors = {}
    line, skill, choice = _("Line"), _("Skill"), _("Choice")
    words = {"learning_outcomes": line, "target_occupations": line,
             "languages": _("Language"), "tags": _("Tag"), "required_skills": skill,
             "optional_skills": skill, "delivery_modes": choice, "allowed_routes": choice}
    for key, messages in raw.items():
        if _french_errors(errors, key, messages):
            continue
        field = key.split(".", 1)[0]
        if field == "skills":
            field = "required_skills"
        if "." in key and field in words:
            _item_errors(errors, field, key, messages, words[field])
        elif field in CREDENTIAL_LABELS:
            errors.setdefault(field, []).extend(friendly(field, m) for m in messages)
        else:
            errors.setdefault("_form", []).extend(messages)
    if form is not None:
        for field, messages in credential_cross_checks(form).items():
            if field not in errors:
                errors[field] = messages
    # Top-down as in the form: each French field right after its English one.
    names = [n for k in CREDENTIAL_LABELS for n in (k, FRENCH_PREFIX + k)]
    ordered = {k: errors[k] for k in names if k in errors}
    return {**ordered, **{k: v for k, v in errors.items() if k not in ordered}}


def credential_error_label(name: str) -> str:
    """The label of a form field (or a diff row's field) for the error summary."""
    return french_label(name, CREDENTIAL_LABELS) or str(CREDENTIAL_LABELS.get(name, _("Form")))


# -- issuer profile -----------------------------------------------------------------------
ISSUER_FIELDS = ("name", "url", "email", "image_url", "description")


def issuer_form(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    values = values or {}
    form: dict[str, Any] = {k: str(values.get(k) or "") for k in ISSUER_FIELDS}
    form["languages"] = ", ".join(values.get("languages") or ["en"])
    form["slug"] = str(values.get("slug") or "")
    form["fr"] = _french_form(values, ISSUER_TEXT_FIELDS)
    return form


def issuer_form_from_post(posted: MultiDict[str, str]) -> dict[str, Any]:
    form: dict[str, Any] = {k: _clean(posted.get(k, ""))
                            for k in (*ISSUER_FIELDS, "languages", "slug")}
    form["fr"] = _french_from_post(posted, ISSUER_TEXT_FIELDS)
    return form


def issuer_input(form: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in ISSUER_FIELDS:
        _put(data, key, form[key])
    languages = _commas(form["languages"])
    if languages:
        data["languages"] = languages
    data["translations"] = _french_input(form.get("fr") or {}, ISSUER_TEXT_FIELDS)
    return data


def issuer_error_label(name: str) -> str | None:
    label = ISSUER_LABELS.get(name)
    return french_label(name, ISSUER_LABELS) or (str(label) if label is not None else None)


def slug_ok(slug: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9-]{1,64}", slug))


def issuer_errors(raw: Errors) -> Errors:
    errors: Errors = {}
    for key, messages in raw.items():
        if _french_errors(errors, key, messages):
            continue
        field = key.split(".", 1)[0]
        if "." in key and field == "languages":
            _item_errors(errors, field, key, messages, _("Language"))
        elif field == "slug":
            slug_rule = _("use 1-64 letters, digits or '-'")
            errors.setdefault(field, []).extend(
                _("Use 1-64 letters, digits or '-'.") if m.startswith("use 1-64")
                or m == slug_rule else _sentence(m) for m in messages)
        elif field in ISSUER_LABELS:
            errors.setdefault(field, []).extend(friendly(field, m) for m in messages)
        else:
            errors.setdefault("_form", []).extend(messages)
    return errors


# -- rubric -------------------------------------------------------------------------------
def rubric_form(criteria: Iterable[RubricCriterion]) -> list[dict[str, str]]:
    rows = [{"key": c.key, "lens": c.lens, "title": c.title, "description": c.description,
             "position": str(i + 1), "remove": ""} for i, c in enumerate(criteria)]
    start = len(rows)
    rows += [{"key": "", "lens": "educational", "title": "", "description": "",
              "position": str(start + i + 1), "remove": ""} for i in range(BLANK_RUBRIC_ROWS)]
    return rows


def rubric_form_from_post(posted: MultiDict[str, str]) -> list[dict[str, str]]:
    rows = []
    for i in range(MAX_RUBRIC_ROWS + BLANK_RUBRIC_ROWS):
        if posted.get(f"rubric-{i}-key") is None and posted.get(f"rubric-{i}-title") is None:
            continue
        rows.append({f: _clean(posted.get(f"rubric-{i}-{f}", ""))
                     for f in ("key", "lens", "title", "description", "position", "remove")})
    return rows


def rubric_criteria(rows: list[dict[str, str]]) -> tuple[list[RubricCriterion], Errors]:
    """Criteria in the order of their positions (ties keep the form's order), without
    removed and blank rows; errors are keyed ``rubric-<row>-<field>``."""
    errors: Errors = {}
    kept: list[tuple[float, int, RubricCriterion]] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        if row["remove"] or not any(row[f] for f in ("key", "title", "description")):
            continue
        name = f"rubric-{i}-"
        if not RUBRIC_KEY_RE.match(row["key"]):
            errors[name + "key"] = [_("Use 1-50 lower-case letters, digits, '_' or '-'.")]
        elif row["key"] in seen:
            errors[name + "key"] = [_("Row %(number)d already uses this key.",
                                      number=seen[row["key"]] + 1)]
        else:
            seen[row["key"]] = i
        if not row["title"]:
            errors[name + "title"] = [_("This is required.")]
        elif len(row["title"]) > 200:
            errors[name + "title"] = [_("Too long: use at most %(max)s characters.", max=200)]
        if len(row["description"]) > 2000:
            errors[name + "description"] = [
                _("Too long: use at most %(max)s characters.", max=format_number(2000))]
        if not re.fullmatch(r"[a-z0-9_-]{1,50}", row["lens"] or ""):
            errors[name + "lens"] = [_("Choose a lens.")]
        try:
            position = float(row["position"]) if row["position"] else float(i + 1)
        except ValueError:
            errors[name + "position"] = [_("Enter a number.")]
            position = float(i + 1)
        kept.append((position, i, RubricCriterion(row["key"], row["lens"], row["title"],
                                                  row["description"])))
    if not kept and not errors:
        errors["_form"] = [_("Keep at least one criterion.")]
    return [c for _, _, c in sorted(kept, key=lambda t: (t[0], t[1]))], errors


def rubric_error_label(name: str) -> str:
    if name.startswith("rubric-"):
        _prefix, row, field = name.split("-", 2)
        return _("Criterion %(number)d: %(field)s", number=int(row) + 1,
                 field=RUBRIC_LABELS.get(field, field))
    return name


def lens_choices(extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    choices = [(key, lens_title(key)) for key in LENSES]
    for lens in extra:
        if lens and lens not in LENSES and lens not in [c[0] for c in choices]:
            choices.append((lens, lens_title(lens)))
    return choices


# -- the skill picker of the credential form ------------------------------------------------
PICKER_PER_PAGE = 20


def picker_request(posted: Mapping[str, str]) -> tuple[str, str, int]:
    """(action, search text, page) of a skill-picker button press on the credential form:
    action "search", "add" or "page" (empty: the form was saved, not the picker used)."""
    query = str(posted.get("skill_q", "")).strip()[:100]
    page_raw = str(posted.get("skill_page", "") or posted.get("skill_page_current", ""))
    page = int(page_raw) if page_raw.isdigit() and len(page_raw) < 6 else 1
    action = str(posted.get("skill_action", ""))
    if posted.get("skill_page"):
        action = "page"
    return (action if action in ("search", "add", "page") else ""), query, max(page, 1)


def add_picked(form: dict[str, Any], posted: MultiDict[str, str]) -> dict[str, Any]:
    """The form with the skills ticked in the picker's results added: as required or as
    optional (required wins when both are ticked); a skill moves between the lists rather
    than being in both."""
    required = list(form["required_skills"])
    optional = list(form["optional_skills"])
    for code in (_clean(v) for v in posted.getlist("add_required")):
        if code and code not in required:
            required.append(code)
        if code in optional:
            optional.remove(code)
    for code in (_clean(v) for v in posted.getlist("add_optional")):
        if code and code not in required and code not in optional:
            optional.append(code)
    return {**form, "required_skills": required, "optional_skills": optional}
