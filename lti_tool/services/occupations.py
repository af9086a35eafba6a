"""Occupations ("jobs in view"): an issuer's list of occupations with the skills each
requires, imported from JSON or CSV (validated whole: every problem located, nothing
changed on any), exported back, and read two ways:

- ``design_aid``: for the curriculum team, which catalog skills, credentials and pathways
  cover each required skill of an occupation, and the gaps;
- ``learner_outlook``: for a learner, the occupations their demonstrated skills lead
  toward and what is missing, with the credentials that would teach it.

Pathways are another module's: the pages pass a ``PathwayLookup`` (issuer id, credential
ids → the published pathways containing them) when one exists; without it coverage says
nothing about pathways.

The bundled sample (``lti_tool/data/occupations-sample.json``) holds a few real NOC 2021
unit groups (code and English title as Statistics Canada publishes them) with the demo
college's own French titles and skill mapping, marked as such.

File formats. JSON: ``{"format": "microcred-occupations", "occupations": [{"code",
"noc_code", "esco_uri", "title", "title_fr", "description", "description_fr", "source",
"mapping_note", "skills": [{"name", "name_fr", "importance", "skill", "framework_url"}]}]}``
(a bare list of occupations is accepted too). CSV: one row per required skill, columns
``CSV_COLUMNS``; the rows of one occupation repeat its fields (they must agree); a row
without ``skill_name`` lists an occupation with no skills yet. An occupation already in
the list (same ``code``) is replaced by the file's version.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased, selectinload

from lti_tool.domain.catalog import LifecycleState, Scope
from lti_tool.domain.catalog_schemas import first_errors
from lti_tool.domain.occupations import (
    CatalogIndex,
    CredentialRef,
    OccupationInputSchema,
    OccupationOutlook,
    PathwayRef,
    Requirement,
    RequirementCoverage,
    SkillRef,
    coverage,
    outlook,
)
from lti_tool.domain.tracking import Outcome
from lti_tool.errors import Conflict, NotFound, ValidationFailed
from lti_tool.models import (
    CredentialSkill,
    CredentialVersion,
    Demonstration,
    MicroCredential,
    Occupation,
    OccupationSkill,
    Skill,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit
from lti_tool.services.catalog import Actor
from lti_tool.services.catalog_io import (  # one import report and problem list for all
    ImportReport,
    _csv_cell,
    _csv_uncell,
    _path,
    _Problems,
    _read_csv,
    parse_catalog_json,
)
from lti_tool.translate import gettext as _

FORMAT = "microcred-occupations"
FORMAT_VERSION = 1
MAX_OCCUPATIONS = 2000
CSV_MAX_BYTES = 2_000_000
CSV_MAX_ROWS = 20_000
OCCUPATION_FIELDS = ("code", "noc_code", "esco_uri", "title", "title_fr", "description",
                     "description_fr", "source", "mapping_note")
REQUIREMENT_FIELDS = ("name", "name_fr", "importance", "skill", "framework_url")
CSV_COLUMNS = (*OCCUPATION_FIELDS, "skill_name", "skill_name_fr", "importance", "skill_code",
               "framework_url")
_CSV_REQUIREMENT = {"skill_name": "name", "skill_name_fr": "name_fr",
                    "importance": "importance", "skill_code": "skill",
                    "framework_url": "framework_url"}
SAMPLE = "occupations-sample.json"

#: (session, issuer id, credential ids) → published pathways containing any of them
PathwayLookup = Callable[[Session, int, frozenset[int]], Sequence[PathwayRef]]


# -- reading ----------------------------------------------------------------------------------
def _fr(translations: Mapping[str, Any] | None, name: str) -> str:
    value = ((translations or {}).get("fr") or {}).get(name, "")
    return value if isinstance(value, str) else ""


def list_occupations(session: Session, actor: Actor, *, q: str = "") -> list[Occupation]:
    """The issuer's occupations by title (a search matches code, NOC code or title in
    either language). Read-only; raises Forbidden without catalog:read."""
    actor.require(Scope.CATALOG_READ)
    rows = list(session.scalars(
        select(Occupation).where(Occupation.issuer_id == actor.issuer_id)
        .options(selectinload(Occupation.requirements)).order_by(Occupation.title)))
    needle = q.strip().casefold()
    if needle:
        rows = [o for o in rows if needle in " ".join(
            (o.code, o.noc_code, o.title, _fr(o.translations, "title"))).casefold()]
    return rows


def get_occupation(session: Session, actor: Actor, occupation_id: int) -> Occupation:
    """Raises NotFound for another issuer's occupation (or none), Forbidden without
    catalog:read."""
    actor.require(Scope.CATALOG_READ)
    occupation = session.get(Occupation, occupation_id)
    if occupation is None or occupation.issuer_id != actor.issuer_id:
        raise NotFound(_("No such occupation in your institution's list."))
    return occupation


def delete_occupation(session: Session, actor: Actor, occupation_id: int) -> None:
    """Remove an occupation and its skill list (nothing else refers to it). Raises
    NotFound, Forbidden without catalog:write."""
    actor.require(Scope.CATALOG_WRITE)
    occupation = get_occupation(session, actor, occupation_id)
    audit.record(session, "occupation.deleted", subject_type="occupation",
                 subject_id=occupation.id, detail={"by": actor.ref, "code": occupation.code})
    session.delete(occupation)
    session.flush()


def link_requirement(session: Session, actor: Actor, occupation_id: int, requirement_id: int,
                     skill_code: str, *, expected_row_version: int | None = None
                     ) -> OccupationSkill:
    """Link one required skill to a library skill by its code ("" removes the direct link;
    a framework item keeps matching). Raises NotFound (occupation or requirement of another
    issuer), ValidationFailed (no such skill code), Conflict (the occupation changed since
    ``expected_row_version``), Forbidden without catalog:write. Idempotent."""
    actor.require(Scope.CATALOG_WRITE)
    occupation = get_occupation(session, actor, occupation_id)
    requirement = next((r for r in occupation.requirements if r.id == requirement_id), None)
    if requirement is None:
        raise NotFound(_("No such required skill in this occupation."))
    if expected_row_version is not None and expected_row_version != occupation.row_version:
        raise Conflict(_("Someone else changed this occupation in the meantime. Reload to "
                         "see their changes, then apply yours again."), code="stale_version")
    code = skill_code.strip()
    skill_id: int | None = None
    if code:
        skill_id = session.scalar(select(Skill.id).where(Skill.issuer_id == actor.issuer_id,
                                                         Skill.code == code))
        if skill_id is None:
            raise ValidationFailed({"skill_code": [
                _("no skill with the code %(code)s in your skills library", code=code[:64])]})
    if requirement.skill_id == skill_id:
        return requirement
    requirement.skill_id = skill_id
    occupation.row_version += 1
    occupation.updated_at = utcnow()
    audit.record(session, "occupation.skill_linked", subject_type="occupation",
                 subject_id=occupation.id, detail={"by": actor.ref, "requirement":
                                                   requirement.name, "skill": code})
    session.flush()
    return requirement


def _skill_refs(session: Session, issuer_id: int) -> list[SkillRef]:
    rows = session.execute(select(Skill.id, Skill.code, Skill.name, Skill.alignments,
                                  Skill.translations)
                           .where(Skill.issuer_id == issuer_id)).all()
    return [SkillRef(sid, code, name, frozenset(
        str(a.get("target_url", "")).strip() for a in (alignments or [])
        if isinstance(a, dict) and a.get("target_url")), _fr(translations, "name"))
        for sid, code, name, alignments, translations in rows]


def _credential_refs(session: Session, issuer_id: int) -> list[CredentialRef]:
    """Per credential: its latest published version, or (none published yet) its latest
    version in development. Retired and rejected versions teach nothing new."""
    # Plain columns, not whole versions: their content and snapshot JSON are not needed.
    # The French title only, out of the content JSON (json_extract / ->> in the database).
    title_fr = CredentialVersion.content["translations"]["fr"]["title"].as_string()
    versions = session.execute(
        select(CredentialVersion.id, CredentialVersion.credential_id,
               CredentialVersion.version, CredentialVersion.state, CredentialVersion.title,
               MicroCredential.code, title_fr)
        .join(MicroCredential, MicroCredential.id == CredentialVersion.credential_id)
        .where(MicroCredential.issuer_id == issuer_id,
               CredentialVersion.state.in_([LifecycleState.PUBLISHED.value,
                                            LifecycleState.DRAFT.value,
                                            LifecycleState.IN_REVIEW.value,
                                            LifecycleState.APPROVED.value]))
        .order_by(CredentialVersion.credential_id, CredentialVersion.version)).all()
    published = LifecycleState.PUBLISHED.value
    chosen: dict[int, tuple[int, int, str, str, str, str]] = {}
    for version_id, credential_id, number, state, title, code, french in versions:
        # Oldest first: a later version replaces an earlier one, except that a published
        # version counts, not a newer draft of it.
        current = chosen.get(credential_id)
        if current is not None and current[2] == published and state != published:
            continue
        chosen[credential_id] = (version_id, number, state, title, code, french or "")
    if not chosen:
        return []
    links = session.execute(select(CredentialSkill.version_id, CredentialSkill.skill_id,
                                   CredentialSkill.requirement)
                            .where(CredentialSkill.version_id.in_(
                                [row[0] for row in chosen.values()]))).all()
    required: dict[int, set[int]] = {}
    optional: dict[int, set[int]] = {}
    for version_id, skill_id, requirement in links:
        (required if requirement == "required" else optional).setdefault(
            version_id, set()).add(skill_id)
    return [CredentialRef(credential_id, code, title, number, state,
                          frozenset(required.get(version_id, ())),
                          frozenset(optional.get(version_id, ())), french)
            for credential_id, (version_id, number, state, title, code, french)
            in chosen.items()]


def _requirements(occupation: Occupation) -> list[Requirement]:
    return [Requirement(r.id, r.name, r.importance, r.skill_id, r.framework_url)
            for r in occupation.requirements]


@dataclass(frozen=True)
class OccupationDesign:
    """The design aid for one occupation."""

    occupation: Occupation
    items: list[RequirementCoverage]
    pathways_known: bool  # False: no pathway lookup was given (pathways not shown)


def design_aid(session: Session, actor: Actor, occupation_id: int, *,
               pathways: PathwayLookup | None = None) -> OccupationDesign:
    """Which catalog skills, credentials and pathways cover each required skill of the
    occupation, and the gaps. Read-only; raises NotFound, Forbidden without catalog:read."""
    occupation = get_occupation(session, actor, occupation_id)
    credentials = _credential_refs(session, actor.issuer_id)
    found: Sequence[PathwayRef] = ()
    if pathways is not None and credentials:
        found = pathways(session, actor.issuer_id,
                         frozenset(c.id for c in credentials if c.published))
    items = coverage(_requirements(occupation), _skill_refs(session, actor.issuer_id),
                     credentials, found)
    return OccupationDesign(occupation, items, pathways is not None)


def coverage_by_occupation(session: Session, issuer_id: int,
                           occupations: Sequence[Occupation]
                           ) -> dict[int, list[RequirementCoverage]]:
    """Coverage of several occupations at once (one read of skills and credentials)."""
    index = CatalogIndex(_skill_refs(session, issuer_id), _credential_refs(session, issuer_id))
    return {o.id: coverage(_requirements(o), index) for o in occupations}


def demonstrated_skill_ids(session: Session, person_id: int) -> set[int]:
    """The skills a person has demonstrated (a current pass: not corrected since)."""
    later = aliased(Demonstration)
    return set(session.scalars(
        select(Demonstration.skill_id).where(
            Demonstration.person_id == person_id,
            Demonstration.outcome == Outcome.PASS.value,
            ~exists().where(later.supersedes_id == Demonstration.id)).distinct()))


def has_occupations(session: Session, issuer_id: int) -> bool:
    return session.scalar(select(Occupation.id).where(Occupation.issuer_id == issuer_id)
                          .limit(1)) is not None


@dataclass(frozen=True)
class LearnerOccupation:
    occupation: Occupation
    outlook: OccupationOutlook


def learner_outlook(session: Session, *, person_id: int, issuer_id: int,
                    limit: int = 5) -> list[LearnerOccupation]:
    """The issuer's occupations that the person's demonstrated skills lead toward, the
    closest first (at most ``limit``), each with what is met and what is missing.
    Read-only; only this person's demonstrations are read."""
    # Plain rows for the ranking (every occupation of the issuer); ORM objects only for the
    # few shown. Read before the person's skills: an issuer without occupations (most)
    # costs this one query.
    rows = session.execute(
        select(OccupationSkill.occupation_id, OccupationSkill.id, OccupationSkill.name,
               OccupationSkill.importance, OccupationSkill.skill_id,
               OccupationSkill.framework_url)
        .join(Occupation, Occupation.id == OccupationSkill.occupation_id)
        .where(Occupation.issuer_id == issuer_id)
        .order_by(OccupationSkill.occupation_id, OccupationSkill.position)).all()
    if not rows:
        return []
    demonstrated = demonstrated_skill_ids(session, person_id)
    if not demonstrated:
        return []
    requirements: dict[int, list[Requirement]] = {}
    for occupation_id, rid, name, importance, skill_id, url in rows:
        requirements.setdefault(occupation_id, []).append(
            Requirement(rid, name, importance, skill_id, url))
    index = CatalogIndex(_skill_refs(session, issuer_id), _credential_refs(session, issuer_id))
    found = outlook({oid: coverage(reqs, index) for oid, reqs in requirements.items()},
                    demonstrated)[:limit]
    if not found:
        return []
    shown = {o.id: o for o in session.scalars(
        select(Occupation).where(Occupation.id.in_([f.occupation_id for f in found]))
        .options(selectinload(Occupation.requirements)))}
    return [LearnerOccupation(shown[f.occupation_id], f) for f in found]


# -- import -------------------------------------------------------------------------------------
@dataclass
class _Planned:
    values: dict[str, Any]
    where: str


def _validate(item: Any, where: str, problems: _Problems, skills: Mapping[str, int],
              *, located: Callable[[str], tuple[str, str]] | None = None
              ) -> dict[str, Any] | None:
    """One occupation (a dict of the JSON shape) → loaded values, or None with problems
    added. ``located`` maps a marshmallow error key to (where, field) (CSV rows)."""
    from marshmallow import ValidationError

    values: dict[str, Any] | None = None
    flagged: set[str] = set()
    try:
        values = OccupationInputSchema().load(item)
    except ValidationError as exc:
        for name, messages in first_errors(exc.messages).items():
            flagged.add(name)
            if located is not None:
                spot, field_name = located(name)
            else:
                spot = where + _path(name) if name != "_schema" else where
                field_name = "" if name == "_schema" else name.split(".")[-1]
            for message in messages:
                problems.add(spot, field_name, message)
    # Unknown skill codes are reported even when something else is wrong too.
    raw_skills = item.get("skills") if isinstance(item, dict) else None
    unknown = False
    for index, requirement in enumerate(raw_skills if isinstance(raw_skills, list) else []):
        code = requirement.get("skill") if isinstance(requirement, dict) else None
        key = f"skills.{index}.skill"
        if isinstance(code, str) and code.strip() and code.strip() not in skills \
                and key not in flagged:
            spot, field_name = located(key) if located else (f"{where}.skills[{index}].skill",
                                                              "skill")
            problems.add(spot, field_name, _("no skill with the code %(code)s in the catalog",
                                             code=code.strip()[:64]))
            unknown = True
    return None if unknown else values


def _plan(session: Session, actor: Actor, items: Sequence[_Planned]
          ) -> tuple[dict[str, Occupation], list[dict[str, str]], dict[str, int]]:
    existing = {o.code: o for o in session.scalars(
        select(Occupation).where(Occupation.issuer_id == actor.issuer_id)
        .options(selectinload(Occupation.requirements)))}
    counts = {"occupations_created": 0, "occupations_replaced": 0, "occupations_unchanged": 0}
    changes: list[dict[str, str]] = []
    for planned in items:
        values = planned.values
        current = existing.get(values["code"])
        skills = len(values["skills"])
        if current is None:
            counts["occupations_created"] += 1
            changes.append({"kind": "occupation", "code": values["code"], "change": "create",
                            "detail": f"{values['title']} ({skills} skills)"})
        elif _as_input(current) == values:
            counts["occupations_unchanged"] += 1
        else:
            counts["occupations_replaced"] += 1
            changes.append({"kind": "occupation", "code": values["code"], "change": "replace",
                            "detail": f"{values['title']} ({skills} skills)"})
    return existing, changes, counts


def _apply(session: Session, actor: Actor, items: Sequence[_Planned],
           existing: dict[str, Occupation], skill_ids: Mapping[str, int]) -> None:
    now = utcnow()
    for planned in items:
        values = planned.values
        occupation = existing.get(values["code"])
        if occupation is not None and _as_input(occupation) == values:
            continue
        if occupation is None:
            occupation = Occupation(issuer_id=actor.issuer_id, code=values["code"],
                                    created_at=now)
            session.add(occupation)
        else:
            occupation.row_version += 1
            occupation.requirements.clear()
            session.flush()
        occupation.noc_code = values["noc_code"]
        occupation.esco_uri = values["esco_uri"]
        occupation.title = values["title"]
        occupation.description = values["description"]
        occupation.source = values["source"]
        occupation.mapping_note = values["mapping_note"]
        french = {k: values[f"{k}_fr"] for k in ("title", "description") if values[f"{k}_fr"]}
        occupation.translations = {"fr": french} if french else {}
        occupation.updated_at = now
        for position, requirement in enumerate(values["skills"]):
            occupation.requirements.append(OccupationSkill(
                position=position, name=requirement["name"],
                translations=({"fr": {"name": requirement["name_fr"]}}
                              if requirement["name_fr"] else {}),
                importance=requirement["importance"],
                skill_id=skill_ids.get(requirement["skill"]) if requirement["skill"] else None,
                framework_url=requirement["framework_url"]))
    session.flush()


def _finish(session: Session, actor: Actor, items: list[_Planned], problems: _Problems,
            skills: Mapping[str, int], *, dry_run: bool, fmt: str) -> ImportReport:
    if problems:
        return ImportReport(ok=False, problems=problems.final(), dry_run=dry_run)
    existing, changes, counts = _plan(session, actor, items)
    if not dry_run and changes:
        with session.begin_nested():
            _apply(session, actor, items, existing, skills)
            audit.record(session, "occupations.imported", subject_type="issuer",
                         subject_id=actor.issuer_id,
                         detail={"by": actor.ref, "format": fmt, **counts})
            session.flush()
    return ImportReport(ok=True, counts=counts, dry_run=dry_run, changes=changes)


def _issuer_skills(session: Session, issuer_id: int) -> dict[str, int]:
    rows = session.execute(select(Skill.code, Skill.id).where(Skill.issuer_id == issuer_id))
    return {code: skill_id for code, skill_id in rows}


def import_occupations(session: Session, actor: Actor, document: Any, *,
                       dry_run: bool = False) -> ImportReport:
    """Import occupations from a decoded JSON document (see the module docstring). Every
    occupation is validated first; on any problem nothing changes and each problem says
    where it is (``occupations[2].skills[0].skill``). Occupations are matched by code and
    replaced. Idempotent. Raises Forbidden without catalog:write."""
    actor.require(Scope.CATALOG_WRITE)
    problems = _Problems()
    raw: Any = document
    if isinstance(document, dict):
        unknown = sorted(set(document) - {"format", "format_version", "exported_at",
                                          "occupations"})
        if unknown:
            problems.add("document", "", _("unknown keys: %(keys)s", keys=", ".join(unknown)))
        if document.get("format", FORMAT) != FORMAT:
            problems.add("document", "format", _("must be %(format)s", format=FORMAT))
        raw = document.get("occupations")
    if not isinstance(raw, list):
        problems.add("document", "occupations",
                     _("must be a list of occupations (or an object with one)"))
        return ImportReport(ok=False, problems=problems.final(), dry_run=dry_run)
    if len(raw) > MAX_OCCUPATIONS:
        problems.add("document", "occupations",
                     _("has %(num)s occupations; at most %(max)s are accepted", num=len(raw),
                       max=MAX_OCCUPATIONS))
        return ImportReport(ok=False, problems=problems.final(), dry_run=dry_run)
    skills = _issuer_skills(session, actor.issuer_id)
    items: list[_Planned] = []
    first_at: dict[str, str] = {}
    for index, item in enumerate(raw):
        where = f"occupations[{index}]"
        code = item.get("code") if isinstance(item, dict) else None
        if isinstance(code, str) and code.strip():
            if code.strip() in first_at:
                problems.add(where, "code", _("%(code)s appears twice (also %(where)s)",
                                             code=code.strip()[:64],
                                             where=first_at[code.strip()]))
                continue
            first_at[code.strip()] = where
        values = _validate(item, where, problems, skills)
        if values is not None:
            items.append(_Planned(values, where))
    return _finish(session, actor, items, problems, skills, dry_run=dry_run, fmt="json")


def import_occupations_csv(session: Session, actor: Actor, data: str | bytes, *,
                           dry_run: bool = False) -> ImportReport:
    """Import occupations from CSV (one row per required skill; see the module docstring).
    Rows are numbered as a spreadsheet shows them (the header is row 1). All or nothing,
    idempotent; raises Forbidden without catalog:write."""
    actor.require(Scope.CATALOG_WRITE)
    problems = _Problems()
    header, rows = _read_csv(data, problems, columns=CSV_COLUMNS, required=("code", "title"),
                             max_bytes=CSV_MAX_BYTES, max_rows=CSV_MAX_ROWS)
    if problems:
        return ImportReport(ok=False, problems=problems.final(), dry_run=dry_run)

    # Group the rows by occupation code, keeping the row numbers of each skill.
    grouped: dict[str, tuple[dict[str, Any], int, list[int]]] = {}
    order: list[str] = []
    for number, cells in enumerate(rows, start=2):
        where = f"row {number}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            problems.add(where, "", _("has %(cells)s cells but the header names %(columns)s "
                                      "columns", cells=len(cells), columns=len(header)))
            continue
        row = {name: _csv_uncell(cells[i]).strip() if i < len(cells) else ""
               for i, name in enumerate(header)}
        occupation = {name: row.get(name, "") for name in OCCUPATION_FIELDS}
        code = occupation["code"]
        key = code or f"(row {number})"
        if key not in grouped:
            grouped[key] = ({**occupation, "skills": []}, number, [])
            order.append(key)
        else:
            first, first_row, _numbers = grouped[key]
            for name in OCCUPATION_FIELDS:
                if name in header and row.get(name, "") != first[name]:
                    problems.add(where, name, _("differs from row %(row)s for the same "
                                                "occupation (%(code)s)", row=first_row,
                                                code=code))
        if row.get("skill_name", ""):
            doc, _first_row, numbers = grouped[key]
            doc["skills"].append({field: row.get(column, "") or (
                "essential" if field == "importance" else "")
                for column, field in _CSV_REQUIREMENT.items()})
            numbers.append(number)
        elif any(row.get(c, "") for c in ("skill_name_fr", "skill_code", "framework_url")):
            problems.add(where, "skill_name", _("a row with a skill needs the skill's name"))
    skills = _issuer_skills(session, actor.issuer_id)
    items: list[_Planned] = []
    for key in order:
        doc, first_row, numbers = grouped[key]

        def located(name: str, first_row: int = first_row,
                    numbers: list[int] = numbers) -> tuple[str, str]:
            parts = name.split(".")
            if parts[0] == "skills" and len(parts) >= 3 and parts[1].isdigit():
                column = {v: k for k, v in _CSV_REQUIREMENT.items()}.get(parts[2], parts[2])
                return f"row {numbers[int(parts[1])]}", column
            if parts[0] == "_schema":
                return f"row {first_row}", ""
            return f"row {first_row}", parts[0]

        values = _validate(doc, f"row {first_row}", problems, skills, located=located)
        if values is not None:
            items.append(_Planned(values, f"row {first_row}"))
    return _finish(session, actor, items, problems, skills, dry_run=dry_run, fmt="csv")


def parse_json(data: bytes | str) -> tuple[Any, list[dict[str, str]]]:
    """Decode an uploaded JSON file: (document, []) or (None, [one problem])."""
    return parse_catalog_json(data)


# -- export and the sample ----------------------------------------------------------------------
def _as_input(occupation: Occupation) -> dict[str, Any]:
    """An occupation in the import's shape (what loading its export gives back)."""
    skills = {s.id: s.code for s in ([r.skill for r in occupation.requirements
                                      if r.skill is not None])}
    return {
        "code": occupation.code, "noc_code": occupation.noc_code,
        "esco_uri": occupation.esco_uri, "title": occupation.title,
        "title_fr": _fr(occupation.translations, "title"),
        "description": occupation.description,
        "description_fr": _fr(occupation.translations, "description"),
        "source": occupation.source, "mapping_note": occupation.mapping_note,
        "skills": [{"name": r.name, "name_fr": _fr(r.translations, "name"),
                    "importance": r.importance,
                    "skill": skills.get(r.skill_id, "") if r.skill_id else "",
                    "framework_url": r.framework_url} for r in occupation.requirements],
    }


def export_occupations(session: Session, actor: Actor) -> dict[str, Any]:
    """Every occupation of the issuer in the JSON import format. Read-only."""
    actor.require(Scope.CATALOG_READ)
    rows = session.scalars(select(Occupation).where(Occupation.issuer_id == actor.issuer_id)
                           .options(selectinload(Occupation.requirements)
                                    .selectinload(OccupationSkill.skill))
                           .order_by(Occupation.code))
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "exported_at": utcnow().isoformat(), "occupations": [_as_input(o) for o in rows]}


def export_occupations_csv(session: Session, actor: Actor) -> str:
    """The occupations as CSV (one row per required skill). Read-only."""
    document = export_occupations(session, actor)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for occupation in document["occupations"]:
        head = [occupation[name] for name in OCCUPATION_FIELDS]
        for requirement in occupation["skills"] or [None]:
            tail = ([requirement[_CSV_REQUIREMENT[c]] for c in _CSV_REQUIREMENT]
                    if requirement else [""] * len(_CSV_REQUIREMENT))
            writer.writerow([_csv_cell(str(v)) for v in (*head, *tail)])
    return out.getvalue()


def sample_document() -> dict[str, Any]:
    """The bundled sample of occupations (read from the package; no network)."""
    text = resources.files("lti_tool.data").joinpath(SAMPLE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def add_sample(session: Session, actor: Actor, *, skill_codes: Iterable[str] | None = None
               ) -> list[str]:
    """Add the sample occupations the issuer does not have yet (by code; existing ones are
    kept as they are). Links to skills the catalog lacks are dropped from the added
    occupations (the requirement stays, as a gap). Returns the codes added."""
    actor.require(Scope.CATALOG_WRITE)
    have = set(session.scalars(select(Occupation.code)
                               .where(Occupation.issuer_id == actor.issuer_id)))
    known = set(skill_codes) if skill_codes is not None else set(
        _issuer_skills(session, actor.issuer_id))
    missing = []
    for item in sample_document()["occupations"]:
        if item["code"] in have:
            continue
        item = {**item, "skills": [
            {**s, "skill": s.get("skill", "") if s.get("skill", "") in known else ""}
            for s in item.get("skills", [])]}
        missing.append(item)
    if not missing:
        return []
    report = import_occupations(session, actor, {"format": FORMAT, "occupations": missing})
    if not report.ok:  # pragma: no cover - the bundled sample is tested to import cleanly
        raise RuntimeError(f"the bundled occupations sample does not import: "
                           f"{report.problems[:3]}")
    return [item["code"] for item in missing]
