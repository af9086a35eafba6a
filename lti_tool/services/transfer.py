"""Transfer between institutions: the issuer's equivalency table, learners' transfer
requests, and the registrar's decisions.

* **Equivalencies** are kept like catalog changes: written as a *draft* (by someone with
  the ``transfer`` scope: a registrar or an institution administrator), *approved* by a
  second person (never its author: separation of duties), *retired* when no longer
  applied. Only approved entries decide anything. Every step is audited.
* **Submitting** (:func:`submit`): the credential is verified
  (:mod:`lti_tool.services.external_credentials`); one that does not verify is *refused*
  with the reason and nothing else happens. Otherwise it is checked against the
  learner's identities (e-mail, institutional id from their launches) and the approved
  equivalencies. It is **accepted automatically** only when the credential verifies with
  no warning, names the learner, and exactly one approved equivalency matches it with
  every condition met; anything else waits for a registrar (*pending*), with what matched
  and what did not.
* **Accepting** (automatically or by :func:`decide`): one demonstration per skill of the
  target (the skills of the equivalency, or every skill of the credential), with method
  and route "transfer", the external credential kept verbatim as its evidence file, through
  :func:`lti_tool.services.tracking.record_demonstration`; then the award engine awards,
  via the transfer route, each credential of the issuer that allows it and whose rule is
  now met (:func:`lti_tool.services.tracking.award_by_route`).

Functions raise ToolError subclasses (Forbidden, NotFound, Conflict, ValidationFailed) and
commit nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Route, Scope
from lti_tool.domain.tracking import Method, Outcome
from lti_tool.domain.transfer import (
    Alignment,
    EquivalencyRule,
    EquivalencyState,
    ExternalClaims,
    MatchBy,
    MatchResult,
    TargetKind,
    TransferState,
    claims_from_dict,
    identifies,
    match,
    ob3_claims,
    recipient_matches,
    suggestions,
)
from lti_tool.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lti_tool.models import (
    Award,
    CredentialSkill,
    CredentialVersion,
    EvidenceFile,
    LearnerAccount,
    MicroCredential,
    Skill,
    TransferEquivalency,
    TransferRequest,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit, tracking
from lti_tool.services.catalog import Actor, published_version
from lti_tool.services.external_credentials import (
    ExternalVerification,
    Fetcher,
    verify_external,
)

MAX_NOTE = 2000
MAX_MONTHS = 600


# -- equivalencies ---------------------------------------------------------------------------
def _clean(value: Any, size: int) -> str:
    return " ".join(str(value or "").split())[:size] if value is not None else ""


def _check_equivalency(session: Session, issuer_id: int, data: Mapping[str, Any]
                       ) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    external_issuer_id = _clean(data.get("external_issuer_id"), 1000)
    if not external_issuer_id.startswith(("https://", "http://", "did:")):
        errors["external_issuer_id"] = [_("give the other institution's issuer id: its https "
                                        "address or its DID, as its credentials name it")]
    try:
        match_by = MatchBy(str(data.get("match_by") or ""))
    except ValueError:
        errors["match_by"] = [_("choose: by achievement, or by alignment")]
        match_by = MatchBy.ACHIEVEMENT
    achievement_id = _clean(data.get("achievement_id"), 1000)
    alignments: list[dict[str, str]] = []
    if match_by is MatchBy.ACHIEVEMENT and not achievement_id:
        errors["achievement_id"] = [_("give the achievement id (as the credential names it)")]
    if match_by is MatchBy.ALIGNMENT:
        for raw in data.get("alignments") or []:
            if not isinstance(raw, Mapping):
                continue
            item = Alignment(name=_clean(raw.get("name"), 300), url=_clean(raw.get("url"), 1000),
                             code=_clean(raw.get("code"), 100),
                             framework=_clean(raw.get("framework"), 300))
            if item.code or item.url:
                alignments.append(item.as_dict())
        if not alignments:
            errors["alignments"] = [_("give at least one alignment target: a framework and "
                                    "code, or a target URL")]
        elif len(alignments) > 20:
            errors["alignments"] = [_("20 alignment targets at most")]
    try:
        target_kind = TargetKind(str(data.get("target_kind") or ""))
    except ValueError:
        errors["target_kind"] = [_("choose: a whole micro-credential, or skills")]
        target_kind = TargetKind.SKILLS
    credential_id: int | None = None
    skill_ids: list[int] = []
    if target_kind is TargetKind.CREDENTIAL:
        raw_id = str(data.get("credential_id") or "")
        credential = session.get(MicroCredential, int(raw_id)) \
            if raw_id.isdigit() and len(raw_id) < 10 else None
        if credential is None or credential.issuer_id != issuer_id:
            errors["credential_id"] = [_("choose one of your institution's micro-credentials")]
        elif published_version(session, issuer_id, credential.code) is None:
            errors["credential_id"] = [_("only a published micro-credential can be recognised")]
        else:
            credential_id = credential.id
    else:
        wanted = {int(s) for s in data.get("skill_ids") or []
                  if str(s).isdigit() and len(str(s)) < 10}
        found = list(session.scalars(select(Skill.id).where(
            Skill.id.in_(wanted), Skill.issuer_id == issuer_id))) if wanted else []
        if not found or len(found) != len(wanted):
            errors["skill_ids"] = [_("choose one or more of your institution's skills")]
        skill_ids = sorted(found)
    valid_months: int | None = None
    raw_months = str(data.get("valid_months") or "").strip()
    if raw_months:
        if not raw_months.isdigit() or not 1 <= int(raw_months) <= MAX_MONTHS:
            errors["valid_months"] = [_("a whole number of months from 1 to %(max)d, or "
                                        "empty (no limit)", max=MAX_MONTHS)]
        else:
            valid_months = int(raw_months)
    min_version = _clean(data.get("min_version"), 50)
    note = str(data.get("note") or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = [_("%(max)d characters at most", max=MAX_NOTE)]
    translations = data.get("translations") or {}
    fr_note = ""
    if isinstance(translations, Mapping) and isinstance(translations.get("fr"), Mapping):
        fr_note = str(translations["fr"].get("note") or "").strip()
        if len(fr_note) > MAX_NOTE:
            errors["note_fr"] = [_("%(max)d characters at most", max=MAX_NOTE)]
    if errors:
        raise ValidationFailed(errors)
    return {
        "external_issuer_id": external_issuer_id,
        "external_issuer_name": _clean(data.get("external_issuer_name"), 300),
        "match_by": match_by.value,
        "achievement_id": achievement_id if match_by is MatchBy.ACHIEVEMENT else "",
        "achievement_name": _clean(data.get("achievement_name"), 300),
        "alignments": alignments if match_by is MatchBy.ALIGNMENT else [],
        "target_kind": target_kind.value, "credential_id": credential_id,
        "skill_ids": skill_ids, "valid_months": valid_months, "min_version": min_version,
        "note": note, "translations": {"fr": {"note": fr_note}} if fr_note else {},
    }


def _equivalency_detail(eq: TransferEquivalency) -> dict[str, Any]:
    return {"external_issuer": eq.external_issuer_id, "match_by": eq.match_by,
            "achievement": eq.achievement_id, "alignments": eq.alignments,
            "target": eq.target_kind, "credential": eq.credential_id, "skills": eq.skill_ids,
            "valid_months": eq.valid_months, "min_version": eq.min_version}


def create_equivalency(session: Session, actor: Actor, data: Mapping[str, Any]
                       ) -> TransferEquivalency:
    """A draft equivalency. Raises Forbidden (no ``transfer`` scope), ValidationFailed."""
    actor.require(Scope.TRANSFER)
    values = _check_equivalency(session, actor.issuer_id, data)
    eq = TransferEquivalency(issuer_id=actor.issuer_id, state=EquivalencyState.DRAFT.value,
                             author_ref=actor.ref, author_name=actor.name[:300],
                             contributors=[actor.ref], **values)
    session.add(eq)
    session.flush()
    audit.record(session, "transfer.equivalency.created", subject_type="transfer_equivalency",
                 subject_id=eq.id, detail={"by": actor.ref, **_equivalency_detail(eq)})
    return eq


def get_equivalency(session: Session, actor: Actor, equivalency_id: int) -> TransferEquivalency:
    eq = session.get(TransferEquivalency, equivalency_id)
    if eq is None or eq.issuer_id != actor.issuer_id:
        raise NotFound(_("No such equivalency in your institution's table."))
    return eq


def update_equivalency(session: Session, actor: Actor, equivalency_id: int,
                       data: Mapping[str, Any], expected_row_version: int | None = None
                       ) -> TransferEquivalency:
    """Change a draft (an approved entry is retired and written again, like a published
    catalog version). Whoever changes it joins its contributors, who cannot approve it.
    Raises Forbidden, Conflict (not a draft, or changed meanwhile), NotFound,
    ValidationFailed."""
    actor.require(Scope.TRANSFER)
    eq = get_equivalency(session, actor, equivalency_id)
    if eq.state != EquivalencyState.DRAFT.value:
        raise Conflict(_("Only a draft equivalency can be changed: retire this one and write "
                         "a new one."), code="not_draft")
    if expected_row_version is not None and expected_row_version != eq.row_version:
        raise Conflict(_("Someone else changed this equivalency in the meantime. Reload it, "
                         "then decide again."), code="stale_version")
    values = _check_equivalency(session, actor.issuer_id, data)
    for name, value in values.items():
        setattr(eq, name, value)
    if actor.ref not in (eq.contributors or []):
        eq.contributors = [*(eq.contributors or []), actor.ref]
    eq.row_version += 1
    eq.updated_at = utcnow()
    session.flush()
    audit.record(session, "transfer.equivalency.updated", subject_type="transfer_equivalency",
                 subject_id=eq.id, detail={"by": actor.ref, **_equivalency_detail(eq)})
    return eq


def approve_equivalency(session: Session, actor: Actor, equivalency_id: int,
                        expected_row_version: int | None = None) -> TransferEquivalency:
    """Approve a draft. Separation of duties: its author cannot. Raises Forbidden,
    Conflict (not a draft, or changed meanwhile), NotFound. Idempotent for the same
    approver."""
    actor.require(Scope.TRANSFER)
    eq = get_equivalency(session, actor, equivalency_id)
    if eq.state == EquivalencyState.APPROVED.value and eq.approved_by == actor.ref:
        return eq
    if eq.state != EquivalencyState.DRAFT.value:
        raise Conflict(_("Only a draft equivalency can be approved."), code="not_draft")
    if expected_row_version is not None and expected_row_version != eq.row_version:
        raise Conflict(_("Someone else changed this equivalency in the meantime. Reload it, "
                       "then decide again."), code="stale_version")
    if eq.author_ref == actor.ref or actor.ref in (eq.contributors or []):
        raise Forbidden(_("You wrote this equivalency, so someone else must approve it."),
                        code="self_review")
    now = utcnow()
    eq.state = EquivalencyState.APPROVED.value
    eq.approved_by, eq.approved_by_name, eq.approved_at = actor.ref, actor.name[:300], now
    eq.row_version += 1
    eq.updated_at = now
    session.flush()
    audit.record(session, "transfer.equivalency.approved", subject_type="transfer_equivalency",
                 subject_id=eq.id, detail={"by": actor.ref, "author": eq.author_ref})
    return eq


def retire_equivalency(session: Session, actor: Actor, equivalency_id: int
                       ) -> TransferEquivalency:
    """Stop applying an equivalency (past decisions keep it). Idempotent."""
    actor.require(Scope.TRANSFER)
    eq = get_equivalency(session, actor, equivalency_id)
    if eq.state != EquivalencyState.RETIRED.value:
        now = utcnow()
        eq.state = EquivalencyState.RETIRED.value
        eq.retired_at = eq.updated_at = now
        eq.row_version += 1
        session.flush()
        audit.record(session, "transfer.equivalency.retired",
                     subject_type="transfer_equivalency", subject_id=eq.id,
                     detail={"by": actor.ref})
    return eq


def list_equivalencies(session: Session, issuer_id: int, *, state: str = ""
                       ) -> list[TransferEquivalency]:
    query = select(TransferEquivalency).where(TransferEquivalency.issuer_id == issuer_id)
    if state:
        query = query.where(TransferEquivalency.state == state)
    return list(session.scalars(query.order_by(TransferEquivalency.external_issuer_name,
                                               TransferEquivalency.id)))


def rule_of(eq: TransferEquivalency) -> EquivalencyRule:
    return EquivalencyRule(
        external_issuer_id=eq.external_issuer_id, match_by=MatchBy(eq.match_by),
        achievement_id=eq.achievement_id,
        alignments=tuple(Alignment(**{k: str(v) for k, v in a.items()
                                      if k in ("name", "url", "code", "framework")})
                         for a in eq.alignments or []),
        valid_months=eq.valid_months, min_version=eq.min_version)


def target_skills(session: Session, eq: TransferEquivalency) -> list[Skill]:
    """The local skills an equivalency grants: its skills, or every skill of the current
    published version of its credential."""
    if eq.target_kind == TargetKind.CREDENTIAL.value and eq.credential_id is not None:
        credential = session.get(MicroCredential, eq.credential_id)
        version = published_version(session, eq.issuer_id, credential.code) \
            if credential is not None else None
        return [link.skill for link in version.skill_links] if version is not None else []
    if not eq.skill_ids:
        return []
    return list(session.scalars(select(Skill).where(Skill.id.in_(eq.skill_ids))
                                .order_by(Skill.code)))


@dataclass(frozen=True)
class Candidate:
    """An approved equivalency about the credential, and whether its conditions hold."""

    equivalency: TransferEquivalency
    result: MatchResult


def candidates(session: Session, issuer_id: int, claims: ExternalClaims, *,
               now: datetime) -> list[Candidate]:
    """The approved equivalencies that identify this credential, with their verdicts."""
    found = []
    for eq in session.scalars(select(TransferEquivalency).where(
            TransferEquivalency.issuer_id == issuer_id,
            TransferEquivalency.state == EquivalencyState.APPROVED.value)
            .order_by(TransferEquivalency.id)):
        rule = rule_of(eq)
        if identifies(rule, claims):
            found.append(Candidate(eq, match(rule, claims, now=now)))
    return found


def skill_suggestions(session: Session, issuer_id: int, claims: ExternalClaims
                      ) -> list[tuple[Skill, list[Alignment]]]:
    """The issuer's skills sharing alignment targets with the external achievement."""
    skills = {s.id: s for s in session.scalars(select(Skill).where(
        Skill.issuer_id == issuer_id))}
    return [(skills[sid], shared) for sid, shared in
            suggestions(((s.id, s.alignments or []) for s in skills.values()), claims)]


# -- requests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Submitter:
    """Who submits or decides: ``account:<id>`` (a launched learner or registrar)."""

    ref: str
    name: str
    account_id: int | None = None
    launch_id: str = ""


def _learner_identities(session: Session, person_id: int) -> tuple[list[str], list[str]]:
    rows = session.execute(select(LearnerAccount.email, LearnerAccount.lis_person_sourcedid)
                           .where(LearnerAccount.person_id == person_id)).all()
    return [r[0] for r in rows if r[0]], [r[1] for r in rows if r[1]]


def _content_type(fmt: str) -> tuple[str, str]:
    return {"png": ("image/png", "external-credential.png"),
            "svg": ("image/svg+xml", "external-credential.svg"),
            "jwt": ("application/jwt", "external-credential.jwt"),
            "url": ("text/uri-list", "external-credential.url")}.get(
        fmt, ("application/json", "external-credential.json"))


def submit(session: Session, *, issuer_id: int, account: LearnerAccount, data: bytes,
           by: Submitter, base_url: str, fetcher: Fetcher, context_id: int | None = None,
           filename: str = "", now: datetime | None = None) -> TransferRequest:
    """Verify and record a transfer request for ``account``'s person; accept it at once
    when an approved equivalency matches exactly (see the module docstring). Raises
    ValidationFailed (empty input). Not idempotent (each call is a request)."""
    if not data.strip():
        raise ValidationFailed({"credential": [_("choose the credential file, or paste the "
                                               "credential or its address")]})
    now = now or utcnow()
    verification = verify_external(session, data, base_url=base_url, fetcher=fetcher, now=now)
    claims = verification.claims
    content_type, default_name = _content_type(verification.format)
    request = TransferRequest(
        issuer_id=issuer_id, person_id=account.person_id, account_id=account.id,
        context_id=context_id, submitted_by=by.ref, submitted_by_name=by.name[:300],
        original=data, original_type=content_type,
        original_name=(filename or default_name)[:255],
        sha256=hashlib.sha256(data).hexdigest(), standard=verification.standard,
        result=verification.result, reason=verification.reason[:4000],
        report=verification.as_dict(), claims=claims.as_dict() if claims else {},
        external_issuer_id=(claims.issuer_id if claims else "")[:1000],
        external_achievement_id=(claims.achievement_id if claims else "")[:1000],
        state=TransferState.PENDING.value, created_at=now, updated_at=now)
    if claims is not None:
        emails, sourcedids = _learner_identities(session, account.person_id)
        request.recipient_match = recipient_matches(claims.identities, emails=emails,
                                                    sourcedids=sourcedids) or ""
    if not verification.valid and verification.result == "invalid":
        request.state = TransferState.REFUSED.value
        request.decided_at = now
    session.add(request)
    session.flush()
    audit.record(session, "transfer.submitted", actor_account_id=by.account_id,
                 context_id=context_id, subject_type="transfer_request",
                 subject_id=request.id, launch_id=by.launch_id,
                 detail={"by": by.ref, "person": account.person_id,
                         "result": verification.result, "reason": request.reason[:300],
                         "standard": verification.standard, "sha256": request.sha256})
    if request.state == TransferState.PENDING.value and claims is not None:
        _try_automatic(session, request, verification, claims, now=now)
    return request


def _try_automatic(session: Session, request: TransferRequest,
                   verification: ExternalVerification, claims: ExternalClaims, *,
                   now: datetime) -> None:
    if not verification.valid or not request.recipient_match:
        return
    exact = [c for c in candidates(session, request.issuer_id, claims, now=now)
             if c.result.matches]
    if len(exact) != 1:
        return
    _accept(session, request, exact[0].equivalency, target_skills(session, exact[0].equivalency),
            by=Submitter("auto", "MicroCred (approved equivalency)"), note="", auto=True,
            now=now)


def automatic_blockers(session: Session, request: TransferRequest, *,
                       now: datetime | None = None) -> list[str]:
    """Why a pending request was not accepted automatically, in words."""
    now = now or utcnow()
    reasons = []
    if request.result != "valid":
        reasons.append(_("it verifies with a warning: %(reason)s", reason=request.reason))
    if not request.recipient_match:
        reasons.append(_("it does not name this learner by an e-mail address or institutional "
                       "id their learning platform gave us"))
    found = candidates(session, request.issuer_id, claims_from_dict(request.claims), now=now)
    exact = [c for c in found if c.result.matches]
    if not found:
        reasons.append(_("no approved equivalency is about this issuer and achievement"))
    elif not exact:
        reasons.extend(p for c in found for p in c.result.problems)
    elif len(exact) > 1:
        reasons.append(_("%(n)d approved equivalencies match it: a registrar chooses",
                         n=len(exact)))
    return reasons


def get_request(session: Session, issuer_id: int, request_id: int) -> TransferRequest:
    request = session.get(TransferRequest, request_id)
    if request is None or request.issuer_id != issuer_id:
        raise NotFound(_("No such transfer request."))
    return request


def list_requests(session: Session, issuer_id: int, *, state: str = "",
                  person_id: int | None = None, limit: int = 200) -> list[TransferRequest]:
    query = select(TransferRequest).where(TransferRequest.issuer_id == issuer_id)
    if state:
        query = query.where(TransferRequest.state == state)
    if person_id is not None:
        query = query.where(TransferRequest.person_id == person_id)
    return list(session.scalars(query.order_by(TransferRequest.created_at.desc(),
                                               TransferRequest.id.desc()).limit(limit)))


def decide(session: Session, actor: Actor, request_id: int, *, accept: bool, by: Submitter,
           equivalency_id: int | None = None, skill_ids: Sequence[int] = (),
           note: str = "", now: datetime | None = None) -> TransferRequest:
    """A registrar accepts (with an approved equivalency about this credential, or chosen
    skills of the issuer) or declines a pending request, with a note (required to decline
    or to accept without an equivalency). Separation of duties: who submitted a request
    does not decide it. Raises Forbidden, Conflict (not pending), NotFound,
    ValidationFailed. Not idempotent: a decided request is a Conflict."""
    actor.require(Scope.TRANSFER)
    now = now or utcnow()
    request = get_request(session, actor.issuer_id, request_id)
    if request.state != TransferState.PENDING.value:
        raise Conflict(_("This request was already decided."), code="already_decided")
    if request.submitted_by == by.ref:
        raise Forbidden(_("You submitted this request, so another registrar must decide it."),
                        code="self_review")
    note = note.strip()
    errors: dict[str, list[str]] = {}
    if len(note) > MAX_NOTE:
        errors["note"] = [_("%(max)d characters at most", max=MAX_NOTE)]
    if not accept:
        if not note:
            errors["note"] = [_("say why it is declined (the learner sees it)")]
        if errors:
            raise ValidationFailed(errors)
        request.state = TransferState.DECLINED.value
        request.decision_note = note
        request.decided_by, request.decided_by_name = by.ref, by.name[:300]
        request.decided_at = request.updated_at = now
        session.flush()
        audit.record(session, "transfer.declined", actor_account_id=by.account_id,
                     subject_type="transfer_request", subject_id=request.id,
                     launch_id=by.launch_id, detail={"by": by.ref, "note": note[:300]})
        return request
    equivalency = None
    skills: list[Skill] = []
    if equivalency_id is not None:
        equivalency = session.get(TransferEquivalency, equivalency_id)
        if equivalency is None or equivalency.issuer_id != actor.issuer_id or \
                equivalency.state != EquivalencyState.APPROVED.value or \
                not identifies(rule_of(equivalency), claims_from_dict(request.claims)):
            errors["equivalency_id"] = [_("choose an approved equivalency about this "
                                        "credential")]
        else:
            skills = target_skills(session, equivalency)
    else:
        wanted = {int(s) for s in skill_ids}
        skills = list(session.scalars(select(Skill).where(
            Skill.id.in_(wanted), Skill.issuer_id == actor.issuer_id))) if wanted else []
        if not skills or len(skills) != len(wanted):
            errors["skill_ids"] = [_("choose the skills it recognises, or an equivalency")]
        if not note:
            errors["note"] = [_("say why it is recognised without an equivalency")]
    if errors:
        raise ValidationFailed(errors)
    _accept(session, request, equivalency, skills, by=by, note=note, auto=False, now=now)
    return request


def _accept(session: Session, request: TransferRequest,
            equivalency: TransferEquivalency | None, skills: Iterable[Skill], *,
            by: Submitter, note: str, auto: bool, now: datetime) -> None:
    account = session.get(LearnerAccount, request.account_id) \
        if request.account_id is not None else None
    if account is None:
        raise Conflict(_("The learner's account no longer exists."), code="no_account")
    claims = claims_from_dict(request.claims)
    what = claims.achievement_name or claims.achievement_id or "a credential"
    issuer = claims.issuer_name or claims.issuer_id
    evidence = EvidenceFile(
        sha256=request.sha256, filename=request.original_name or "external-credential",
        content_type=_stored_type(request.original_type), size=len(request.original),
        data=request.original, uploaded_by=request.submitted_by[:100])
    session.add(evidence)
    session.flush()
    issued = claims.issued_at if claims.issued_at is not None and claims.issued_at <= now \
        else now
    evidence_url = claims.credential_id if claims.credential_id.startswith("https://") else ""
    assessor = tracking.Assessor(ref=by.ref, name=by.name, launch_id=by.launch_id,
                                 account_id=by.account_id)
    demonstration_ids = []
    skill_list = list(skills)
    for skill in skill_list:
        result = tracking.record_demonstration(
            session, context=None, account=account, skill=skill, outcome=Outcome.PASS.value,
            method=Method.TRANSFER.value, assessor=assessor, route=Route.TRANSFER,
            evidence_url=evidence_url[:1000],
            evidence_note=(f"Recognised by transfer (request {request.id}): “{what}” issued "
                           f"by {issuer}" + (f" on {claims.issued_at.date().isoformat()}"
                                             if claims.issued_at else "")
                           + f" ({request.standard}).")[:4000],
            evidence_file_id=evidence.id, demonstrated_at=issued)
        demonstration_ids.append(result.demonstration.id)
    # every credential of the issuer with one of these skills in any version (the award
    # engine reads each one's current published version and rule)
    ids = set(session.scalars(select(CredentialVersion.credential_id).join(
        CredentialSkill, CredentialSkill.version_id == CredentialVersion.id).where(
        CredentialSkill.skill_id.in_([s.id for s in skill_list])))) if skill_list else set()
    awards: list[Award] = tracking.award_by_route(session, person_id=account.person_id,
                                                  credential_ids=ids, route=Route.TRANSFER)
    request.state = TransferState.ACCEPTED.value
    request.equivalency_id = equivalency.id if equivalency is not None else None
    request.auto = auto
    request.decision_note = note
    request.decided_by, request.decided_by_name = by.ref, by.name[:300]
    request.decided_at = request.updated_at = now
    request.demonstration_ids = demonstration_ids
    request.award_ids = [a.id for a in awards]
    session.flush()
    audit.record(session, "transfer.accepted", actor_account_id=by.account_id,
                 subject_type="transfer_request", subject_id=request.id,
                 launch_id=by.launch_id,
                 detail={"by": by.ref, "auto": auto, "equivalency": request.equivalency_id,
                         "skills": [s.code for s in skill_list],
                         "demonstrations": demonstration_ids, "awards": request.award_ids})


def _stored_type(original_type: str) -> str:
    """Evidence files are served as attachments; JSON and JWT as plain text, PNG as PNG,
    anything else (SVG) as a binary download."""
    if original_type in ("application/json", "application/jwt", "text/uri-list"):
        return "text/plain; charset=utf-8"
    if original_type == "image/png":
        return "image/png"
    return "application/octet-stream"


def claims_of(request: TransferRequest) -> ExternalClaims:
    return claims_from_dict(request.claims)


__all__ = [
    "Candidate",
    "Submitter",
    "approve_equivalency",
    "automatic_blockers",
    "candidates",
    "claims_of",
    "create_equivalency",
    "decide",
    "get_equivalency",
    "get_request",
    "list_equivalencies",
    "list_requests",
    "ob3_claims",
    "retire_equivalency",
    "rule_of",
    "skill_suggestions",
    "submit",
    "target_skills",
    "update_equivalency",
]
