"""Occupations ("jobs in view", designing with the end in mind), as pure rules: the input
an import accepts, which of an occupation's required skills the catalog covers (by which
skills, credentials and pathways) and where the gaps are, and — for one learner — how far
their demonstrated skills go toward each occupation and what is missing.

Occupation codes and titles come from a classification: Canada's National Occupational
Classification (NOC 2021, five-digit unit groups,
https://noc.esdc.gc.ca/) or ESCO occupations (http://data.europa.eu/esco/occupation/…).
Which skills an occupation requires is the institution's own mapping, not part of the
classification; every occupation carries a ``mapping_note`` saying whose it is.

A requirement is covered by a catalog skill when it links to that skill directly, or when
it names a framework item (``framework_url``: an ESCO skill URI, a CASE CFItem…) that the
skill is aligned to (``Skill.alignments[].target_url``). Covering credentials are the
published versions that include a covering skill; a pathway covers a requirement when it
contains such a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from marshmallow import fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from lti_tool.domain.catalog_schemas import CODE_RE, HttpUrl, StrictSchema, Text, _text

NOC_RE = re.compile(r"^\d{5}$")
ESCO_OCCUPATION_PREFIX = "http://data.europa.eu/esco/occupation/"
MAX_REQUIREMENTS = 100


class Importance(StrEnum):
    ESSENTIAL = "essential"
    OPTIONAL = "optional"


class RequirementStatus(StrEnum):
    COVERED = "covered"        # a published credential teaches a covering skill
    SKILL_ONLY = "skill_only"  # the catalog has the skill, no published credential uses it
    GAP = "gap"                # no catalog skill covers it


# -- input ----------------------------------------------------------------------------------
class RequirementInputSchema(StrictSchema):
    name = _text(300, required=True)
    name_fr = _text(300)
    importance = Text(load_default=Importance.ESSENTIAL.value,
                      validate=validate.OneOf([i.value for i in Importance]))
    skill = Text(load_default="", validate=validate.Length(max=64))  # a catalog skill code
    framework_url = HttpUrl(load_default="")


class OccupationInputSchema(StrictSchema):
    code = Text(required=True, validate=validate.Regexp(
        CODE_RE, error="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
                       "digit (e.g. NOC-33102)"))
    noc_code = Text(load_default="", validate=validate.Regexp(
        r"^(\d{5})?$", error="a NOC 2021 code has five digits (e.g. 33102)"))
    esco_uri = HttpUrl(load_default="", validate=validate.Length(max=300))
    title = _text(300, required=True)
    title_fr = _text(300)
    description = _text(4000)
    description_fr = _text(4000)
    source = _text(1000)
    mapping_note = _text(1000)
    skills = fields.List(fields.Nested(RequirementInputSchema), load_default=list,
                         validate=validate.Length(max=MAX_REQUIREMENTS))

    @validates_schema
    def _checks(self, data: dict[str, Any], **kwargs: Any) -> None:
        uri = data.get("esco_uri", "")
        if uri and not uri.startswith(ESCO_OCCUPATION_PREFIX):
            raise ValidationError(f"an ESCO occupation URI starts with "
                                  f"{ESCO_OCCUPATION_PREFIX}", "esco_uri")
        if not data.get("noc_code") and not uri and not data.get("source"):
            raise ValidationError("say where the occupation comes from: a NOC 2021 code, an "
                                  "ESCO URI or a source", "source")
        names = [s["name"].casefold() for s in data.get("skills", [])]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValidationError(f"a skill is listed twice: {twice[0]}", "skills")


# -- coverage ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SkillRef:
    id: int
    code: str
    name: str
    alignment_urls: frozenset[str]
    name_fr: str = ""


@dataclass(frozen=True)
class CredentialRef:
    id: int            # the MicroCredential (stable across versions)
    code: str
    title: str
    version: int
    state: str
    required_skill_ids: frozenset[int]
    optional_skill_ids: frozenset[int]
    title_fr: str = ""

    @property
    def skill_ids(self) -> frozenset[int]:
        return self.required_skill_ids | self.optional_skill_ids

    @property
    def published(self) -> bool:
        return self.state == "published"


@dataclass(frozen=True)
class PathwayRef:
    """A pathway as the occupations pages need it (the pathway model lives elsewhere)."""

    id: int
    title: str
    url: str
    credential_ids: frozenset[int]


@dataclass(frozen=True)
class Requirement:
    id: int
    name: str
    importance: str
    skill_id: int | None
    framework_url: str

    @property
    def essential(self) -> bool:
        return self.importance == Importance.ESSENTIAL.value


@dataclass(frozen=True)
class CoveringSkill:
    skill: SkillRef
    via: str  # "link" (named directly) | "alignment" (aligned to the requirement's item)


@dataclass(frozen=True)
class RequirementCoverage:
    requirement: Requirement
    skills: tuple[CoveringSkill, ...]
    credentials: tuple[CredentialRef, ...]   # published, teaching a covering skill
    in_development: tuple[CredentialRef, ...]  # drafts / in review / approved that would
    pathways: tuple[PathwayRef, ...]

    @property
    def skill_ids(self) -> frozenset[int]:
        return frozenset(c.skill.id for c in self.skills)

    @property
    def status(self) -> RequirementStatus:
        if self.credentials:
            return RequirementStatus.COVERED
        if self.skills:
            return RequirementStatus.SKILL_ONLY
        return RequirementStatus.GAP


@dataclass(frozen=True)
class CoverageSummary:
    essential_total: int
    essential_covered: int
    optional_total: int
    optional_covered: int
    credential_ids: frozenset[int]

    @property
    def gaps(self) -> int:
        return self.essential_total - self.essential_covered


class CatalogIndex:
    """Skills, credentials and pathways indexed once (by skill id, alignment URL and
    credential id), so that covering thousands of requirements stays linear."""

    def __init__(self, skills: Iterable[SkillRef], credentials: Iterable[CredentialRef],
                 pathways: Iterable[PathwayRef] = ()) -> None:
        self.skills = {s.id: s for s in skills}
        self.by_url: dict[str, list[SkillRef]] = {}
        for skill in sorted(self.skills.values(), key=lambda s: s.code):
            for url in skill.alignment_urls:
                self.by_url.setdefault(url, []).append(skill)
        ordered = sorted(credentials, key=lambda c: (c.title.casefold(), c.code))
        self.rank = {c.id: i for i, c in enumerate(ordered)}
        self.by_skill: dict[int, list[CredentialRef]] = {}
        for credential in ordered:
            for skill_id in credential.skill_ids:
                self.by_skill.setdefault(skill_id, []).append(credential)
        self.pathways = list(pathways)

    def covering_skills(self, requirement: Requirement) -> tuple[CoveringSkill, ...]:
        """The skill the requirement links to, then those aligned to its framework item
        (each skill once)."""
        out: list[CoveringSkill] = []
        linked = self.skills.get(requirement.skill_id) \
            if requirement.skill_id is not None else None
        if linked is not None:
            out.append(CoveringSkill(linked, "link"))
        url = requirement.framework_url.strip()
        for skill in self.by_url.get(url, []) if url else []:
            if linked is None or skill.id != linked.id:
                out.append(CoveringSkill(skill, "alignment"))
        return tuple(out)

    def cover(self, requirement: Requirement) -> RequirementCoverage:
        covering = self.covering_skills(requirement)
        teaching: dict[int, CredentialRef] = {}
        for item in covering:
            for credential in self.by_skill.get(item.skill.id, []):
                teaching[credential.id] = credential
        ordered = sorted(teaching.values(), key=lambda c: self.rank[c.id])
        published = tuple(c for c in ordered if c.published)
        developing = tuple(c for c in ordered if not c.published)
        published_ids = {c.id for c in published}
        in_paths = tuple(p for p in self.pathways if p.credential_ids & published_ids)
        return RequirementCoverage(requirement, covering, published, developing, in_paths)


def covering_skills(requirement: Requirement, skills: Iterable[SkillRef]
                    ) -> tuple[CoveringSkill, ...]:
    """The catalog skills that cover a requirement: the one it links to, then those
    aligned to its framework item (each skill once)."""
    return CatalogIndex(skills, ()).covering_skills(requirement)


def coverage(requirements: Sequence[Requirement], skills: Iterable[SkillRef] | CatalogIndex,
             credentials: Iterable[CredentialRef] = (),
             pathways: Iterable[PathwayRef] = ()) -> list[RequirementCoverage]:
    """Each requirement with what covers it, in the requirements' order. ``skills`` may be
    a prepared ``CatalogIndex`` (then ``credentials`` and ``pathways`` are its own)."""
    index = skills if isinstance(skills, CatalogIndex) else CatalogIndex(
        skills, credentials, pathways)
    return [index.cover(requirement) for requirement in requirements]


def summarize(items: Sequence[RequirementCoverage]) -> CoverageSummary:
    essential = [i for i in items if i.requirement.essential]
    optional = [i for i in items if not i.requirement.essential]
    covered = RequirementStatus.COVERED
    return CoverageSummary(
        len(essential), sum(1 for i in essential if i.status == covered),
        len(optional), sum(1 for i in optional if i.status == covered),
        frozenset(c.id for i in items for c in i.credentials))


# -- a learner's outlook ---------------------------------------------------------------------
@dataclass(frozen=True)
class OccupationOutlook:
    """How far one learner's demonstrated skills go toward one occupation."""

    occupation_id: int
    met: tuple[RequirementCoverage, ...]
    missing: tuple[RequirementCoverage, ...]

    @property
    def essential_met(self) -> int:
        return sum(1 for m in self.met if m.requirement.essential)

    @property
    def essential_total(self) -> int:
        return self.essential_met + sum(1 for m in self.missing if m.requirement.essential)

    @property
    def share(self) -> float:
        """The share of essential skills met (of all skills when none is essential)."""
        if self.essential_total:
            return self.essential_met / self.essential_total
        total = len(self.met) + len(self.missing)
        return len(self.met) / total if total else 0.0


def outlook(occupations: Mapping[int, Sequence[RequirementCoverage]],
            demonstrated: set[int]) -> list[OccupationOutlook]:
    """The occupations a learner's demonstrated skills (catalog skill ids) lead toward:
    those with at least one requirement met, the closest first."""
    result = []
    for occupation_id, items in occupations.items():
        met = tuple(i for i in items if i.skill_ids & demonstrated)
        if not met:
            continue
        missing = tuple(i for i in items if not i.skill_ids & demonstrated)
        result.append(OccupationOutlook(occupation_id, met, missing))
    result.sort(key=lambda o: (-o.share, -len(o.met), o.occupation_id))
    return result
