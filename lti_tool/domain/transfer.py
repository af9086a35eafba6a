"""Transfer between institutions as pure rules: what an external credential certifies (read
from an Open Badges 3.0 credential or an Open Badges 2.0 assertion already verified), who
it names, and when an equivalency of the issuer's table matches it exactly.

* **What it certifies** (:class:`ExternalClaims`): the issuer (id, name), the achievement
  (id, name, description, type, version, credits), its alignments (framework, code, URL),
  when it was issued and until when it is valid. OB 3.0: ``issuer``,
  ``credentialSubject.achievement``, ``validFrom``/``awardedDate``, ``validUntil``
  (https://www.imsglobal.org/spec/ob/v3p0/#achievementcredential). OB 2.0: ``badge``
  (BadgeClass), ``issuer`` (Profile), ``issuedOn``, ``expires``
  (https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html).
* **Who it names**: hashed or plain identities (OB 3.0 ``IdentityObject``, OB 2.0
  ``recipient``), checked against what the learner's platforms told us (e-mail,
  institutional id) by :func:`recipient_matches`.
* **Equivalency** (:class:`EquivalencyRule`): an external issuer + an achievement id, or
  a set of alignment targets (framework + code, or target URL) that must *all* be present;
  conditions: issued within ``valid_months`` of the decision, achievement ``version`` at
  least ``min_version``. :func:`match` says whether it matches and, when not, why.

No Flask, no database.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from lti_tool.domain.json_values import as_list

MAX_TEXT = 500
MAX_ALIGNMENTS = 50


class TransferState(StrEnum):
    """A transfer request's life: refused at once (does not verify), waiting for the
    registrar, accepted (automatically or by a registrar), or declined by a registrar."""

    REFUSED = "refused"
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class EquivalencyState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RETIRED = "retired"


class MatchBy(StrEnum):
    ACHIEVEMENT = "achievement"
    ALIGNMENT = "alignment"


class TargetKind(StrEnum):
    CREDENTIAL = "credential"
    SKILLS = "skills"


@dataclass(frozen=True)
class Alignment:
    """One alignment target of an external achievement (or of an equivalency)."""

    name: str = ""
    url: str = ""
    code: str = ""
    framework: str = ""

    def key(self) -> tuple[str, str]:
        """What identifies the target: (framework, code) when there is a code, else the
        URL (lower-cased, without a trailing slash)."""
        if self.code:
            return (_norm(self.framework), _norm(self.code))
        return ("url", self.url.strip().rstrip("/").lower())

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "url": self.url, "code": self.code,
                "framework": self.framework}


@dataclass(frozen=True)
class Identity:
    """One identity the credential names: ``kind`` (emailAddress, lisSourcedId, url, id,
    ...), the value or its hash ("sha256$..." ), the salt when hashed."""

    kind: str
    value: str
    hashed: bool = False
    salt: str = ""


@dataclass
class ExternalClaims:
    """What a (verified) external credential certifies, as plain strings."""

    standard: str = ""                   # "OB 3.0" | "OB 2.0"
    credential_id: str = ""
    issuer_id: str = ""
    issuer_name: str = ""
    issuer_url: str = ""
    achievement_id: str = ""
    achievement_name: str = ""
    achievement_description: str = ""
    achievement_type: str = ""
    achievement_version: str = ""
    criteria: str = ""
    credits: str = ""
    issued_at: datetime | None = None
    valid_until: datetime | None = None
    alignments: list[Alignment] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "standard": self.standard, "credentialId": self.credential_id,
            "issuerId": self.issuer_id, "issuerName": self.issuer_name,
            "issuerUrl": self.issuer_url, "achievementId": self.achievement_id,
            "achievementName": self.achievement_name,
            "achievementDescription": self.achievement_description,
            "achievementType": self.achievement_type,
            "achievementVersion": self.achievement_version, "criteria": self.criteria,
            "credits": self.credits,
            "issuedAt": self.issued_at.isoformat() if self.issued_at else None,
            "validUntil": self.valid_until.isoformat() if self.valid_until else None,
            "alignments": [a.as_dict() for a in self.alignments],
        }


def claims_from_dict(data: Mapping[str, Any]) -> ExternalClaims:
    """The inverse of ``ExternalClaims.as_dict`` (identities are not stored)."""
    return ExternalClaims(
        standard=str(data.get("standard") or ""),
        credential_id=str(data.get("credentialId") or ""),
        issuer_id=str(data.get("issuerId") or ""), issuer_name=str(data.get("issuerName") or ""),
        issuer_url=str(data.get("issuerUrl") or ""),
        achievement_id=str(data.get("achievementId") or ""),
        achievement_name=str(data.get("achievementName") or ""),
        achievement_description=str(data.get("achievementDescription") or ""),
        achievement_type=str(data.get("achievementType") or ""),
        achievement_version=str(data.get("achievementVersion") or ""),
        criteria=str(data.get("criteria") or ""), credits=str(data.get("credits") or ""),
        issued_at=parse_datetime(data.get("issuedAt")),
        valid_until=parse_datetime(data.get("validUntil")),
        alignments=[Alignment(**{k: str(v or "") for k, v in a.items()
                                 if k in ("name", "url", "code", "framework")})
                    for a in data.get("alignments") or [] if isinstance(a, Mapping)])


# -- reading credentials -------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _text(value: Any, size: int = MAX_TEXT) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = " ".join(str(value).split())
        return text if len(text) <= size else text[: size - 1] + "…"
    return ""


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time (or date) as an aware UTC datetime; None if it is not one."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _profile(node: Any) -> tuple[str, str, str]:
    if isinstance(node, str):
        return _text(node, 1000), "", ""
    if isinstance(node, Mapping):
        return (_text(node.get("id"), 1000), _text(node.get("name"), 300),
                _text(node.get("url"), 1000))
    return "", "", ""


def _alignments(items: Any, *, ob2: bool) -> list[Alignment]:
    found = []
    for item in as_list(items)[:MAX_ALIGNMENTS]:
        if not isinstance(item, Mapping):
            continue
        found.append(Alignment(
            name=_text(item.get("targetName"), 300),
            url=_text(item.get("targetUrl"), 1000),
            code=_text(item.get("targetCode"), 100),
            framework=_text(item.get("targetFramework"), 300)))
    return found


def _credits(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, "g")
    return _text(value, 20)


def ob3_claims(credential: Mapping[str, Any]) -> ExternalClaims:
    """What an OB 3.0 ``OpenBadgeCredential`` / ``AchievementCredential`` certifies."""
    issuer_id, issuer_name, issuer_url = _profile(credential.get("issuer"))
    subjects = [s for s in as_list(credential.get("credentialSubject"))
                if isinstance(s, Mapping)]
    subject: Mapping[str, Any] = subjects[0] if subjects else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    criteria = achievement.get("criteria")
    criteria_text = _text(criteria.get("narrative"), 2000) if isinstance(criteria, Mapping) \
        else ""
    identities: list[Identity] = []
    for item in as_list(subject.get("identifier"))[:10]:
        if isinstance(item, Mapping) and isinstance(item.get("identityHash"), str):
            identities.append(Identity(
                str(item.get("identityType") or ""), str(item["identityHash"]),
                bool(item.get("hashed")), str(item.get("salt") or "")))
    if isinstance(subject.get("id"), str):
        identities.append(Identity("id", subject["id"]))
    issued = parse_datetime(credential.get("validFrom")) or \
        parse_datetime(credential.get("awardedDate")) or \
        parse_datetime(credential.get("issuanceDate"))
    until = parse_datetime(credential.get("validUntil")) or \
        parse_datetime(credential.get("expirationDate"))
    achievement_type = achievement.get("achievementType")
    return ExternalClaims(
        standard="OB 3.0", credential_id=_text(credential.get("id"), 1000),
        issuer_id=issuer_id, issuer_name=issuer_name, issuer_url=issuer_url,
        achievement_id=_text(achievement.get("id"), 1000),
        achievement_name=_text(achievement.get("name"), 300),
        achievement_description=_text(achievement.get("description"), 2000),
        achievement_type=_text(achievement_type, 100),
        achievement_version=_text(achievement.get("version"), 50),
        criteria=criteria_text,
        credits=_credits(subject.get("creditsEarned", achievement.get("creditsAvailable"))),
        issued_at=issued, valid_until=until,
        alignments=_alignments(achievement.get("alignment"), ob2=False),
        identities=identities)


def ob2_claims(assertion: Mapping[str, Any], badge: Mapping[str, Any],
               issuer: Mapping[str, Any]) -> ExternalClaims:
    """What an OB 2.0 Assertion certifies, with its BadgeClass and issuer Profile."""
    recipient = assertion.get("recipient")
    identities: list[Identity] = []
    if isinstance(recipient, Mapping) and isinstance(recipient.get("identity"), str):
        identities.append(Identity(str(recipient.get("type") or "email"),
                                   recipient["identity"], bool(recipient.get("hashed")),
                                   str(recipient.get("salt") or "")))
    criteria = badge.get("criteria")
    criteria_text = _text(criteria.get("narrative"), 2000) if isinstance(criteria, Mapping) \
        else ""
    return ExternalClaims(
        standard="OB 2.0", credential_id=_text(assertion.get("id"), 1000),
        issuer_id=_text(issuer.get("id"), 1000), issuer_name=_text(issuer.get("name"), 300),
        issuer_url=_text(issuer.get("url"), 1000),
        achievement_id=_text(badge.get("id"), 1000),
        achievement_name=_text(badge.get("name"), 300),
        achievement_description=_text(badge.get("description"), 2000),
        achievement_type="BadgeClass", achievement_version=_text(badge.get("version"), 50),
        criteria=criteria_text, credits="",
        issued_at=parse_datetime(assertion.get("issuedOn")),
        valid_until=parse_datetime(assertion.get("expires")),
        alignments=_alignments(badge.get("alignment"), ob2=True), identities=identities)


# -- who it names --------------------------------------------------------------------------
_EMAIL_KINDS = {"emailaddress", "email"}
_SOURCEDID_KINDS = {"lissourcedid", "sourcedid", "sisSourcedId".lower(), "studentid"}


def _hash_matches(identity: Identity, value: str) -> bool:
    algorithm, _, digest = identity.value.partition("$")
    if algorithm.lower() == "sha256":
        expected = hashlib.sha256((value + identity.salt).encode("utf-8")).hexdigest()
    elif algorithm.lower() == "md5":  # OB 2.0 allows it; only ever compared, never made
        expected = hashlib.md5((value + identity.salt).encode("utf-8"),
                               usedforsecurity=False).hexdigest()
    else:
        return False
    return secrets.compare_digest(digest.lower(), expected)


def recipient_matches(identities: Iterable[Identity], *, emails: Iterable[str] = (),
                      sourcedids: Iterable[str] = ()) -> str | None:
    """The identity kind ("e-mail", "institutional id") of the first identity of the
    credential that names one of the learner's known e-mail addresses or institutional ids;
    None when none does (hashed identities are compared hash to hash)."""
    # Issuers hash the address lower-cased (OB 3.0 practice, MicroCred) or as they had it
    # (OB 2.0 allows either): both forms are tried.
    known_emails = {form for e in emails if e and "@" in e
                    for form in (e.strip(), e.strip().lower())}
    known_ids = {s.strip() for s in sourcedids if s and s.strip()}
    for identity in identities:
        kind = identity.kind.lower()
        if kind in _EMAIL_KINDS:
            candidates, what = known_emails, "e-mail"
        elif kind in _SOURCEDID_KINDS:
            candidates, what = known_ids, "institutional id"
        else:
            continue
        for value in candidates:
            if identity.hashed:
                # OB 2.0 hashes the address as given; OB 3.0 (and MicroCred) lower-cases it
                if _hash_matches(identity, value):
                    return what
            elif identity.value.strip().lower() == value.lower():
                return what
    return None


# -- equivalencies -------------------------------------------------------------------------
_VERSION_PART = re.compile(r"\d+|[A-Za-z]+")


def version_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sortable key for versions such as "3", "2.1", "2024-1", "v2b"."""
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower())
                 for p in _VERSION_PART.findall(text))


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0)
                           else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class EquivalencyRule:
    """The matching part of an equivalency (the catalog targets are the caller's)."""

    external_issuer_id: str
    match_by: MatchBy
    achievement_id: str = ""
    alignments: tuple[Alignment, ...] = ()
    valid_months: int | None = None
    min_version: str = ""


@dataclass(frozen=True)
class MatchResult:
    matches: bool
    #: what does not match, in words (empty when it matches)
    problems: tuple[str, ...] = ()


def _same_issuer(a: str, b: str) -> bool:
    return a.strip().rstrip("/") == b.strip().rstrip("/") and bool(a.strip())


def identifies(rule: EquivalencyRule, claims: ExternalClaims) -> bool:
    """Whether the rule is about this credential at all (same issuer, and the same
    achievement or every alignment target present), whatever its conditions."""
    if not _same_issuer(rule.external_issuer_id, claims.issuer_id):
        return False
    if rule.match_by is MatchBy.ACHIEVEMENT:
        return bool(rule.achievement_id) and \
            rule.achievement_id.strip() == claims.achievement_id.strip()
    present = {a.key() for a in claims.alignments}
    wanted = {a.key() for a in rule.alignments}
    return bool(wanted) and wanted <= present


def match(rule: EquivalencyRule, claims: ExternalClaims, *, now: datetime) -> MatchResult:
    """Whether the rule matches the credential exactly: it identifies it and every
    condition holds (issued within ``valid_months`` before ``now``; version at least
    ``min_version``)."""
    if not identifies(rule, claims):
        return MatchResult(False, ("this equivalency is about another issuer or achievement",))
    problems = []
    if rule.valid_months:
        if claims.issued_at is None:
            problems.append("the credential does not say when it was issued")
        elif add_months(claims.issued_at, rule.valid_months) < now:
            problems.append(f"it was issued on {claims.issued_at.date().isoformat()}, more "
                            f"than {rule.valid_months} months ago")
    if rule.min_version:
        if not claims.achievement_version:
            problems.append(f"the achievement has no version (version {rule.min_version} or "
                            "later is required)")
        elif version_key(claims.achievement_version) < version_key(rule.min_version):
            problems.append(f"the achievement is version {claims.achievement_version}; "
                            f"version {rule.min_version} or later is required")
    return MatchResult(not problems, tuple(problems))


def suggestions(local_skills: Iterable[tuple[int, Iterable[Mapping[str, Any]]]],
                claims: ExternalClaims) -> list[tuple[int, list[Alignment]]]:
    """Local skills (id, their catalog alignments) that share at least one alignment target
    (same framework and code, or same target URL) with the external achievement: (skill
    id, the shared targets), most shared first."""
    theirs = {a.key(): a for a in claims.alignments}
    theirs.update({("url", a.url.strip().rstrip("/").lower()): a
                   for a in claims.alignments if a.url})
    found = []
    for skill_id, alignments in local_skills:
        shared: dict[tuple[str, str], Alignment] = {}
        for item in alignments:
            mine = Alignment(url=str(item.get("target_url") or ""),
                             code=str(item.get("target_code") or ""),
                             framework=str(item.get("framework") or ""),
                             name=str(item.get("target_name") or ""))
            for key in {mine.key(), ("url", mine.url.strip().rstrip("/").lower())}:
                if key in theirs and key[1]:
                    shared[theirs[key].key()] = theirs[key]
        if shared:
            found.append((skill_id, list(shared.values())))
    found.sort(key=lambda pair: (-len(pair[1]), pair[0]))
    return found


# -- transcript notation -------------------------------------------------------------------
DEFAULT_NOTATION = {
    "en": "{title} ({code}) — micro-credential, {credits} credit(s), {hours} h; "
          "{route}; {date}",
    "fr": "{title} ({code}) — microcertification, {credits} crédit(s), {hours} h; "
          "{route}; {date}",
}
NOTATION_FIELDS = ("title", "code", "credits", "hours", "route", "date", "issuer", "version")
_FIELD = re.compile(r"\{([a-z_]*)\}")


def notation_problems(template: str) -> list[str]:
    """Unknown placeholders or stray braces of a notation template, in words."""
    problems = [f"unknown placeholder {{{name}}}" for name in _FIELD.findall(template)
                if name not in NOTATION_FIELDS]
    rest = _FIELD.sub("", template)
    if "{" in rest or "}" in rest:
        problems.append("a brace is not part of a {placeholder}")
    return problems


def render_notation(template: str, values: Mapping[str, str]) -> str:
    """The template with each ``{field}`` replaced (unknown ones left as written)."""
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
