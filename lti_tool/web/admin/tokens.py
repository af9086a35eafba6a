"""API tokens for /api/v1: create (the secret is shown once, with an optional expiry), list
(with each token's expiry) and revoke."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from lti_tool.domain.catalog import SCOPE_DESCRIPTIONS, Scope
from lti_tool.errors import ValidationFailed
from lti_tool.services import api_tokens
from lti_tool.web.admin import forms
from lti_tool.web.admin.staff import (
    Staff,
    bp,
    error_summary,
    go,
    people_names,
    render,
    writer_staff,
)
from lti_tool.web.common.launch_session import check_csrf

#: "Expires after" choices of the form, in days ("" = never).
EXPIRY_DAYS = ("", "30", "90", "180", "365", "730")


def expiry_choices() -> list[tuple[str, str]]:
    """The form's "Expires after" options, in the reader's language."""
    return [("", _("Never (until revoked)")),
            *((days, ngettext("%(num)d day", "%(num)d days", int(days)))
              for days in ("30", "90", "180")),
            ("365", ngettext("%(num)d year", "%(num)d years", 1)),
            ("730", ngettext("%(num)d year", "%(num)d years", 2))]


def _expiry(raw: str) -> Any:
    """The expiry moment chosen in the form (None: never). Raises ValidationFailed."""
    if raw not in EXPIRY_DAYS:
        raise ValidationFailed({"expires": [_("choose one of the offered durations")]})
    return api_tokens.expiry_after(int(raw)) if raw else None


#: Scopes of launched users only: no API endpoint takes them, so tokens are not offered them.
LAUNCH_ONLY_SCOPES = frozenset({Scope.TRANSFER})


def _offered_scopes(staff: Staff) -> list[str]:
    """A token never gets more than its creator holds; an institution administrator may
    hand out every scope (but those of launched users only)."""
    usable = [s for s in Scope if s not in LAUNCH_ONLY_SCOPES]
    if staff.is_institution_admin:
        return [s.value for s in usable]
    return [s.value for s in usable if s in staff.actor.scopes]


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> ResponseReturnValue:
    staff = writer_staff()
    offered = _offered_scopes(staff)
    blank: dict[str, Any] = {"name": "", "scopes": [Scope.CATALOG_READ.value], "expires": ""}
    form = dict(blank)
    errors: dict[str, list[str]] = {}
    created: tuple[Any, str] | None = None
    status = 200
    if request.method == "POST":
        check_csrf(staff.current)
        form = {"name": request.form.get("name", "").strip(),
                "scopes": [s for s in request.form.getlist("scopes") if s],
                "expires": request.form.get("expires", "")}
        refused = [s for s in form["scopes"] if s not in offered]
        if refused:
            errors["scopes"] = [_("You cannot give a token a permission you do not hold: "
                                  "%(scopes)s", scopes=", ".join(refused[:5]))]
        else:
            try:
                created = api_tokens.create_token(staff.session, staff.issuer.id, form["name"],
                                                  form["scopes"], created_by=staff.actor.ref,
                                                  expires_at=_expiry(form["expires"]))
            except ValidationFailed as exc:
                staff.session.rollback()
                errors = {k: [forms.friendly(k, m) for m in v] for k, v in exc.errors.items()}
        if errors:
            status = 422
        else:
            staff.session.commit()
            status = 201
            form = dict(blank)
    labels = {"name": _("Name"), "scopes": _("Permissions"), "expires": _("Expires after")}
    token_rows = api_tokens.list_tokens(staff.session, staff.issuer.id)
    return render("admin/tokens.html", status, tokens=token_rows,
                  offered=offered, form=form, errors=errors, expiry_choices=expiry_choices(),
                  expired={t.id for t in token_rows if api_tokens.is_expired(t)},
                  summary=error_summary(errors, lambda n: labels.get(n, n)), created=created,
                  who=people_names(staff.session, [t.created_by for t in token_rows]),
                  scope_hints={s.value: _(text) for s, text in SCOPE_DESCRIPTIONS.items()})


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int) -> ResponseReturnValue:
    staff = writer_staff()
    check_csrf(staff.current)
    api_tokens.revoke_token(staff.session, staff.issuer.id, str(token_id), by=staff.actor.ref)
    staff.session.commit()
    return go("admin.tokens", "token_revoked")
