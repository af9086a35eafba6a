"""Evidence files uploaded with a demonstration: size and type limits, and who may read one.

The type is decided by the file's first bytes (its "magic number"), never by the name or the
Content-Type the browser sent: a PDF, PNG, JPEG, ZIP or plain UTF-8 text is kept; HTML, SVG,
XML and anything else is refused, so nothing stored here can run script in our origin. Files
are served only as attachments (``Content-Disposition: attachment``, ``nosniff``) by the web
layer. Sniffing follows the WHATWG MIME Sniffing signatures:
https://mimesniff.spec.whatwg.org/#matching-an-image-type-pattern

Files live in the database (``EvidenceFile``), shared by every worker. Functions raise
ToolError subclasses and commit nothing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.errors import NotFound, ToolError, ValidationFailed
from lti_tool.models import Demonstration, EvidenceFile, LearnerAccount, RosterEntry
from lti_tool.translate import gettext as _
from lti_tool.translate import lazy_gettext as _l

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
FIELD = "evidence_file"


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    label: str


PDF = FileType("application/pdf", ".pdf", "PDF")
PNG = FileType("image/png", ".png", "PNG image")
JPEG = FileType("image/jpeg", ".jpg", "JPEG image")
ZIP = FileType("application/zip", ".zip", "ZIP archive")
TEXT = FileType("text/plain; charset=utf-8", ".txt", "plain text")
ALLOWED_TYPES = (PDF, PNG, JPEG, TEXT, ZIP)
ALLOWED_CONTENT_TYPES = frozenset(t.content_type for t in ALLOWED_TYPES)
ALLOWED_DESCRIPTION = "PDF, PNG, JPEG, plain text or ZIP"


def allowed() -> str:
    """The allowed types, in the reader's language."""
    return _("PDF, PNG, JPEG, plain text or ZIP")
_EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg"), ZIP: (".zip",),
               TEXT: (".txt", ".text", ".log", ".csv", ".md", ".py")}

# Leading bytes that make a browser (or an old one) treat text as markup; WHATWG
# "identifying a resource with an unknown MIME type", plus SVG/XML.
_MARKUP_START = re.compile(
    rb"^\s*<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|"
    rb"body|br|p|!--|\?xml|svg|math|object|embed|meta|link|img|form)[\s/>]", re.I)
_MARKUP_ANYWHERE = re.compile(rb"<\s*(?:script|html|svg|iframe|object|embed|body)[\s/>]", re.I)


class EvidenceTooLarge(ToolError):
    status_code = 413
    code = "evidence_too_large"
    title = _l("The file is too large")

    def __init__(self) -> None:
        super().__init__(_("Evidence files can be %(size)s MB at most. Upload a smaller file, "
                           "or give a link to where the evidence is kept.",
                           size=MAX_EVIDENCE_BYTES // (1024 * 1024)))


def sniff(data: bytes) -> FileType | None:
    """The allowed type these bytes are, by their signature; None for anything else
    (HTML, SVG, XML, executables, unknown binaries, non-UTF-8 text)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    return TEXT if _is_plain_text(data) else None


def _is_plain_text(data: bytes) -> bool:
    if not data:
        return False
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text[:65536]) or "\x7f" in text:
        return False
    head = body[:4096]
    return not (_MARKUP_START.match(head) or _MARKUP_ANYWHERE.search(head))


def looks_like_markup(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    return bool(_MARKUP_START.match(head) or _MARKUP_ANYWHERE.search(head))


def safe_filename(name: str, kind: FileType) -> str:
    """A display/download name: the base name, no control or path characters, with an
    extension that matches the sniffed type (``report.html`` holding a PDF becomes
    ``report.html.pdf``)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base)
                   if unicodedata.category(ch)[0] != "C" and ch not in '"<>:|?*')
    base = base.strip(" .")[:200] or "evidence"
    if not base.lower().endswith(_EXTENSIONS[kind]):
        base += kind.extension
    return base


def store_evidence(session: Session, *, filename: str, data: bytes,
                   uploaded_by: str) -> EvidenceFile:
    """Keep an uploaded file after checking its size and (sniffed) type.
    Raises EvidenceTooLarge (413) or ValidationFailed (evidence_file). Not idempotent."""
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceTooLarge()
    if not data:
        raise ValidationFailed({FIELD: [_("the file is empty")]})
    kind = sniff(data)
    if kind is None:
        if looks_like_markup(data):
            message = _("HTML, SVG and XML files cannot be uploaded as evidence: save it as "
                        "PDF, or link to it. Allowed: %(allowed)s.", allowed=allowed())
        else:
            message = _("this type of file cannot be uploaded. Allowed: %(allowed)s.",
                        allowed=allowed())
        raise ValidationFailed({FIELD: [message]})
    row = EvidenceFile(sha256=hashlib.sha256(data).hexdigest(),
                       filename=safe_filename(filename, kind), content_type=kind.content_type,
                       size=len(data), data=data, uploaded_by=uploaded_by[:100])
    session.add(row)
    session.flush()
    return row


def served_content_type(stored: str) -> str:
    """The stored type if it is one we allow, else a download-only binary type."""
    return stored if stored in ALLOWED_CONTENT_TYPES else "application/octet-stream"


def file_for_reader(session: Session, file_id: int, *, person_id: int | None,
                    staff_context_id: int | None, across_courses: bool = False) -> EvidenceFile:
    """The evidence file, if this reader may have it: the learner the demonstration is
    about (``person_id``), or staff of the course where it was recorded
    (``staff_context_id``); with ``across_courses`` (the issuer's ``evidence_visibility``
    "institution"), staff of any course where that learner is on the roster. Anyone else
    gets NotFound (the file's existence is not revealed)."""
    rows = session.execute(select(Demonstration.person_id, Demonstration.context_id).where(
        Demonstration.evidence_file_id == file_id)).all()
    owners = {pid for pid, _ in rows}
    allowed = person_id is not None and person_id in owners
    if not allowed and staff_context_id is not None and owners:
        if any(cid == staff_context_id for _, cid in rows):
            allowed = True
        elif across_courses:
            allowed = session.scalars(
                select(RosterEntry.id).join(LearnerAccount,
                                            LearnerAccount.id == RosterEntry.account_id)
                .where(RosterEntry.context_id == staff_context_id,
                       LearnerAccount.person_id.in_(owners)).limit(1)).first() is not None
    row = session.get(EvidenceFile, file_id) if allowed else None
    if row is None:
        raise NotFound(_("That evidence file does not exist or is not yours to see."))
    return row
