"""Evidence files: the type is sniffed from the bytes (never the name or the browser's
Content-Type), only PDF/PNG/JPEG/plain text/ZIP up to 5 MB are kept, and a file is served
only as an attachment to staff of the course where it was recorded (or, when the issuer
shares evidence across courses, of any course where that learner is on the roster)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from lti_tool.models import Demonstration, EvidenceFile
from lti_tool.services import evidence
from tests.support.admin import Page
from tests.support.instructor import (
    CODETEACH,
    INSTRUCTOR,
    LEARNER,
    TA,
    attach,
    counts,
    intro_course,
    launch_as,
    record,
)

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
       b"<script>alert(1)</script></svg>")


def _upload(s, data: bytes, filename: str, content_type: str, **fields):
    return record(s.terry, s.lena_id, s.skill("PY-VARS"),
                  files={"evidence_file": (io.BytesIO(data), filename, content_type)},
                  **fields)


@pytest.fixture()
def course(app, db, platform):
    s = intro_course(app, db, platform)
    assert attach(s.terry, s.cred.credential_id).status_code == 303
    return s


@pytest.mark.parametrize(("data", "filename", "browser_type"), [
    (HTML, "work.html", "text/html"),
    (HTML, "work.pdf", "application/pdf"),  # the name and the browser's type lie
    (SVG, "diagram.png", "image/png"),
    (b"hello <script>alert(1)</script>", "notes.txt", "text/plain"),
])
def test_markup_is_refused_with_a_clear_message(course, db, data, filename, browser_type):
    before = counts(db)
    response = _upload(course, data, filename, browser_type)
    page = Page(response)
    assert response.status_code == 422
    assert "HTML, SVG and XML files cannot be uploaded as evidence" in \
        page.field_error("evidence_file")
    assert page.is_invalid("evidence_file")
    assert counts(db) == before


def test_unknown_binary_is_refused(course, db):
    before = counts(db)
    page = Page(_upload(course, b"MZ\x90\x00\x03\x00\x00\x00\xff\xfe" * 10, "tool.exe",
                        "application/octet-stream"))
    assert page.status == 422
    assert "this type of file cannot be uploaded. Allowed: PDF, PNG, JPEG, plain text or ZIP" \
        in page.field_error("evidence_file")
    assert counts(db) == before


def test_over_five_megabytes_is_413_and_nothing_is_stored(course, db):
    before = counts(db)
    just_over = PDF + b"0" * (evidence.MAX_EVIDENCE_BYTES + 1 - len(PDF))
    response = _upload(course, just_over, "big.pdf", "application/pdf")
    assert response.status_code == 413  # on the form, with what was typed
    assert Page(response).field_error("evidence_file").endswith(
        "the file is larger than 5 MB: choose a smaller one, or give a link to where the "
        "evidence is kept")
    far_over = PDF + b"0" * (evidence.MAX_EVIDENCE_BYTES * 2)
    assert _upload(course, far_over, "huge.pdf", "application/pdf").status_code == 413
    # A body too large to read at all: a page of its own, which links back.
    beyond = PDF + b"0" * (21 * 1024 * 1024)
    page = course.terry.client.post(
        "/course/cell", data={"lt": course.terry.lt,
                              "evidence_file": (io.BytesIO(beyond), "giant.pdf")},
        content_type="multipart/form-data",
        headers={"Referer": f"http://localhost/course/cell?lt={course.terry.lt}"})
    assert page.status_code == 413
    text = page.get_data(as_text=True)
    assert "Evidence files can be 5 MB at most" in text
    assert "Back to the page you were on" in text
    assert counts(db) == before
    # Exactly 5 MB is fine.
    exact = PDF + b"0" * (evidence.MAX_EVIDENCE_BYTES - len(PDF))
    assert _upload(course, exact, "ok.pdf", "application/pdf").status_code == 303


def test_a_field_error_with_a_file_keeps_nothing_and_asks_for_the_file_again(course, db):
    before = counts(db)
    page = Page(_upload(course, PDF, "essay.pdf", "application/pdf",
                        evidence_url="not a url"))
    assert page.status == 422
    assert "choose the file again" in page.field_error("evidence_file")
    assert counts(db) == before


def test_pdf_is_kept_and_downloaded_as_an_attachment(course, db, app, platform):
    response = _upload(course, PDF, "Essay on loops.html", "text/html")
    assert response.status_code == 303
    db.expire_all()
    stored = db.scalars(select(EvidenceFile)).one()
    assert stored.content_type == "application/pdf" and stored.size == len(PDF)
    assert stored.filename == "Essay on loops.html.pdf"
    demo = db.scalars(select(Demonstration)).one()
    assert demo.evidence_file_id == stored.id

    cell = course.terry.page("/course/cell", c=f"{course.lena_id}.{course.skill('PY-VARS')}")
    assert f'href="/course/evidence/{stored.id}?lt=' in cell.html
    assert "Essay on loops.html.pdf" in cell.text
    download = course.terry.get(f"/course/evidence/{stored.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "Essay on loops.html.pdf" in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert "no-store" in download.headers["Cache-Control"]

    # A teaching assistant of the course may download it too.
    ta = launch_as(app, platform, sub="tina", name="Tina Assistant", roles=[TA],
                   kind="for-credit")
    assert ta.get(f"/course/evidence/{stored.id}").status_code == 200
    # An instructor of another course (where Lena is not on the roster) may not, nor may a
    # learner from the instructor route.
    bea = launch_as(app, platform, sub="bea", name="Bea Brown", roles=[INSTRUCTOR],
                    fixture=CODETEACH, kind="continuing-ed")
    assert bea.get(f"/course/evidence/{stored.id}").status_code == 404
    assert course.omar.get(f"/course/evidence/{stored.id}").status_code == 403
    assert course.lena.get(f"/course/evidence/{stored.id}").status_code == 403
    # Lena on Bea's roster: by default evidence stays with the course where it was recorded.
    launch_as(app, platform, sub="lena", name="Lena Learner", roles=[LEARNER],
              fixture=CODETEACH, kind="continuing-ed")
    assert bea.get(f"/course/evidence/{stored.id}").status_code == 404
    assert course.terry.get("/course/evidence/999999").status_code == 404


def test_evidence_of_another_course_is_shown_only_when_the_issuer_shares_it(course, db,
                                                                            app, platform):
    from lti_tool.services import issuer_settings

    _upload(course, PDF, "essay.pdf", "application/pdf", evidence_note="Private feedback.",
            evidence_url="https://moodle.test/mod/assign/9")
    stored = db.scalars(select(EvidenceFile)).one()
    launch_as(app, platform, sub="lena", name="Lena Learner", roles=[LEARNER],
              fixture=CODETEACH, kind="continuing-ed")
    bea = launch_as(app, platform, sub="bea", name="Bea Brown", roles=[INSTRUCTOR],
                    fixture=CODETEACH, kind="continuing-ed")
    assert attach(bea, course.cred.credential_id).status_code == 303
    cell = bea.page("/course/cell", c=f"{course.lena_id}.{course.skill('PY-VARS')}")
    # The record itself (outcome, course) is shown; its evidence is not.
    assert "Demonstrated" in cell.text and "Intro to Programming" in cell.text
    assert "Kept by the course where it was recorded" in cell.text
    assert "Private feedback." not in cell.text and "essay.pdf" not in cell.text
    assert "moodle.test/mod/assign/9" not in cell.html
    assert bea.get(f"/course/evidence/{stored.id}").status_code == 404
    # The learner always sees their own; the recording course too.
    assert course.terry.get(f"/course/evidence/{stored.id}").status_code == 200

    db.expire_all()
    issuer_settings.update(db, course.issuer, {"link_identities_by": "none",
                                               "evidence_visibility": "institution"}, by="test")
    db.commit()
    cell = bea.page("/course/cell", c=f"{course.lena_id}.{course.skill('PY-VARS')}")
    assert "Private feedback." in cell.text and "essay.pdf" in cell.text
    assert bea.get(f"/course/evidence/{stored.id}").status_code == 200


@pytest.mark.parametrize(("data", "content_type"), [
    (PNG, "image/png"), (JPEG, "image/jpeg"), (ZIP, "application/zip"),
    ("Observed: the learner traced the loop by hand. Très bien.\n".encode(),
     "text/plain; charset=utf-8"),
])
def test_allowed_types_are_kept_with_their_sniffed_type(course, db, data, content_type):
    assert _upload(course, data, "evidence", "application/octet-stream").status_code == 303
    db.expire_all()
    assert db.scalars(select(EvidenceFile)).one().content_type == content_type


def test_a_stored_type_that_is_not_allowed_is_served_as_bytes(course, db):
    """A row written by an older version or by hand with an active type is never served
    with it."""
    row = EvidenceFile(sha256="0" * 64, filename="legacy.html", content_type="text/html",
                       size=len(HTML), data=HTML, uploaded_by="test")
    db.add(row)
    db.flush()
    demo = db.scalars(select(Demonstration)).first()
    assert demo is None
    record(course.terry, course.lena_id, course.skill("PY-VARS"))
    db.expire_all()
    demo = db.scalars(select(Demonstration)).one()
    demo.evidence_file_id = row.id  # test set-up only: point the record at the legacy file
    db.commit()
    response = course.terry.get(f"/course/evidence/{row.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_sniffing_rules():
    assert evidence.sniff(PDF) is evidence.PDF
    assert evidence.sniff(PNG) is evidence.PNG
    assert evidence.sniff(JPEG) is evidence.JPEG
    assert evidence.sniff(ZIP) is evidence.ZIP
    assert evidence.sniff(b"plain words") is evidence.TEXT
    assert evidence.sniff("\ufeffwith a BOM".encode()) is evidence.TEXT
    for refused in (HTML, SVG, b"  <html>", b"<?xml version='1.0'?><a/>", b"\x00\x01binary",
                    b"\xff\xfe\x00t\x00e\x00x\x00t", b"caf\xe9 latin-1", b""):
        assert evidence.sniff(refused) is None, refused
    assert evidence.safe_filename("../../etc/passwd", evidence.TEXT) == "passwd.txt"
    assert evidence.safe_filename('C:\\Users\\a\\"r<e>p".JPEG', evidence.JPEG) == "rep.JPEG"
    assert evidence.safe_filename("\x00\x1f", evidence.PDF) == "evidence.pdf"
