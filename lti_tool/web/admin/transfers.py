"""The registrar's transfer pages: the queue of transfer requests, one request (what the
credential certifies, how it verified, the equivalencies about it and suggestions, the
decision), submitting a credential on a learner's behalf, and the equivalency table
(draft → approved by a second person → retired).

Needs the ``transfer`` scope (the registrar role, or the LMS institution administrator).
Thin: everything goes through ``services.transfer``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from lti_tool.domain.catalog import Scope
from lti_tool.domain.transfer import EquivalencyState, TransferState, claims_from_dict
from lti_tool.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lti_tool.lti.runtime import runtime
from lti_tool.models import (
    IssuerPlatform,
    LearnerAccount,
    MicroCredential,
    Skill,
    TransferEquivalency,
    TransferRequest,
)
from lti_tool.services import transfer
from lti_tool.services.catalog import published_version
from lti_tool.services.external_credentials import Fetcher
from lti_tool.services.registrar import find_people
from lti_tool.services.remote_issuers import fetch_allowance_for_tests
from lti_tool.web.admin.staff import (
    NOTICES,
    Staff,
    bp,
    current_staff,
    error_summary,
    go,
    render,
)
from lti_tool.web.common.launch_session import check_csrf

MAX_UPLOAD = 2 * 1024 * 1024

NOTICES.update({
    "transfer_submitted": _l("The credential was submitted. Its verification and the "
                          "decision are below."),
    "transfer_accepted": _l("Accepted: the skills are recorded as demonstrated by transfer, "
                         "and any micro-credential they complete was awarded."),
    "transfer_declined": _l("Declined. The learner sees your reason."),
    "equivalency_created": _l("The equivalency was saved as a draft. Someone else approves it "
                           "before it applies."),
    "equivalency_saved": _l("The draft was saved. Someone who did not write or change it "
                            "approves it."),
    "equivalency_approved": _l("Approved: it now applies to new transfer requests."),
    "equivalency_retired": _l("Retired: it no longer applies. Past decisions keep it."),
})


def registrar_staff() -> Staff:
    staff = current_staff()
    staff.actor.require(Scope.TRANSFER)
    return staff


def fetcher() -> Fetcher:
    """Outbound fetches for verification: the tool's HTTP client (deadline, size cap) and,
    under the test profile only, the origins the test suite serves."""
    return Fetcher(runtime().http, fetch_allowance_for_tests(current_app.config))


def allow_credential_upload() -> None:
    """This request may carry a credential of up to 2 MB (a baked badge image): above the
    app-wide body limit, like /verify. Call before anything reads the form."""
    request.max_content_length = MAX_UPLOAD + 64 * 1024
    request.max_form_memory_size = MAX_UPLOAD + 1024


def read_submission() -> tuple[bytes, str]:
    """(bytes, file name) of the submitted credential: a file, or pasted text / a URL.
    Raises ValidationFailed."""
    upload = request.files.get("credential_file")
    if upload is not None and upload.filename:
        data = upload.stream.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise ValidationFailed({"credential_file": [
                _("The file is larger than 2 MB; a credential, even baked into an image, is "
                  "much smaller.")]})
        if data:
            return data, upload.filename[:255]
    text = request.form.get("credential_text", "").strip()
    if len(text.encode("utf-8")) > MAX_UPLOAD:
        raise ValidationFailed({"credential_text": [_("That text is larger than 2 MB.")]})
    if not text:
        raise ValidationFailed({"credential_file": [
            _("Choose the credential file, or paste the credential or its web address.")]})
    return text.encode("utf-8"), ""


# -- the queue -------------------------------------------------------------------------------
STATES = ("pending", "accepted", "refused", "declined")


def state_labels() -> dict[str, str]:
    return {"pending": _("Waiting for a registrar"), "accepted": _("Accepted"),
            "refused": _("Refused: does not verify"), "declined": _("Declined")}


def _queue(staff: Staff, status: int = 200, *, errors: dict[str, list[str]] | None = None,
           form: dict[str, str] | None = None) -> ResponseReturnValue:
    state = request.args.get("state", "pending")
    state = state if state in STATES else "pending"
    requests = transfer.list_requests(staff.session, staff.issuer.id, state=state)
    people = find_people(staff.session, staff.issuer, request.args.get("q", ""))
    names = _names(staff, [r.person_id for r in requests])
    errors = errors or {}
    labels = {"person": _("Learner"), "credential_file": _("Credential file"),
              "credential_text": _("Or paste the credential or its address")}
    return render("admin/transfers.html", status, requests=requests, state=state,
                  states=STATES, state_labels=state_labels(), people=people, names=names,
                  q=request.args.get("q", ""), errors=errors, form=form or {},
                  summary=error_summary(errors, lambda n: labels.get(n, n)),
                  claims_of=claims_from_dict, active="transfers")


def _names(staff: Staff, person_ids: list[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = staff.session.execute(select(LearnerAccount.person_id, LearnerAccount.name,
                                        LearnerAccount.email)
                                 .where(LearnerAccount.person_id.in_(set(person_ids)))
                                 .order_by(LearnerAccount.last_launch_at)).all()
    return {pid: name or email or _("Learner %(id)s", id=pid) for pid, name, email in rows}


@bp.get("/transfers")
def transfers() -> ResponseReturnValue:
    return _queue(registrar_staff())


@bp.post("/transfers")
def transfer_submit() -> ResponseReturnValue:
    allow_credential_upload()
    staff = registrar_staff()
    check_csrf(staff.current)
    form = {"person": request.form.get("person", "")}
    errors: dict[str, list[str]] = {}
    person = form["person"]
    account = None
    if person.isdigit() and len(person) < 10:
        # the learner's most recent account on one of the issuer's platforms
        account = staff.session.scalars(
            select(LearnerAccount).join(IssuerPlatform,
                                        IssuerPlatform.platform_id == LearnerAccount.platform_id)
            .where(LearnerAccount.person_id == int(person),
                   IssuerPlatform.issuer_id == staff.issuer.id)
            .order_by(LearnerAccount.last_launch_at.desc()).limit(1)).first()
    if account is None:
        errors["person"] = [_("Find the learner by name, e-mail or student number, then "
                              "choose them.")]
    try:
        data, filename = read_submission()
    except ValidationFailed as exc:
        errors.update(exc.errors)
        data, filename = b"", ""
    if errors or account is None:
        return _queue(staff, 422, errors=errors, form=form)
    record = staff.current.record or {}
    # End the read transaction: no database connection is held while another
    # institution's servers are asked (up to external_credentials.TOTAL_FETCH_SECONDS).
    staff.session.commit()
    submitted = transfer.submit(
        staff.session, issuer_id=staff.issuer.id, account=account, data=data,
        by=transfer.Submitter(staff.actor.ref, staff.actor.name,
                              account_id=record.get("account_id"),
                              launch_id=staff.current.launch.launch_id),
        base_url=current_app.config["PUBLIC_BASE_URL"], fetcher=fetcher(), filename=filename)
    staff.session.commit()
    return go("admin.transfer_request", "transfer_submitted", request_id=submitted.id)


# -- one request -----------------------------------------------------------------------------
def _request_page(staff: Staff, request_id: int, status: int = 200, *,
                  errors: dict[str, list[str]] | None = None,
                  form: dict[str, Any] | None = None) -> ResponseReturnValue:
    session = staff.session
    row = transfer.get_request(session, staff.issuer.id, request_id)
    claims = claims_from_dict(row.claims)
    candidates = transfer.candidates(session, staff.issuer.id, claims,
                                     now=row.created_at) if row.claims else []
    suggestions = transfer.skill_suggestions(session, staff.issuer.id, claims) \
        if row.claims else []
    skills = list(session.scalars(select(Skill).where(Skill.issuer_id == staff.issuer.id)
                                  .order_by(Skill.code)))
    blockers = transfer.automatic_blockers(session, row) \
        if row.state == TransferState.PENDING.value else []
    errors = errors or {}
    labels = {"decision": _("Decision"), "equivalency_id": _("Equivalency"),
              "skill_ids": _("Skills recognised"), "note": _("Note")}
    return render("admin/transfer_request.html", status, row=row, claims=claims,
                  candidates=candidates, suggestions=suggestions, skills=skills,
                  blockers=blockers, names=_names(staff, [row.person_id]),
                  state_labels=state_labels(), errors=errors, form=form or {},
                  summary=error_summary(errors, lambda n: labels.get(n, n)),
                  can_decide=row.submitted_by != staff.actor.ref, active="transfers")


@bp.get("/transfers/<int:request_id>")
def transfer_request(request_id: int) -> ResponseReturnValue:
    return _request_page(registrar_staff(), request_id)


@bp.post("/transfers/<int:request_id>/decide")
def transfer_decide(request_id: int) -> ResponseReturnValue:
    staff = registrar_staff()
    check_csrf(staff.current)
    decision = request.form.get("decision", "")
    raw_eq = request.form.get("equivalency_id", "")
    form: dict[str, Any] = {"decision": decision, "equivalency_id": raw_eq,
            "skill_ids": request.form.getlist("skill_ids"),
            "note": request.form.get("note", "")}
    if decision not in ("accept", "decline"):
        return _request_page(staff, request_id, 422, form=form, errors={
            "decision": [_("Choose: accept or decline.")]})
    record = staff.current.record or {}
    by = transfer.Submitter(staff.actor.ref, staff.actor.name,
                            account_id=record.get("account_id"),
                            launch_id=staff.current.launch.launch_id)
    try:
        transfer.decide(staff.session, staff.actor, request_id, accept=decision == "accept",
                        by=by,
                        equivalency_id=int(raw_eq) if raw_eq.isdigit() and len(raw_eq) < 10
                        else None,
                        skill_ids=[int(s) for s in request.form.getlist("skill_ids")
                                   if s.isdigit() and len(s) < 10],
                        note=str(form["note"]))
    except ValidationFailed as exc:
        staff.session.rollback()
        return _request_page(staff, request_id, 422, form=form, errors=exc.errors)
    except (Conflict, Forbidden) as exc:
        staff.session.rollback()
        return _request_page(staff, request_id, exc.status_code, form=form,
                             errors={"_form": [exc.public_message]})
    staff.session.commit()
    return go("admin.transfer_request",
              "transfer_accepted" if decision == "accept" else "transfer_declined",
              request_id=request_id)


@bp.get("/transfers/<int:request_id>/original")
def transfer_original(request_id: int) -> ResponseReturnValue:
    """The submitted credential exactly as received, as a download (never shown inline)."""
    staff = registrar_staff()
    row = transfer.get_request(staff.session, staff.issuer.id, request_id)
    return download(row)


def download(row: TransferRequest) -> Response:
    response = Response(row.original, mimetype="application/octet-stream")
    name = "".join(c for c in (row.original_name or "external-credential")
                   if c.isalnum() or c in "._-")[:100] or "external-credential"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- equivalencies ---------------------------------------------------------------------------
def _equivalency_form(staff: Staff) -> dict[str, Any]:
    """Prefilled from a request (``?from_request=``): its issuer and achievement."""
    raw = request.args.get("from_request", "")
    if not raw.isdigit() or len(raw) > 9:
        return {"match_by": "achievement", "target_kind": "credential"}
    try:
        row = transfer.get_request(staff.session, staff.issuer.id, int(raw))
    except NotFound:
        return {"match_by": "achievement", "target_kind": "credential"}
    claims = claims_from_dict(row.claims)
    return {"external_issuer_id": claims.issuer_id, "external_issuer_name": claims.issuer_name,
            "match_by": "achievement", "achievement_id": claims.achievement_id,
            "achievement_name": claims.achievement_name, "target_kind": "credential",
            "alignments": [a.as_dict() for a in claims.alignments][:5]}


def _form_of(eq: TransferEquivalency) -> dict[str, Any]:
    """A draft's values as the form shows them."""
    return {"external_issuer_id": eq.external_issuer_id,
            "external_issuer_name": eq.external_issuer_name, "match_by": eq.match_by,
            "achievement_id": eq.achievement_id, "achievement_name": eq.achievement_name,
            "alignments": list(eq.alignments or []), "target_kind": eq.target_kind,
            "credential_id": str(eq.credential_id or ""),
            "skill_ids": [str(i) for i in eq.skill_ids or []],
            "valid_months": str(eq.valid_months or ""), "min_version": eq.min_version,
            "note": eq.note, "note_fr": (eq.translations or {}).get("fr", {}).get("note", ""),
            "row_version": eq.row_version}


def _equivalencies_page(staff: Staff, status: int = 200, *,
                        errors: dict[str, list[str]] | None = None,
                        form: dict[str, Any] | None = None,
                        editing: TransferEquivalency | None = None) -> ResponseReturnValue:
    session = staff.session
    rows = transfer.list_equivalencies(session, staff.issuer.id)
    credentials = []
    for credential in session.scalars(select(MicroCredential).where(
            MicroCredential.issuer_id == staff.issuer.id).order_by(MicroCredential.code)):
        version = published_version(session, staff.issuer.id, credential.code)
        if version is not None:
            credentials.append((credential.id, f"{version.title} ({credential.code})"))
    skills = list(session.scalars(select(Skill).where(Skill.issuer_id == staff.issuer.id)
                                  .order_by(Skill.code)))
    errors = errors or {}
    labels = {"external_issuer_id": _("Issuer id"), "match_by": _("Match by"),
              "achievement_id": _("Achievement id"), "alignments": _("Alignment targets"),
              "target_kind": _("Recognised as"), "credential_id": _("Micro-credential"),
              "skill_ids": _("Skills"), "valid_months": _("Issued within (months)"),
              "min_version": _("Minimum version"), "note": _("Note"),
              "note_fr": _("Note (French)")}
    names = {s.id: f"{s.code} — {s.name}" for s in skills}
    return render("admin/equivalencies.html", status, rows=rows, credentials=credentials,
                  credential_names=dict(credentials), skills=skills, skill_names=names,
                  credential_options=[("", _("Choose…"))] + [(str(i), t) for i, t in credentials],
                  form=form if form is not None else _equivalency_form(staff), errors=errors,
                  summary=error_summary(errors, lambda n: labels.get(n, n)),
                  states=EquivalencyState, active="equivalencies", editing=editing)


@bp.get("/equivalencies")
def equivalencies() -> ResponseReturnValue:
    return _equivalencies_page(registrar_staff())


def _alignments_from_form() -> list[dict[str, str]]:
    found = []
    for i in range(5):
        item = {"framework": request.form.get(f"alignment-{i}-framework", ""),
                "code": request.form.get(f"alignment-{i}-code", ""),
                "url": request.form.get(f"alignment-{i}-url", "")}
        if any(v.strip() for v in item.values()):
            found.append(item)
    return found


def _posted_equivalency() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the form as posted, the data for the service)."""
    form: dict[str, Any] = {k: request.form.get(k, "") for k in (
        "external_issuer_id", "external_issuer_name", "match_by", "achievement_id",
        "achievement_name", "target_kind", "credential_id", "valid_months", "min_version",
        "note", "note_fr")}
    form["skill_ids"] = request.form.getlist("skill_ids")
    form["alignments"] = _alignments_from_form()
    return form, {**form, "translations": {"fr": {"note": form["note_fr"]}}}


@bp.post("/equivalencies")
def equivalency_create() -> ResponseReturnValue:
    staff = registrar_staff()
    check_csrf(staff.current)
    form, data = _posted_equivalency()
    try:
        transfer.create_equivalency(staff.session, staff.actor, data)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _equivalencies_page(staff, 422, errors=exc.errors, form=form)
    staff.session.commit()
    return go("admin.equivalencies", "equivalency_created")


@bp.route("/equivalencies/<int:equivalency_id>/edit", methods=["GET", "POST"])
def equivalency_edit(equivalency_id: int) -> ResponseReturnValue:
    """Change a draft; its approval then needs someone who did not write or change it."""
    staff = registrar_staff()
    eq = transfer.get_equivalency(staff.session, staff.actor, equivalency_id)
    if request.method == "GET":
        return _equivalencies_page(staff, form=_form_of(eq), editing=eq)
    check_csrf(staff.current)
    form, data = _posted_equivalency()
    raw = request.form.get("row_version", "")
    form["row_version"] = raw
    try:
        transfer.update_equivalency(staff.session, staff.actor, equivalency_id, data,
                                    int(raw) if raw.isdigit() and len(raw) < 10 else None)
    except ValidationFailed as exc:
        staff.session.rollback()
        return _equivalencies_page(staff, 422, errors=exc.errors, form=form, editing=eq)
    except Conflict as exc:
        staff.session.rollback()
        return _equivalencies_page(staff, 409, errors={"_form": [exc.public_message]},
                                   form=form, editing=eq)
    staff.session.commit()
    return go("admin.equivalencies", "equivalency_saved")


@bp.post("/equivalencies/<int:equivalency_id>/approve")
def equivalency_approve(equivalency_id: int) -> ResponseReturnValue:
    staff = registrar_staff()
    check_csrf(staff.current)
    raw = request.form.get("row_version", "")
    try:
        transfer.approve_equivalency(staff.session, staff.actor, equivalency_id,
                                     int(raw) if raw.isdigit() and len(raw) < 10 else None)
    except (Conflict, Forbidden) as exc:
        staff.session.rollback()
        return _equivalencies_page(staff, exc.status_code,
                                   errors={"_form": [exc.public_message]})
    staff.session.commit()
    return go("admin.equivalencies", "equivalency_approved")


@bp.post("/equivalencies/<int:equivalency_id>/retire")
def equivalency_retire(equivalency_id: int) -> ResponseReturnValue:
    staff = registrar_staff()
    check_csrf(staff.current)
    transfer.retire_equivalency(staff.session, staff.actor, equivalency_id)
    staff.session.commit()
    return go("admin.equivalencies", "equivalency_retired")
