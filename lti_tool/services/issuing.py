"""Issuing Open Badges 3.0 credentials for awards: build, sign, publish status, revoke, and
the learner's CLR 2.0 record.

Composition is :mod:`lti_tool.badges` (pure); this module adds the database, the issuer's
keys (:mod:`lti_tool.services.issuer_keys`) and the public URLs.

* **Credential** (one per award, issued once, never changed): an ``OpenBadgeCredential``
  (https://www.imsglobal.org/spec/ob/v3p0/#achievementcredential) built from the award,
  the catalog version's frozen snapshot and the issuer, signed twice: a Data Integrity
  ``eddsa-rdfc-2022`` proof (``record.json``) and a VC-JWT (``record.jwt``, OB 3.0 §8.2).
  URLs: the credential ``<base>/credentials/<public_id>``, the issuer Profile
  ``<base>/issuers/<slug>``, the verification method / ``kid``
  ``<base>/issuers/<slug>/keys#<publicKeyMultibase>``, the achievement the public catalog
  page of the version ``<base>/c/<slug>/<code>/v/<n>``.
* **Learner identity**: ``credentialSubject.identifier`` is a salted SHA-256
  ``IdentityObject`` (a fresh salt per credential, so two credentials cannot be linked by
  their hashes). In order of preference: the learner's e-mail (``emailAddress``; from the
  most recent launch that sent one), else the institutional id the platform sent
  (``lisSourcedId``, the LTI ``lis_person_sourcedid``), else the platform user id
  (``ltiUserId``, the LTI ``sub``). The learner's name is never in the credential.
* **Where it was earned** is ``credentialSubject.source``, a ``Profile`` (OB 3.0
  AchievementSubject.source, valid against the 1EdTech schema) named after the course and
  the route ("Intro to Programming (In a for-credit course)"); its id is a stable
  ``urn:uuid`` per course, since a course shell has no public page.
* **Evidence**: one ``Evidence`` per demonstration the award rests on, with a narrative
  (skill, outcome, method, date). The issuer setting ``evidence_detail`` decides how much:
  ``"summary"`` (default) gives only that narrative; ``"full"`` adds the demonstration's
  evidence URL as the Evidence ``id``. Assessor names, notes and uploaded files are never
  included (files are not public).
* **Achievement**: ``achievementType`` MicroCredential, name, description,
  ``criteria.narrative`` (learning outcomes, the earning rule and the assessment method, in
  Markdown), image (the catalog image with its alt text, or the generated SVG served at
  ``/issuers/<slug>/badges/<code>.svg``), an ``Alignment`` per skill plus one per external
  framework alignment of the skill, ``creditsAvailable`` only when credit-bearing
  (``creditsEarned`` on the subject then too), ``fieldOfStudy``, ``humanCode`` (the code),
  ``inLanguage``, ``version`` and ``tag``. Only standard vocabulary: the notional learning
  hours and delivery modes, which OB 3.0 has no property for, are sentences of
  ``criteria.narrative`` (docs/badges-vocabulary.md); the achievement ``id`` is the public
  catalog page that lists them too.
* **Status**: each credential has a ``BitstringStatusListEntry`` (statusPurpose
  revocation, https://www.w3.org/TR/vc-bitstring-status-list/) in one of the issuer's
  status lists; its index is allocated by one atomic ``UPDATE ... RETURNING`` (and a unique
  constraint backs it). Revoking flips the bit and signs the list again. Indexes are
  handed out in order (the spec suggests random assignment for herd privacy; the 131,072
  bits of one list are the herd here).
* **CLR**: :func:`build_clr` signs a ``ClrCredential`` (CLR 2.0) holding the learner's
  non-revoked credentials of one issuer (revoked ones are left out; expired ones stay, they
  are still part of the record) with their achievements. MicroCred has no pathways yet, so
  the record has no ``association``.

Every function commits nothing and raises ToolError subclasses (NotFound, ValidationFailed)
or ConfigurationError (a key that cannot be decrypted).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, selectinload

from lti_tool.badges import eddsa, jwt_vc, ob, status_list
from lti_tool.badges.contexts import (
    CLR_V2P0,
    DID_V1,
    MULTIKEY_V1,
    OB_V3P0,
    OB_V3P0_EXTENSIONS,
    VC_V2,
)
from lti_tool.badges.errors import BadgeError
from lti_tool.badges.multikey import PublicKey
from lti_tool.badges.schemas import SCHEMA_VALIDATOR_TYPE, load_schema
from lti_tool.badges.verify import (
    IssuerKey,
    KeyResolver,
    StatusListResolver,
    VerificationReport,
    verify,
    verify_credential,
)
from lti_tool.domain.catalog import label
from lti_tool.domain.credential_words import (
    BCP47,
    CREDENTIAL_LANGUAGES,
    code_label,
    credential_language,
    words,
)
from lti_tool.domain.pathways import STACKED_ROUTE
from lti_tool.domain.texts import has_text, localized, localized_list, text_in
from lti_tool.domain.tracking import METHOD_LABELS, AwardStatus, Method
from lti_tool.errors import NotFound
from lti_tool.models import (
    Award,
    CredentialRecord,
    Demonstration,
    Issuer,
    IssuerSigningKey,
    LearnerAccount,
    StatusList,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit, issuer_keys, tracking
from lti_tool.services.catalog import learner_view
from lti_tool.services.keys import KeyVault
from lti_tool.services.public_catalog import credential_url, http_url
from lti_tool.services.remote_issuers import RemoteResolvers
from lti_tool.services.tracking import Assessor

EVIDENCE_SUMMARY, EVIDENCE_FULL = "summary", "full"
STATUS_LIST_BITS = status_list.MIN_BITS
STATUS_PURPOSE = "revocation"
#: Eagerly issued per request at most (the rest are issued on first read).
EAGER_LIMIT = 50
CLR_SCHEMA_ID = load_schema("clr_v2p0_clrcredential_schema.json")["$id"]
#: OB 3.0 AlignmentTargetType values; other catalog target types become ``ext:<type>``.
_ALIGNMENT_TYPES = {"ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric",
                    "CFRubricCriterion", "CFRubricCriterionLevel", "CTDL"}
_SOURCE_NAMESPACE = uuid.UUID("1b0a5cf6-2b55-4d0e-9d43-6f0c1a3b7e21")


# -- URLs -------------------------------------------------------------------------------------
def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def credential_id(base_url: str, award: Award) -> str:
    return f"{_base(base_url)}/credentials/{award.public_id}"


def status_list_url(base_url: str, issuer: Issuer, lst: StatusList) -> str:
    return f"{issuer_keys.issuer_url(base_url, issuer)}/status/{lst.list_id}"


def badge_image_url(base_url: str, issuer: Issuer, code: str) -> str:
    return f"{issuer_keys.issuer_url(base_url, issuer)}/badges/{code}.svg"


def jwks_url(base_url: str, issuer: Issuer) -> str:
    return f"{issuer_keys.issuer_url(base_url, issuer)}/jwks.json"


# -- issuer documents ---------------------------------------------------------------------------
def issuer_by_slug(session: Session, slug: str) -> Issuer:
    """Raises NotFound."""
    issuer = session.scalars(select(Issuer).where(Issuer.slug == slug)).first() \
        if len(slug) <= 64 else None
    if issuer is None:
        raise NotFound("There is no issuer at this address.")
    return issuer


def issuer_profile(issuer: Issuer, base_url: str, lang: str = "en") -> dict[str, Any]:
    """The issuer as an OB 3.0 Profile (embedded in every credential as ``issuer``), its
    name and description in ``lang`` (the credential's language; English if the issuer
    wrote none in it)."""
    name = localized(issuer, None, "name", lang).text
    description = localized(issuer, None, "description", lang).text
    return ob.build_profile(issuer_keys.issuer_url(base_url, issuer), name,
                            url=http_url(issuer.url) or None, email=issuer.email or None,
                            image_url=http_url(issuer.image_url) or None,
                            image_caption=words(lang, "logo", issuer=name),
                            description=description or None)


def _keys_with_public(session: Session,
                      issuer: Issuer) -> list[tuple[IssuerSigningKey, PublicKey]]:
    return [(k, issuer_keys.public_key(k)) for k in issuer_keys.published_keys(session, issuer)]


def _methods(session: Session, issuer: Issuer, base_url: str, *, legacy: bool = False
             ) -> tuple[list[dict[str, Any]], list[str]]:
    """(verification methods, the ids that may sign credentials) of the issuer."""
    controller = issuer_keys.issuer_url(base_url, issuer)
    name = issuer_keys.legacy_verification_method if legacy else issuer_keys.verification_method
    methods, assertion = [], []
    for row, public in _keys_with_public(session, issuer):
        method_id = name(base_url, issuer, row)
        revoked = row.revoked_at if row.status == issuer_keys.REVOKED else None
        methods.append(ob.verification_method(method_id, controller, public, revoked=revoked))
        if revoked is None:
            assertion.append(method_id)
    return methods, assertion


def issuer_document(session: Session, issuer: Issuer, base_url: str) -> dict[str, Any]:
    """``/issuers/<slug>``: the issuer Profile (what ``issuer.id`` dereferences to), which
    is also the controller document of its keys (CID 1.0): every key under
    ``verificationMethod`` (``controller`` = the issuer id; revoked ones marked) and those
    whose signatures count under ``assertionMethod``. DID v1 comes first in ``@context`` so
    Data Integrity libraries read it without JSON-LD framing; every term still expands."""
    methods, assertion = _methods(session, issuer, base_url)
    keys = ob.controller_document(issuer_keys.issuer_url(base_url, issuer), methods, assertion)
    return {"@context": [DID_V1, VC_V2, OB_V3P0, MULTIKEY_V1],
            **issuer_profile(issuer, base_url),
            "verificationMethod": keys["verificationMethod"],
            "assertionMethod": keys["assertionMethod"]}


def legacy_keys_document(session: Session, issuer: Issuer, base_url: str) -> dict[str, Any]:
    """``/issuers/<slug>/keys``: the keys under the ids credentials issued before keys were
    bound to the issuer profile name (``<issuer id>/keys#<multibase>``). Their controller is
    the issuer; the issuer profile is where signing keys are authorized."""
    methods, assertion = _methods(session, issuer, base_url, legacy=True)
    return ob.controller_document(issuer_keys.legacy_keys_url(base_url, issuer), methods,
                                  assertion)


def jwks_document(session: Session, issuer: Issuer, base_url: str) -> dict[str, Any]:
    """``/issuers/<slug>/jwks.json``: the keys whose signatures count, as a JWKS; each
    ``kid`` is the key's verification method id, which is the ``kid`` of our VC-JWTs.
    Revoked keys are left out (a JWKS cannot say a key is withdrawn)."""
    keys = [(row, public) for row, public in _keys_with_public(session, issuer)
            if row.status != issuer_keys.REVOKED]
    document = ob.jwks([(issuer_keys.verification_method(base_url, issuer, row), public)
                        for row, public in keys])
    for jwk, (row, _public) in zip(document["keys"], keys, strict=True):
        jwk.update({"alg": "EdDSA", "use": "sig"})
        if row.status != issuer_keys.ACTIVE:
            jwk["status"] = "retired"  # informative: still valid for old credentials
    return document


def status_list_by_id(session: Session, issuer: Issuer, list_id: str) -> StatusList:
    """Raises NotFound."""
    lst = session.scalars(select(StatusList).where(
        StatusList.issuer_id == issuer.id, StatusList.list_id == list_id)).first() \
        if len(list_id) <= 32 else None
    if lst is None or lst.signed is None:
        raise NotFound("There is no status list at this address.")
    return lst


# -- keys and status lists ----------------------------------------------------------------------
def _signer(session: Session, vault: KeyVault, issuer: Issuer, base_url: str) -> tuple[
        IssuerSigningKey, Ed25519PrivateKey, str]:
    key = issuer_keys.ensure_active_key(session, vault, issuer)
    return key, issuer_keys.private_key(vault, key), issuer_keys.verification_method(
        base_url, issuer, key)


def _sign_status_list(session: Session, lst: StatusList, issuer: Issuer, *, vault: KeyVault,
                      base_url: str) -> None:
    """Recompute the bits from the awards' revocations and sign the list again. Call with
    the list's row locked (``_lock_list``) so a concurrent revocation cannot be lost."""
    revoked = session.scalars(
        select(CredentialRecord.status_list_index)
        .join(Award, Award.id == CredentialRecord.award_id)
        .where(CredentialRecord.status_list_id == lst.id,
               Award.status == AwardStatus.REVOKED.value))
    bits = status_list.StatusList(size=lst.size)
    for index in revoked:
        bits.set(index)
    _key, private, vm = _signer(session, vault, issuer, base_url)
    now = utcnow()
    unsigned = status_list.build_status_list_credential(
        status_list_url(base_url, issuer, lst), issuer_keys.issuer_url(base_url, issuer), bits,
        valid_from=eddsa.format_datetime(now), purpose=lst.purpose)
    lst.bits = bits.to_bytes()
    lst.signed = eddsa.sign(unsigned, private, vm, created=now)
    lst.updated_at = now
    session.flush()


def _lock_list(session: Session, lst: StatusList) -> None:
    """Row lock on PostgreSQL (SQLite has one writer at a time anyway)."""
    session.execute(select(StatusList.id).where(StatusList.id == lst.id).with_for_update())


def _new_list(session: Session, issuer: Issuer, *, vault: KeyVault,
              base_url: str) -> StatusList | None:
    """A fresh, signed, empty list; None if a concurrent request created it first."""
    count = session.scalar(select(func.count()).select_from(StatusList).where(
        StatusList.issuer_id == issuer.id)) or 0
    lst = StatusList(issuer_id=issuer.id, list_id=str(count + 1), purpose=STATUS_PURPOSE,
                     size=STATUS_LIST_BITS, bits=bytes(STATUS_LIST_BITS // 8), next_index=0)
    try:
        with session.begin_nested():
            session.add(lst)
            session.flush()
    except IntegrityError:
        return None
    _sign_status_list(session, lst, issuer, vault=vault, base_url=base_url)
    return lst


def allocate_status_index(session: Session, issuer: Issuer, *, vault: KeyVault,
                          base_url: str) -> tuple[StatusList, int]:
    """The next free bit of the issuer's current list (a new list when it is full). One
    atomic ``UPDATE ... SET next_index = next_index + 1 ... RETURNING``: two workers never
    get the same index."""
    for _attempt in range(5):
        lst = session.scalars(select(StatusList).where(
            StatusList.issuer_id == issuer.id, StatusList.purpose == STATUS_PURPOSE,
            StatusList.next_index < StatusList.size)
            .order_by(StatusList.id.desc()).limit(1)).first()
        if lst is None:
            lst = _new_list(session, issuer, vault=vault, base_url=base_url)
            if lst is None:
                continue
        taken = session.execute(
            update(StatusList).where(StatusList.id == lst.id,
                                     StatusList.next_index < StatusList.size)
            .values(next_index=StatusList.next_index + 1)
            .returning(StatusList.next_index)
            .execution_options(synchronize_session=False)).scalar()
        session.expire(lst, ["next_index"])
        if taken is not None:
            return lst, int(taken) - 1
    raise RuntimeError("could not allocate a status list index")  # pragma: no cover


# -- building ----------------------------------------------------------------------------------
def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` + ``months`` calendar months (the day clamped to the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30,
            31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days))


def _snapshot(award: Award) -> dict[str, Any]:
    return learner_view(award.version)


def _accounts(session: Session, person_id: int) -> list[LearnerAccount]:
    return list(session.scalars(select(LearnerAccount).where(
        LearnerAccount.person_id == person_id)
        .order_by(LearnerAccount.last_launch_at.desc(), LearnerAccount.id.desc())))


def subject_identifiers(session: Session, person_id: int) -> list[dict[str, Any]]:
    """The learner's hashed IdentityObject (fresh salt): e-mail, else institutional id,
    else platform user id (see the module docstring)."""
    salt = ob.new_salt()
    accounts = _accounts(session, person_id)
    email = next((a.email for a in accounts if "@" in (a.email or "")), "")
    if email:
        return [ob.hashed_email_identifier(email, salt)]
    sourcedid = next((a.lis_person_sourcedid for a in accounts if a.lis_person_sourcedid), "")
    if sourcedid:
        return [ob.hashed_identifier(sourcedid.strip(), "lisSourcedId", salt)]
    if accounts:
        return [ob.hashed_identifier(accounts[0].sub, "ltiUserId", salt)]
    # A person without any account cannot exist through launches; keep the credential valid.
    return [ob.hashed_identifier(f"person:{person_id}", "systemId", salt)]


def _alignment_type(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value == "Other":
        return None
    if value in _ALIGNMENT_TYPES:
        return value
    cleaned = "".join(c for c in value if c.isalnum() or c in "._-")
    return f"ext:{cleaned}" if cleaned else None


def _alignments(snapshot: Mapping[str, Any], achievement_id: str,
                issuer: Issuer, lang: str = "en") -> list[ob.AlignmentTarget]:
    result: list[ob.AlignmentTarget] = []
    issuer_name = localized(issuer, None, "name", lang).text
    for skill in snapshot.get("skills", []):
        if not isinstance(skill, Mapping):
            continue
        code, name = str(skill.get("code", "")), text_in(skill, "name", lang)
        result.append(ob.AlignmentTarget(
            target_name=name or code, target_url=f"{achievement_id}#skill-{code}",
            target_code=code or None,
            target_framework=words(lang, "framework", issuer=issuer_name),
            target_description=text_in(skill, "description", lang)[:1000] or None))
        for aligned in skill.get("alignments", []):
            if not isinstance(aligned, Mapping):
                continue
            url = http_url(aligned.get("target_url"))
            if not url:
                continue
            result.append(ob.AlignmentTarget(
                target_name=str(aligned.get("target_name") or name or code),
                target_url=url, target_code=str(aligned.get("target_code") or "") or None,
                target_framework=str(aligned.get("framework") or "") or None,
                target_type=_alignment_type(aligned.get("target_type"))))
    return result


def criteria_narrative(snapshot: Mapping[str, Any], lang: str = "en") -> str:
    """The learning outcomes, the earning rule, the assessment method and the workload and
    delivery modes (Markdown), in ``lang`` (each text in English where the catalog has no
    French one: a signed document cannot mark a fallback, the public page does)."""
    parts = []
    translations = snapshot.get("translations")
    outcomes = list(localized_list(snapshot.get("learning_outcomes") or [],
                                   translations if isinstance(translations, Mapping) else {},
                                   "learning_outcomes", lang))
    if outcomes:
        parts.append(words(lang, "outcomes") + "\n\n" + "\n".join(
            f"{i}. {o}" for i, o in enumerate(outcomes, 1)))
    rule = text_in(snapshot, "earning_rule", lang)
    if rule:
        parts.append(words(lang, "earning_rule", rule=rule))
    method = text_in(snapshot, "assessment_method", lang)
    if method:
        parts.append(words(lang, "assessment", method=method))
    workload = ob.workload_narrative(
        snapshot.get("notional_hours") or None,
        [code_label(str(m), label(str(m)), lang)
         for m in snapshot.get("delivery_modes", []) if m], lang=lang)
    if workload:
        parts.append(workload)
    return "\n\n".join(parts) or words(lang, "default_criteria")


def edition_url(achievement_id: str, lang: str) -> str:
    """The public catalog page of a version in one language (``?lang=``): the ``id`` of the
    achievement's edition in that language (``achievement.related``)."""
    return f"{achievement_id}?lang={credential_language(lang)}"


def _achievement(award: Award, issuer: Issuer, snapshot: Mapping[str, Any],
                 base_url: str, lang: str = "en") -> dict[str, Any]:
    code = award.credential.code
    title = text_in(snapshot, "title", lang) or award.version.title
    issuer_name = localized(issuer, None, "name", lang).text
    achievement_id = credential_url(_base(base_url), issuer, code, award.version.version)
    catalog_image = http_url(snapshot.get("image_url"))
    if catalog_image:
        image_url, caption = catalog_image, text_in(snapshot, "image_alt", lang) or \
            words(lang, "caption", title=title)
    else:
        # The generated picture, in the credential's language.
        image_url = badge_image_url(base_url, issuer, code) + ("?lang=fr" if lang == "fr"
                                                                else "")
        caption = words(lang, "caption_issuer", title=title, issuer=issuer_name)
    credit = snapshot.get("credit_value") if snapshot.get("credit_bearing") else None
    version = str(snapshot.get("version") or award.version.version)
    # The other language's edition, when the catalog has a title in it (English always).
    related = [ob.related_edition(edition_url(achievement_id, other), BCP47[other], version)
               for other in CREDENTIAL_LANGUAGES
               if other != lang and has_text(snapshot, "title", other)]
    return ob.build_achievement(
        achievement_id=achievement_id, name=title,
        description=text_in(snapshot, "short_description", lang) or title,
        criteria_narrative=criteria_narrative(snapshot, lang), criteria_url=achievement_id,
        image_url=image_url, image_caption=caption,
        alignments=_alignments(snapshot, achievement_id, issuer, lang),
        credits_available=credit if credit not in (None, "") else None,
        field_of_study=text_in(snapshot, "field_of_study", lang) or None, human_code=code,
        in_language=BCP47[lang], version=version,
        tags=[str(t) for t in snapshot.get("tags", []) if t], related=related,
        result_name=words(lang, "result"))


def _source(award: Award, issuer: Issuer, base_url: str, lang: str = "en") -> dict[str, Any]:
    route = code_label(award.route, label(award.route), lang)
    issuer_name = localized(issuer, None, "name", lang).text
    context = award.context
    if context is not None and context.title:
        name = f"{context.title} ({route})"
        ref = f"{_base(base_url)}|context|{context.id}"
        description = words(lang, "source_course", route=route, course=context.title,
                            issuer=issuer_name)
    else:
        name = route
        ref = f"{_base(base_url)}|route|{issuer.id}|{award.route}"
        description = words(lang, "source", route=route, issuer=issuer_name)
    return ob.build_profile(f"urn:uuid:{uuid.uuid5(_SOURCE_NAMESPACE, ref)}", name,
                            description=description)


def _stacked_evidence(session: Session, award: Award, base_url: str,
                      lang: str = "en") -> list[ob.EvidenceItem]:
    """A program credential's evidence: the awards it stacks, each with its own public,
    verifiable credential URL (issue 12: pathways)."""
    extra = award.extra or {}
    ids = [int(i) for i in extra.get("stacked_award_ids") or []]
    if not ids:
        return []
    pathway = extra.get("pathway") or {}
    stacked = session.scalars(select(Award).where(Award.id.in_(ids)).order_by(Award.id)
                              .options(selectinload(Award.version),
                                       selectinload(Award.credential)))
    name = pathway.get("title") or pathway.get("code", "")
    if lang == "fr":
        return [ob.EvidenceItem(
            narrative=(f"Microcertification {a.version.title} ({a.credential.code}, version "
                       f"{a.version.version}) attribuée le {a.awarded_at.date().isoformat()}; "
                       f"une étape du parcours {name}."),
            name=a.version.title, genre="Microcertification cumulée",
            id=credential_id(base_url, a)) for a in stacked]
    return [ob.EvidenceItem(
        narrative=(f"Micro-credential {a.version.title} ({a.credential.code}, version "
                   f"{a.version.version}) awarded {a.awarded_at.date().isoformat()}; a step "
                   f"of the pathway {name}."),
        name=a.version.title, genre="Stacked micro-credential",
        id=credential_id(base_url, a)) for a in stacked]


def _evidence(session: Session, award: Award, issuer: Issuer,
              lang: str = "en", base_url: str = "") -> list[ob.EvidenceItem]:
    if award.route == STACKED_ROUTE:
        return _stacked_evidence(session, award, base_url, lang)
    detail = (issuer.settings or {}).get("evidence_detail", EVIDENCE_SUMMARY)
    ids = list(award.demonstration_ids or [])
    if not ids:
        return []
    demos = {d.id: d for d in session.scalars(select(Demonstration).where(
        Demonstration.id.in_(ids)).options(selectinload(Demonstration.skill)))}
    items = []
    for demo_id in ids:
        demo = demos.get(demo_id)
        if demo is None:
            continue
        try:
            method = code_label(demo.method, METHOD_LABELS[Method(demo.method)], lang)
        except (ValueError, KeyError):
            method = demo.method
        outcome = words(lang, "pass" if demo.outcome == "pass" else "fail")
        skill_name = localized(demo.skill, None, "name", lang).text
        narrative = words(lang, "evidence", skill=skill_name, code=demo.skill.code,
                          outcome=outcome, method=method,
                          date=demo.demonstrated_at.date().isoformat())
        evidence_id = http_url(demo.evidence_url) if detail == EVIDENCE_FULL else ""
        items.append(ob.EvidenceItem(narrative=narrative, name=skill_name,
                                     genre=method, id=evidence_id or None))
    return items


def learner_language(session: Session, person_id: int) -> str:
    """The language of the person's latest launch that sent a locale ("en" / "fr"; "" if
    none did yet)."""
    language = session.scalars(
        select(LearnerAccount.language).where(LearnerAccount.person_id == person_id,
                                              LearnerAccount.language != "")
        .order_by(LearnerAccount.last_launch_at.desc(), LearnerAccount.id.desc())
        .limit(1)).first()
    return credential_language(language) if language else ""


def choose_language(session: Session, award: Award, snapshot: Mapping[str, Any],
                    issuer: Issuer) -> str:
    """The language an award's credential is issued in: the learner's (their latest
    launch's locale), else the issuer's first publishing language; French only when the
    version has a French title (else the credential would claim French while being
    English), otherwise English."""
    wanted = learner_language(session, award.person_id)
    if not wanted:
        languages = [str(v) for v in (issuer.languages or []) if v]
        wanted = credential_language(languages[0]) if languages else "en"
    if wanted != "en" and has_text(snapshot, "title", wanted):
        return wanted
    return "en"


def build_unsigned(session: Session, award: Award, issuer: Issuer, *, base_url: str,
                   status_entry: Mapping[str, Any] | None,
                   language: str | None = None) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of an award (see the module docstring), in
    ``language`` (by default :func:`choose_language`)."""
    snapshot = _snapshot(award)
    lang = credential_language(language) if language else \
        choose_language(session, award, snapshot, issuer)
    achievement = _achievement(award, issuer, snapshot, base_url, lang)
    expiry = snapshot.get("expiry_months")
    valid_until = add_months(award.awarded_at, int(expiry)) \
        if isinstance(expiry, int) and expiry > 0 else None
    credential = ob.build_credential(
        credential_id=credential_id(base_url, award),
        issuer=issuer_profile(issuer, base_url, lang),
        achievement=achievement, valid_from=award.awarded_at, valid_until=valid_until,
        identifiers=subject_identifiers(session, award.person_id),
        name=str(achievement["name"]),
        description=text_in(snapshot, "short_description", lang) or None,
        evidence=_evidence(session, award, issuer, lang, base_url), credential_status=status_entry,
        source=_source(award, issuer, base_url, lang), awarded_date=award.awarded_at)
    if "creditsAvailable" in achievement:
        credential["credentialSubject"]["creditsEarned"] = achievement["creditsAvailable"]
    return credential


# -- issuing ----------------------------------------------------------------------------------
def get_record(session: Session, award: Award) -> CredentialRecord | None:
    return session.scalars(select(CredentialRecord).where(
        CredentialRecord.award_id == award.id)).first()


def _issuer_of(session: Session, award: Award) -> Issuer:
    issuer = session.get(Issuer, award.issuer_id)
    assert issuer is not None  # foreign key
    return issuer


def needs_issue(record: CredentialRecord | None) -> bool:
    """Whether :func:`issue_for_award` would write: no record yet, or one signed by a key
    that has since been revoked (re-issued before it is served)."""
    return record is None or record.key.status == issuer_keys.REVOKED


def issue_for_award(session: Session, award: Award, *, vault: KeyVault,
                    base_url: str) -> CredentialRecord:
    """The award's signed credential, issuing it on first call (idempotent: a concurrent
    issue of the same award returns the winner's record). A revoked award still gets its
    record, with its status bit set, so that every award verifies to a clear answer. A
    record signed by a key revoked since is re-issued first (:func:`reissue_record`), so
    no caller ever serves a copy its issuer has withdrawn. Raises ConfigurationError if
    the issuer's key cannot be decrypted."""
    existing = get_record(session, award)
    if existing is not None:
        if existing.key.status == issuer_keys.REVOKED:
            return reissue_record(session, existing, vault=vault, base_url=base_url)
        return existing
    issuer = _issuer_of(session, award)
    key, private, vm = _signer(session, vault, issuer, base_url)
    now = utcnow()
    try:
        with session.begin_nested():
            lst, index = allocate_status_index(session, issuer, vault=vault, base_url=base_url)
            entry = status_list.build_status_entry(status_list_url(base_url, issuer, lst),
                                                   index, STATUS_PURPOSE)
            unsigned = build_unsigned(session, award, issuer, base_url=base_url,
                                      status_entry=entry)
            record = CredentialRecord(
                award_id=award.id, issuer_id=issuer.id, status_list_id=lst.id,
                status_list_index=index, key_id=key.id,
                json=eddsa.sign(unsigned, private, vm, created=now),
                jwt=jwt_vc.sign_jwt(unsigned, private, kid=vm, issued_at=now), issued_at=now)
            session.add(record)
            session.flush()
    except IntegrityError:
        winner = get_record(session, award)
        if winner is None:
            raise
        return winner
    audit.record(session, "credential.issued", context_id=award.context_id,
                 subject_type="award", subject_id=award.id,
                 detail={"credential": record.json["id"], "status_list": lst.list_id,
                         "index": index, "key": key.public_multibase})
    if award.status == AwardStatus.REVOKED.value:
        _lock_list(session, lst)
        _sign_status_list(session, lst, issuer, vault=vault, base_url=base_url)
    return record


def issue_new_awards(session: Session, awards: Iterable[Award | int], *, vault: KeyVault,
                     base_url: str, limit: int = EAGER_LIMIT) -> list[CredentialRecord]:
    """Issue the credentials of just-created awards (``record_demonstration``'s
    ``new_awards``, an import report's award ids). At most ``limit`` per call: the rest are
    issued on first read. Idempotent."""
    issued = []
    for item in list(awards)[:limit]:
        award = session.get(Award, item) if isinstance(item, int) else item
        if award is not None:
            issued.append(issue_for_award(session, award, vault=vault, base_url=base_url))
    return issued


def credential_by_public_id(session: Session, public_id: str, *,
                            vault: KeyVault | None = None,
                            base_url: str | None = None) -> tuple[Award, CredentialRecord] | None:
    """The award and its credential. An award without a record yet is issued here when
    ``vault`` and ``base_url`` are given (otherwise None, like an unknown id), and one
    signed by a key revoked since is re-issued (:func:`needs_issue`)."""
    if not public_id or len(public_id) > 40:
        return None
    award = session.scalars(select(Award).where(Award.public_id == public_id)).first()
    if award is None:
        return None
    record = get_record(session, award)
    if needs_issue(record) and vault is not None and base_url is not None:
        record = issue_for_award(session, award, vault=vault, base_url=base_url)
    return (award, record) if record is not None else None


# -- verifying --------------------------------------------------------------------------------
def _revocation_words(issuer: Issuer, key: IssuerSigningKey) -> str:
    withdrawn = key.revoked_at.strftime("%Y-%m-%d") if key.revoked_at else "an earlier date"
    since = (f" and it may have been misused since {key.compromised_since:%Y-%m-%d %H:%M} UTC"
             if key.compromised_since else "")
    reason = f" ({key.revocation_reason})" if key.revocation_reason else ""
    return (f"{issuer.name} withdrew the key that signed this copy on {withdrawn}{reason}: "
            f"it was reported compromised{since}, so nothing it signed can be trusted any "
            "more")


def resolvers(session: Session, *, base_url: str, remote: RemoteResolvers | None = None
              ) -> tuple[KeyResolver, StatusListResolver]:
    """(key resolver, status list resolver) for :mod:`lti_tool.badges.verify`.

    Our own URLs are answered from the database: verification methods / ``kid``s
    ``<issuer id>#<multibase>`` (and the older ``<issuer id>/keys#<multibase>``) as keys
    controlled by that issuer — a revoked one says why it no longer counts — and status
    lists ``<issuer id>/status/<id>``. A key on our site that an issuer never published is
    refused (BadgeError). Anything else goes to ``remote`` (other institutions' published
    profiles, :mod:`lti_tool.services.remote_issuers`) when given, else is unknown (None).
    """
    prefix = f"{_base(base_url)}/issuers/"

    def split(url: str) -> tuple[str, str, str] | None:
        if not isinstance(url, str) or not url.startswith(prefix) or len(url) > 500:
            return None
        path, _, fragment = url[len(prefix):].partition("#")
        slug, _, rest = path.partition("/")
        return slug, rest, fragment

    def key_resolver(vm: str) -> IssuerKey | None:
        parts = split(vm)
        if parts is None:
            return remote.key(vm) if remote is not None else None
        slug, rest, fragment = parts
        issuer = session.scalars(select(Issuer).where(Issuer.slug == slug)).first() \
            if len(slug) <= 64 else None
        if issuer is None or rest not in ("", "keys") or not fragment:
            raise BadgeError(f"{_base(base_url)} publishes no key under this id")
        key = issuer_keys.key_by_multibase(session, issuer, fragment)
        if key is None:
            raise BadgeError(f"{issuer.name} publishes no such key: the key that signed this "
                             f"was not made by {issuer.name}, whatever the credential says")
        revoked = key.status == issuer_keys.REVOKED
        return IssuerKey(issuer_keys.public_key(key), issuer_keys.issuer_url(base_url, issuer),
                         f"{issuer.name} lists it in its profile at "
                         f"{issuer_keys.issuer_url(base_url, issuer)}",
                         withdrawn=_revocation_words(issuer, key) if revoked else None,
                         reissued=revoked)

    def status_resolver(url: str) -> Mapping[str, Any] | str | bytes | None:
        parts = split(url)
        if parts is None:
            return remote.status_list(url) if remote is not None else None
        slug, rest, fragment = parts
        list_id = rest.removeprefix("status/")
        if not rest.startswith("status/") or fragment or "/" in list_id:
            return None
        issuer = session.scalars(select(Issuer).where(Issuer.slug == slug)).first()
        if issuer is None:
            return None
        lst = session.scalars(select(StatusList).where(
            StatusList.issuer_id == issuer.id, StatusList.list_id == list_id)).first()
        return lst.signed if lst is not None else None

    return key_resolver, status_resolver


def verify_record(session: Session, record: CredentialRecord, *, base_url: str,
                  form: str = "json", now: datetime | None = None) -> VerificationReport:
    """Really verify our stored credential (``form`` "json": the eddsa-rdfc-2022 proof;
    "jwt": the VC-JWT) with our published keys and current status list: the report says
    valid, revoked, expired, ... exactly as an outside verifier holding our documents
    would. Never raises."""
    key_resolver, status_resolver = resolvers(session, base_url=base_url)
    if form == "jwt":
        return verify(record.jwt, now=now, key_resolver=key_resolver,
                      status_resolver=status_resolver)
    return verify_credential(record.json, now=now, key_resolver=key_resolver,
                             status_resolver=status_resolver)


# -- revoking ---------------------------------------------------------------------------------
def revoke(session: Session, award: Award, *, reason: str, by: Assessor, vault: KeyVault,
           base_url: str) -> CredentialRecord:
    """Revoke the award (``services.tracking.revoke_award``: reason required, else
    ValidationFailed) and set its bit in the status list, which is signed again.
    Idempotent."""
    tracking.revoke_award(session, award, reason=reason, by=by)
    existing = get_record(session, award)
    record = issue_for_award(session, award, vault=vault, base_url=base_url)
    if existing is not None:  # a new record's list was signed with the bit set already
        lst = record.status_list
        _lock_list(session, lst)
        session.refresh(lst)
        if not status_list.StatusList(lst.bits).get(record.status_list_index):
            _sign_status_list(session, lst, _issuer_of(session, award), vault=vault,
                              base_url=base_url)
    return record


def resign_status_lists(session: Session, issuer: Issuer, *, vault: KeyVault,
                        base_url: str) -> int:
    """Sign every status list of the issuer again with its active key (after a rotation).
    Returns how many."""
    lists = list(session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id)
                                 .order_by(StatusList.id)))
    for lst in lists:
        _lock_list(session, lst)
        _sign_status_list(session, lst, issuer, vault=vault, base_url=base_url)
    return len(lists)


def rotate_issuer_key(session: Session, issuer: Issuer, *, vault: KeyVault, base_url: str,
                      by: str = "") -> IssuerSigningKey:
    """A new active key for the issuer; the old ones stay published (old credentials keep
    verifying) and the status lists are signed again with the new key. Not idempotent."""
    key = issuer_keys.rotate(session, vault, issuer, by=by)
    resign_status_lists(session, issuer, vault=vault, base_url=base_url)
    return key


# -- re-issuing -------------------------------------------------------------------------------
#: Contexts that credentials made by earlier versions carried and that are not standard:
#: such a credential is rebuilt (standard vocabulary) rather than only signed again.
_RETIRED_CONTEXTS = frozenset({"https://purl.microcred.org/ns/v1"})


def _needs_rebuild(credential: Mapping[str, Any]) -> bool:
    context = credential.get("@context")
    return any(c in _RETIRED_CONTEXTS for c in (context if isinstance(context, list) else []))


def reissue_record(session: Session, record: CredentialRecord, *, vault: KeyVault,
                   base_url: str, by: str = "") -> CredentialRecord:
    """Sign the credential again with the issuer's active key, keeping its id, claims,
    dates and status-list entry, so the learner's links and downloads keep working (a
    credential from an earlier version that used MicroCred's retired extension context is
    rebuilt in standard vocabulary instead). Both forms (JSON-LD and VC-JWT) are replaced.
    Idempotent in effect: re-issuing twice leaves an equally valid record."""
    award = record.award
    issuer = _issuer_of(session, award)
    key, private, vm = _signer(session, vault, issuer, base_url)
    if _needs_rebuild(record.json):
        unsigned = build_unsigned(session, award, issuer, base_url=base_url,
                                  status_entry=record.json.get("credentialStatus"),
                                  language=credential_record_language(record))
    else:
        unsigned = eddsa.unsecured_document(record.json)
    now = utcnow()
    previous_key = record.key_id
    record.json = eddsa.sign(unsigned, private, vm, created=now)
    record.jwt = jwt_vc.sign_jwt(unsigned, private, kid=vm, issued_at=now)
    record.key_id = key.id
    record.reissued_at = now
    session.flush()
    audit.record(session, "credential.reissued", context_id=award.context_id,
                 subject_type="award", subject_id=award.id,
                 detail={"credential": record.json["id"], "by": by,
                         "previous_key_id": previous_key, "key": key.public_multibase})
    return record


def reissue_signed_by(session: Session, key: IssuerSigningKey, *, vault: KeyVault,
                      base_url: str, limit: int = 200, by: str = "") -> int:
    """Re-issue (:func:`reissue_record`) up to ``limit`` credentials that ``key`` signed;
    returns how many. Call again until it returns 0 (commit between batches). Idempotent."""
    records = list(session.scalars(select(CredentialRecord).where(
        CredentialRecord.key_id == key.id).order_by(CredentialRecord.id).limit(limit)
        .options(selectinload(CredentialRecord.award))))
    for record in records:
        reissue_record(session, record, vault=vault, base_url=base_url, by=by)
    return len(records)


def _outdated(record: CredentialRecord, base_url: str, issuer: Issuer) -> bool:
    """Signed by a revoked key, in retired vocabulary, or naming its key by the id used
    before keys were bound to the issuer profile (``<issuer id>/keys#...``)."""
    if record.key.status == issuer_keys.REVOKED or _needs_rebuild(record.json):
        return True
    proofs = record.json.get("proof") or []
    legacy = issuer_keys.legacy_keys_url(base_url, issuer) + "#"
    return any(isinstance(p, Mapping) and str(p.get("verificationMethod", "")).startswith(legacy)
               for p in proofs)


def reissue_outdated(session: Session, issuer: Issuer, *, vault: KeyVault, base_url: str,
                     after_id: int = 0, batch: int = 200, by: str = ""
                     ) -> tuple[int, int | None]:
    """Look at up to ``batch`` of the issuer's credentials after record id ``after_id`` and
    re-issue (:func:`reissue_record`) those that outside verifiers cannot accept as they
    are (see ``_outdated``). Returns (how many were re-issued, the id to continue after, or
    None when every record was looked at). Commit between batches. Idempotent."""
    records = list(session.scalars(
        select(CredentialRecord).where(CredentialRecord.issuer_id == issuer.id,
                                       CredentialRecord.id > after_id)
        .order_by(CredentialRecord.id).limit(batch)
        .options(selectinload(CredentialRecord.award), selectinload(CredentialRecord.key))))
    reissued = 0
    for record in records:
        if _outdated(record, base_url, issuer):
            reissue_record(session, record, vault=vault, base_url=base_url, by=by)
            reissued += 1
    return reissued, (records[-1].id if len(records) == batch else None)


def revoke_issuer_key(session: Session, issuer: Issuer, multibase: str, *,
                      compromised_since: datetime, reason: str, vault: KeyVault,
                      base_url: str, by: str = "") -> IssuerSigningKey:
    """Withdraw a compromised key (``issuer_keys.revoke``): it leaves the issuer profile's
    ``assertionMethod`` and the JWKS, a new active key is made when it was the active one,
    and the status lists are signed again with the active key. Returns the revoked key.
    The credentials it signed are then re-issued with :func:`reissue_signed_by` (in batches,
    each committed), and any left are re-issued when first read, so a learner's link never
    serves a copy signed by a withdrawn key. Idempotent. Raises NotFound for a key the
    issuer does not have, ValidationFailed for an empty reason or a future time."""
    key = issuer_keys.key_by_multibase(session, issuer, multibase.strip())
    if key is None:
        raise NotFound(f"{issuer.name} has no key {multibase.strip()[:80]}.")
    issuer_keys.revoke(session, vault, issuer, key, compromised_since=compromised_since,
                       reason=reason, by=by)
    resign_status_lists(session, issuer, vault=vault, base_url=base_url)
    return key


# -- the learner record (CLR 2.0) ---------------------------------------------------------------
def build_clr(session: Session, person_id: int, *, vault: KeyVault, base_url: str,
              issuer_id: int | None = None) -> dict[str, Any]:
    """A signed ClrCredential with the learner's non-revoked credentials of one issuer
    (``issuer_id``; by default the issuer of their latest award), each embedded signed, and
    their achievements, and the CLR 2.0 ``association``s between those achievements that
    the issuer's published pathways state (``clr_associations``). Raises NotFound when
    there is nothing to put in it (CLR 2.0 requires at least one credential)."""
    query = select(Award).where(Award.person_id == person_id,
                                Award.status != AwardStatus.REVOKED.value)
    if issuer_id is None:
        latest = session.scalars(query.order_by(Award.awarded_at.desc(), Award.id.desc())
                                 .limit(1)).first()
        if latest is None:
            raise NotFound("This learner has no credentials for a learner record yet.")
        issuer_id = latest.issuer_id
    awards = list(session.scalars(query.where(Award.issuer_id == issuer_id)
                                  .order_by(Award.awarded_at, Award.id)))
    if not awards:
        raise NotFound("This learner has no credentials from this issuer yet.")
    issuer = _issuer_of(session, awards[0])
    records = [issue_for_award(session, a, vault=vault, base_url=base_url) for a in awards]
    credentials = [r.json for r in records]
    achievements = [c["credentialSubject"]["achievement"] for c in credentials]
    association = clr_associations(session, issuer.id, achievements)
    context = [VC_V2, CLR_V2P0, OB_V3P0, OB_V3P0_EXTENSIONS]
    now = utcnow()
    # The record's own words in the learner's language (each credential in it keeps its).
    lang = learner_language(session, person_id) or "en"
    issuer_name = localized(issuer, None, "name", lang).text
    clr: dict[str, Any] = {
        "@context": context,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": issuer_profile(issuer, base_url, lang),
        "name": words(lang, "clr_name", issuer=issuer_name),
        "description": words(lang, "clr_description", issuer=issuer_name,
                             count=str(len(credentials))),
        "validFrom": eddsa.format_datetime(now),
        "awardedDate": eddsa.format_datetime(now),
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": subject_identifiers(session, person_id),
            "verifiableCredential": credentials,
            "achievement": achievements,
            **({"association": association} if association else {}),
        },
        "credentialSchema": [{"id": CLR_SCHEMA_ID, "type": SCHEMA_VALIDATOR_TYPE}],
    }
    _key, private, vm = _signer(session, vault, issuer, base_url)
    return eddsa.sign(clr, private, vm, created=now)


def clr_associations(session: Session, issuer_id: int,
                     achievements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Associations between the record's achievements from the issuer's published
    pathways: each step ``isPartOf`` the program credential, A ``precedes`` B (issue 12).
    Only between achievements in the record, each stated once."""
    from lti_tool.domain.pathways import associations
    from lti_tool.services import pathways

    ids = {str(a.get("humanCode")): str(a["id"]) for a in achievements if a.get("humanCode")}
    if len(ids) < 2:
        return []
    seen: set[tuple[str, str, str]] = set()
    result = []
    for pathway in pathways.published_pathways(session, issuer_id):
        for item in associations(pathway.spec, ids):
            key = (item["associationType"], item["sourceId"], item["targetId"])
            if key not in seen:
                seen.add(key)
                result.append(item)
    return result


# -- images -----------------------------------------------------------------------------------
def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return [line if len(line) <= width + 8 else line[:width] + "…" for line in lines]


def credential_record_language(record: CredentialRecord) -> str:
    """The language a signed credential is in ("en" / "fr"), from its
    ``achievement.inLanguage`` (credentials issued before bilingual content: English)."""
    achievement = record.json.get("credentialSubject", {}).get("achievement", {})
    value = achievement.get("inLanguage") if isinstance(achievement, Mapping) else None
    return credential_language(value) if isinstance(value, str) else "en"


def badge_svg_for(title: str, issuer_name: str, lang: str = "en") -> str:
    """An accessible badge SVG (``role="img"`` with ``<title>`` and ``<desc>``, ``lang``
    set) showing the credential's title and the issuer in ``lang``: no script, no external
    reference, deterministic. White on #1d4e89 (contrast 8.6:1)."""
    title = " ".join(title.split()) or words(lang, "untitled")
    issuer_name = " ".join(issuer_name.split())
    lines = _wrap(title, 16, 4)
    size = 30 if max(len(line) for line in lines) <= 14 else 26
    top = 200 - (len(lines) - 1) * (size + 6) / 2
    text = "".join(
        f'<text x="200" y="{top + i * (size + 6):.0f}" font-size="{size}" '
        f'font-weight="700">{escape(line)}</text>' for i, line in enumerate(lines))
    issuer_lines = _wrap(issuer_name, 30, 2)
    issuer_text = "".join(
        f'<text x="200" y="{306 + i * 20}" font-size="16">{escape(line)}</text>'
        for i, line in enumerate(issuer_lines))
    label_text = escape(words(lang, "badge_label", title=title, issuer=issuer_name))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" width="400" '
        f'height="400" role="img" lang="{BCP47[credential_language(lang)]}" '
        'aria-labelledby="badge-title badge-desc">'
        f'<title id="badge-title">{escape(title)}</title>'
        f'<desc id="badge-desc">{label_text}</desc>'
        '<circle cx="200" cy="200" r="190" fill="#1d4e89"/>'
        '<circle cx="200" cy="200" r="172" fill="none" stroke="#ffbf47" stroke-width="8"/>'
        '<g fill="#ffffff" text-anchor="middle" '
        'font-family="Helvetica, Arial, sans-serif">'
        '<text x="200" y="96" font-size="15" letter-spacing="2">'
        f'{escape(words(lang, "badge_word"))}</text>'
        f'{text}{issuer_text}</g></svg>')


def badge_svg(item: CredentialRecord | Award) -> str:
    """The generated badge SVG of a credential (title and issuer from the signed
    credential) or of an award (from its version's snapshot)."""
    if isinstance(item, CredentialRecord):
        achievement = item.json.get("credentialSubject", {}).get("achievement", {})
        issuer = item.json.get("issuer", {})
        return badge_svg_for(str(achievement.get("name", "")), str(issuer.get("name", "")),
                             credential_record_language(item))
    session = object_session(item)
    issuer_name = ""
    if session is not None:
        issuer_row = session.get(Issuer, item.issuer_id)
        issuer_name = issuer_row.name if issuer_row is not None else ""
    return badge_svg_for(str(_snapshot(item).get("title") or item.version.title), issuer_name)


def records_for_person(session: Session, person_id: int) -> list[CredentialRecord]:
    """The credentials issued to a person so far, oldest first."""
    return list(session.scalars(
        select(CredentialRecord).join(Award, Award.id == CredentialRecord.award_id)
        .where(Award.person_id == person_id).order_by(CredentialRecord.issued_at)))


__all__ = ["EVIDENCE_FULL", "EVIDENCE_SUMMARY", "add_months", "allocate_status_index",
           "badge_svg", "badge_svg_for", "build_clr", "build_unsigned",
           "choose_language", "credential_by_public_id", "credential_record_language",
           "edition_url", "get_record", "issue_for_award", "issue_new_awards",
           "issuer_by_slug", "issuer_document", "issuer_profile", "jwks_document",
           "legacy_keys_document", "needs_issue", "records_for_person", "reissue_outdated",
           "reissue_record",
           "reissue_signed_by",
           "resolvers", "revoke", "revoke_issuer_key", "rotate_issuer_key",
           "status_list_by_id", "verify_record"]
