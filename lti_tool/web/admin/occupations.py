"""Occupations ("jobs in view") in the catalog administration: the list with how much of
each occupation's essential skills the published catalog covers, import (JSON or CSV,
checked whole; nothing applied on any problem) and export, the bundled sample, and the
design aid for one occupation (which skills, micro-credentials and pathways cover each
required skill, and the gaps).

Reading needs catalog:read (every catalog user); importing, adding the sample and
deleting need catalog:write. Every POST checks the launch's CSRF token."""

from __future__ import annotations

import json
from typing import Any

from flask import make_response, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from lti_tool.domain.catalog import Scope
from lti_tool.domain.occupations import RequirementStatus, summarize
from lti_tool.errors import Conflict, ValidationFailed
from lti_tool.models import Skill
from lti_tool.services import occupations as service
from lti_tool.services import problem_lists
from lti_tool.services.catalog_io import ImportReport
from lti_tool.services.occupations import PathwayLookup
from lti_tool.web.admin.staff import (
    admin_url,
    bp,
    current_staff,
    go,
    posted_row_version,
    render,
    writer_staff,
)
from lti_tool.web.common import problem_downloads
from lti_tool.web.common.launch_session import check_csrf
from lti_tool.web.common.local_text import local_text

MAX_UPLOAD = 20 * 1024 * 1024


def pathway_lookup() -> PathwayLookup | None:
    """The pathways' answer to "which published pathways contain these credentials", once
    the pathway model provides it as ``services.pathways.occupation_pathways(session,
    issuer_id, credential_ids) -> list[PathwayRef]``; None until then (the page then says
    nothing about pathways)."""
    try:
        from lti_tool.services.pathways import (  # type: ignore[attr-defined,unused-ignore]
            occupation_pathways,
        )
    except ImportError:
        return None
    lookup: PathwayLookup = occupation_pathways
    return lookup


loc = local_text  # the templates' name for it


def _notices() -> dict[str, str]:
    return {
        "occupation_deleted": _("The occupation was deleted."),
        "sample_added": _("The sample occupations were added."),
        "sample_present": _("Your list already has every sample occupation."),
    }


def _list_page(status: int = 200, **extra: Any) -> ResponseReturnValue:
    staff = current_staff()
    q = request.args.get("q", "").strip()[:100]
    rows = service.list_occupations(staff.session, staff.actor, q=q)
    coverage = service.coverage_by_occupation(staff.session, staff.issuer.id, rows)
    summaries = {o.id: summarize(coverage[o.id]) for o in rows}
    extra.setdefault("notice", _notices().get(request.args.get("done", "")))
    return render("admin/occupations.html", status, occupations=rows, summaries=summaries,
                  q=q, loc=loc, report=extra.pop("report", None), **extra)


@bp.get("/occupations")
def occupations() -> ResponseReturnValue:
    return _list_page()


@bp.post("/occupations/import")
def occupations_import() -> ResponseReturnValue:
    staff = writer_staff()
    check_csrf(staff.current)
    dry_run = request.form.get("mode", "check") != "import"
    upload = request.files.get("file")
    error = ""
    report = None
    filename = (upload.filename if upload else "") or ""
    if upload is None or not filename:
        error = _("Choose a file to upload.")
    else:
        data = upload.read(MAX_UPLOAD + 1)
        kind = "csv" if filename.lower().endswith(".csv") else "json"
        if len(data) > MAX_UPLOAD:
            error = _("The file is larger than 20 MB.")
        elif kind == "json":
            document, problems = service.parse_json(data)
            report = (ImportReport(ok=False, problems=problems, dry_run=dry_run)
                      if problems else service.import_occupations(
                          staff.session, staff.actor, document, dry_run=dry_run))
        else:
            report = service.import_occupations_csv(staff.session, staff.actor, data,
                                                    dry_run=dry_run)
    if report is not None and report.ok and not dry_run:
        staff.session.commit()
    else:
        staff.session.rollback()
    summary = None
    download = ""
    if report is not None and report.problems:
        summary = problem_lists.summarise(report.problems)
        download = admin_url("admin.import_problems",
                             ref=problem_downloads.keep(report.problems))
    status = 422 if error or (report is not None and not report.ok) else 200
    return _list_page(status, report=report, error=error, dry_run=dry_run, filename=filename,
                      problems=summary, problems_url=download)


@bp.post("/occupations/sample")
def occupations_sample() -> ResponseReturnValue:
    staff = writer_staff()
    check_csrf(staff.current)
    added = service.add_sample(staff.session, staff.actor)
    staff.session.commit()
    return go("admin.occupations", "sample_added" if added else "sample_present")


@bp.get("/occupations/export.<fmt>")
def occupations_export(fmt: str) -> ResponseReturnValue:
    staff = current_staff()
    if fmt == "csv":
        body = service.export_occupations_csv(staff.session, staff.actor)
        mimetype = "text/csv; charset=utf-8"
    else:
        body = json.dumps(service.export_occupations(staff.session, staff.actor),
                          ensure_ascii=False, indent=2) + "\n"
        mimetype = "application/json; charset=utf-8"
        fmt = "json"
    response = make_response(body)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{staff.issuer.slug}-occupations.{fmt}"')
    return response


STATUS_WORDS = {
    RequirementStatus.COVERED: ("covered", "✓"),
    RequirementStatus.SKILL_ONLY: ("skill-only", "◐"),
    RequirementStatus.GAP: ("gap", "✗"),
}


def _status_labels() -> dict[RequirementStatus, str]:
    return {
        RequirementStatus.COVERED: _("Covered by a published micro-credential"),
        RequirementStatus.SKILL_ONLY: _("In the skills library, in no published "
                                        "micro-credential"),
        RequirementStatus.GAP: _("Gap: no skill in the catalog"),
    }


def _design_page(occupation_id: int, status: int = 200, *,
                 link_errors: dict[int, str] | None = None,
                 typed: dict[int, str] | None = None) -> ResponseReturnValue:
    staff = current_staff()
    design = service.design_aid(staff.session, staff.actor, occupation_id,
                                pathways=pathway_lookup())
    can_write = staff.actor.can(Scope.CATALOG_WRITE)
    library = []
    if can_write:
        library = list(staff.session.execute(
            select(Skill.code, Skill.name).where(Skill.issuer_id == staff.issuer.id)
            .order_by(Skill.code).limit(5000)))
    notice = {"linked": _("The link was saved.")}.get(request.args.get("done", ""))
    return render("admin/occupation.html", status, design=design,
                  summary=summarize(design.items), occupation=design.occupation, loc=loc,
                  status_words=STATUS_WORDS,
                  req_rows={r.id: r for r in design.occupation.requirements},
                  status_labels=_status_labels(), Status=RequirementStatus,
                  can_write=can_write, library=library, link_errors=link_errors or {},
                  typed=typed or {}, notice=notice)


@bp.get("/occupations/<int:occupation_id>")
def occupation(occupation_id: int) -> ResponseReturnValue:
    return _design_page(occupation_id)


@bp.post("/occupations/<int:occupation_id>/requirements/<int:requirement_id>/link")
def occupation_link(occupation_id: int, requirement_id: int) -> ResponseReturnValue:
    """Link a required skill to a library skill by code (empty: remove the direct link)."""
    staff = writer_staff()
    check_csrf(staff.current)
    code = request.form.get("skill_code", "")[:200]
    try:
        service.link_requirement(staff.session, staff.actor, occupation_id, requirement_id,
                                 code, expected_row_version=posted_row_version())
    except ValidationFailed:
        staff.session.rollback()
        return _design_page(occupation_id, 422, typed={requirement_id: code},
                            link_errors={requirement_id: _(
                                "No skill with this code in your skills library.")})
    except Conflict:
        staff.session.rollback()
        return _design_page(occupation_id, 409, typed={requirement_id: code},
                            link_errors={requirement_id: _(
                                "Someone else changed this occupation in the meantime. "
                                "Check the table, then try again.")})
    staff.session.commit()
    return redirect(admin_url("admin.occupation", occupation_id=occupation_id, done="linked")
                    + f"#requirement-{requirement_id}", code=303)


@bp.route("/occupations/<int:occupation_id>/delete", methods=["GET", "POST"])
def occupation_delete(occupation_id: int) -> ResponseReturnValue:
    staff = writer_staff()
    found = service.get_occupation(staff.session, staff.actor, occupation_id)
    if request.method == "GET":
        return render("admin/occupation_delete.html", occupation=found, loc=loc)
    check_csrf(staff.current)
    service.delete_occupation(staff.session, staff.actor, occupation_id)
    staff.session.commit()
    return go("admin.occupations", "occupation_deleted")
