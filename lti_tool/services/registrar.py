"""The registrar's record: every award of an issuer, one row per award, across courses,
platforms and routes (earned in a for-credit course, in continuing education, by PLAR or
by transfer), with the credit and notional hours of the version awarded, the student
number(s) the learning platforms sent (LTI ``lis_person_sourcedid``, kept per platform on
the learner's accounts), and the transcript notation of each credit-bearing credential.

* **Transcript notation**: a template per issuer and language (the issuer setting
  ``transcript_notation``: ``{"en": "...", "fr": "..."}``, default
  ``domain.transfer.DEFAULT_NOTATION``) with the placeholders ``{title} {code} {credits}
  {hours} {route} {date} {issuer} {version}``; only credit-bearing credentials get one.
* **Exports**: :func:`awards` for a date range (awarded in it) or the changes since a time
  (awarded, revoked or flagged after it, for student information systems), paged by id;
  :func:`csv_export` writes them as CSV (UTF-8 with a byte-order mark, for spreadsheets).
  The learner's CLR 2.0 record is :func:`lti_tool.services.issuing.build_clr`.

Read-only but for :func:`set_notation_templates` (audited). Raises ValidationFailed.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import label
from lti_tool.domain.tracking import learner_name
from lti_tool.domain.transfer import DEFAULT_NOTATION, notation_problems, render_notation
from lti_tool.errors import ValidationFailed
from lti_tool.models import (
    Award,
    Context,
    CredentialVersion,
    Deployment,
    Issuer,
    IssuerPlatform,
    LearnerAccount,
    MicroCredential,
    Platform,
)
from lti_tool.models.base import utcnow
from lti_tool.services import audit

SETTING = "transcript_notation"
MAX_TEMPLATE = 500
MAX_PAGE = 500

ROUTE_LABELS_FR = {
    "integrated": "dans un cours crédité",
    "stand_alone": "autonome (formation continue)",
    "plar": "reconnaissance des acquis (RDA)",
    "transfer": "transfert (reconnu d'un autre établissement)",
}


def notation_templates(issuer: Issuer) -> dict[str, str]:
    """The issuer's notation template per language ("en", "fr"), defaults filled in."""
    raw = (issuer.settings or {}).get(SETTING)
    raw = raw if isinstance(raw, Mapping) else {}
    return {lang: str(raw.get(lang) or "").strip() or DEFAULT_NOTATION[lang]
            for lang in ("en", "fr")}


def set_notation_templates(session: Session, issuer: Issuer, templates: Mapping[str, str], *,
                           by: str) -> None:
    """Save the notation templates (an empty one goes back to the default). Raises
    ValidationFailed naming the language with the problem."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for lang in ("en", "fr"):
        text = " ".join(str(templates.get(lang) or "").split())
        if len(text) > MAX_TEMPLATE:
            errors[f"notation_{lang}"] = [f"{MAX_TEMPLATE} characters at most"]
        elif text:
            problems = notation_problems(text)
            if problems:
                errors[f"notation_{lang}"] = problems
        clean[lang] = text
    if errors:
        raise ValidationFailed(errors)
    settings = dict(issuer.settings or {})
    settings[SETTING] = {k: v for k, v in clean.items() if v}
    issuer.settings = settings
    issuer.row_version += 1
    issuer.updated_at = utcnow()
    session.flush()
    audit.record(session, "registrar.notation.updated", subject_type="issuer",
                 subject_id=issuer.id, detail={"by": by, "templates": settings[SETTING]})


@dataclass(frozen=True)
class AwardRow:
    """One award as the registrar sees it."""

    award_id: int
    public_id: str
    person_id: int
    learner_name: str
    learner_email: str
    student_numbers: tuple[str, ...]
    credential_code: str
    title: str
    version: int
    route: str
    route_label: str
    course: str
    platform: str
    awarded_at: datetime
    status: str
    revoked_at: datetime | None
    credit_bearing: bool
    credits: Decimal | None
    credit_system: str
    hours: Decimal
    notation_en: str
    notation_fr: str
    changed_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.public_id, "personId": self.person_id, "learnerName": self.learner_name,
            "learnerEmail": self.learner_email or None,
            "studentNumbers": list(self.student_numbers),
            "credentialCode": self.credential_code, "title": self.title,
            "version": self.version, "route": self.route,
            "course": self.course or None, "platform": self.platform or None,
            "awardedAt": _iso(self.awarded_at), "status": self.status,
            "revokedAt": _iso(self.revoked_at) if self.revoked_at else None,
            "creditBearing": self.credit_bearing,
            "credits": _plain(self.credits) if self.credits is not None else None,
            "creditSystem": self.credit_system or None, "hours": _plain(self.hours),
            "notation": {"en": self.notation_en, "fr": self.notation_fr}
            if self.credit_bearing else None,
            "changedAt": _iso(self.changed_at)}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _number(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _changed_at(award: Award) -> datetime:
    return max(t for t in (award.awarded_at, award.revoked_at, award.flagged_at)
               if t is not None)


def awards_query(issuer: Issuer, *, awarded_from: datetime | None = None,
                 awarded_to: datetime | None = None, changed_since: datetime | None = None,
                 person_id: int | None = None) -> Select[Award]:
    """The issuer's awards (unordered): awarded in [from, to) and/or changed (awarded,
    revoked, flagged) after ``changed_since``, or one person's."""
    query = select(Award).where(Award.issuer_id == issuer.id)
    if awarded_from is not None:
        query = query.where(Award.awarded_at >= awarded_from)
    if awarded_to is not None:
        query = query.where(Award.awarded_at < awarded_to)
    if changed_since is not None:
        query = query.where(or_(Award.awarded_at > changed_since,
                                Award.revoked_at > changed_since,
                                Award.flagged_at > changed_since))
    if person_id is not None:
        query = query.where(Award.person_id == person_id)
    return query


def awards(session: Session, issuer: Issuer, *, awarded_from: datetime | None = None,
           awarded_to: datetime | None = None, changed_since: datetime | None = None,
           person_id: int | None = None, after_id: int = 0, limit: int = MAX_PAGE
           ) -> list[AwardRow]:
    """``awards_query`` as rows, oldest id first after ``after_id``."""
    query = awards_query(issuer, awarded_from=awarded_from, awarded_to=awarded_to,
                         changed_since=changed_since, person_id=person_id)
    found = list(session.scalars(query.where(Award.id > after_id).order_by(Award.id)
                                 .limit(max(1, min(limit, MAX_PAGE)))))
    return rows_for(session, issuer, found)


def rows_for(session: Session, issuer: Issuer, rows: Sequence[Award]) -> list[AwardRow]:
    """The registrar's view of these awards (a few queries whatever their number)."""
    return _rows(session, issuer, rows)


def _rows(session: Session, issuer: Issuer, rows: Sequence[Award]) -> list[AwardRow]:
    if not rows:
        return []
    versions = {v.id: v for v in session.scalars(select(CredentialVersion).where(
        CredentialVersion.id.in_({a.version_id for a in rows})))}
    codes = dict(session.execute(select(MicroCredential.id, MicroCredential.code).where(
        MicroCredential.id.in_({a.credential_id for a in rows}))).all())
    contexts = {c.id: c for c in session.scalars(select(Context).where(
        Context.id.in_({a.context_id for a in rows if a.context_id is not None})))}
    people = _people(session, {a.person_id for a in rows})
    templates = notation_templates(issuer)
    result = []
    for award in rows:
        version = versions[award.version_id]
        snapshot = version.snapshot or version.content or {}
        credit_bearing = bool(snapshot.get("credit_bearing", version.credit_bearing))
        credits = _number(snapshot.get("credit_value")) if credit_bearing else None
        hours = _number(snapshot.get("notional_hours")) or Decimal(version.notional_hours)
        context = contexts.get(award.context_id) if award.context_id is not None else None
        name, email, numbers, platforms = people.get(award.person_id, ("", "", (), {}))
        code = codes.get(award.credential_id, "")
        values = {"title": version.title, "code": code, "credits": _plain(credits),
                  "hours": _plain(hours), "date": award.awarded_at.date().isoformat(),
                  "issuer": issuer.name, "version": str(version.version)}
        notation_en = render_notation(templates["en"], {**values,
                                                        "route": label(award.route)}) \
            if credit_bearing else ""
        notation_fr = render_notation(templates["fr"], {
            **values, "route": ROUTE_LABELS_FR.get(award.route, award.route)}) \
            if credit_bearing else ""
        platform = platforms.get(context.deployment_id, "") if context is not None else ""
        result.append(AwardRow(
            award_id=award.id, public_id=award.public_id, person_id=award.person_id,
            learner_name=name, learner_email=email, student_numbers=numbers,
            credential_code=code, title=version.title, version=version.version,
            route=award.route, route_label=label(award.route),
            course=context.title if context is not None else "", platform=platform,
            awarded_at=award.awarded_at, status=award.status, revoked_at=award.revoked_at,
            credit_bearing=credit_bearing, credits=credits,
            credit_system=str(snapshot.get("credit_system") or "") if credit_bearing else "",
            hours=hours, notation_en=notation_en, notation_fr=notation_fr,
            changed_at=_changed_at(award)))
    return result


def _people(session: Session, person_ids: Iterable[int]
            ) -> dict[int, tuple[str, str, tuple[str, ...], dict[int, str]]]:
    """Per person: name and e-mail (from the latest launch), student numbers ("<platform>:
    <id>" when more than one platform sent one), and deployment id → platform name."""
    accounts = session.execute(
        select(LearnerAccount, Platform.name)
        .join(Platform, Platform.id == LearnerAccount.platform_id)
        .where(LearnerAccount.person_id.in_(list(person_ids)))
        .order_by(LearnerAccount.last_launch_at.desc(), LearnerAccount.id)).all()
    by_person: dict[int, list[tuple[LearnerAccount, str]]] = defaultdict(list)
    for account, platform_name in accounts:
        by_person[account.person_id].append((account, platform_name))
    deployment_names = dict(session.execute(
        select(Deployment.id, Platform.name).join(Platform,
                                                  Platform.id == Deployment.platform_id)).all())
    result = {}
    for person_id, items in by_person.items():
        first = items[0][0]
        name = learner_name(first.id, name=first.name, given=first.given_name,
                            family=first.family_name, email=first.email)
        email = next((a.email for a, _ in items if a.email), "")
        numbers = {(p, a.lis_person_sourcedid.strip()) for a, p in items
                   if a.lis_person_sourcedid.strip()}
        distinct = {n for _, n in numbers}
        listed = tuple(sorted(distinct)) if len(distinct) <= 1 or \
            len({p for p, _ in numbers}) <= 1 else tuple(sorted(f"{p}: {n}"
                                                                for p, n in numbers))
        result[person_id] = (name, email, listed, deployment_names)
    return result


CSV_COLUMNS = ("award_id", "student_number", "learner", "email", "credential_code", "title",
               "version", "route", "route_label", "course", "platform", "awarded_on",
               "status", "revoked_on", "credit_bearing", "credits", "credit_system",
               "hours", "notation_en", "notation_fr")


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_export(rows: Iterable[AwardRow]) -> str:
    """The rows as CSV (header first), for a registrar's spreadsheet or SIS import."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(str(v)) for v in (
            row.public_id, "; ".join(row.student_numbers), row.learner_name,
            row.learner_email, row.credential_code, row.title, row.version, row.route,
            row.route_label, row.course, row.platform, row.awarded_at.date().isoformat(),
            row.status, row.revoked_at.date().isoformat() if row.revoked_at else "",
            "yes" if row.credit_bearing else "no", _plain(row.credits), row.credit_system,
            _plain(row.hours), row.notation_en, row.notation_fr)])
    return "\ufeff" + out.getvalue()


@dataclass(frozen=True)
class LearnerTotals:
    awards: int
    credits: Decimal
    hours: Decimal
    by_route: dict[str, int]


def totals(rows: Iterable[AwardRow]) -> LearnerTotals:
    """Credits and hours of the standing (not revoked) awards, and counts per route."""
    standing = [r for r in rows if r.status != "revoked"]
    by_route: dict[str, int] = defaultdict(int)
    for row in standing:
        by_route[row.route] += 1
    return LearnerTotals(len(standing), sum((r.credits or Decimal(0) for r in standing),
                                            Decimal(0)),
                         sum((r.hours for r in standing), Decimal(0)), dict(by_route))


def find_people(session: Session, issuer: Issuer, query: str, limit: int = 50
                ) -> list[tuple[int, str, str, str]]:
    """People of the issuer's platforms matching a name, e-mail or student number: (person
    id, name, e-mail, student number)."""
    text = query.strip().lower()[:100]
    if not text:
        return []
    pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"
    rows = session.scalars(
        select(LearnerAccount).where(
            LearnerAccount.platform_id.in_(select(IssuerPlatform.platform_id).where(
                IssuerPlatform.issuer_id == issuer.id)),
            or_(func.lower(LearnerAccount.name).like(pattern),
                func.lower(LearnerAccount.email).like(pattern),
                func.lower(LearnerAccount.lis_person_sourcedid).like(pattern)))
        .order_by(LearnerAccount.name, LearnerAccount.id).limit(limit))
    seen: dict[int, tuple[int, str, str, str]] = {}
    for account in rows:
        seen.setdefault(account.person_id, (
            account.person_id, learner_name(account.id, name=account.name,
                                            given=account.given_name,
                                            family=account.family_name, email=account.email),
            account.email, account.lis_person_sourcedid))
    return list(seen.values())


def known_person(session: Session, issuer: Issuer, person_id: int) -> bool:
    """Whether the person has an account on one of the issuer's platforms."""
    return session.scalars(select(LearnerAccount.id).where(
        LearnerAccount.person_id == person_id,
        LearnerAccount.platform_id.in_(select(IssuerPlatform.platform_id).where(
            IssuerPlatform.issuer_id == issuer.id))).limit(1)).first() is not None


def person_summary(session: Session, person_id: int) -> tuple[str, str, tuple[str, ...]]:
    """(name, e-mail, student numbers) of a person, as the record shows them."""
    name, email, numbers, _platforms = _people(session, [person_id]).get(
        person_id, ("", "", (), {}))
    return name, email, numbers
