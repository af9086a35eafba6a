"""Catalog import and export: the whole catalog as JSON, the skills as CSV, and uploading
one (validated whole; nothing is applied on any problem). A check (dry run) lists every
change the import would make; a long list of problems shows the first 100, the count per
field, and a download of them all."""

from __future__ import annotations

import json

from flask import make_response, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lti_tool.services import problem_lists
from lti_tool.web.admin.staff import admin_url, bp, current_staff, render, writer_staff
from lti_tool.web.common import problem_downloads
from lti_tool.web.common.launch_session import check_csrf


@bp.get("/io")
def io_page() -> ResponseReturnValue:
    current_staff()
    return render("admin/io.html", report=None, kind="catalog", dry_run=True)


@bp.get("/io/catalog")
def export_catalog() -> ResponseReturnValue:
    from lti_tool.services import catalog_io

    staff = current_staff()
    document = catalog_io.export_catalog(staff.session, staff.actor)
    response = make_response(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{staff.issuer.slug}-catalog.json"')
    return response


@bp.get("/io/skills")
def export_skills() -> ResponseReturnValue:
    from lti_tool.services import catalog_io

    staff = current_staff()
    # ?separator=semicolon: the form a spreadsheet in a French locale opens into columns.
    semicolon = request.args.get("separator") == "semicolon"
    text = catalog_io.export_skills_csv(staff.session, staff.actor,
                                        delimiter=";" if semicolon else ",")
    response = make_response(text)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{staff.issuer.slug}-skills.csv"')
    return response


@bp.post("/io")
def import_upload() -> ResponseReturnValue:
    from lti_tool.services import catalog_io

    staff = writer_staff()
    check_csrf(staff.current)
    kind = request.form.get("kind", "catalog")
    dry_run = request.form.get("mode", "check") != "import"
    upload = request.files.get("file")
    error = ""
    report = None
    if kind not in ("catalog", "skills"):
        error = _("Choose what the file holds: a catalog (JSON) or skills (CSV).")
    elif upload is None or not upload.filename:
        error = _("Choose a file to upload.")
    elif kind == "catalog":
        document, problems = catalog_io.parse_catalog_json(upload.read())
        if problems:
            report = catalog_io.ImportReport(ok=False, problems=problems, dry_run=dry_run)
        else:
            report = catalog_io.import_catalog(staff.session, staff.actor, document,
                                               dry_run=dry_run)
    else:
        report = catalog_io.import_skills_csv(staff.session, staff.actor, upload.read(),
                                              dry_run=dry_run)
    if report is not None and report.ok and not dry_run:
        staff.session.commit()
    else:
        staff.session.rollback()
    status = 422 if error or (report is not None and not report.ok) else 200
    summary: problem_lists.ProblemSummary | None = None
    download = ""
    if report is not None and report.problems:
        summary = problem_lists.summarise(report.problems)
        download = admin_url("admin.import_problems",
                             ref=problem_downloads.keep(report.problems))
    return render("admin/io.html", status, report=report, kind=kind, dry_run=dry_run,
                  error=error, filename=(upload.filename if upload else "") or "",
                  problems=summary, problems_url=download)


@bp.get("/io/problems/<ref>.csv")
def import_problems(ref: str) -> ResponseReturnValue:
    """Every problem of the last check, as CSV (kept for this launch for an hour)."""
    staff = current_staff()
    return problem_downloads.download(ref, f"{staff.issuer.slug}-import-problems.csv")
