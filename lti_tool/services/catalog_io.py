"""Import and export of an issuer's catalog: the whole catalog as JSON, the skills library as
CSV. Used by the admin UI, the REST API and ``microcred catalog export|import``.

JSON document (``format`` ``microcred-catalog``, ``format_version`` 1)::

    {"format", "format_version", "exported_at",
     "issuer":  the issuer profile (informative: an import always goes into the importing
                actor's issuer),
     "rubric":  [{"key", "lens", "title", "description"}],
     "skills":  [{"code", "name", "description", "criteria", "alignments", "tags"}],
     "credentials": [{"code", "created_at", "versions": [
        {"version", "state",
         "content":  every descriptor field of CredentialInputSchema except ``code`` and the
                     two skill lists, which sit beside it,
         "required_skills", "optional_skills"  (skill codes, in order),
         "snapshot": what learners read, frozen at publication (null before),
         "author_name", "author_ref", "contributors",
         "created_at", "updated_at", "submitted_at", "approved_at", "published_at",
         "retired_at"  (ISO 8601 with offset, or null),
         "reviews": [{"reviewer_name", "reviewer_ref", "decision", "comment", "scores",
                      "rubric", "created_at"}]}]}],
     "pathways": [...]  (``services.pathway_io``: the same shape, content per version)}

The JSON round-trips losslessly: export, import into an empty issuer, export again gives the
same document except ``exported_at`` and ``issuer`` (database ids are never exported).

Import validates the whole document first and collects *every* problem with its location
(``skills[3].code``, ``credentials[1].versions[0].content.title``, ``row 4``); only when
there is none (and it is not a dry run) does it apply everything, inside a SAVEPOINT of the
caller's transaction, so a failure half-way leaves nothing behind. Skills are upserted by
code. A credential that already exists is *updated*, so re-importing an export (or a newer
export of the same catalog) works: versions identical to the catalog's are unchanged, a
draft's content is replaced, versions numbered after the catalog's latest are added (a newly
published one retires the catalog's published one, as publishing does). What would rewrite
history is a problem instead: a published, retired, in-review, approved or rejected version
that differs, a version moved to another state, a gap in the numbers. Reviews of versions
already in the catalog are kept as they are. Every import reports the changes it makes (a
dry run: the ones it would make), as a list a person can check before applying.

Both languages travel: a skill's, a version's (``content.translations``, and the
snapshot's) and the issuer profile's French texts are in ``translations`` (``{"fr":
{"name": …}}``), the English ones in their own fields.

CSV (skills only) has the columns of ``CSV_COLUMNS``; the French texts are the ``name_fr``,
``description_fr`` and ``criteria_fr`` columns; tags are separated by semicolons and only
the first framework alignment fits in a row (the JSON export carries them all). On import,
a row's alignment replaces a skill's first alignment and keeps the others; a column left
out keeps what the skill has. Cells that a spreadsheet would run as a formula are exported
behind a leading apostrophe, which the import removes again (OWASP "CSV injection").

What spreadsheets save is accepted as it comes: the separator is found from the header row
(comma, or the semicolon that spreadsheets in French, and most European, locales write
because the comma is their decimal mark; or a tab), the text may be UTF-8 with or without
a byte-order mark, or, when it is not valid UTF-8, Windows-1252 (what Excel's plain "CSV"
saves on Windows in English and French). The export is UTF-8 with commas by default;
``delimiter=";"`` gives the semicolon form with a byte-order mark, which Excel in a French
locale opens straight into columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.catalog import (
    EarningRule,
    LifecycleState,
    ReviewDecision,
    RubricCriterion,
    Scope,
)
from lti_tool.domain.catalog_schemas import (
    CODE_RE,
    CONTROL_RE,
    CredentialInputSchema,
    CriterionScoreSchema,
    SkillInputSchema,
    first_errors,
)
from lti_tool.domain.texts import translation
from lti_tool.models import (
    CredentialSkill,
    CredentialVersion,
    Issuer,
    MicroCredential,
    Review,
    RubricCriterionRow,
    Skill,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit, pathway_io
from lti_tool.services.catalog import (
    Actor,
    apply_content,
    build_snapshot,
    input_of,
    rubric_for,
    skill_as_dict,
)

FORMAT = "microcred-catalog"
FORMAT_VERSION = 1
TOP_LEVEL_KEYS = frozenset({"format", "format_version", "exported_at", "issuer", "rubric",
                            "skills", "credentials", "pathways"})
CREDENTIAL_KEYS = frozenset({"code", "created_at", "versions"})
TIMESTAMPS = ("created_at", "updated_at", "submitted_at", "approved_at", "published_at",
              "retired_at")
VERSION_KEYS = frozenset({"version", "state", "content", "required_skills", "optional_skills",
                          "snapshot", "author_name", "author_ref", "contributors", "reviews",
                          *TIMESTAMPS})
REVIEW_KEYS = frozenset({"reviewer_name", "reviewer_ref", "decision", "comment", "scores",
                         "rubric", "confirmed_not_met", "created_at"})
SKILL_LISTS = ("required_skills", "optional_skills")
OPEN_STATES = frozenset({LifecycleState.DRAFT.value, LifecycleState.IN_REVIEW.value,
                         LifecycleState.APPROVED.value})
FROZEN_STATES = frozenset({LifecycleState.PUBLISHED.value, LifecycleState.RETIRED.value})

MAX_SKILLS = 5000
MAX_CREDENTIALS = 2000
MAX_VERSIONS = 100
MAX_REVIEWS = 100
MAX_RUBRIC = 50
MAX_PROBLEMS = 1000  # a hopeless file should not produce a megabyte of messages

CSV_COLUMNS = ("code", "name", "description", "criteria", "tags", "alignment_framework",
               "alignment_url", "alignment_code", "alignment_name", "alignment_type",
               "name_fr", "description_fr", "criteria_fr")
#: French columns of the CSV → the skill's French field.
_FRENCH_COLUMNS = {"name_fr": "name", "description_fr": "description",
                   "criteria_fr": "criteria"}
CSV_DELIMITERS = (",", ";", "\t")
CSV_MAX_BYTES = 1_000_000
CSV_MAX_ROWS = 5000
_ALIGNMENT_COLUMNS = {"framework": "alignment_framework", "target_url": "alignment_url",
                      "target_code": "alignment_code", "target_name": "alignment_name",
                      "target_type": "alignment_type"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# -- the report -------------------------------------------------------------------------------
@dataclass
class ImportReport:
    """What an import found and (unless ``dry_run`` or not ``ok``) did.

    ``problems``: ``{"where": "skills[3].code" | "row 4", "field": "code", "message": ...}``.
    ``counts``: skills_created, skills_updated, skills_unchanged, credentials_created,
    versions_created, reviews_created, rubric_replaced (what a dry run *would* do)."""

    ok: bool
    problems: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    # What changes (or would change): {"kind": "skill" | "credential" | "rubric", "code",
    # "change": "create" | "update" | "add_version" | "replace", "detail": words}.
    changes: list[dict[str, str]] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.ok and not self.dry_run

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": self.dry_run, "applied": self.applied,
                "counts": dict(self.counts), "changes": list(self.changes),
                "problems": list(self.problems)}


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.dropped = 0

    def add(self, where: str, field_name: str, message: str) -> None:
        if len(self.items) >= MAX_PROBLEMS:
            self.dropped += 1
            return
        self.items.append({"where": where, "field": field_name, "message": message})

    def add_errors(self, prefix: str, errors: Mapping[str, list[str]],
                   rename: Callable[[str], str] | None = None, *, nested: bool = True) -> None:
        """Marshmallow's flattened errors ({"alignments.0.target_url": [...]}) under
        ``prefix`` ("skills[3]" → "skills[3].alignments[0].target_url"; with
        ``nested=False`` the location stays ``prefix``, e.g. "row 4")."""
        for name, messages in errors.items():
            where = prefix + _path(name) if nested and name != "_schema" else prefix
            shown = rename(name) if rename else name
            for message in messages:
                self.add(where, "" if name == "_schema" else shown, message)

    def final(self) -> list[dict[str, str]]:
        if self.dropped:
            return [*self.items, {"where": "document", "field": "",
                                  "message": f"… and {self.dropped} more problems"}]
        return list(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def _path(name: str) -> str:
    """"alignments.0.target_url" → ".alignments[0].target_url"."""
    out = ""
    for part in name.split("."):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def _load(schema: Any, data: Any, **kwargs: Any) -> tuple[dict[str, Any] | None,
                                                           dict[str, list[str]]]:
    try:
        result: dict[str, Any] = schema.load(data, **kwargs)
        return result, {}
    except ValidationError as exc:
        return None, first_errors(exc.messages)


# -- export -----------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def issuer_profile(issuer: Issuer) -> dict[str, Any]:
    return {"slug": issuer.slug, "name": issuer.name, "url": issuer.url,
            "email": issuer.email, "image_url": issuer.image_url,
            "description": issuer.description, "languages": list(issuer.languages or []),
            "translations": {k: dict(v) for k, v in (issuer.translations or {}).items()}}


def _content_of(version: CredentialVersion) -> dict[str, Any]:
    data = input_of(version)
    for key in ("code", *SKILL_LISTS):
        data.pop(key, None)
    return data


def _version_as_dict(version: CredentialVersion) -> dict[str, Any]:
    data = input_of(version)
    out: dict[str, Any] = {
        "version": version.version, "state": version.state, "content": _content_of(version),
        "required_skills": data["required_skills"], "optional_skills": data["optional_skills"],
        "snapshot": version.snapshot, "author_name": version.author_name,
        "author_ref": version.author_ref, "contributors": list(version.contributors or []),
    }
    for name in TIMESTAMPS:
        out[name] = _iso(getattr(version, name))
    out["reviews"] = [{"reviewer_name": r.reviewer_name, "reviewer_ref": r.reviewer_ref,
                       "decision": r.decision, "comment": r.comment,
                       "scores": list(r.scores or []), "rubric": list(r.rubric or []),
                       "confirmed_not_met": list(r.confirmed_not_met or []),
                       "created_at": _iso(r.created_at)} for r in version.reviews]
    return out


def export_catalog(session: Session, actor: Actor) -> dict[str, Any]:
    """The actor's whole catalog as a JSON-ready dict (see the module docstring). Read-only;
    raises Forbidden without catalog:read."""
    actor.require(Scope.CATALOG_READ)
    issuer = session.get(Issuer, actor.issuer_id)
    skills = session.scalars(select(Skill).where(Skill.issuer_id == actor.issuer_id)
                             .order_by(Skill.code))
    credentials = session.scalars(
        select(MicroCredential).where(MicroCredential.issuer_id == actor.issuer_id)
        .order_by(MicroCredential.code)
        .options(selectinload(MicroCredential.versions).selectinload(
            CredentialVersion.skill_links).selectinload(CredentialSkill.skill),
            selectinload(MicroCredential.versions).selectinload(CredentialVersion.reviews)))
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "exported_at": _iso(utcnow()),
        "issuer": issuer_profile(issuer) if issuer is not None else None,
        "rubric": [{"key": c.key, "lens": c.lens, "title": c.title,
                    "description": c.description}
                   for c in rubric_for(session, actor.issuer_id)],
        "skills": [skill_as_dict(s) for s in skills],
        "credentials": [{"code": c.code, "created_at": _iso(c.created_at),
                         "versions": [_version_as_dict(v) for v in c.versions]}
                        for c in credentials],
        "pathways": pathway_io.export_pathways(session, actor.issuer_id),
    }


# -- import: validation -----------------------------------------------------------------------
@dataclass
class _PlannedVersion:
    number: int
    state: str
    values: dict[str, Any]  # CredentialInputSchema output (with code and skill lists)
    snapshot: dict[str, Any] | None
    author_ref: str
    author_name: str
    contributors: list[str]
    times: dict[str, datetime | None]
    reviews: list[dict[str, Any]]


@dataclass
class _PlannedCredential:
    code: str
    created_at: datetime | None
    versions: list[_PlannedVersion]
    # For a credential already in the catalog: what the import changes in it.
    existing: MicroCredential | None = None
    add: list[_PlannedVersion] = field(default_factory=list)
    update: list[tuple[CredentialVersion, _PlannedVersion, list[str]]] = field(
        default_factory=list)
    retire: list[CredentialVersion] = field(default_factory=list)


@dataclass
class _Plan:
    rubric: list[RubricCriterion] | None = None
    skills: list[dict[str, Any]] = field(default_factory=list)
    credentials: list[_PlannedCredential] = field(default_factory=list)
    pathways: list[pathway_io.PlannedPathway] = field(default_factory=list)


def _timestamp(value: Any, where: str, name: str, problems: _Problems, *,
               required: bool = False) -> datetime | None:
    if value is None:
        if required:
            problems.add(f"{where}.{name}", name, "is required")
        return None
    if not isinstance(value, str):
        problems.add(f"{where}.{name}", name, "must be an ISO 8601 date-time string or null")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        problems.add(f"{where}.{name}", name, "is not an ISO 8601 date-time")
        return None
    if parsed.tzinfo is None:
        problems.add(f"{where}.{name}", name, "needs a UTC offset (e.g. +00:00 or Z)")
        return None
    return parsed


def _text(value: Any, where: str, name: str, problems: _Problems, *, max_len: int,
          min_len: int = 0) -> str:
    if not isinstance(value, str):
        problems.add(f"{where}.{name}", name, "must be a string")
        return ""
    if CONTROL_RE.search(value):
        problems.add(f"{where}.{name}", name, "must not contain control characters")
    if not min_len <= len(value) <= max_len:
        problems.add(f"{where}.{name}", name,
                     f"must be {min_len}-{max_len} characters" if min_len
                     else f"must be at most {max_len} characters")
    return value


def _list(value: Any, where: str, name: str, problems: _Problems, *, max_len: int,
          min_len: int = 0) -> list[Any]:
    if not isinstance(value, list):
        problems.add(f"{where}.{name}" if name else where, name, "must be a list")
        return []
    if not min_len <= len(value) <= max_len:
        problems.add(f"{where}.{name}" if name else where, name,
                     f"must hold {min_len}-{max_len} items")
        return []
    return value


def _unknown_keys(data: Mapping[str, Any], allowed: frozenset[str], where: str,
                  problems: _Problems) -> None:
    for key in sorted(set(data) - allowed, key=str):
        problems.add(f"{where}.{key}" if where else str(key), str(key), "unknown field")


def _validate_rubric(raw: Any, problems: _Problems) -> list[RubricCriterion] | None:
    if raw is None:
        return None
    items = _list(raw, "rubric", "", problems, min_len=1, max_len=MAX_RUBRIC)
    criteria: list[RubricCriterion] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"rubric[{i}]"
        if not isinstance(item, dict):
            problems.add(where, "", "must be an object")
            continue
        _unknown_keys(item, frozenset({"key", "lens", "title", "description"}), where, problems)
        key = _text(item.get("key"), where, "key", problems, min_len=1, max_len=50)
        lens = _text(item.get("lens"), where, "lens", problems, min_len=1, max_len=50)
        title = _text(item.get("title"), where, "title", problems, min_len=1, max_len=200)
        description = _text(item.get("description", ""), where, "description", problems,
                            max_len=4000)
        if key in seen:
            problems.add(f"{where}.key", "key", f"{key} appears twice")
        seen.add(key)
        criteria.append(RubricCriterion(key, lens, title, description))
    return criteria


def _validate_skills(raw: Any, problems: _Problems) -> tuple[list[dict[str, Any]], set[str]]:
    """Valid skills, and every syntactically valid code the document defines (so a skill
    with, say, a bad URL does not also make every credential using it 'unknown')."""
    items = _list(raw if raw is not None else [], "skills", "", problems, max_len=MAX_SKILLS)
    valid: list[dict[str, Any]] = []
    codes: set[str] = set()
    first_at: dict[str, int] = {}
    for i, item in enumerate(items):
        where = f"skills[{i}]"
        values, errors = _load(SkillInputSchema(), item)
        problems.add_errors(where, errors)
        code = item.get("code") if isinstance(item, dict) else None
        if isinstance(code, str) and CODE_RE.match(code.strip()):
            code = code.strip()
            if code in first_at:
                problems.add(f"{where}.code", "code",
                             f"{code} appears twice (also skills[{first_at[code]}])")
                continue
            first_at[code] = i
            codes.add(code)
        if values is not None:
            valid.append(values)
    return valid, codes


def _validate_snapshot(raw: Any, code: str, number: int, where: str,
                       problems: _Problems) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        problems.add(where, "snapshot", "must be an object")
        return None
    # The snapshot is what public pages show: check the parts they read, and let fields a
    # later MicroCred adds pass through.
    content = {k: v for k, v in raw.items() if k not in ("version", "skills", "earning_rule")}
    if isinstance(content.get("translations"), dict):
        # The snapshot's French earning rule is derived, like the English one.
        content["translations"] = {
            lang: {k: v for k, v in texts.items() if k != "earning_rule"}
            if isinstance(texts, dict) else texts
            for lang, texts in content["translations"].items()}
    _, errors = _load(CredentialInputSchema(), content, unknown=EXCLUDE)
    problems.add_errors(where, errors)
    if raw.get("code") != code:
        problems.add(f"{where}.code", "code", f"must be the credential's code {code}")
    if number and raw.get("version") != number:
        problems.add(f"{where}.version", "version", f"must be the version number {number}")
    if not isinstance(raw.get("earning_rule", ""), str):
        problems.add(f"{where}.earning_rule", "earning_rule", "must be a string")
    for i, skill in enumerate(_list(raw.get("skills", []), where, "skills", problems,
                                    max_len=120)):
        skill_where = f"{where}.skills[{i}]"
        if not isinstance(skill, dict):
            problems.add(skill_where, "", "must be an object")
            continue
        if skill.get("requirement") not in ("required", "optional"):
            problems.add(f"{skill_where}.requirement", "requirement",
                         "must be required or optional")
        _, errors = _load(SkillInputSchema(),
                          {k: v for k, v in skill.items() if k != "requirement"},
                          unknown=EXCLUDE)
        problems.add_errors(skill_where, errors)
    return raw


def _validate_reviews(raw: Any, where: str, problems: _Problems) -> list[dict[str, Any]]:
    reviews: list[dict[str, Any]] = []
    for i, item in enumerate(_list(raw if raw is not None else [], where, "reviews", problems,
                                   max_len=MAX_REVIEWS)):
        rw = f"{where}.reviews[{i}]"
        if not isinstance(item, dict):
            problems.add(rw, "", "must be an object")
            continue
        _unknown_keys(item, REVIEW_KEYS, rw, problems)
        decision = item.get("decision")
        if decision not in {d.value for d in ReviewDecision}:
            problems.add(f"{rw}.decision", "decision",
                         "must be one of " + ", ".join(d.value for d in ReviewDecision))
        scores = []
        for j, score in enumerate(_list(item.get("scores", []), rw, "scores", problems,
                                        max_len=MAX_RUBRIC)):
            loaded, errors = _load(CriterionScoreSchema(), score)
            problems.add_errors(f"{rw}.scores[{j}]", errors)
            if loaded is not None:
                scores.append(loaded)
        rubric = []
        for j, criterion in enumerate(_list(item.get("rubric", []), rw, "rubric", problems,
                                           max_len=MAX_RUBRIC)):
            cw = f"{rw}.rubric[{j}]"
            if not isinstance(criterion, dict):
                problems.add(cw, "", "must be an object")
                continue
            _unknown_keys(criterion, frozenset({"key", "lens", "title"}), cw, problems)
            rubric.append({"key": _text(criterion.get("key"), cw, "key", problems,
                                        min_len=1, max_len=50),
                           "lens": _text(criterion.get("lens"), cw, "lens", problems,
                                         min_len=1, max_len=50),
                           "title": _text(criterion.get("title"), cw, "title", problems,
                                          min_len=1, max_len=200)})
        reviews.append({
            "reviewer_ref": _text(item.get("reviewer_ref"), rw, "reviewer_ref", problems,
                                  min_len=1, max_len=100),
            "reviewer_name": _text(item.get("reviewer_name", ""), rw, "reviewer_name",
                                   problems, max_len=300),
            "decision": decision,
            "comment": _text(item.get("comment", ""), rw, "comment", problems, max_len=4000),
            "scores": scores, "rubric": rubric,
            "confirmed_not_met": [
                _text(key, rw, "confirmed_not_met", problems, min_len=1, max_len=50)
                for key in _list(item.get("confirmed_not_met", []), rw, "confirmed_not_met",
                                 problems, max_len=50)],
            "created_at": _timestamp(item.get("created_at"), rw, "created_at", problems,
                                     required=True),
        })
    return reviews


def _skill_lists(item: Mapping[str, Any], content: Mapping[str, Any], where: str,
                 problems: _Problems) -> dict[str, Any]:
    """The skill lists sit beside ``content``; a list given inside content (an older or
    hand-written document) is accepted when it does not contradict the one beside it."""
    lists: dict[str, Any] = {}
    for name in SKILL_LISTS:
        outside, inside = item.get(name), content.get(name)
        if outside is not None and inside is not None and outside != inside:
            problems.add(f"{where}.content.{name}", name,
                         f"differs from {name} beside content; give it once")
        lists[name] = outside if outside is not None else (inside if inside is not None
                                                             else [])
    return lists


def _validate_version(item: Any, code: str, where: str, known_skills: set[str],
                      problems: _Problems) -> _PlannedVersion | None:
    if not isinstance(item, dict):
        problems.add(where, "", "must be an object")
        return None
    _unknown_keys(item, VERSION_KEYS, where, problems)
    number = item.get("version")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 10000:
        problems.add(f"{where}.version", "version", "must be a whole number from 1")
        number = 0
    state = item.get("state")
    if state not in {s.value for s in LifecycleState}:
        problems.add(f"{where}.state", "state",
                     "must be one of " + ", ".join(s.value for s in LifecycleState))
        state = ""
    content = item.get("content")
    values: dict[str, Any] | None = None
    if not isinstance(content, dict):
        problems.add(f"{where}.content", "content", "must be an object")
    else:
        if "code" in content and content["code"] != code:
            problems.add(f"{where}.content.code", "code",
                         f"must be the credential's code {code} (or be left out)")
        lists = _skill_lists(item, content, where, problems)
        data = {**{k: v for k, v in content.items() if k not in SKILL_LISTS},
                "code": code, **lists}
        values, errors = _load(CredentialInputSchema(), data)
        for name, messages in errors.items():
            top = name.split(".")[0]
            prefix = where if top in SKILL_LISTS else f"{where}.content"
            problems.add_errors(prefix, {name: messages})
        if values is not None:
            rule = EarningRule(tuple(values["required_skills"]),
                               tuple(values["optional_skills"]), values["optional_min"])
            for name, messages in rule.problems().items():
                # optional_min lives in content; the skill lists (and "skills", a problem
                # of both lists together) beside it.
                place = f"{where}.content.{name}" if name == "optional_min" else \
                    f"{where}.{'required_skills' if name == 'skills' else name}"
                for message in messages:
                    problems.add(place, place.rsplit(".", 1)[1], message)
            for name in SKILL_LISTS:
                for skill_code in values[name]:
                    if skill_code not in known_skills:
                        problems.add(f"{where}.{name}", name,
                                     f"no skill with code {skill_code} in the document or "
                                     "the catalog")
    snapshot = item.get("snapshot")
    if state in FROZEN_STATES:
        # A published version without its frozen snapshot gets one built at import.
        if snapshot is not None:
            snapshot = _validate_snapshot(snapshot, code, number, f"{where}.snapshot",
                                          problems)
    elif snapshot is not None and state:
        problems.add(f"{where}.snapshot", "snapshot",
                     "only a published or retired version has a snapshot")
    author_ref = _text(item.get("author_ref"), where, "author_ref", problems, min_len=1,
                       max_len=100)
    author_name = _text(item.get("author_name", ""), where, "author_name", problems,
                        max_len=300)
    contributors = [
        _text(c, f"{where}.contributors", str(i), problems, min_len=1, max_len=100)
        for i, c in enumerate(_list(item.get("contributors", []), where, "contributors",
                                    problems, max_len=100))]
    times = {name: _timestamp(item.get(name), where, name, problems) for name in TIMESTAMPS}
    reviews = _validate_reviews(item.get("reviews"), where, problems)
    if values is None or not state or not number:
        return None
    return _PlannedVersion(number, state, values, snapshot, author_ref, author_name,
                           contributors, times, reviews)


def _comparable(values: Mapping[str, Any]) -> str:
    """A version's fields as canonical JSON, to tell identical versions apart."""
    return json.dumps({k: v for k, v in values.items() if k != "code"}, sort_keys=True,
                      default=str)


def _changed_fields(current: Mapping[str, Any], incoming: Mapping[str, Any]) -> list[str]:
    keys = (set(current) | set(incoming)) - {"code"}
    return sorted(k for k in keys if json.dumps(current.get(k), sort_keys=True, default=str)
                  != json.dumps(incoming.get(k), sort_keys=True, default=str))


def _merge_existing(planned: _PlannedCredential, existing: MicroCredential, where: str,
                    problems: _Problems) -> None:
    """Plan the update of a credential already in the catalog (see the module docstring),
    or add the problems that forbid it."""
    planned.existing = existing
    current = {v.version: v for v in existing.versions}
    latest = max(current) if current else 0
    for j, version in enumerate(planned.versions):
        vw = f"{where}.versions[{j}]"
        found = current.get(version.number)
        if found is None:
            if version.number <= latest:
                problems.add(f"{vw}.version", "version",
                             f"version {version.number} is not in this catalog, whose latest "
                             f"is version {latest}: versions cannot be inserted in the past")
            else:
                planned.add.append(version)
            continue
        if found.state != version.state:
            problems.add(f"{vw}.state", "state",
                         f"version {version.number} is {found.state} in this catalog and "
                         f"{version.state} in the file: an import does not move versions "
                         "through review; use the catalog's review and publish actions")
            continue
        here = input_of(found)
        if _comparable(here) == _comparable(version.values):
            continue
        if found.state != LifecycleState.DRAFT.value:
            problems.add(vw, "content",
                         f"version {version.number} is {found.state} in this catalog and "
                         "differs from the file; only a draft changes: make the change a new "
                         "version")
            continue
        planned.update.append((found, version, _changed_fields(here, version.values)))
    # The catalog's versions after the import, by state.
    after = {n: v.state for n, v in current.items()}
    after.update({v.number: v.state for v in planned.add})
    added_published = [v for v in planned.add if v.state == LifecycleState.PUBLISHED.value]
    if added_published:
        planned.retire = [v for v in existing.versions
                          if v.state == LifecycleState.PUBLISHED.value]
        for v in planned.retire:
            after[v.version] = LifecycleState.RETIRED.value
    if sum(state in OPEN_STATES for state in after.values()) > 1:
        problems.add(f"{where}.versions", "versions",
                     "with this catalog's versions, more than one would be open (draft, in "
                     "review or approved)")
    if sum(state == LifecycleState.PUBLISHED.value for state in after.values()) > 1:
        problems.add(f"{where}.versions", "versions",
                     "with this catalog's versions, more than one would be published")


def _validate_credentials(raw: Any, known_skills: set[str],
                          existing: Mapping[str, MicroCredential],
                          problems: _Problems) -> list[_PlannedCredential]:
    planned: list[_PlannedCredential] = []
    first_at: dict[str, int] = {}
    for i, item in enumerate(_list(raw if raw is not None else [], "credentials", "",
                                   problems, max_len=MAX_CREDENTIALS)):
        where = f"credentials[{i}]"
        if not isinstance(item, dict):
            problems.add(where, "", "must be an object")
            continue
        _unknown_keys(item, CREDENTIAL_KEYS, where, problems)
        code = item.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            problems.add(f"{where}.code", "code",
                         "use 1-64 letters, digits, '.', '_' or '-'")
            code = ""
        elif code in first_at:
            problems.add(f"{where}.code", "code",
                         f"{code} appears twice (also credentials[{first_at[code]}])")
        if code:
            first_at.setdefault(code, i)
        created_at = _timestamp(item.get("created_at"), where, "created_at", problems)
        versions: list[_PlannedVersion] = []
        numbers: dict[int, int] = {}
        raw_versions = _list(item.get("versions"), where, "versions", problems, min_len=1,
                             max_len=MAX_VERSIONS)
        for j, raw_version in enumerate(raw_versions):
            vw = f"{where}.versions[{j}]"
            version = _validate_version(raw_version, code or "x", vw, known_skills, problems)
            number = raw_version.get("version") if isinstance(raw_version, dict) else None
            if isinstance(number, int) and number in numbers:
                problems.add(f"{vw}.version", "version",
                             f"version {number} appears twice (also versions[{numbers[number]}])")
            elif isinstance(number, int):
                numbers[number] = j
            if version is not None:
                versions.append(version)
        states = [v.get("state") for v in raw_versions if isinstance(v, dict)]
        if sum(s in OPEN_STATES for s in states) > 1:
            problems.add(f"{where}.versions", "versions",
                         "at most one version may be open (draft, in review or approved)")
        if states.count(LifecycleState.PUBLISHED.value) > 1:
            problems.add(f"{where}.versions", "versions",
                         "at most one version may be published (publishing retires the "
                         "previous one)")
        if code:
            entry = _PlannedCredential(code, created_at,
                                       sorted(versions, key=lambda v: v.number))
            if code in existing and len(versions) == len(raw_versions):
                _merge_existing(entry, existing[code], where, problems)
            planned.append(entry)
    return planned


def _validate_document(session: Session, actor: Actor, doc: Any,
                       problems: _Problems) -> _Plan:
    plan = _Plan()
    if not isinstance(doc, dict):
        problems.add("document", "", "must be a JSON object")
        return plan
    if doc.get("format") != FORMAT:
        problems.add("format", "format", f"must be {FORMAT!r}: this is not a MicroCred "
                                         "catalog export")
        return plan
    version_value = doc.get("format_version")
    if type(version_value) is not int or version_value != FORMAT_VERSION:
        problems.add("format_version", "format_version",
                     f"version {doc.get('format_version')!r} is not supported; this MicroCred "
                     f"reads version {FORMAT_VERSION}")
        return plan
    _unknown_keys(doc, TOP_LEVEL_KEYS, "", problems)
    plan.rubric = _validate_rubric(doc.get("rubric"), problems)
    plan.skills, doc_codes = _validate_skills(doc.get("skills"), problems)
    catalog_codes = set(session.scalars(select(Skill.code).where(
        Skill.issuer_id == actor.issuer_id)))
    codes = [c.get("code") for c in doc.get("credentials") or []
             if isinstance(c, dict) and isinstance(c.get("code"), str)] \
        if isinstance(doc.get("credentials"), list) else []
    existing = {c.code: c for c in session.scalars(
        select(MicroCredential).where(MicroCredential.issuer_id == actor.issuer_id,
                                      MicroCredential.code.in_(codes[:MAX_CREDENTIALS]))
        .options(selectinload(MicroCredential.versions)
                 .selectinload(CredentialVersion.skill_links)
                 .selectinload(CredentialSkill.skill)))} if codes else {}
    plan.credentials = _validate_credentials(doc.get("credentials"), doc_codes | catalog_codes,
                                             existing, problems)
    plan.pathways = pathway_io.validate(
        session, actor.issuer_id, doc.get("pathways"), doc.get("credentials"),
        add=problems.add, add_errors=problems.add_errors,
        timestamp=lambda value, where, name: _timestamp(value, where, name, problems),
        reviews=lambda raw, where: _validate_reviews(raw, where, problems))
    return plan


# -- import: apply ----------------------------------------------------------------------------
_SKILL_FIELDS = ("name", "description", "criteria", "alignments", "tags", "translations")


def _skill_value(skill: Skill, name: str) -> Any:
    value = getattr(skill, name)
    return (value or {}) if name == "translations" else value


def _plan_skills(session: Session, issuer_id: int, skills: Sequence[dict[str, Any]],
                 counts: dict[str, int], report: list[dict[str, str]] | None = None
                 ) -> tuple[dict[str, Skill], list[dict[str, Any]]]:
    """Existing skills by code, and the incoming skills that create or change one (each
    described in ``report`` when given)."""
    existing = {s.code: s for s in session.scalars(select(Skill).where(
        Skill.issuer_id == issuer_id))}
    changes = []
    for values in skills:
        current = existing.get(values["code"])
        if current is None:
            counts["skills_created"] += 1
            changes.append(values)
            if report is not None:
                report.append({"kind": "skill", "code": values["code"], "change": "create",
                               "detail": values["name"]})
            continue
        changed = [name for name in _SKILL_FIELDS
                   if _skill_value(current, name) != values.get(name, {})]
        if changed:
            counts["skills_updated"] += 1
            changes.append(values)
            if report is not None:
                report.append({"kind": "skill", "code": values["code"], "change": "update",
                               "detail": ", ".join(changed)})
        else:
            counts["skills_unchanged"] += 1
    return existing, changes


def _upsert_skills(session: Session, issuer_id: int, existing: dict[str, Skill],
                   changes: Iterable[dict[str, Any]]) -> None:
    now = utcnow()
    for values in changes:
        skill = existing.get(values["code"])
        if skill is None:
            skill = Skill(issuer_id=issuer_id, **values)
            session.add(skill)
            existing[skill.code] = skill
        else:
            for name in _SKILL_FIELDS:
                setattr(skill, name, values.get(name, {}))
            skill.row_version += 1
            skill.updated_at = now
    session.flush()


def _replace_rubric(session: Session, issuer_id: int,
                    criteria: Sequence[RubricCriterion]) -> None:
    for row in session.scalars(select(RubricCriterionRow).where(
            RubricCriterionRow.issuer_id == issuer_id)):
        session.delete(row)
    session.flush()
    for i, c in enumerate(criteria):
        session.add(RubricCriterionRow(issuer_id=issuer_id, key=c.key, lens=c.lens,
                                       title=c.title, description=c.description, position=i))


def _build_version(credential: MicroCredential, planned: _PlannedVersion,
                   skills: Mapping[str, Skill]) -> CredentialVersion:
    values = planned.values
    now = utcnow()
    version = CredentialVersion(
        credential=credential, version=planned.number, state=planned.state,
        title=values["title"], short_description=values["short_description"],
        notional_hours=Decimal(values["notional_hours"]),
        credit_bearing=bool(values["credit_bearing"]), field_of_study=values["field_of_study"],
        content={k: v for k, v in values.items() if k != "code"},
        snapshot=planned.snapshot, author_ref=planned.author_ref,
        author_name=planned.author_name, contributors=list(planned.contributors),
        row_version=1,
    )
    for name in TIMESTAMPS:
        setattr(version, name, planned.times[name])
    version.created_at = planned.times["created_at"] or now
    version.updated_at = planned.times["updated_at"] or version.created_at
    links = [(code, "required") for code in values["required_skills"]] + \
        [(code, "optional") for code in values["optional_skills"]]
    version.skill_links = [CredentialSkill(skill=skills[code], requirement=requirement,
                                           position=i)
                           for i, (code, requirement) in enumerate(links)]
    version.reviews = [Review(reviewer_ref=r["reviewer_ref"], reviewer_name=r["reviewer_name"],
                              decision=r["decision"], comment=r["comment"], scores=r["scores"],
                              rubric=r["rubric"], confirmed_not_met=r["confirmed_not_met"],
                              created_at=r["created_at"])
                       for r in planned.reviews]
    return version


def import_catalog(session: Session, actor: Actor, doc: Any, *,
                   dry_run: bool = False) -> ImportReport:
    """Validate ``doc`` completely, then (no problem, not a dry run) apply it atomically:
    new skills and credentials are created, existing ones updated (see the module
    docstring). The report lists every change (what a dry run would do).

    Raises Forbidden without catalog:write. Problems never raise: they are in the report,
    and then nothing is changed. Idempotent: importing the same document again changes
    nothing. Nothing commits."""
    actor.require(Scope.CATALOG_WRITE)
    problems = _Problems()
    plan = _validate_document(session, actor, doc, problems)
    counts = {"skills_created": 0, "skills_updated": 0, "skills_unchanged": 0,
              "credentials_created": 0, "credentials_updated": 0, "credentials_unchanged": 0,
              "versions_created": 0, "versions_updated": 0, "reviews_created": 0,
              "rubric_replaced": 0, "pathways_created": 0, "pathways_updated": 0,
              "pathways_unchanged": 0}
    if problems:
        return ImportReport(ok=False, problems=problems.final(), counts=counts,
                            dry_run=dry_run)
    changes: list[dict[str, str]] = []
    replace_rubric = plan.rubric is not None and plan.rubric != rubric_for(session,
                                                                          actor.issuer_id)
    counts["rubric_replaced"] = int(replace_rubric)
    if replace_rubric and plan.rubric is not None:
        changes.append({"kind": "rubric", "code": "", "change": "replace",
                        "detail": f"{len(plan.rubric)} criteria"})
    existing, skill_changes = _plan_skills(session, actor.issuer_id, plan.skills, counts,
                                           changes)
    for planned in plan.credentials:
        if planned.existing is None:
            counts["credentials_created"] += 1
            counts["versions_created"] += len(planned.versions)
            counts["reviews_created"] += sum(len(v.reviews) for v in planned.versions)
            changes.append({"kind": "credential", "code": planned.code, "change": "create",
                            "detail": _versions_words(planned.versions)})
            continue
        if not planned.add and not planned.update:
            counts["credentials_unchanged"] += 1
            continue
        counts["credentials_updated"] += 1
        counts["versions_created"] += len(planned.add)
        counts["versions_updated"] += len(planned.update)
        counts["reviews_created"] += sum(len(v.reviews) for v in planned.add)
        for version, _incoming, fields_changed in planned.update:
            changes.append({"kind": "credential", "code": planned.code, "change": "update",
                            "detail": f"draft version {version.version}: "
                                      + ", ".join(fields_changed)})
        if planned.add:
            detail = _versions_words(planned.add)
            if planned.retire:
                detail += "; retires version " + ", ".join(
                    str(v.version) for v in planned.retire)
            changes.append({"kind": "credential", "code": planned.code,
                            "change": "add_version", "detail": detail})
    if dry_run:
        pathway_io.apply(session, actor.issuer_id, plan.pathways, counts, changes,
                         dry_run=True)
        return ImportReport(ok=True, counts=counts, dry_run=True, changes=changes)

    with session.begin_nested():
        if replace_rubric and plan.rubric is not None:
            _replace_rubric(session, actor.issuer_id, plan.rubric)
        _upsert_skills(session, actor.issuer_id, existing, skill_changes)
        now = utcnow()
        for planned in plan.credentials:
            credential = planned.existing
            new_versions = planned.versions
            if credential is None:
                credential = MicroCredential(issuer_id=actor.issuer_id, code=planned.code,
                                             created_at=planned.created_at or now)
                session.add(credential)
            else:
                new_versions = planned.add
                for old in planned.retire:
                    old.state = LifecycleState.RETIRED.value
                    old.retired_at = now
                    old.row_version += 1
                for version, incoming, _fields in planned.update:
                    _update_draft_from(version, incoming, existing, now)
            for planned_version in new_versions:
                version = _build_version(credential, planned_version, existing)
                session.add(version)
                if version.snapshot is None and version.state in FROZEN_STATES:
                    version.snapshot = build_snapshot(version)
            session.flush()
        # Pathways after the credentials: their steps and targets may be new ones.
        pathway_io.apply(session, actor.issuer_id, plan.pathways, counts, changes,
                         dry_run=False)
        audit.record(session, "catalog.imported", subject_type="issuer",
                     subject_id=actor.issuer_id, detail={"by": actor.ref, "format": "json",
                                                         **counts})
        session.flush()
    return ImportReport(ok=True, counts=counts, dry_run=False, changes=changes)


def _versions_words(versions: Sequence[_PlannedVersion]) -> str:
    return ", ".join(f"version {v.number} ({v.state.replace('_', ' ')})" for v in versions)


def _update_draft_from(version: CredentialVersion, incoming: _PlannedVersion,
                       skills: Mapping[str, Skill], now: datetime) -> None:
    """Replace a draft's content and skills with the file's (what an edit of the draft
    does); its number, author and history stay."""
    values = incoming.values
    links = [(skills[code], "required") for code in values["required_skills"]] + \
        [(skills[code], "optional") for code in values["optional_skills"]]
    apply_content(version, values, links)
    version.row_version += 1
    version.updated_at = now


def parse_catalog_json(data: bytes | str) -> tuple[Any, list[dict[str, str]]]:
    """Decode an uploaded JSON document: (document, []) or (None, [one problem])."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        return None, [{"where": "file", "field": "", "message": "is not UTF-8 text"}]
    try:
        return json.loads(text), []
    except (ValueError, RecursionError) as exc:
        where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "file"
        return None, [{"where": where, "field": "", "message": "is not valid JSON"}]


# -- CSV --------------------------------------------------------------------------------------
def _csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas, reversibly (see ``_csv_uncell``)."""
    if value.startswith(_FORMULA_START) or (
            value.startswith("'") and value[1:2] in (*_FORMULA_START, "'")):
        return "'" + value
    return value


def _csv_uncell(value: str) -> str:
    if value.startswith("'") and value[1:2] and value[1:2] in (*_FORMULA_START, "'"):
        return value[1:]
    return value


def export_skills_csv(session: Session, actor: Actor, *, delimiter: str = ",") -> str:
    """The skills library as CSV (RFC 4180, header row, CRLF), English and French texts in
    their own columns. Only the first framework alignment of a skill fits in a row: the
    JSON export carries them all. ``delimiter`` ";" gives what spreadsheets in a French
    locale open directly (with a byte-order mark, so Excel reads it as UTF-8). Read-only;
    raises ValueError for another delimiter."""
    actor.require(Scope.CATALOG_READ)
    if delimiter not in (",", ";"):
        raise ValueError("the CSV delimiter is ',' or ';'")
    out = io.StringIO()
    if delimiter == ";":
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(CSV_COLUMNS)
    for skill in session.scalars(select(Skill).where(Skill.issuer_id == actor.issuer_id)
                                 .order_by(Skill.code)):
        first: dict[str, Any] = (skill.alignments or [{}])[0]
        writer.writerow([_csv_cell(str(v)) for v in (
            skill.code, skill.name, skill.description, skill.criteria,
            ";".join(skill.tags or []), first.get("framework", ""),
            first.get("target_url", ""), first.get("target_code", ""),
            first.get("target_name", ""), first.get("target_type", ""),
            *(translation(skill.translations, "fr", f) for f in _FRENCH_COLUMNS.values()))])
    return out.getvalue()


def _csv_field(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "translations" and len(parts) >= 3:
        return f"{parts[2]}_{parts[1]}"
    if parts[0] == "alignments":
        return _ALIGNMENT_COLUMNS.get(parts[-1], "alignment_framework")
    return parts[0]


def decode_csv(raw: bytes) -> str | None:
    """UTF-8 (a byte-order mark dropped), else Windows-1252 (Excel's plain "CSV" on
    Windows); None when it is neither (bytes Windows-1252 leaves undefined)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 ("Unicode text"): decoding it byte by byte would be garbage
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return None


def csv_delimiter(decoded: str, columns: Sequence[str] = CSV_COLUMNS) -> str:
    """The separator of a CSV, from its header row: the one of ``CSV_DELIMITERS`` that
    splits the first line into the most known column names (comma when none does)."""
    first_line = decoded.split("\n", 1)[0]
    best, best_known = ",", 0
    for delimiter in CSV_DELIMITERS:
        try:
            header = next(csv.reader([first_line], delimiter=delimiter))
        except (csv.Error, StopIteration):
            continue
        known = sum(1 for cell in header if cell.strip().lower() in columns)
        if known > best_known:
            best, best_known = delimiter, known
    return best


def _read_csv(text: str | bytes, problems: _Problems, *,
              columns: Sequence[str] = CSV_COLUMNS, required: Sequence[str] = ("code", "name"),
              max_bytes: int = CSV_MAX_BYTES, max_rows: int = CSV_MAX_ROWS
              ) -> tuple[list[str], list[list[str]]]:
    """The header (lower-cased) and the rows of a CSV upload, or ([], []) with the
    problem added (not UTF-8, not CSV, unknown/missing/repeated columns, too large)."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > max_bytes:
        problems.add("file", "", f"is larger than {max_bytes // 1_000_000} MB")
        return [], []
    decoded = decode_csv(raw)
    if decoded is None:
        problems.add("file", "", "is not UTF-8 or Windows-1252 text: save it as 'CSV UTF-8'")
        return [], []
    if "\x00" in decoded:  # a binary file (or UTF-16) that happened to decode
        problems.add("file", "", "is not valid CSV (it contains NUL bytes)")
        return [], []
    try:
        records = list(csv.reader(io.StringIO(decoded, newline=""), strict=True,
                                  delimiter=csv_delimiter(decoded, columns)))
    except csv.Error as exc:
        problems.add("file", "", f"is not valid CSV ({exc})")
        return [], []
    if not records or not any(cell.strip() for cell in records[0]):
        problems.add("row 1", "", "the first row must name the columns: "
                                  + ",".join(columns))
        return [], []
    header = [cell.strip().lower() for cell in records[0]]
    unknown = [h for h in header if h not in columns]
    missing = [h for h in required if h not in header]
    twice = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or twice:
        detail = "; ".join(part for part in (
            "unknown columns: " + ", ".join(unknown) if unknown else "",
            "missing columns: " + ", ".join(missing) if missing else "",
            "repeated columns: " + ", ".join(twice) if twice else "") if part)
        problems.add("row 1", "", f"the first row must name the columns "
                                  f"({','.join(columns)}); {detail}")
        return [], []
    rows = records[1:]
    if len(rows) > max_rows:
        problems.add("file", "", f"has {len(rows)} rows; at most {max_rows} are accepted")
        return [], []
    return header, rows


def import_skills_csv(session: Session, actor: Actor, text: str | bytes, *,
                      dry_run: bool = False) -> ImportReport:
    """Upsert skills by code from CSV (columns ``CSV_COLUMNS``; ``code`` and ``name``
    required). Rows are numbered as a spreadsheet shows them (the header is row 1). Every
    row is validated first; on any problem nothing changes. Raises Forbidden without
    catalog:write. Idempotent: importing the same file twice changes nothing the second
    time."""
    actor.require(Scope.CATALOG_WRITE)
    problems = _Problems()
    counts = {"skills_created": 0, "skills_updated": 0, "skills_unchanged": 0}
    header, rows = _read_csv(text, problems)
    existing = {s.code: s for s in session.scalars(select(Skill).where(
        Skill.issuer_id == actor.issuer_id))}
    incoming: list[dict[str, Any]] = []
    first_at: dict[str, int] = {}
    for index, cells in enumerate(rows, start=2):
        where = f"row {index}"
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if len(cells) > len(header):
            problems.add(where, "", f"has {len(cells)} cells but the header names "
                                    f"{len(header)} columns")
            continue
        row = {name: _csv_uncell(cells[i]) if i < len(cells) else ""
               for i, name in enumerate(header)}
        alignment = {key: row.get(column, "").strip()
                     for key, column in _ALIGNMENT_COLUMNS.items()}
        alignment = {k: v for k, v in alignment.items() if v}
        data: dict[str, Any] = {
            "code": row.get("code", ""), "name": row.get("name", ""),
            "description": row.get("description", ""), "criteria": row.get("criteria", ""),
            "tags": [t.strip() for t in row.get("tags", "").split(";") if t.strip()],
            "alignments": [alignment] if alignment else [],
        }
        current = existing.get(data["code"].strip())
        if current is not None and "alignment_url" in header:
            # CSV carries the first alignment only: keep the others the skill has.
            data["alignments"] = data["alignments"] + list(current.alignments or [])[1:]
        elif current is not None:
            data["alignments"] = list(current.alignments or [])
        if current is not None and "tags" not in header:
            data["tags"] = list(current.tags or [])
        for optional in ("description", "criteria"):
            if current is not None and optional not in header:
                data[optional] = getattr(current, optional)
        # French texts: a column present sets (or, empty, removes) that text; a column
        # left out keeps the skill's.
        french = {f: translation(current.translations, "fr", f) if current is not None
                  else "" for f in _FRENCH_COLUMNS.values()}
        for column, name in _FRENCH_COLUMNS.items():
            if column in header:
                french[name] = row.get(column, "")
        data["translations"] = {"fr": {k: v for k, v in french.items() if v.strip()}}
        values, errors = _load(SkillInputSchema(), data)
        problems.add_errors(where, errors, rename=_csv_field, nested=False)
        if values is None:
            continue
        if values["code"] in first_at:
            problems.add(where, "code", f"{values['code']} appears twice (also row "
                                        f"{first_at[values['code']]})")
            continue
        first_at[values["code"]] = index
        incoming.append(values)
    if problems:
        return ImportReport(ok=False, problems=problems.final(), counts=counts,
                            dry_run=dry_run)
    existing, changes = _plan_skills(session, actor.issuer_id, incoming, counts)
    if not dry_run and changes:
        with session.begin_nested():
            _upsert_skills(session, actor.issuer_id, existing, changes)
            audit.record(session, "catalog.imported", subject_type="issuer",
                         subject_id=actor.issuer_id, detail={"by": actor.ref, "format": "csv",
                                                             **counts})
            session.flush()
    return ImportReport(ok=True, counts=counts, dry_run=dry_run)
