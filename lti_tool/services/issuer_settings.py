"""An issuer's tracking settings (``Issuer.settings``), read with defaults and changed by
an institution administrator:

- ``link_identities_by``: ``none`` (default), ``email`` or ``sourcedid`` — on which verified
  identifier accounts of the issuer's different platforms are proposed for linking into one
  Person (``services.identity``); an administrator still confirms every link.
- ``gradebook_signal``: publish "credential earned" to the LMS grade book through AGS as
  its own line item (off by default; ``services.gradebook``).
- ``context_kind_rules``: ``{course label prefix: kind}``, e.g. ``{"CE-": "continuing-ed"}``;
  applied to a course whose kind neither the platform nor an instructor set
  (``services.tracking.apply_kind_rules``).
- ``evidence_visibility``: who sees a demonstration's evidence (file, link, note) besides
  the learner. ``recording_course`` (default): only the staff of the course where it was
  recorded. ``institution``: also the staff of the issuer's other courses the learner is
  on. Privacy first: evidence may hold the learner's work and an assessor's feedback
  written for one course; other courses still see the outcome, date, method, assessor and
  course of every record, which is what the award rules use.

Raises ValidationFailed (field messages) and Conflict (stale form); commits nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.domain.lti import ContextKind
from lti_tool.errors import Conflict, ValidationFailed
from lti_tool.models import Issuer
from lti_tool.models.base import utcnow
from lti_tool.services import audit
from lti_tool.services.identity import BASES

LINK_BASES = BASES  # ("none", "email", "sourcedid")
EVIDENCE_RECORDING_COURSE = "recording_course"
EVIDENCE_INSTITUTION = "institution"
EVIDENCE_VISIBILITY = (EVIDENCE_RECORDING_COURSE, EVIDENCE_INSTITUTION)
MAX_RULES = 50
MAX_PREFIX = 50


@dataclass(frozen=True)
class IssuerSettings:
    link_identities_by: str = "none"
    gradebook_signal: bool = False
    context_kind_rules: tuple[tuple[str, str], ...] = ()
    evidence_visibility: str = EVIDENCE_RECORDING_COURSE

    @property
    def evidence_across_courses(self) -> bool:
        return self.evidence_visibility == EVIDENCE_INSTITUTION

    def as_json(self) -> dict[str, Any]:
        return {"link_identities_by": self.link_identities_by,
                "gradebook_signal": self.gradebook_signal,
                "context_kind_rules": dict(self.context_kind_rules),
                "evidence_visibility": self.evidence_visibility}


def read(issuer: Issuer) -> IssuerSettings:
    """The settings with their defaults; unknown or malformed values read as the default."""
    raw = issuer.settings or {}
    basis = raw.get("link_identities_by", "none")
    rules = raw.get("context_kind_rules") or {}
    pairs: list[tuple[str, str]] = []
    if isinstance(rules, dict):
        for prefix, kind in rules.items():
            parsed = ContextKind.parse(kind)
            if isinstance(prefix, str) and prefix and parsed is not None:
                pairs.append((prefix, parsed.value))
    visibility = raw.get("evidence_visibility", EVIDENCE_RECORDING_COURSE)
    return IssuerSettings(link_identities_by=basis if basis in LINK_BASES else "none",
                          gradebook_signal=raw.get("gradebook_signal") is True,
                          context_kind_rules=tuple(pairs),
                          evidence_visibility=visibility if visibility in EVIDENCE_VISIBILITY
                          else EVIDENCE_RECORDING_COURSE)


def _rules(rows: Iterable[tuple[str, str]], errors: dict[str, list[str]]) -> dict[str, str]:
    rules: dict[str, str] = {}
    seen: set[str] = set()
    for index, (raw_prefix, raw_kind) in enumerate(rows):
        prefix, kind = raw_prefix.strip(), raw_kind.strip()
        if not prefix and not kind:
            continue  # an empty row of the form
        if not prefix:
            errors.setdefault(f"rule_prefix_{index}", []).append(
                _("Enter the start of the course label, e.g. CE-."))
            continue
        if len(prefix) > MAX_PREFIX or any(ord(c) < 32 for c in prefix):
            errors.setdefault(f"rule_prefix_{index}", []).append(
                _("Use at most %(max)d printable characters.", max=MAX_PREFIX))
            continue
        parsed = ContextKind.parse(kind)
        if parsed is None:
            errors.setdefault(f"rule_kind_{index}", []).append(
                _("Choose for-credit, continuing-ed or other."))
            continue
        if prefix.casefold() in seen:
            errors.setdefault(f"rule_prefix_{index}", []).append(
                _("This prefix has a rule already."))
            continue
        seen.add(prefix.casefold())
        rules[prefix] = parsed.value
    if len(rules) > MAX_RULES:
        errors.setdefault("context_kind_rules", []).append(
            _("At most %(max)d rules.", max=MAX_RULES))
    return rules


def update(session: Session, issuer: Issuer, data: Mapping[str, Any], *, by: str,
           expected_row_version: int | None = None) -> Issuer:
    """Replace the tracking settings. ``data``: link_identities_by (str), gradebook_signal
    (bool), context_kind_rules (pairs of label prefix and kind), evidence_visibility (str;
    unchanged when absent). Not idempotent in the audit trail only. Raises
    ValidationFailed, Conflict (someone saved in the meantime)."""
    if expected_row_version is not None and issuer.row_version != expected_row_version:
        raise Conflict(_("Someone else saved these settings in the meantime. Reload to see "
                         "their changes, then apply yours again."), code="stale_version")
    errors: dict[str, list[str]] = {}
    basis = str(data.get("link_identities_by", ""))
    if basis not in LINK_BASES:
        errors["link_identities_by"] = [_("Choose how accounts are matched.")]
    signal = data.get("gradebook_signal", False)
    if not isinstance(signal, bool):
        errors["gradebook_signal"] = [_("Say whether to publish to the grade book.")]
    rules = _rules(data.get("context_kind_rules", ()), errors)
    visibility = str(data.get("evidence_visibility", read(issuer).evidence_visibility))
    if visibility not in EVIDENCE_VISIBILITY:
        errors["evidence_visibility"] = [_("Choose who sees evidence.")]
    if errors:
        raise ValidationFailed(errors)
    before = read(issuer).as_json()
    after = IssuerSettings(basis, bool(signal), tuple(rules.items()), visibility).as_json()
    if before == after:
        return issuer
    # A new dict (not an in-place change) so the JSON column is written.
    issuer.settings = {**(issuer.settings or {}), **after}
    issuer.row_version += 1
    issuer.updated_at = utcnow()
    session.flush()
    audit.record(session, "issuer.settings_changed", subject_type="issuer",
                 subject_id=issuer.id, detail={"by": by, "from": before, "to": after})
    return issuer
