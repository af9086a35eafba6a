"""Catalog use cases: issuers, skills, micro-credential versions and their lifecycle,
quality reviews, the rubric. Every public function takes the Session and an ``Actor``
(who is acting, for which issuer, with which scopes) and raises ToolError subclasses:
ValidationFailed (422, field messages), Forbidden (403), NotFound (404; also for another
issuer's data, so ids cannot be probed), Conflict (409: stale version, refused transition).
Nothing commits: callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.catalog import (
    DEFAULT_RUBRIC,
    Action,
    CatalogRole,
    EarningRule,
    FieldChange,
    LifecycleState,
    ReviewDecision,
    RubricCriterion,
    Scope,
    TransitionRefused,
    criterion_text,
    diff_versions,
    display_label,
    natural_key,
    next_state,
)
from lti_tool.domain.catalog_schemas import (
    SKILL_TEXT_FIELDS,
    VERSION_LIST_FIELDS,
    VERSION_TEXT_FIELDS,
    CredentialInputSchema,
    IssuerProfileSchema,
    ReviewInputSchema,
    SkillInputSchema,
    first_errors,
)
from lti_tool.domain.texts import localized_view, text_in
from lti_tool.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lti_tool.models import (
    CatalogGrant,
    CredentialSkill,
    CredentialVersion,
    Issuer,
    IssuerPlatform,
    MicroCredential,
    Review,
    RubricCriterionRow,
    Skill,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit, registry_cache

OPEN_STATES = (LifecycleState.DRAFT, LifecycleState.IN_REVIEW, LifecycleState.APPROVED)
ROLE_SCOPES: dict[CatalogRole, frozenset[Scope]] = {
    CatalogRole.CATALOG_ADMIN: frozenset({Scope.CATALOG_READ, Scope.CATALOG_WRITE}),
    CatalogRole.REVIEWER: frozenset({Scope.CATALOG_READ, Scope.REVIEW}),
    CatalogRole.REGISTRAR: frozenset({Scope.CATALOG_READ, Scope.TRANSFER,
                                      Scope.RECORDS_READ}),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a launched user (``account:<id>``), an API token (``token:<id>``) or the
    command line (``cli``); for one issuer, with these scopes."""

    ref: str
    name: str
    issuer_id: int
    scopes: frozenset[Scope]

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(_("This needs the %(scope)s permission.", scope=scope.value),
                            code="missing_scope")

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes


def scopes_for_roles(roles: Sequence[CatalogRole]) -> frozenset[Scope]:
    scopes: set[Scope] = set()
    for role in roles:
        scopes |= ROLE_SCOPES[role]
    return frozenset(scopes)


def _load(schema: Any, data: Any, *, partial: bool = False) -> dict[str, Any]:
    try:
        result: dict[str, Any] = schema.load(data, partial=partial)
        return result
    except ValidationError as exc:
        raise ValidationFailed(first_errors(exc.messages)) from None


# -- issuers ---------------------------------------------------------------------------------
def issuer_for_platform(session: Session, platform_id: int, deployment_pk: int | None, *,
                        read_only: bool = False) -> Issuer | None:
    """The issuer this platform/deployment serves (deployment mapping first). Served from
    the process's registry cache inside a request (``services.registry_cache``);
    ``read_only``: the caller only reads its columns (the process's shared instance)."""

    def load() -> Issuer | None:
        rows = session.execute(
            select(IssuerPlatform.deployment_pk, Issuer).join(
                Issuer, Issuer.id == IssuerPlatform.issuer_id)
            .where(IssuerPlatform.platform_id == platform_id,
                   or_(IssuerPlatform.deployment_pk == deployment_pk,
                       IssuerPlatform.deployment_pk.is_(None)))
        ).all()
        best = sorted(rows, key=lambda r: r[0] is None)
        return best[0][1] if best else None

    return registry_cache.cache.lookup(session, ("issuer-of", platform_id, deployment_pk),
                                       load, cache_none=True, shared=read_only)


def check_new_issuer(session: Session, data: Mapping[str, Any], *,
                     slug: str) -> dict[str, Any]:
    """The profile of a new issuer, validated, with every problem at once: the profile's
    fields and a free ``slug``. Raises ValidationFailed. Changes nothing."""
    errors: dict[str, list[str]] = {}
    profile: dict[str, Any] = {}
    try:
        profile = _load(IssuerProfileSchema(), dict(data))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if not slug or len(slug) > 64 or not slug.replace("-", "").isalnum():
        errors["slug"] = [_("use 1-64 letters, digits or '-'")]
    elif session.scalars(select(Issuer.id).where(Issuer.slug == slug)).first():
        errors["slug"] = [_("an institution with the short name %(slug)s exists already",
                             slug=slug)]
    if errors:
        raise ValidationFailed(errors)
    return profile


def create_issuer(session: Session, data: Mapping[str, Any], *, slug: str,
                  platform_id: int | None = None, actor_ref: str = "cli") -> Issuer:
    """Raises ValidationFailed; Conflict if the slug exists. Not idempotent."""
    profile = _load(IssuerProfileSchema(), dict(data))
    if not slug or len(slug) > 64 or not slug.replace("-", "").isalnum():
        raise ValidationFailed({"slug": [_("use 1-64 letters, digits or '-'")]})
    if session.scalars(select(Issuer.id).where(Issuer.slug == slug)).first():
        raise Conflict(_("An issuer with slug %(slug)s already exists.", slug=slug))
    issuer = Issuer(slug=slug, **profile)
    session.add(issuer)
    session.flush()
    if platform_id is not None:
        map_platform(session, issuer.id, platform_id)
    audit.record(session, "issuer.created", subject_type="issuer", subject_id=issuer.id,
                 detail={"by": actor_ref})
    return issuer


def map_platform(session: Session, issuer_id: int, platform_id: int,
                 deployment_pk: int | None = None) -> None:
    existing = session.scalars(select(IssuerPlatform).where(
        IssuerPlatform.platform_id == platform_id,
        IssuerPlatform.deployment_pk.is_(None) if deployment_pk is None
        else IssuerPlatform.deployment_pk == deployment_pk)).first()
    if existing is not None:
        existing.issuer_id = issuer_id
    else:
        session.add(IssuerPlatform(issuer_id=issuer_id, platform_id=platform_id,
                                   deployment_pk=deployment_pk))
    session.flush()


def update_issuer(session: Session, actor: Actor, data: Mapping[str, Any],
                  expected_row_version: int | None = None) -> Issuer:
    actor.require(Scope.CATALOG_WRITE)
    issuer = session.get(Issuer, actor.issuer_id)
    if issuer is None:
        raise NotFound(_("No such issuer."))
    _check_fresh(issuer.row_version, expected_row_version)
    profile = _load(IssuerProfileSchema(), dict(data))
    for key, value in profile.items():
        setattr(issuer, key, value)
    issuer.row_version += 1
    issuer.updated_at = utcnow()
    audit.record(session, "issuer.updated", subject_type="issuer", subject_id=issuer.id,
                 detail={"by": actor.ref})
    return issuer


def catalog_roles(session: Session, issuer_id: int, platform_id: int,
                  sub: str) -> list[CatalogRole]:
    rows = session.scalars(select(CatalogGrant.role).where(
        CatalogGrant.issuer_id == issuer_id, CatalogGrant.platform_id == platform_id,
        CatalogGrant.sub == sub))
    return [CatalogRole(r) for r in rows]


def grant_role(session: Session, actor: Actor, platform_id: int, sub: str,
               role: CatalogRole) -> None:
    """Idempotent."""
    actor.require(Scope.CATALOG_WRITE)
    exists = session.scalars(select(CatalogGrant.id).where(
        CatalogGrant.issuer_id == actor.issuer_id, CatalogGrant.platform_id == platform_id,
        CatalogGrant.sub == sub, CatalogGrant.role == role.value)).first()
    if exists is None:
        session.add(CatalogGrant(issuer_id=actor.issuer_id, platform_id=platform_id, sub=sub,
                                 role=role.value, granted_by=actor.ref))
        audit.record(session, "catalog.role_granted", subject_type="grant",
                     subject_id=f"{platform_id}:{sub}", detail={"role": role.value,
                                                               "by": actor.ref})
        session.flush()


def revoke_role(session: Session, actor: Actor, platform_id: int, sub: str,
                role: CatalogRole) -> bool:
    """Remove a tool-level role grant. Idempotent: True if a grant was removed, False if
    there was none (nothing is audited then)."""
    actor.require(Scope.CATALOG_WRITE)
    grant = session.scalars(select(CatalogGrant).where(
        CatalogGrant.issuer_id == actor.issuer_id, CatalogGrant.platform_id == platform_id,
        CatalogGrant.sub == sub, CatalogGrant.role == role.value)).first()
    if grant is None:
        return False
    session.delete(grant)
    audit.record(session, "catalog.role_revoked", subject_type="grant",
                 subject_id=f"{platform_id}:{sub}", detail={"role": role.value,
                                                           "by": actor.ref})
    session.flush()
    return True


# -- optimistic locking ------------------------------------------------------------------------
def _check_fresh(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise Conflict(_("Someone else saved this in the meantime. Reload to see their "
                         "changes, then apply yours again."), code="stale_version")


# -- skills ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _paginate(session: Session, query: Select[Any], page: int, per_page: int) -> Page:
    page = max(1, page)
    per_page = min(max(1, per_page), 100)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, int(total or 0), page, per_page)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_skills(session: Session, actor: Actor, *, q: str = "", tag: str = "", page: int = 1,
                per_page: int = 50, exclude: Iterable[str] = ()) -> Page:
    """The issuer's skills matching ``q`` (code, name or description) and ``tag``, in
    natural order of their codes ("SK-2" before "SK-10"), one page at a time; ``exclude``:
    codes to leave out (those already chosen in a picker). Two queries whatever the
    catalog's size: the matching codes (sorted here: SQL has no natural order), then the
    page's rows."""
    actor.require(Scope.CATALOG_READ)
    query = select(Skill.id, Skill.code, Skill.tags).where(Skill.issuer_id == actor.issuer_id)
    if q:
        pattern = _like(q.strip()[:100].lower())
        query = query.where(or_(func.lower(Skill.code).like(pattern, escape="\\"),
                                func.lower(Skill.name).like(pattern, escape="\\"),
                                func.lower(Skill.description).like(pattern, escape="\\")))
    excluded = set(exclude)
    # Tags live in a JSON list: filtered here with the rest.
    matches = [(sid, code) for sid, code, tags in session.execute(query)
               if code not in excluded and (not tag or tag in (tags or []))]
    matches.sort(key=lambda row: natural_key(row[1]))
    page = max(1, page)
    per_page = min(max(1, per_page), 100)
    wanted = [sid for sid, _ in matches[(page - 1) * per_page: page * per_page]]
    rows = {s.id: s for s in session.scalars(select(Skill).where(Skill.id.in_(wanted)))} \
        if wanted else {}
    return Page([rows[sid] for sid in wanted if sid in rows], len(matches), page, per_page)


def skills_by_code(session: Session, actor: Actor, codes: Iterable[str]) -> list[Skill]:
    """The issuer's skills with these codes, in the order given (unknown codes left out)."""
    actor.require(Scope.CATALOG_READ)
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return []
    found = {s.code: s for s in session.scalars(select(Skill).where(
        Skill.issuer_id == actor.issuer_id, Skill.code.in_(wanted)))}
    return [found[c] for c in wanted if c in found]


def get_skill(session: Session, actor: Actor, skill_id: int) -> Skill:
    actor.require(Scope.CATALOG_READ)
    return _own_skill(session, actor, skill_id)


def _own_skill(session: Session, actor: Actor, skill_id: int) -> Skill:
    """The skill if it belongs to the actor's issuer (scope checked by the caller)."""
    skill = session.get(Skill, skill_id)
    if skill is None or skill.issuer_id != actor.issuer_id:
        raise NotFound(_("No such skill in this catalog."))
    return skill


def skill_by_code(session: Session, issuer_id: int, code: str) -> Skill | None:
    return session.scalars(select(Skill).where(Skill.issuer_id == issuer_id,
                                               Skill.code == code)).first()


def create_skill(session: Session, actor: Actor, data: Mapping[str, Any]) -> Skill:
    """Raises ValidationFailed (incl. a code already used). Not idempotent."""
    actor.require(Scope.CATALOG_WRITE)
    values = _load(SkillInputSchema(), dict(data))
    if skill_by_code(session, actor.issuer_id, values["code"]):
        raise ValidationFailed({"code": [_("%(code)s is already used by another skill",
                                           code=values["code"])]})
    skill = Skill(issuer_id=actor.issuer_id, **values)
    session.add(skill)
    session.flush()
    audit.record(session, "skill.created", subject_type="skill", subject_id=skill.id,
                 detail={"by": actor.ref, "code": skill.code})
    return skill


def update_skill(session: Session, actor: Actor, skill_id: int, data: Mapping[str, Any],
                 expected_row_version: int | None = None) -> Skill:
    """Full replacement of the skill's fields. Raises ValidationFailed, Conflict (stale)."""
    actor.require(Scope.CATALOG_WRITE)
    skill = _own_skill(session, actor, skill_id)
    _check_fresh(skill.row_version, expected_row_version)
    values = _load(SkillInputSchema(), dict(data))
    other = skill_by_code(session, actor.issuer_id, values["code"])
    if other is not None and other.id != skill.id:
        raise ValidationFailed({"code": [_("%(code)s is already used by another skill",
                                           code=values["code"])]})
    for key, value in values.items():
        setattr(skill, key, value)
    skill.row_version += 1
    skill.updated_at = utcnow()
    session.flush()
    audit.record(session, "skill.updated", subject_type="skill", subject_id=skill.id,
                 detail={"by": actor.ref})
    return skill


def delete_skill(session: Session, actor: Actor, skill_id: int) -> None:
    actor.require(Scope.CATALOG_WRITE)
    skill = _own_skill(session, actor, skill_id)
    used = session.scalars(select(CredentialSkill.version_id).where(
        CredentialSkill.skill_id == skill.id).limit(1)).first()
    if used is not None:
        raise Conflict(_("This skill is part of a micro-credential and cannot be deleted."),
                       code="skill_in_use")
    session.delete(skill)
    audit.record(session, "skill.deleted", subject_type="skill", subject_id=skill_id,
                 detail={"by": actor.ref, "code": skill.code})
    session.flush()


def skill_as_dict(skill: Skill) -> dict[str, Any]:
    """The skill's fields in SkillInputSchema's shape (French texts in ``translations``)."""
    return {"code": skill.code, "name": skill.name, "description": skill.description,
            "criteria": skill.criteria, "alignments": list(skill.alignments or []),
            "tags": list(skill.tags or []),
            "translations": {k: dict(v) for k, v in (skill.translations or {}).items()}}


# -- micro-credentials -----------------------------------------------------------------------------
def _resolve_skills(session: Session, issuer_id: int,
                    values: Mapping[str, Any]) -> list[tuple[Skill, str]]:
    rule = EarningRule(tuple(values["required_skills"]), tuple(values["optional_skills"]),
                       values["optional_min"])
    errors = rule.problems()
    resolved: list[tuple[Skill, str]] = []
    for field_name, requirement in (("required_skills", "required"),
                                    ("optional_skills", "optional")):
        for code in values[field_name]:
            skill = skill_by_code(session, issuer_id, code)
            if skill is None:
                errors.setdefault(field_name, []).append(_("no skill with code %(code)s",
                                                           code=code))
            else:
                resolved.append((skill, requirement))
    if errors:
        raise ValidationFailed(errors)
    return resolved


def apply_content(version: CredentialVersion, values: dict[str, Any],
                  skills: list[tuple[Skill, str]]) -> None:
    """Write a draft's fields and skill links from CredentialInputSchema values (the
    caller bumps ``row_version``)."""
    content = {k: v for k, v in values.items() if k not in ("code",)}
    version.content = content
    version.title = values["title"]
    version.short_description = values["short_description"]
    version.notional_hours = Decimal(values["notional_hours"])
    version.credit_bearing = bool(values["credit_bearing"])
    version.field_of_study = values["field_of_study"]
    version.skill_links = [CredentialSkill(skill_id=skill.id, requirement=req, position=i)
                           for i, (skill, req) in enumerate(skills)]


def _contribute(version: CredentialVersion, actor: Actor) -> None:
    if actor.ref not in (version.contributors or []):
        version.contributors = [*(version.contributors or []), actor.ref]


def create_credential(session: Session, actor: Actor, data: Mapping[str, Any]) -> CredentialVersion:
    """A new micro-credential with version 1 as a draft. Raises ValidationFailed."""
    actor.require(Scope.CATALOG_WRITE)
    values = _load(CredentialInputSchema(), dict(data))
    exists = session.scalars(select(MicroCredential.id).where(
        MicroCredential.issuer_id == actor.issuer_id,
        MicroCredential.code == values["code"])).first()
    if exists:
        raise ValidationFailed({"code": [_("%(code)s is already used by another "
                                           "micro-credential", code=values["code"])]})
    skills = _resolve_skills(session, actor.issuer_id, values)
    credential = MicroCredential(issuer_id=actor.issuer_id, code=values["code"])
    version = CredentialVersion(credential=credential, version=1,
                                state=LifecycleState.DRAFT.value, author_ref=actor.ref,
                                author_name=actor.name[:300], contributors=[actor.ref])
    apply_content(version, values, skills)
    session.add(credential)
    session.flush()
    audit.record(session, "credential.created", subject_type="credential_version",
                 subject_id=version.id, detail={"by": actor.ref, "code": credential.code})
    return version


def get_version(session: Session, actor: Actor, version_id: int) -> CredentialVersion:
    actor.require(Scope.CATALOG_READ)
    return _own_version(session, actor, version_id)


def _own_version(session: Session, actor: Actor, version_id: int) -> CredentialVersion:
    """The version if it belongs to the actor's issuer (scope checked by the caller)."""
    version = session.get(CredentialVersion, version_id)
    if version is None or version.credential.issuer_id != actor.issuer_id:
        raise NotFound(_("No such micro-credential version in this catalog."))
    return version


def get_credential(session: Session, actor: Actor, credential_id: int) -> MicroCredential:
    actor.require(Scope.CATALOG_READ)
    credential = session.get(MicroCredential, credential_id)
    if credential is None or credential.issuer_id != actor.issuer_id:
        raise NotFound(_("No such micro-credential in this catalog."))
    return credential


def update_draft(session: Session, actor: Actor, version_id: int, data: Mapping[str, Any],
                 expected_row_version: int | None = None) -> CredentialVersion:
    """Replace a draft's fields. Raises Conflict (not a draft: published versions are
    immutable; or stale), ValidationFailed."""
    actor.require(Scope.CATALOG_WRITE)
    version = _own_version(session, actor, version_id)
    if version.state != LifecycleState.DRAFT.value:
        raise Conflict(_("Only a draft can be edited. A published version never changes: "
                         "start a new version to change it."), code="not_editable")
    _check_fresh(version.row_version, expected_row_version)
    values = _load(CredentialInputSchema(), dict(data))
    if values["code"] != version.credential.code:
        raise ValidationFailed({"code": [_("cannot change once created")]})
    skills = _resolve_skills(session, actor.issuer_id, values)
    apply_content(version, values, skills)
    _contribute(version, actor)
    version.row_version += 1
    version.updated_at = utcnow()
    session.flush()
    audit.record(session, "credential.edited", subject_type="credential_version",
                 subject_id=version.id, detail={"by": actor.ref})
    return version


def new_version(session: Session, actor: Actor, credential_id: int) -> CredentialVersion:
    """Start the next draft from the latest version. Raises Conflict if a version is
    still open (draft, in review or approved)."""
    actor.require(Scope.CATALOG_WRITE)
    credential = get_credential(session, actor, credential_id)
    latest = credential.versions[-1]
    open_version = next((v for v in credential.versions if v.state in OPEN_STATES), None)
    if open_version is not None:
        raise Conflict(_("Version %(number)s is still %(state)s; finish or withdraw it first.",
                         number=open_version.version,
                         state=display_label(open_version.state).lower()),
                       code="version_open")
    # Copy the links before building the new version: loading them lazily afterwards would
    # autoflush while the new version is attached to the credential but not yet added.
    links = [CredentialSkill(skill_id=link.skill_id, requirement=link.requirement,
                             position=link.position) for link in latest.skill_links]
    version = CredentialVersion(credential=credential, version=latest.version + 1,
                                state=LifecycleState.DRAFT.value, author_ref=actor.ref,
                                author_name=actor.name[:300], contributors=[actor.ref],
                                content=dict(latest.content), title=latest.title,
                                short_description=latest.short_description,
                                notional_hours=latest.notional_hours,
                                credit_bearing=latest.credit_bearing,
                                field_of_study=latest.field_of_study)
    version.skill_links = links
    session.add(version)
    session.flush()
    audit.record(session, "credential.new_version", subject_type="credential_version",
                 subject_id=version.id, detail={"by": actor.ref, "from": latest.version})
    return version


def input_of(version: CredentialVersion) -> dict[str, Any]:
    """The version's fields in CredentialInputSchema's shape (for forms and exports)."""
    data = dict(version.content)
    data["code"] = version.credential.code
    data["required_skills"] = [link.skill.code for link in version.skill_links
                               if link.requirement == "required"]
    data["optional_skills"] = [link.skill.code for link in version.skill_links
                               if link.requirement == "optional"]
    return data


def learner_view(version: CredentialVersion) -> dict[str, Any]:
    """What learners, employers and registrars read: the frozen snapshot once published."""
    if version.snapshot is not None:
        return dict(version.snapshot)
    return build_snapshot(version)


def missing_translations(view: Mapping[str, Any], lang: str = "fr") -> list[str]:
    """The texts of a version's view (snapshot, learner view or input) that have an English
    text but none in ``lang``: field names ("title", "learning_outcomes") and skill fields
    ("skills.PY-VAR.criteria"). What review checks when the issuer publishes in that
    language."""
    translations = view.get("translations")
    texts = translations.get(lang) if isinstance(translations, Mapping) else None
    texts = texts if isinstance(texts, Mapping) else {}
    missing = [f for f in (*VERSION_TEXT_FIELDS, *VERSION_LIST_FIELDS)
               if view.get(f) and not texts.get(f)]
    for skill in view.get("skills") or []:
        if not isinstance(skill, Mapping):
            continue
        skill_translations = skill.get("translations")
        skill_texts = skill_translations.get(lang) if isinstance(skill_translations,
                                                                 Mapping) else None
        skill_texts = skill_texts if isinstance(skill_texts, Mapping) else {}
        missing += [f"skills.{skill.get('code')}.{f}" for f in SKILL_TEXT_FIELDS
                    if skill.get(f) and not skill_texts.get(f)]
    return missing


def localized_version(data: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """A version's view (snapshot, learner view or public description) for a page in
    ``locale``: its texts as ``LocalText`` / ``LocalList`` (French, or English marked as a
    fallback), its skills' texts too. The ``translations`` stay, so both languages remain
    available."""
    out = localized_view(data, locale, (*VERSION_TEXT_FIELDS, "earning_rule"),
                         VERSION_LIST_FIELDS)
    out["skills"] = [localized_view(s, locale, SKILL_TEXT_FIELDS)
                     for s in data.get("skills", []) if isinstance(s, Mapping)]
    return out


def build_snapshot(version: CredentialVersion) -> dict[str, Any]:
    data = input_of(version)
    skills = [{**skill_as_dict(link.skill), "requirement": link.requirement}
              for link in version.skill_links]
    names = {s["code"]: s["name"] for s in skills}
    rule = EarningRule(tuple(data["required_skills"]), tuple(data["optional_skills"]),
                       data.get("optional_min", 0))
    snapshot = {**data, "version": version.version, "skills": skills,
                "earning_rule": rule.describe(names)}
    translations = {k: dict(v) for k, v in (data.get("translations") or {}).items()}
    if "fr" in translations:
        # The rule in French names the skills by their French names (English if none).
        names_fr = {s["code"]: text_in(s, "name", "fr") for s in skills}
        translations["fr"]["earning_rule"] = rule.describe(names_fr, lang="fr")
        snapshot["translations"] = translations
    return snapshot


def transition(session: Session, actor: Actor, version_id: int, action: Action,
               expected_row_version: int | None = None) -> CredentialVersion:
    """submit / withdraw / publish / retire (reviews go through ``review``). Raises
    Conflict with the reason when the transition is not allowed from the current state."""
    if action in (Action.APPROVE, Action.REQUEST_CHANGES, Action.REJECT):
        raise Conflict(_("Use a review to approve, request changes or reject."),
                       code="use_review")
    actor.require(Scope.CATALOG_WRITE)
    version = _own_version(session, actor, version_id)
    apply_transition(session, actor, version, action, expected_row_version,
                     siblings=version.credential.versions, snapshot=build_snapshot,
                     event_prefix="credential", subject_type="credential_version")
    return version


def apply_transition(session: Session, actor: Actor, version: Any, action: Action,
                     expected_row_version: int | None, *, siblings: Iterable[Any],
                     snapshot: Any, event_prefix: str, subject_type: str) -> None:
    """The lifecycle step shared by every versioned catalog object (credential and
    pathway versions): checks freshness and the transition; publishing freezes
    ``snapshot(version)`` and retires the previously published sibling. Raises Conflict."""
    if action in (Action.APPROVE, Action.REQUEST_CHANGES, Action.REJECT):
        raise Conflict("Use a review to approve, request changes or reject.",
                       code="use_review")
    _check_fresh(version.row_version, expected_row_version)
    try:
        target = next_state(LifecycleState(version.state), action)
    except TransitionRefused as exc:
        raise Conflict(exc.message, code="transition_refused") from None
    now = utcnow()
    if action is Action.SUBMIT:
        version.submitted_at = now
    elif action is Action.PUBLISH:
        version.snapshot = snapshot(version)
        version.published_at = now
        for other in siblings:
            if other.id != version.id and other.state == LifecycleState.PUBLISHED.value:
                other.state = LifecycleState.RETIRED.value
                other.retired_at = now
                other.row_version += 1
                audit.record(session, f"{event_prefix}.retired", subject_type=subject_type,
                             subject_id=other.id, detail={"by": actor.ref,
                                                          "superseded_by": version.version})
    elif action is Action.RETIRE:
        version.retired_at = now
    version.state = target.value
    version.row_version += 1
    version.updated_at = now
    session.flush()
    audit.record(session, f"{event_prefix}.{action.value}", subject_type=subject_type,
                 subject_id=version.id, detail={"by": actor.ref, "state": target.value})


# -- reviews -------------------------------------------------------------------------------------
def rubric_for(session: Session, issuer_id: int) -> list[RubricCriterion]:
    rows = list(session.scalars(select(RubricCriterionRow).where(
        RubricCriterionRow.issuer_id == issuer_id, RubricCriterionRow.active.is_(True))
        .order_by(RubricCriterionRow.position, RubricCriterionRow.id)))
    if not rows:
        return list(DEFAULT_RUBRIC)
    return [RubricCriterion(r.key, r.lens, r.title, r.description) for r in rows]


def set_rubric(session: Session, actor: Actor, criteria: Sequence[RubricCriterion]) -> None:
    """Replace the issuer's rubric (past reviews keep the rubric they were scored on)."""
    actor.require(Scope.CATALOG_WRITE)
    keys = [c.key for c in criteria]
    if not criteria or len(set(keys)) != len(keys):
        raise ValidationFailed({"criteria": [_("need at least one criterion, keys unique")]})
    for row in session.scalars(select(RubricCriterionRow).where(
            RubricCriterionRow.issuer_id == actor.issuer_id)):
        session.delete(row)
    session.flush()
    for i, c in enumerate(criteria):
        session.add(RubricCriterionRow(issuer_id=actor.issuer_id, key=c.key[:50],
                                       lens=c.lens[:50], title=c.title[:200],
                                       description=c.description, position=i))
    session.flush()
    audit.record(session, "rubric.updated", subject_type="issuer", subject_id=actor.issuer_id,
                 detail={"by": actor.ref, "criteria": keys})


def review(session: Session, actor: Actor, version_id: int, data: Mapping[str, Any],
           expected_row_version: int | None = None) -> Review:
    """Record a review on a version in review and apply its decision. Separation of duties:
    nobody who authored or edited the version may review it. Approving while a criterion is
    scored "not met" needs ``confirm_not_met`` (else ValidationFailed on that field, naming
    the criteria); the confirmed criteria are recorded with the review and audited. Raises
    Forbidden, Conflict, ValidationFailed. Not idempotent (each call is a review)."""
    actor.require(Scope.REVIEW)
    version = _own_version(session, actor, version_id)
    row = apply_review(session, actor, version, data, expected_row_version,
                       make_row=Review, event_prefix="credential",
                       subject_type="credential_version")
    assert isinstance(row, Review)
    return row


def apply_review(session: Session, actor: Actor, version: Any, data: Mapping[str, Any],
                 expected_row_version: int | None, *, make_row: Any, event_prefix: str,
                 subject_type: str) -> Any:
    """The review machinery shared by every reviewed catalog object (credential and
    pathway versions): ``version`` has ``state``, ``author_ref``, ``contributors``,
    ``row_version``, ``approved_at``, ``updated_at`` and a ``reviews`` list; ``make_row``
    builds its review row. Checks separation of duties, freshness, the transition, the
    rubric's scores and the "not met" confirmation; appends the review and moves the
    version. Raises Forbidden, Conflict, ValidationFailed."""
    actor.require(Scope.REVIEW)
    values = _load(ReviewInputSchema(), dict(data))
    if actor.ref in (version.contributors or []) or actor.ref == version.author_ref:
        raise Forbidden(_("You wrote or edited this version, so someone else must review it."),
                        code="self_review")
    _check_fresh(version.row_version, expected_row_version)
    decision = ReviewDecision(values["decision"])
    try:
        target = next_state(LifecycleState(version.state), Action(decision.value))
    except TransitionRefused as exc:
        raise Conflict(exc.message, code="transition_refused") from None
    rubric = rubric_for(session, actor.issuer_id)
    known = {c.key for c in rubric}
    seen: dict[str, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for score in values["scores"]:
        if score["criterion"] not in known:
            errors.setdefault("scores", []).append(
                _("unknown criterion %(key)s", key=score["criterion"]))
        elif score["criterion"] in seen:
            errors.setdefault("scores", []).append(
                _("%(key)s scored twice", key=score["criterion"]))
        seen[score["criterion"]] = score
    missing = [c.key for c in rubric if c.key not in seen]
    if missing:
        errors.setdefault("scores", []).append(
            _("score every criterion; missing: %(keys)s", keys=", ".join(missing)))
    not_met = [c for c in rubric if seen.get(c.key, {}).get("level") == "not_met"]
    if decision is ReviewDecision.APPROVE and not_met and not values["confirm_not_met"]:
        errors.setdefault("confirm_not_met", []).append(
            _("approving with criteria scored not met needs confirmation: %(criteria)s",
              criteria=", ".join(criterion_text(c, "title") for c in not_met)))
    if errors:
        raise ValidationFailed(errors)
    confirmed = [c.key for c in not_met] if decision is ReviewDecision.APPROVE else []
    row = make_row(reviewer_ref=actor.ref, reviewer_name=actor.name[:300],
                   decision=decision.value, comment=values["comment"],
                   scores=[seen[c.key] for c in rubric],
                   rubric=[{"key": c.key, "lens": c.lens, "title": c.title} for c in rubric],
                   confirmed_not_met=confirmed)
    version.reviews.append(row)
    now = utcnow()
    version.state = target.value
    if target is LifecycleState.APPROVED:
        version.approved_at = now
    version.row_version += 1
    version.updated_at = now
    session.flush()
    detail: dict[str, Any] = {"by": actor.ref, "review": row.id}
    if confirmed:
        detail["confirmed_not_met"] = confirmed
    audit.record(session, f"{event_prefix}.review.{decision.value}",
                 subject_type=subject_type, subject_id=version.id, detail=detail)
    return row


# -- listing, history, diffs ---------------------------------------------------------------
def list_credentials(session: Session, actor: Actor, *, q: str = "", state: str = "",
                     credit_bearing: bool | None = None, page: int = 1,
                     per_page: int = 50) -> Page:
    """Micro-credentials with their latest version (filtered on that version)."""
    actor.require(Scope.CATALOG_READ)
    latest = (select(CredentialVersion.credential_id,
                     func.max(CredentialVersion.version).label("v"))
              .group_by(CredentialVersion.credential_id).subquery())
    query = (select(CredentialVersion)
             .join(latest, (CredentialVersion.credential_id == latest.c.credential_id)
                   & (CredentialVersion.version == latest.c.v))
             .join(MicroCredential, MicroCredential.id == CredentialVersion.credential_id)
             .where(MicroCredential.issuer_id == actor.issuer_id)
             .options(selectinload(CredentialVersion.credential)))
    if q:
        pattern = _like(q.strip()[:100].lower())
        query = query.where(or_(func.lower(CredentialVersion.title).like(pattern, escape="\\"),
                                func.lower(MicroCredential.code).like(pattern, escape="\\"),
                                func.lower(CredentialVersion.short_description)
                                .like(pattern, escape="\\")))
    if state:
        query = query.where(CredentialVersion.state == state)
    if credit_bearing is not None:
        query = query.where(CredentialVersion.credit_bearing.is_(credit_bearing))
    return _paginate(session, query.order_by(CredentialVersion.title, CredentialVersion.id),
                     page, per_page)


def _flat_texts(data: dict[str, Any]) -> dict[str, Any]:
    """A version's input with its French texts as fields of their own ("fr-title"), so a
    diff shows which French text changed rather than the whole translations mapping."""
    out = {k: v for k, v in data.items() if k != "translations"}
    for lang, texts in (data.get("translations") or {}).items():
        for field in (*VERSION_TEXT_FIELDS, *VERSION_LIST_FIELDS):
            if isinstance(texts, Mapping) and texts.get(field):
                out[f"{lang}-{field}"] = texts[field]
    return out


def version_diff(older: CredentialVersion, newer: CredentialVersion) -> list[FieldChange]:
    return diff_versions(_flat_texts(input_of(older)), _flat_texts(input_of(newer)))


def published_version(session: Session, issuer_id: int, code: str) -> CredentialVersion | None:
    """The current published version of a credential, for public pages and offerings."""
    return session.scalars(
        select(CredentialVersion).join(MicroCredential)
        .where(MicroCredential.issuer_id == issuer_id, MicroCredential.code == code,
               CredentialVersion.state == LifecycleState.PUBLISHED.value)
        .order_by(CredentialVersion.version.desc()).limit(1)).first()
