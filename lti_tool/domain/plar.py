"""Prior learning assessment and recognition (PLAR) as pure rules: the states of a request
and which moves are allowed, the assessment methods, the per-skill decisions, the issuer's
PLAR settings (policy, fee note, expected turnaround, second assessor) and due dates.

A request: submitted → in assessment ⇄ more evidence needed → decided; the learner may
withdraw it until it is decided. A skill is decided "demonstrated" or "not yet"; a request
is decided when every skill it asks for is (with, where the issuer asks for it on
credit-bearing credentials, a second assessor's confirmation of each "demonstrated").
Granted skills become demonstrations with method "plar" through the award engine.

Anchors: the Canadian PLAR practice (CAPLA, "Quality Assurance for the Assessment of Prior
Learning"): portfolio review, challenge exams, interviews and demonstrations as methods;
a written rationale per decision; a published policy, fee and turnaround.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

MAX_NARRATIVE = 8000
MAX_RATIONALE = 4000
MAX_MESSAGE = 4000
MAX_POLICY = 8000
MAX_FEE_NOTE = 1000
MAX_EVIDENCE_ITEMS = 30
DEFAULT_TURNAROUND_DAYS = 20
MAX_TURNAROUND_DAYS = 365


class PlarState(StrEnum):
    SUBMITTED = "submitted"
    IN_ASSESSMENT = "in_assessment"
    MORE_EVIDENCE = "more_evidence"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


#: States in which the learner may still withdraw, add evidence, or an assessor act.
OPEN_STATES = frozenset({PlarState.SUBMITTED, PlarState.IN_ASSESSMENT,
                         PlarState.MORE_EVIDENCE})

_MOVES: dict[PlarState, frozenset[PlarState]] = {
    PlarState.SUBMITTED: frozenset({PlarState.IN_ASSESSMENT, PlarState.MORE_EVIDENCE,
                                    PlarState.DECIDED, PlarState.WITHDRAWN}),
    PlarState.IN_ASSESSMENT: frozenset({PlarState.MORE_EVIDENCE, PlarState.DECIDED,
                                        PlarState.WITHDRAWN}),
    PlarState.MORE_EVIDENCE: frozenset({PlarState.IN_ASSESSMENT, PlarState.DECIDED,
                                        PlarState.WITHDRAWN}),
    PlarState.DECIDED: frozenset(),
    PlarState.WITHDRAWN: frozenset(),
}


def can_move(current: str, target: PlarState) -> bool:
    try:
        return target in _MOVES[PlarState(current)]
    except ValueError:
        return False


class AssessmentMethod(StrEnum):
    PORTFOLIO_REVIEW = "portfolio_review"
    CHALLENGE_EXAM = "challenge_exam"
    INTERVIEW = "interview"
    DEMONSTRATION = "demonstration"


#: Methods that happen at a time and place (or online link) the assessor schedules.
SCHEDULED_METHODS = frozenset({AssessmentMethod.CHALLENGE_EXAM, AssessmentMethod.INTERVIEW,
                               AssessmentMethod.DEMONSTRATION})


class SkillDecision(StrEnum):
    DEMONSTRATED = "demonstrated"
    NOT_YET = "not_yet"


class EvidenceKind(StrEnum):
    FILE = "file"
    LINK = "link"
    CREDENTIAL = "credential"


class MessageKind(StrEnum):
    MORE_EVIDENCE_REQUEST = "more_evidence_request"
    LEARNER_RESPONSE = "learner_response"
    SCHEDULED = "scheduled"
    DECISION = "decision"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class PlarSettings:
    """An issuer's PLAR settings (``issuer.settings["plar"]``): the policy text and fee note
    shown before a learner submits (English, with ``translations`` {"fr": {...}}), the
    expected turnaround in days (due dates), and whether a second assessor confirms each
    skill granted on a credit-bearing credential."""

    policy: str = ""
    fee_note: str = ""
    turnaround_days: int = DEFAULT_TURNAROUND_DAYS
    second_assessor_for_credit: bool = False
    translations: dict[str, dict[str, str]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "fee_note": self.fee_note,
                "turnaround_days": self.turnaround_days,
                "second_assessor_for_credit": self.second_assessor_for_credit,
                "translations": self.translations or {}}


def read_settings(raw: object) -> PlarSettings:
    """The issuer's PLAR settings from its settings JSON (defaults for what is missing or
    malformed: stored data is never trusted to be well-formed)."""
    if not isinstance(raw, dict):
        return PlarSettings()
    days = raw.get("turnaround_days")
    translations = raw.get("translations")
    clean: dict[str, dict[str, str]] = {}
    if isinstance(translations, dict):
        for lang, fields in translations.items():
            if isinstance(lang, str) and isinstance(fields, dict):
                clean[lang] = {k: v for k, v in fields.items()
                               if k in ("policy", "fee_note") and isinstance(v, str)}
    policy, fee_note = raw.get("policy"), raw.get("fee_note")
    return PlarSettings(
        policy=policy if isinstance(policy, str) else "",
        fee_note=fee_note if isinstance(fee_note, str) else "",
        turnaround_days=days if isinstance(days, int) and 0 < days <= MAX_TURNAROUND_DAYS
        else DEFAULT_TURNAROUND_DAYS,
        second_assessor_for_credit=raw.get("second_assessor_for_credit") is True,
        translations=clean)


def check_settings(form: dict[str, Any]) -> tuple[PlarSettings, dict[str, list[str]]]:
    """Validate a settings form (strings as typed). Returns the settings and field errors."""
    errors: dict[str, list[str]] = {}
    policy = str(form.get("policy", "")).strip()
    fee = str(form.get("fee_note", "")).strip()
    policy_fr = str(form.get("policy_fr", "")).strip()
    fee_fr = str(form.get("fee_note_fr", "")).strip()
    if len(policy) > MAX_POLICY or len(policy_fr) > MAX_POLICY:
        errors["policy"] = [f"{MAX_POLICY} characters at most"]
    if len(fee) > MAX_FEE_NOTE or len(fee_fr) > MAX_FEE_NOTE:
        errors["fee_note"] = [f"{MAX_FEE_NOTE} characters at most"]
    raw_days = str(form.get("turnaround_days", "")).strip()
    days = DEFAULT_TURNAROUND_DAYS
    if not raw_days.isdigit() or not 0 < int(raw_days) <= MAX_TURNAROUND_DAYS:
        errors["turnaround_days"] = [f"a whole number of days from 1 to {MAX_TURNAROUND_DAYS}"]
    else:
        days = int(raw_days)
    french = {k: v for k, v in (("policy", policy_fr), ("fee_note", fee_fr)) if v}
    return PlarSettings(policy=policy, fee_note=fee, turnaround_days=days,
                        second_assessor_for_credit=form.get("second_assessor_for_credit")
                        in ("1", "on", True),
                        translations={"fr": french} if french else {}), errors


def due_date(submitted_at: datetime, turnaround_days: int) -> datetime:
    """When a decision is due: the turnaround counted in calendar days from submission (the
    policy text may say working days; the queue's due date errs on the early side)."""
    return submitted_at + timedelta(days=turnaround_days)


def needs_second_assessor(settings: PlarSettings, credit_bearing: bool) -> bool:
    return settings.second_assessor_for_credit and credit_bearing


@dataclass(frozen=True)
class SkillStatus:
    """What one requested skill's decision amounts to."""

    decision: str
    confirmed: bool
    second_needed: bool

    @property
    def granted(self) -> bool:
        """Demonstrated, and confirmed when a second assessor is needed."""
        return self.decision == SkillDecision.DEMONSTRATED.value and \
            (self.confirmed or not self.second_needed)

    @property
    def final(self) -> bool:
        return self.decision == SkillDecision.NOT_YET.value or self.granted

    @property
    def awaiting_confirmation(self) -> bool:
        return self.decision == SkillDecision.DEMONSTRATED.value and self.second_needed \
            and not self.confirmed


def all_final(statuses: list[SkillStatus]) -> bool:
    return bool(statuses) and all(s.final for s in statuses)


def _ics_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT: backslash, semicolon, comma escaped; newlines as \\n."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _ics_fold(line: str) -> str:
    """RFC 5545 §3.1: lines of at most 75 octets, continued with CRLF and a space (never
    splitting a UTF-8 character)."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def calendar_event(*, uid: str, start: datetime, minutes: int, summary: str, location: str,
                   description: str, stamp: datetime) -> str:
    """One scheduled assessment as an iCalendar file (RFC 5545): times in UTC, text
    escaped and folded, so any calendar (Outlook, Google, Apple) can add it."""
    def utc(value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//MicroCred//PLAR//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT", f"UID:{uid}",
             f"DTSTAMP:{utc(stamp)}", f"DTSTART:{utc(start)}",
             f"DTEND:{utc(start + timedelta(minutes=minutes))}",
             f"SUMMARY:{_ics_text(summary)}", f"LOCATION:{_ics_text(location)}",
             f"DESCRIPTION:{_ics_text(description)}", "END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_ics_fold(line) for line in lines) + "\r\n"
