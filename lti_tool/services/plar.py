"""Prior learning assessment and recognition (PLAR): a learner asks for recognition of a
micro-credential (or chosen skills of it) with a narrative per skill and evidence;
assessors assigned to that credential assess each skill (method, schedule, decision,
rationale), may ask for more evidence, and every granted skill becomes a demonstration with
method "plar" through ``services.tracking.record_demonstration`` (route PLAR), so the award
engine awards the same credential through the PLAR route where its version allows it.

Rules (``domain.plar``): states submitted → in assessment ⇄ more evidence needed → decided,
or withdrawn by the learner while open; an assessor never assesses their own request (the
same Person, on any platform); where the issuer asks for it, a second assessor (not the
first, not the learner) confirms each skill granted on a credit-bearing credential. Every
change is audited (``plar.*``) and tells the people concerned through the notification
outbox (``services.notifications``) and the LMS page.

Functions raise ToolError subclasses (NotFound, Forbidden, Conflict, ValidationFailed) with
nothing changed, and commit nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _babel_gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lti_tool.domain.catalog import LifecycleState, Route
from lti_tool.domain.lti import ContextKind
from lti_tool.domain.plar import (
    MAX_EVIDENCE_ITEMS,
    MAX_MESSAGE,
    MAX_NARRATIVE,
    MAX_RATIONALE,
    OPEN_STATES,
    SCHEDULED_METHODS,
    AssessmentMethod,
    EvidenceKind,
    MessageKind,
    PlarSettings,
    PlarState,
    SkillDecision,
    SkillStatus,
    all_final,
    can_move,
    due_date,
    needs_second_assessor,
    read_settings,
)
from lti_tool.domain.texts import localized
from lti_tool.domain.tracking import (
    AwardStatus,
    CellStatus,
    DemonstrationFact,
    Method,
    Outcome,
    summarise_cell,
)
from lti_tool.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lti_tool.i18n import ENGLISH, FRENCH, format_date, format_datetime
from lti_tool.models import (
    Award,
    Context,
    CredentialVersion,
    EvidenceFile,
    Issuer,
    LearnerAccount,
    MicroCredential,
    Offering,
    PlarAssessor,
    PlarEvidence,
    PlarMessage,
    PlarRequest,
    PlarSkill,
    Skill,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit, evidence, notifications, tracking
from lti_tool.services.catalog import published_version

SUBJECT = "plar_request"
QUEUE_LIMIT = 500   # rows of the assessors' queue shown at once (filters narrow it)


def _(text: str, **values: Any) -> str:
    """Translated in the current locale (the request's, or one forced for an e-mail)."""
    return str(_babel_gettext(text, **values))


def _method_label(method: str) -> str:
    return {"portfolio_review": _("Portfolio review"), "challenge_exam": _("Challenge exam"),
            "interview": _("Interview"), "demonstration": _("Demonstration")}.get(method,
                                                                                 method)


# -- settings --------------------------------------------------------------------------------
def settings_of(issuer: Issuer) -> PlarSettings:
    return read_settings((issuer.settings or {}).get("plar"))


def save_settings(session: Session, issuer: Issuer, settings: PlarSettings, *,
                  actor_account_id: int | None, launch_id: str = "") -> None:
    """Store the issuer's PLAR settings (audited with what changed). Idempotent."""
    before = settings_of(issuer).as_dict()
    after = settings.as_dict()
    if before == after:
        return
    issuer.settings = {**(issuer.settings or {}), "plar": after}  # a new dict: JSON change
    issuer.row_version += 1
    audit.record(session, "plar.settings_changed", actor_account_id=actor_account_id,
                 subject_type="issuer", subject_id=issuer.id, launch_id=launch_id,
                 detail={k: after[k] for k in after if before.get(k) != after[k]})
    session.flush()


# -- assessors -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlarActor:
    """A launched person acting on PLAR (learner or assessor)."""

    account_id: int
    person_id: int
    platform_id: int
    sub: str
    name: str
    email: str = ""
    launch_id: str = ""

    @property
    def ref(self) -> str:
        return f"account:{self.account_id}"


def grant_assessor(session: Session, *, issuer_id: int, credential_id: int, account:
                   LearnerAccount, by: PlarActor | None) -> PlarAssessor:
    """Make a platform user an assessor of one credential of the issuer. Idempotent.
    Raises NotFound (not the issuer's credential)."""
    credential = session.get(MicroCredential, credential_id)
    if credential is None or credential.issuer_id != issuer_id:
        raise NotFound(_("No such micro-credential in your institution's catalog."))
    row = session.scalars(select(PlarAssessor).where(
        PlarAssessor.credential_id == credential_id,
        PlarAssessor.platform_id == account.platform_id,
        PlarAssessor.sub == account.sub)).first()
    if row is not None:
        return row
    row = PlarAssessor(issuer_id=issuer_id, credential_id=credential_id,
                       platform_id=account.platform_id, sub=account.sub,
                       granted_by=by.ref if by else "cli")
    session.add(row)
    session.flush()
    audit.record(session, "plar.assessor_granted",
                 actor_account_id=by.account_id if by else None, subject_type="credential",
                 subject_id=credential_id, launch_id=by.launch_id if by else "",
                 detail={"account": account.id, "credential": credential.code})
    return row


def revoke_assessor(session: Session, *, issuer_id: int, grant_id: int,
                    by: PlarActor | None) -> None:
    """Remove an assessor grant. Idempotent (a grant already gone is fine)."""
    row = session.get(PlarAssessor, grant_id)
    if row is None or row.issuer_id != issuer_id:
        return
    audit.record(session, "plar.assessor_revoked",
                 actor_account_id=by.account_id if by else None, subject_type="credential",
                 subject_id=row.credential_id, launch_id=by.launch_id if by else "",
                 detail={"platform": row.platform_id, "sub": row.sub})
    session.delete(row)
    session.flush()


def assessor_grants(session: Session, issuer_id: int) -> list[PlarAssessor]:
    return list(session.scalars(select(PlarAssessor).where(PlarAssessor.issuer_id == issuer_id)
                                .options(selectinload(PlarAssessor.credential))
                                .order_by(PlarAssessor.credential_id, PlarAssessor.id)))


def assessed_credentials(session: Session, issuer_id: int, platform_id: int,
                         sub: str) -> set[int]:
    """The credentials this platform user assesses for the issuer."""
    return set(session.scalars(select(PlarAssessor.credential_id).where(
        PlarAssessor.issuer_id == issuer_id, PlarAssessor.platform_id == platform_id,
        PlarAssessor.sub == sub)))


def _assessor_accounts(session: Session, credential_id: int) -> list[LearnerAccount]:
    return list(session.scalars(select(LearnerAccount).join(
        PlarAssessor, (PlarAssessor.platform_id == LearnerAccount.platform_id)
        & (PlarAssessor.sub == LearnerAccount.sub))
        .where(PlarAssessor.credential_id == credential_id).order_by(LearnerAccount.id)))


# -- what a learner may ask for --------------------------------------------------------------
@dataclass(frozen=True)
class Requestable:
    credential: MicroCredential
    version: CredentialVersion
    skills: list[Skill]


def _allows_plar(content: dict[str, Any] | None) -> bool:
    """Whether a credential version's content lists the PLAR route."""
    return Route.PLAR.value in (content or {}).get("allowed_routes", [])


def _published_requestable(query: Any, issuer_id: int, context: Context | None) -> Any:
    """``query`` (a select of CredentialVersion or its columns) narrowed to the issuer's
    published versions this course may ask recognition for (see
    ``requestable_credentials``), first per credential in the order it picks them."""
    query = (query.join(MicroCredential, MicroCredential.id == CredentialVersion.credential_id)
             .where(MicroCredential.issuer_id == issuer_id,
                    CredentialVersion.state == LifecycleState.PUBLISHED.value)
             .order_by(CredentialVersion.title, CredentialVersion.version.desc()))
    if context is not None and context.kind != ContextKind.CONTINUING_ED.value:
        offered = select(Offering.credential_id).where(Offering.context_id == context.id,
                                                       Offering.detached_at.is_(None))
        query = query.where(CredentialVersion.credential_id.in_(offered))
    return query


def requestable_credentials(session: Session, issuer_id: int,
                            context: Context | None) -> list[Requestable]:
    """What a learner may ask recognition for from this course: in a continuing-education
    (PLAR) shell, every published credential of the issuer that allows the PLAR route; in
    any other course, those of them the course offers."""
    query = _published_requestable(
        select(CredentialVersion).options(selectinload(CredentialVersion.skill_links),
                                          selectinload(CredentialVersion.credential)),
        issuer_id, context)
    seen: set[int] = set()
    found = []
    for version in session.scalars(query):
        if version.credential_id in seen:
            continue
        seen.add(version.credential_id)
        if _allows_plar(version.content):
            found.append(Requestable(version.credential, version,
                                     [link.skill for link in version.skill_links]))
    return found


def can_request_any(session: Session, issuer_id: int, context: Context | None) -> bool:
    """``bool(requestable_credentials(...))`` from two columns, without loading versions,
    skills and credentials (the learner's landing page asks only whether to offer PLAR)."""
    seen: set[int] = set()
    rows = session.execute(_published_requestable(
        select(CredentialVersion.credential_id, CredentialVersion.content), issuer_id, context))
    for credential_id, content in rows:
        if credential_id in seen:
            continue
        seen.add(credential_id)
        if _allows_plar(content):
            return True
    return False


def requestable(session: Session, issuer_id: int, context: Context | None,
                code: str) -> Requestable:
    """One credential the learner may ask recognition for here, or NotFound."""
    for item in requestable_credentials(session, issuer_id, context):
        if item.credential.code == code:
            return item
    raise NotFound(_("This micro-credential cannot be earned through prior learning "
                     "assessment from this course."))


# -- submitting ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvidenceInput:
    """Evidence as the learner gave it: links (URL, title), files (name, bytes), awards of
    theirs (ids) and other credentials they hold (URLs)."""

    links: Sequence[tuple[str, str]] = ()
    files: Sequence[tuple[str, bytes]] = ()
    award_ids: Sequence[int] = ()
    credential_urls: Sequence[str] = ()

    @property
    def count(self) -> int:
        return len(self.links) + len(self.files) + len(self.award_ids) + \
            len(self.credential_urls)


def _check_url(url: str, field_name: str, errors: dict[str, list[str]]) -> str:
    try:
        return tracking._check_evidence_url(url)
    except ValidationFailed:
        errors.setdefault(field_name, []).append(
            _("%(url)s is not an http(s) link (1000 characters at most)", url=url[:80]))
        return ""


def _check_evidence(session: Session, given: EvidenceInput, actor: PlarActor,
                    existing: int) -> tuple[dict[str, list[str]], list[tuple[str, str]],
                                            list[str], list[Award]]:
    """Every piece checked, nothing stored: (errors, links, credential URLs, awards). Files
    are checked by the existing upload safety (``services.evidence``: size, sniffed type)."""
    errors: dict[str, list[str]] = {}
    links = [(_check_url(url, "links", errors), title.strip()[:300])
             for url, title in given.links if url.strip()]
    credential_urls = [_check_url(url, "credential_urls", errors)
                       for url in given.credential_urls if url.strip()]
    awards: list[Award] = []
    for award_id in given.award_ids:
        award = session.get(Award, award_id)
        if award is None or award.person_id != actor.person_id or \
                award.status == AwardStatus.REVOKED.value:
            errors.setdefault("award_ids", []).append(_("choose credentials you hold"))
        else:
            awards.append(award)
    if existing + given.count > MAX_EVIDENCE_ITEMS:
        errors.setdefault("evidence", []).append(
            _("%(num)d pieces of evidence at most per request", num=MAX_EVIDENCE_ITEMS))
    for name, data in given.files:
        if len(data) > evidence.MAX_EVIDENCE_BYTES:
            raise evidence.EvidenceTooLarge()
        if not data:
            errors.setdefault("files", []).append(
                _("%(name)s: the file is empty", name=name[:80]))
        elif evidence.sniff(data) is None:
            if evidence.looks_like_markup(data):
                why = _("%(name)s: HTML, SVG and XML files cannot be uploaded as evidence: "
                        "save it as PDF, or link to it. Allowed: PDF, PNG, JPEG, plain text "
                        "or ZIP.", name=name[:80])
            else:
                why = _("%(name)s: this type of file cannot be uploaded. Allowed: PDF, PNG, "
                        "JPEG, plain text or ZIP.", name=name[:80])
            errors.setdefault("files", []).append(why)
    return errors, links, credential_urls, awards


def _add_evidence(session: Session, request: PlarRequest, given: EvidenceInput,
                  actor: PlarActor) -> tuple[list[PlarEvidence], dict[str, list[str]]]:
    """Check every piece, then (only if all are fine) store them."""
    existing = len(request.evidence) if request.id else 0
    errors, links, credential_urls, awards = _check_evidence(session, given, actor, existing)
    if errors:
        return [], errors
    rows: list[PlarEvidence] = []
    for name, data in given.files:
        stored: EvidenceFile = evidence.store_evidence(session, filename=name, data=data,
                                                       uploaded_by=actor.ref)
        rows.append(PlarEvidence(kind=EvidenceKind.FILE.value, title=stored.filename,
                                 evidence_file_id=stored.id))
    rows += [PlarEvidence(kind=EvidenceKind.LINK.value, url=url, title=title)
             for url, title in links]
    rows += [PlarEvidence(kind=EvidenceKind.CREDENTIAL.value, url=url) for url in
             credential_urls]
    rows += [PlarEvidence(kind=EvidenceKind.CREDENTIAL.value, award_id=a.id,
                          title=a.version.title) for a in awards]
    for row in rows:
        request.evidence.append(row)
    return rows, {}


def submit(session: Session, *, issuer: Issuer, context: Context, learner: PlarActor,
           code: str, narratives: dict[int, str], given: EvidenceInput,
           locale: str = "en") -> PlarRequest:
    """A learner's request for recognition of chosen skills of a credential (every skill
    asked for needs a narrative; evidence is optional but checked). Raises NotFound (not
    requestable here), Conflict (already held, or a request already open), ValidationFailed,
    EvidenceTooLarge. Not idempotent: a second submit while one is open is a Conflict."""
    item = requestable(session, issuer.id, context, code)
    if tracking.holds_credential(session, learner.person_id, item.credential.id):
        raise Conflict(_("You already hold this micro-credential."), code="already_held")
    if open_request_for(session, learner.person_id, item.credential.id) is not None:
        raise Conflict(_("You already have an open request for this micro-credential: add "
                         "to it instead."), code="request_open")
    errors: dict[str, list[str]] = {}
    skill_ids = {s.id for s in item.skills}
    chosen = {sid: text.strip() for sid, text in narratives.items() if sid in skill_ids}
    if not chosen:
        errors["skills"] = [_("choose at least one skill and say how you learned it")]
    for sid, text in chosen.items():
        if not text:
            errors[f"narrative_{sid}"] = [
                _("say how and where you learned and used this skill")]
        elif len(text) > MAX_NARRATIVE:
            errors[f"narrative_{sid}"] = [_("%(num)d characters at most", num=MAX_NARRATIVE)]
    errors.update(_check_evidence(session, given, learner, 0)[0])
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    settings = settings_of(issuer)
    account = session.get(LearnerAccount, learner.account_id)
    request = PlarRequest(
        issuer_id=issuer.id, credential_id=item.credential.id, version_id=item.version.id,
        person_id=learner.person_id, account_id=learner.account_id, context_id=context.id,
        state=PlarState.SUBMITTED.value, learner_email=(account.email if account else "")
        or learner.email, learner_name=learner.name[:300], locale=locale[:10],
        submitted_at=now, updated_at=now,
        due_at=due_date(now, settings.turnaround_days))
    for position, skill in enumerate(item.skills):
        if skill.id in chosen:
            request.skills.append(PlarSkill(skill_id=skill.id, position=position,
                                            narrative=chosen[skill.id]))
    _rows, evidence_errors = _add_evidence(session, request, given, learner)
    if evidence_errors:
        raise ValidationFailed(evidence_errors)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        # A second submit raced this one: the partial unique index on open requests
        # decided (uq_plar_requests_open).
        raise Conflict(_("You already have an open request for this micro-credential: add "
                         "to it instead."), code="request_open") from None
    audit.record(session, "plar.submitted", actor_account_id=learner.account_id,
                 context_id=context.id, subject_type=SUBJECT, subject_id=request.id,
                 launch_id=learner.launch_id,
                 detail={"credential": item.credential.code,
                         "skills": [s.skill_id for s in request.skills],
                         "evidence": len(request.evidence)})
    _tell_learner(session, request, "submitted", lambda: (
        _("Your PLAR request for %(title)s was received", title=_title(session, request)),
        _("We received your request for recognition of prior learning for “%(title)s” "
          "(%(num)d skills). An assessor will look at it; a decision is expected by "
          "%(date)s.", title=_title(session, request), num=len(request.skills),
          date=format_date(request.due_at))))
    who = learner.name
    _tell_assessors(session, request, [a for a in _assessor_accounts(session, item.credential.id)
                                       if a.person_id != learner.person_id],
                    "new_request", lambda: (
        _("New PLAR request: %(title)s", title=_title(session, request)),
        _("%(learner)s asked for recognition of prior learning for “%(title)s”. It is due by "
          "%(date)s. Open MicroCred's PLAR assessments from your course to assess it.",
          learner=who or _("A learner"), title=_title(session, request),
          date=format_date(request.due_at))))
    return request


def open_request_for(session: Session, person_id: int, credential_id: int) -> PlarRequest | None:
    return session.scalars(select(PlarRequest).where(
        PlarRequest.person_id == person_id, PlarRequest.credential_id == credential_id,
        PlarRequest.state.in_([s.value for s in OPEN_STATES]))).first()


def _title(session: Session, request: PlarRequest) -> str:
    """The credential's title in the current (or forced, for an e-mail) language."""
    version = session.get(CredentialVersion, request.version_id)
    if version is None:
        return request.credential.code
    locale = get_locale()
    lang = "fr" if locale is not None and locale.language == "fr" else "en"
    return localized(version.title, (version.content or {}).get("translations"), "title",
                     lang).text


Compose = Callable[[], tuple[str, str]]


def _tell_learner(session: Session, request: PlarRequest, kind: str, compose: Compose) -> None:
    """A notice (e-mail and LMS page) for the learner, in the language they asked in."""
    with force_locale(request.locale or ENGLISH):
        subject, body = compose()
        body += "\n\n" + _("Open MicroCred from your course to see your request.")
    notifications.notify(
        session, kind=f"plar.{kind}", to_address=request.learner_email,
        person_id=request.person_id, issuer_id=request.issuer_id, subject_type=SUBJECT,
        subject_id=request.id, subject=subject, body=body, data={"state": request.state})


def _tell_assessors(session: Session, request: PlarRequest, accounts: Iterable[LearnerAccount],
                    kind: str, compose: Compose) -> None:
    """A notice for assessors, whose language MicroCred does not know: in English and
    French, as Canadian institutions write to staff (each version whole, English first)."""
    with force_locale(ENGLISH):
        subject_en, body_en = compose()
    with force_locale(FRENCH):
        subject_fr, body_fr = compose()
    subject = subject_en if subject_en == subject_fr else f"{subject_en} / {subject_fr}"
    body = f"{body_en}\n\n--- Français ---\n\n{body_fr}"
    for account in accounts:
        notifications.notify(
            session, kind=f"plar.{kind}", to_address=account.email,
            person_id=account.person_id, issuer_id=request.issuer_id, subject_type=SUBJECT,
            subject_id=request.id, subject=subject, body=body)


def _move(session: Session, request: PlarRequest, target: PlarState, actor: PlarActor,
          **detail: Any) -> None:
    if not can_move(request.state, target):
        raise Conflict(_("This request cannot change that way in its current state. Reload "
                         "the page to see where it stands."), code="plar_state")
    before = request.state
    request.state = target.value
    request.updated_at = utcnow()
    if target is PlarState.DECIDED:
        request.decided_at = request.updated_at
    audit.record(session, f"plar.{target.value}", actor_account_id=actor.account_id,
                 context_id=request.context_id, subject_type=SUBJECT, subject_id=request.id,
                 launch_id=actor.launch_id, detail={"from": before, **detail})


# -- the learner's side ----------------------------------------------------------------------
def learner_request(session: Session, person_id: int, request_id: int) -> PlarRequest:
    """The person's own request (anyone else's is NotFound, unrevealed)."""
    request = session.get(PlarRequest, request_id)
    if request is None or request.person_id != person_id:
        raise NotFound(_("No such PLAR request among yours."))
    return request


def learner_requests(session: Session, person_id: int, issuer_id: int | None) -> list[PlarRequest]:
    query = select(PlarRequest).where(PlarRequest.person_id == person_id)
    if issuer_id is not None:
        query = query.where(PlarRequest.issuer_id == issuer_id)
    return list(session.scalars(query.order_by(PlarRequest.submitted_at.desc(),
                                               PlarRequest.id.desc())))


def has_learner_requests(session: Session, person_id: int, issuer_id: int) -> bool:
    """``bool(learner_requests(...))`` in one row at most."""
    return session.scalar(select(PlarRequest.id).where(
        PlarRequest.person_id == person_id, PlarRequest.issuer_id == issuer_id).limit(1)) \
        is not None


def add_learner_evidence(session: Session, request: PlarRequest, learner: PlarActor, *,
                         message: str, given: EvidenceInput) -> PlarRequest:
    """The learner answers (more evidence, or anything to add while the request is open):
    a message and/or evidence. A request waiting for more evidence goes back to the
    assessor. Raises Conflict (closed), ValidationFailed (nothing given, bad evidence)."""
    if request.person_id != learner.person_id:
        raise NotFound(_("No such PLAR request among yours."))
    if request.state not in {s.value for s in OPEN_STATES}:
        raise Conflict(_("This request is closed; start a new one to add evidence."),
                       code="plar_state")
    message = message.strip()
    errors: dict[str, list[str]] = {}
    if len(message) > MAX_MESSAGE:
        errors["message"] = [_("%(num)d characters at most", num=MAX_MESSAGE)]
    if not message and not given.count:
        errors["message"] = [_("write an answer or add evidence")]
    if errors:
        raise ValidationFailed(errors)
    rows, evidence_errors = _add_evidence(session, request, given, learner)
    if evidence_errors:
        raise ValidationFailed(evidence_errors)
    request.messages.append(PlarMessage(kind=MessageKind.LEARNER_RESPONSE.value,
                                        author_account_id=learner.account_id,
                                        author_name=learner.name[:300], body=message))
    request.updated_at = utcnow()
    if request.state == PlarState.MORE_EVIDENCE.value:
        _move(session, request, PlarState.IN_ASSESSMENT, learner, evidence=len(rows))
    else:
        audit.record(session, "plar.evidence_added", actor_account_id=learner.account_id,
                     context_id=request.context_id, subject_type=SUBJECT,
                     subject_id=request.id, launch_id=learner.launch_id,
                     detail={"evidence": len(rows)})
    session.flush()
    if request.assessor_account_id is not None:
        assessor = session.get(LearnerAccount, request.assessor_account_id)
        if assessor is not None:
            who = request.learner_name
            _tell_assessors(session, request, [assessor], "learner_answered", lambda: (
                _("PLAR: %(learner)s answered", learner=who or _("the learner")),
                _("%(learner)s added to their request for “%(title)s”. It is back in your "
                  "queue.", learner=who or _("The learner"), title=_title(session, request))))
    return request


def withdraw(session: Session, request: PlarRequest, learner: PlarActor,
             reason: str = "") -> PlarRequest:
    """The learner withdraws an open request. Idempotent on a withdrawn one. Raises
    Conflict (decided)."""
    if request.person_id != learner.person_id:
        raise NotFound(_("No such PLAR request among yours."))
    if request.state == PlarState.WITHDRAWN.value:
        return request
    _move(session, request, PlarState.WITHDRAWN, learner)
    request.messages.append(PlarMessage(kind=MessageKind.WITHDRAWN.value,
                                        author_account_id=learner.account_id,
                                        author_name=learner.name[:300],
                                        body=reason.strip()[:MAX_MESSAGE]))
    session.flush()
    assessor = session.get(LearnerAccount, request.assessor_account_id) \
        if request.assessor_account_id is not None else None
    if assessor is not None:
        who = request.learner_name
        _tell_assessors(session, request, [assessor], "withdrawn", lambda: (
            _("PLAR: %(learner)s withdrew their request", learner=who or _("the learner")),
            _("%(learner)s withdrew their request for “%(title)s”. Skills already granted "
              "stay granted.", learner=who or _("The learner"), title=_title(session, request))))
    return request


# -- the assessor's side ---------------------------------------------------------------------
def _check_assessor(session: Session, request: PlarRequest, assessor: PlarActor) -> None:
    """Assigned to the credential, and not assessing their own request."""
    if request.credential_id not in assessed_credentials(
            session, request.issuer_id, assessor.platform_id, assessor.sub):
        raise NotFound(_("No such PLAR request among those you assess."))
    if assessor.person_id == request.person_id:
        raise Forbidden(_("You cannot assess your own request: another assessor must."),
                        code="own_request")


def assessor_request(session: Session, assessor: PlarActor, issuer_id: int,
                     request_id: int) -> PlarRequest:
    """A request this person may open as an assessor (or NotFound). Their own request is
    listed nowhere in their queue and opens as Forbidden."""
    request = session.get(PlarRequest, request_id)
    if request is None or request.issuer_id != issuer_id:
        raise NotFound(_("No such PLAR request among those you assess."))
    _check_assessor(session, request, assessor)
    return request


@dataclass(frozen=True)
class QueueFilters:
    state: str = "open"            # "open", a PlarState value, or "all"
    credential_id: int | None = None
    overdue: bool = False
    mine: bool = False


@dataclass
class QueueRow:
    request: PlarRequest
    title: str
    skills: int
    decided: int
    overdue: bool
    awaiting_confirmation: int = 0
    next_scheduled: datetime | None = None
    notes: list[str] = field(default_factory=list)


def queue(session: Session, assessor: PlarActor, issuer_id: int,
          filters: QueueFilters, *, now: datetime | None = None) -> list[QueueRow]:
    """The requests of the credentials this person assesses, earliest due first; never
    their own."""
    now = now or utcnow()
    credentials = assessed_credentials(session, issuer_id, assessor.platform_id, assessor.sub)
    if not credentials:
        return []
    query = select(PlarRequest).where(PlarRequest.issuer_id == issuer_id,
                                      PlarRequest.credential_id.in_(credentials),
                                      PlarRequest.person_id != assessor.person_id)
    if filters.state == "open":
        query = query.where(PlarRequest.state.in_([s.value for s in OPEN_STATES]))
    elif filters.state in {s.value for s in PlarState}:
        query = query.where(PlarRequest.state == filters.state)
    if filters.credential_id is not None:
        query = query.where(PlarRequest.credential_id == filters.credential_id)
    if filters.overdue:
        query = query.where(PlarRequest.due_at < now,
                            PlarRequest.state.in_([s.value for s in OPEN_STATES]))
    if filters.mine:
        query = query.where(PlarRequest.assessor_account_id == assessor.account_id)
    requests = list(session.scalars(query.order_by(PlarRequest.due_at, PlarRequest.id)
                                    .limit(QUEUE_LIMIT)))
    if not requests:
        return []
    ids = [r.id for r in requests]
    versions = {r.version_id for r in requests}
    titles = {vid: (title, bool(credit)) for vid, title, credit in session.execute(
        select(CredentialVersion.id, CredentialVersion.title, CredentialVersion.credit_bearing)
        .where(CredentialVersion.id.in_(versions)))}
    # The skills' decisions, counted in the database (not 10 ORM rows with narratives per
    # request): all, not yet, demonstrated, confirmed, the next assessment scheduled.
    demonstrated = PlarSkill.decision == SkillDecision.DEMONSTRATED.value
    counts = {row[0]: row[1:] for row in session.execute(
        select(PlarSkill.request_id, func.count(),
               func.count().filter(PlarSkill.decision == SkillDecision.NOT_YET.value),
               func.count().filter(demonstrated),
               func.count().filter(demonstrated & PlarSkill.confirmed_at.is_not(None)),
               func.min(PlarSkill.scheduled_at).filter(PlarSkill.decision == ""))
        .where(PlarSkill.request_id.in_(ids)).group_by(PlarSkill.request_id))}
    issuer = session.get(Issuer, issuer_id)
    settings = settings_of(issuer) if issuer is not None else None
    open_states = {s.value for s in OPEN_STATES}
    rows = []
    for request in requests:
        title, credit = titles.get(request.version_id, ("", False))
        second = bool(settings and needs_second_assessor(settings, credit))
        total, not_yet, granted, confirmed, scheduled = counts.get(
            request.id, (0, 0, 0, 0, None))
        rows.append(QueueRow(
            request, title, total, not_yet + (confirmed if second else granted),
            request.state in open_states and request.due_at < now,
            granted - confirmed if second else 0, scheduled))
    return rows


def queue_counts(session: Session, assessor: PlarActor, issuer_id: int) -> int:
    """How many open requests wait in this person's queue (for a link's label)."""
    credentials = assessed_credentials(session, issuer_id, assessor.platform_id, assessor.sub)
    if not credentials:
        return 0
    return int(session.scalar(select(func.count(PlarRequest.id)).where(
        PlarRequest.issuer_id == issuer_id, PlarRequest.credential_id.in_(credentials),
        PlarRequest.person_id != assessor.person_id,
        PlarRequest.state.in_([s.value for s in OPEN_STATES]))) or 0)


def second_assessor_needed(session: Session, request: PlarRequest) -> bool:
    issuer = session.get(Issuer, request.issuer_id)
    version = session.get(CredentialVersion, request.version_id)
    return bool(issuer and version and needs_second_assessor(settings_of(issuer),
                                                             bool(version.credit_bearing)))


def statuses_of(session: Session, request: PlarRequest,
                second: bool | None = None) -> dict[int, SkillStatus]:
    """Per requested skill id: its decision, confirmation and whether one is needed
    (``second``: already known for this request's issuer and version)."""
    if second is None:
        second = second_assessor_needed(session, request)
    return {s.skill_id: SkillStatus(s.decision, s.confirmed_at is not None, second)
            for s in request.skills}


def start_assessment(session: Session, request: PlarRequest, assessor: PlarActor) -> PlarRequest:
    """An assessor takes the request (it leaves "submitted"). Idempotent for the same
    assessor; another assessor may take it over (audited)."""
    _check_assessor(session, request, assessor)
    if request.state not in {s.value for s in OPEN_STATES}:
        raise Conflict(_("This request is closed."), code="plar_state")
    if request.assessor_account_id != assessor.account_id:
        audit.record(session, "plar.assessor_assigned", actor_account_id=assessor.account_id,
                     context_id=request.context_id, subject_type=SUBJECT,
                     subject_id=request.id, launch_id=assessor.launch_id,
                     detail={"previous": request.assessor_account_id})
        request.assessor_account_id = assessor.account_id
        request.assessor_name = assessor.name[:300]
    if request.state == PlarState.SUBMITTED.value:
        _move(session, request, PlarState.IN_ASSESSMENT, assessor)
        who = assessor.name
        _tell_learner(session, request, "in_assessment", lambda: (
            _("Your PLAR request for %(title)s is being assessed", title=_title(session, request)),
            _("%(assessor)s started assessing your request for “%(title)s”.",
              assessor=who or _("An assessor"), title=_title(session, request))))
    session.flush()
    return request


def request_more_evidence(session: Session, request: PlarRequest, assessor: PlarActor,
                          message: str) -> PlarRequest:
    """Ask the learner for more evidence, saying what is missing. Raises ValidationFailed
    (no message), Conflict (closed)."""
    _check_assessor(session, request, assessor)
    message = message.strip()
    if not message:
        raise ValidationFailed({"message": [_("say what evidence is missing")]})
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed({"message": [_("%(num)d characters at most", num=MAX_MESSAGE)]})
    if request.state == PlarState.SUBMITTED.value:
        start_assessment(session, request, assessor)
    _move(session, request, PlarState.MORE_EVIDENCE, assessor)
    request.messages.append(PlarMessage(kind=MessageKind.MORE_EVIDENCE_REQUEST.value,
                                        author_account_id=assessor.account_id,
                                        author_name=assessor.name[:300], body=message))
    session.flush()
    who = assessor.name
    _tell_learner(session, request, "more_evidence", lambda: (
        _("More evidence needed for your PLAR request: %(title)s", title=_title(session, request)),
        _("%(assessor)s asks for more evidence:", assessor=who or _("Your assessor"))
        + "\n\n" + message))
    return request


def _skill_row(request: PlarRequest, skill_id: int) -> PlarSkill:
    for row in request.skills:
        if row.skill_id == skill_id:
            return row
    raise NotFound(_("That skill is not part of this request."))


def _open_for_assessment(session: Session, request: PlarRequest, assessor: PlarActor) -> None:
    _check_assessor(session, request, assessor)
    if request.state not in {s.value for s in OPEN_STATES}:
        raise Conflict(_("This request is closed."), code="plar_state")
    if request.state == PlarState.SUBMITTED.value or \
            request.assessor_account_id is None:
        start_assessment(session, request, assessor)


def schedule(session: Session, request: PlarRequest, assessor: PlarActor, *, skill_id: int,
             method: str, at: datetime | None, place: str) -> PlarSkill:
    """Schedule a challenge exam, interview or demonstration for one skill: a date and
    time, and a place or an online link. Raises ValidationFailed, Conflict, NotFound."""
    _open_for_assessment(session, request, assessor)
    row = _skill_row(request, skill_id)
    errors: dict[str, list[str]] = {}
    try:
        parsed = AssessmentMethod(method)
    except ValueError:
        parsed = None
    if parsed is None or parsed not in SCHEDULED_METHODS:
        errors["method"] = [_("choose a challenge exam, an interview or a demonstration")]
    if at is None:
        errors["scheduled_at"] = [_("give the date and the time")]
    elif at.tzinfo is None:
        errors["scheduled_at"] = [_("needs a time zone")]
    place = place.strip()
    if not place:
        errors["scheduled_place"] = [_("give the place, or the link of the online meeting")]
    elif len(place) > 1000:
        errors["scheduled_place"] = [_("%(num)d characters at most", num=1000)]
    if row.decision:
        errors["skill"] = [_("this skill is already decided")]
    if errors:
        raise ValidationFailed(errors)
    assert parsed is not None and at is not None
    row.method, row.scheduled_at, row.scheduled_place = parsed.value, at, place
    request.updated_at = utcnow()
    request.messages.append(PlarMessage(
        kind=MessageKind.SCHEDULED.value, author_account_id=assessor.account_id,
        author_name=assessor.name[:300],
        body=f"{row.skill.name} — {parsed.value} — {at:%Y-%m-%d %H:%M} UTC — {place}"))
    audit.record(session, "plar.scheduled", actor_account_id=assessor.account_id,
                 context_id=request.context_id, subject_type=SUBJECT, subject_id=request.id,
                 launch_id=assessor.launch_id,
                 detail={"skill": row.skill.code, "method": parsed.value,
                         "at": at.isoformat(), "place": place})
    session.flush()
    skill_name, who, method_value = row.skill.name, assessor.name, parsed.value
    _tell_learner(session, request, "scheduled", lambda: (
        _("PLAR: %(method)s scheduled for %(skill)s", method=_method_label(method_value),
          skill=skill_name),
        _("%(assessor)s scheduled: %(method)s for the skill “%(skill)s”, on %(when)s (UTC).",
          assessor=who or _("Your assessor"), method=_method_label(method_value),
          skill=skill_name, when=format_datetime(at, "full"))
        + "\n" + _("Where: %(place)s", place=place)))
    return row


@dataclass
class DecisionResult:
    skill: PlarSkill
    new_awards: list[Award] = field(default_factory=list)
    decided: bool = False


def decide_skill(session: Session, request: PlarRequest, assessor: PlarActor, *,
                 skill_id: int, decision: str, method: str, rationale: str) -> DecisionResult:
    """Decide one skill: demonstrated or not yet, by which method, with a rationale. A
    granted skill (confirmed where a second assessor is needed) becomes a "plar"
    demonstration, which may award the credential. When every skill is decided the
    request is. Raises ValidationFailed, Conflict (closed, already decided), NotFound."""
    _open_for_assessment(session, request, assessor)
    row = _skill_row(request, skill_id)
    errors: dict[str, list[str]] = {}
    try:
        parsed_decision = SkillDecision(decision)
    except ValueError:
        errors["decision"] = [_("choose demonstrated or not yet demonstrated")]
    try:
        parsed_method = AssessmentMethod(method)
    except ValueError:
        errors["method"] = [_("choose how the skill was assessed")]
    rationale = rationale.strip()
    if not rationale:
        errors["rationale"] = [_("give the reasons for the decision (the learner reads them)")]
    elif len(rationale) > MAX_RATIONALE:
        errors["rationale"] = [_("%(num)d characters at most", num=MAX_RATIONALE)]
    if row.decision:
        raise Conflict(_("This skill is already decided."), code="already_decided")
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    row.decision = parsed_decision.value
    row.method = parsed_method.value
    row.rationale = rationale
    row.decided_by_account_id = assessor.account_id
    row.decided_by_name = assessor.name[:300]
    row.decided_at = now
    request.updated_at = now
    audit.record(session, "plar.skill_decided", actor_account_id=assessor.account_id,
                 context_id=request.context_id, subject_type=SUBJECT, subject_id=request.id,
                 launch_id=assessor.launch_id,
                 detail={"skill": row.skill.code, "decision": row.decision,
                         "method": row.method})
    result = DecisionResult(row)
    status = statuses_of(session, request)[row.skill_id]
    if status.granted:
        result.new_awards = _record_pass(session, request, row, assessor)
    elif status.awaiting_confirmation:
        others = [a for a in _assessor_accounts(session, request.credential_id)
                  if a.person_id not in (assessor.person_id, request.person_id)]
        who, skill_name = assessor.name, row.skill.name
        learner_name = request.learner_name
        _tell_assessors(session, request, others, "confirm", lambda: (
            _("PLAR: a second assessor is needed for %(title)s", title=_title(session, request)),
            _("%(assessor)s granted “%(skill)s” to %(learner)s; on credit-bearing "
              "micro-credentials a second assessor confirms it before it counts.",
              assessor=who, skill=skill_name, learner=learner_name or _("a learner"))))
    result.decided = _close_if_final(session, request, assessor)
    session.flush()
    return result


def confirm_skill(session: Session, request: PlarRequest, assessor: PlarActor, *,
                  skill_id: int) -> DecisionResult:
    """A second assessor (not the one who decided, not the learner) confirms a skill
    granted on a credit-bearing credential. Raises Forbidden (same assessor), Conflict."""
    _check_assessor(session, request, assessor)
    if request.state not in {s.value for s in OPEN_STATES}:
        raise Conflict(_("This request is closed."), code="plar_state")
    row = _skill_row(request, skill_id)
    status = statuses_of(session, request)[row.skill_id]
    if not status.awaiting_confirmation:
        raise Conflict(_("This skill does not wait for a confirmation."), code="not_awaiting")
    if row.decided_by_account_id == assessor.account_id or (
            row.decided_by_account_id is not None and
            _person_of(session, row.decided_by_account_id) == assessor.person_id):
        raise Forbidden(_("A second assessor confirms: you decided this skill yourself."),
                        code="same_assessor")
    row.confirmed_by_account_id = assessor.account_id
    row.confirmed_by_name = assessor.name[:300]
    row.confirmed_at = utcnow()
    audit.record(session, "plar.skill_confirmed", actor_account_id=assessor.account_id,
                 context_id=request.context_id, subject_type=SUBJECT, subject_id=request.id,
                 launch_id=assessor.launch_id, detail={"skill": row.skill.code})
    result = DecisionResult(row, _record_pass(session, request, row, assessor))
    result.decided = _close_if_final(session, request, assessor)
    session.flush()
    return result


def _person_of(session: Session, account_id: int) -> int | None:
    account = session.get(LearnerAccount, account_id)
    return account.person_id if account else None


def _record_pass(session: Session, request: PlarRequest, row: PlarSkill,
                 assessor: PlarActor) -> list[Award]:
    """The granted skill as a demonstration (method "plar", route PLAR) through the award
    engine, evaluating the credential assessed even where the course does not offer it."""
    account = session.get(LearnerAccount, request.account_id)
    context = session.get(Context, request.context_id)
    assert account is not None and context is not None
    offered = tracking.credentials_to_evaluate(session, context, request.credential)
    method = row.method.replace("_", " ")
    recorded = tracking.record_demonstration(
        session, context=context, account=account, skill=row.skill,
        outcome=Outcome.PASS.value, method=Method.PLAR.value, route=Route.PLAR,
        assessor=tracking.Assessor(ref=assessor.ref, name=assessor.name,
                                   launch_id=assessor.launch_id,
                                   account_id=assessor.account_id),
        evidence_note=f"PLAR request {request.id}, {method}: {row.rationale}"[:4000],
        offered=offered)
    row.demonstration_id = recorded.demonstration.id
    for award in recorded.new_awards:
        if award.credential_id == request.credential_id:
            request.award_id = award.id
    return recorded.new_awards


def _close_if_final(session: Session, request: PlarRequest, actor: PlarActor) -> bool:
    statuses = list(statuses_of(session, request).values())
    if not all_final(statuses):
        return False
    granted = sum(1 for s in statuses if s.granted)
    _move(session, request, PlarState.DECIDED, actor, granted=granted,
          not_yet=len(statuses) - granted)
    earned, total = request.award_id is not None, len(statuses)
    rows = [(s.skill.name, s.decision, s.rationale) for s in request.skills]

    def compose() -> tuple[str, str]:
        if earned:
            summary = _("You earned “%(title)s” through prior learning assessment and "
                        "recognition (PLAR).", title=_title(session, request))
        else:
            summary = _("%(granted)d of %(total)d skills were recognised as demonstrated. "
                        "Skills not yet demonstrated can be earned in a course or in a new "
                        "request.", granted=granted, total=total)
        labels = {"demonstrated": _("demonstrated"), "not_yet": _("not yet demonstrated")}
        lines = [f"- {name}: {labels.get(decision, decision)} — {rationale}"
                 for name, decision, rationale in rows]
        return (_("Decision on your PLAR request: %(title)s", title=_title(session, request)),
                summary + "\n\n" + "\n".join(lines))

    _tell_learner(session, request, "decided", compose)
    return True


def evidence_file_for(session: Session, *, file_id: int, person_id: int | None,
                      assessor: PlarActor | None, issuer_id: int | None) -> EvidenceFile:
    """A PLAR evidence file for the learner who gave it or an assessor of its request's
    credential (never the learner's own request as assessor). Anyone else: NotFound."""
    rows = session.execute(select(PlarRequest).join(
        PlarEvidence, PlarEvidence.request_id == PlarRequest.id)
        .where(PlarEvidence.evidence_file_id == file_id)).scalars().all()
    def may_read(request: PlarRequest) -> bool:
        if person_id is not None and request.person_id == person_id:
            return True
        return assessor is not None and request.issuer_id == issuer_id and \
            request.person_id != assessor.person_id and request.credential_id in \
            assessed_credentials(session, request.issuer_id, assessor.platform_id,
                                 assessor.sub)

    allowed = any(may_read(r) for r in rows)
    stored = session.get(EvidenceFile, file_id) if allowed else None
    if stored is None:
        raise NotFound(_("That evidence file does not exist or is not yours to see."))
    return stored


def held_awards(session: Session, person_id: int) -> list[Award]:
    """The learner's standing awards (to cite as evidence)."""
    return list(session.scalars(select(Award).where(
        Award.person_id == person_id, Award.status != AwardStatus.REVOKED.value)
        .options(selectinload(Award.version)).order_by(Award.awarded_at)))


def versions_of(session: Session, ids: Iterable[int]) -> dict[int, CredentialVersion]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {v.id: v for v in session.scalars(select(CredentialVersion).where(
        CredentialVersion.id.in_(ids)))}


def published_of(session: Session, credential: MicroCredential) -> CredentialVersion | None:
    return published_version(session, credential.issuer_id, credential.code)


def demonstrated_already(session: Session, person_id: int,
                         skill_ids: Iterable[int]) -> dict[int, DemonstrationFact]:
    """Per skill id, the person's current pass (the latest), wherever it was made: a skill
    already demonstrated needs no recognition, and the assessor sees it."""
    facts = tracking.current_facts(session, [person_id], skill_ids)
    found: dict[int, DemonstrationFact] = {}
    for (_pid, skill_id), rows in facts.items():
        cell = summarise_cell(rows)
        if cell.status is CellStatus.DEMONSTRATED and cell.latest is not None:
            found[skill_id] = cell.latest
    return found
