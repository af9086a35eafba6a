"""The issuer's tracking settings (institution administrators): how accounts are matched
across platforms, the grade-book signal, and the rules that set a course's kind."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lti_tool.domain.lti import ContextKind
from lti_tool.errors import Conflict, ValidationFailed
from lti_tool.services import issuer_settings
from lti_tool.web.admin.staff import (
    bp,
    error_summary,
    go,
    institution_admin_staff,
    posted_row_version,
    render,
)
from lti_tool.web.common.launch_session import check_csrf

KIND_LABELS = {"for-credit": _l("For-credit course"),
               "continuing-ed": _l("Continuing education"), "other": _l("Other")}
KIND_OPTIONS = [("", _l("Choose a kind…"))] + [(k.value, KIND_LABELS.get(k.value, k.value))
                                               for k in ContextKind]
BLANK_RULES = 3
SETTINGS_LABELS = {"link_identities_by": _l("Match accounts by"),
                   "gradebook_signal": _l("Grade book"),
                   "context_kind_rules": _l("Course kinds"),
                   "evidence_visibility": _l("Who sees evidence")}


def _settings_label(name: str) -> str:
    if name.startswith(("rule_prefix_", "rule_kind_")):
        number = int(name.rsplit("_", 1)[1]) + 1
        if name.startswith("rule_prefix_"):
            return _("Rule %(number)d: label starts with", number=number)
        return _("Rule %(number)d: kind", number=number)
    return str(SETTINGS_LABELS.get(name, name))


def _settings_form(current: issuer_settings.IssuerSettings) -> dict[str, Any]:
    rules = [list(pair) for pair in current.context_kind_rules]
    return {"link_identities_by": current.link_identities_by,
            "gradebook_signal": current.gradebook_signal,
            "evidence_visibility": current.evidence_visibility,
            "rules": rules + [["", ""] for _ in range(BLANK_RULES)]}


def _posted_settings() -> dict[str, Any]:
    rows: list[list[str]] = []
    index = 0
    while f"rule_prefix_{index}" in request.form and index < 200:
        rows.append([request.form.get(f"rule_prefix_{index}", "")[:200],
                     request.form.get(f"rule_kind_{index}", "")[:30]])
        index += 1
    return {"link_identities_by": request.form.get("link_identities_by", ""),
            "gradebook_signal": request.form.get("gradebook_signal") == "1",
            "evidence_visibility": request.form.get("evidence_visibility", "")[:30],
            "rules": rows}


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> ResponseReturnValue:
    staff = institution_admin_staff()
    issuer = staff.issuer
    form = _settings_form(issuer_settings.read(issuer))
    row_version = issuer.row_version
    if request.method == "POST":
        check_csrf(staff.current)
        row_version = posted_row_version()
        form = _posted_settings()
        try:
            issuer_settings.update(
                staff.session, issuer,
                {"link_identities_by": form["link_identities_by"],
                 "gradebook_signal": form["gradebook_signal"],
                 "evidence_visibility": form["evidence_visibility"],
                 "context_kind_rules": [tuple(r) for r in form["rules"]]},
                by=staff.actor.ref, expected_row_version=row_version)
        except ValidationFailed as exc:
            staff.session.rollback()
            return render("admin/settings.html", 422, form=form, errors=exc.errors,
                          summary=error_summary(exc.errors, _settings_label),
                          row_version=row_version, kinds=KIND_OPTIONS)
        except Conflict as exc:
            staff.session.rollback()
            return render("admin/settings.html", 409, form=form, errors={}, summary=[],
                          conflict=exc.public_message, row_version=row_version,
                          kinds=KIND_OPTIONS)
        staff.session.commit()
        return go("admin.settings", "settings_saved")
    return render("admin/settings.html", form=form, errors={}, summary=[],
                  row_version=row_version, kinds=KIND_OPTIONS)
