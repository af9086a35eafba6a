"""LTI Advantage services as plain data: Names and Role Provisioning Services (NRPS) 2.0
membership containers and members, Assignment and Grade Services (AGS) 2.0 endpoints, line
items and scores, and the URL rules both need (paging links, score URLs). No HTTP here:
``lti/advantage.py`` makes the calls.

- NRPS 2.0: https://www.imsglobal.org/spec/lti-nrps/v2p0 (members §2.2, paging §2.4:
  ``Link: <url>; rel="next"``, status Active/Inactive/Deleted §2.3).
- AGS 2.0: https://www.imsglobal.org/spec/lti-ags/v2p0 (line items §3.2, scores §3.4: POST to
  the line item URL with ``/scores`` appended to its *path*; a line item URL may carry a query
  string, as Moodle's ``.../lineitem?type_id=1`` does).
- Access tokens: https://www.imsglobal.org/spec/security/v1p0/#using-json-web-tokens-with-oauth-2-0-client-credentials-grant
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lti_tool.domain.lti import AppRole, map_roles

NRPS_SCOPE_MEMBERSHIP = (
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly")
AGS_SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
AGS_SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
AGS_SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
AGS_SCOPES = frozenset({AGS_SCOPE_LINEITEM, AGS_SCOPE_LINEITEM_READONLY, AGS_SCOPE_SCORE,
                        AGS_SCOPE_RESULT_READONLY})

MEDIA_MEMBERSHIP = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"

# A roster or line-item listing longer than this many pages is not followed further (a
# platform that keeps sending rel="next" must not keep a worker busy forever).
MAX_PAGES = 100

LINEITEM_TAG = "microcred"
RESOURCE_ID_PREFIX = "microcred-"
# The column's name says what it is, and that it is not a grade: a teacher who sees it in
# the grade book should not count it toward the course total (install-moodle.md says how
# to exclude it). Existing columns are found by resourceId, whatever their label.
LABEL_PREFIX = "MicroCred credential earned (not a grade): "


# -- NRPS --------------------------------------------------------------------------------------
class MemberStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    DELETED = "Deleted"

    @classmethod
    def parse(cls, value: object) -> MemberStatus:
        """Absent means Active (NRPS §2.3); an unknown value is not taken as Active."""
        if value is None or value == "":
            return cls.ACTIVE
        if isinstance(value, str):
            for status in cls:
                if status.value.lower() == value.strip().lower():
                    return status
        return cls.INACTIVE


@dataclass(frozen=True)
class Member:
    """One member of a course as NRPS lists it. ``sub`` is the LTI 1.3 user id (the
    ``sub`` of that user's launches). Roles may be full URIs or short names ("Learner", as
    Moodle sends them); name and email may be absent (Canvas privacy settings)."""

    sub: str
    roles: tuple[str, ...] = ()
    status: MemberStatus = MemberStatus.ACTIVE
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    lis_person_sourcedid: str = ""

    @property
    def app_roles(self) -> frozenset[AppRole]:
        return map_roles(self.roles)

    @property
    def is_learner(self) -> bool:
        return AppRole.LEARNER in self.app_roles

    @property
    def display_name(self) -> str:
        return self.name or " ".join(p for p in (self.given_name, self.family_name) if p)


def _text(obj: Mapping[str, Any], key: str, size: int) -> str:
    value = obj.get(key)
    return value.strip()[:size] if isinstance(value, str) else ""


def member_from_json(obj: object) -> Member | None:
    """A member from one entry of ``members``; None for an entry without a user id."""
    if not isinstance(obj, Mapping):
        return None
    user_id = obj.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 255:
        return None
    raw_roles = obj.get("roles")
    roles = tuple(r.strip() for r in raw_roles if isinstance(r, str) and r.strip()) \
        if isinstance(raw_roles, list) else ()
    return Member(
        sub=user_id.strip(), roles=roles[:50], status=MemberStatus.parse(obj.get("status")),
        name=_text(obj, "name", 300), given_name=_text(obj, "given_name", 200),
        family_name=_text(obj, "family_name", 200), email=_text(obj, "email", 320),
        lis_person_sourcedid=_text(obj, "lis_person_sourcedid", 255))


def members_of_page(body: object) -> list[Member]:
    """The members of one membership-container page (entries without a user id are
    skipped). Raises ValueError when the body is not a membership container."""
    if not isinstance(body, Mapping) or not isinstance(body.get("members"), list):
        raise ValueError("not a membership container")
    return [m for m in (member_from_json(e) for e in body["members"]) if m is not None]


@dataclass(frozen=True)
class Membership:
    """A course's members, from every page read. ``complete`` is False when the listing
    was cut at ``MAX_PAGES``: members missing from an incomplete listing must not be taken
    as having left the course."""

    members: tuple[Member, ...]
    complete: bool
    pages: int


# -- paging ----------------------------------------------------------------------------------
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r"""(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.IGNORECASE)


def next_page_url(link_header: str | None, current_url: str) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 ``Link`` header, resolved against the
    current URL, with its case kept (pylti1p3 lower-cases the whole header, which breaks
    case-sensitive page tokens such as Canvas's ``page=bookmark:...``)."""
    if not link_header:
        return None
    for match in _LINK.finditer(link_header):
        target, params = match.group(1).strip(), match.group(2)
        for rel in _REL.finditer(params):
            values = (rel.group(1) or rel.group(2) or "").lower().split()
            if "next" in values and target:
                return str(urljoin(current_url, target))
    return None


def same_origin(url: str, other: str) -> bool:
    """Same scheme, host and port: a bearer token is only ever sent back where the first
    request went."""
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme.lower(), (a.hostname or "").lower(), a.port) == \
        (b.scheme.lower(), (b.hostname or "").lower(), b.port)


# -- AGS -------------------------------------------------------------------------------------
def scores_url(lineitem_url: str) -> str:
    """The score service URL of a line item: ``/scores`` added to the URL's path, before
    any query string (AGS §3.4). ``https://lms/lineitem?type_id=1`` (Moodle) gives
    ``https://lms/lineitem/scores?type_id=1``; a trailing slash is not doubled; a fragment
    is dropped. Raises ValueError for a URL that is not absolute http(s)."""
    parts = urlsplit(lineitem_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("a line item URL must be an absolute http(s) URL")
    path = parts.path.rstrip("/") + "/scores"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to its query string, keeping what is there (Moodle's
    ``type_id``); a parameter already present is replaced."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in params]
    query = urlencode([*kept, *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True)
class AgsEndpoint:
    """The AGS claim of a launch, as stored on the course: the line-items container URL,
    the launch's own line item (unused by us) and the scopes the platform granted."""

    lineitems: str
    lineitem: str = ""
    scopes: tuple[str, ...] = ()

    @classmethod
    def from_claim(cls, claim: object) -> AgsEndpoint | None:
        """None unless the claim names an absolute http(s) line-items URL."""
        if not isinstance(claim, Mapping):
            return None
        lineitems = claim.get("lineitems")
        if not isinstance(lineitems, str) or len(lineitems) > 1000:
            return None
        if urlsplit(lineitems).scheme not in ("http", "https") or not urlsplit(lineitems).netloc:
            return None
        lineitem = claim.get("lineitem")
        raw_scopes = claim.get("scope")
        scopes = tuple(sorted({s for s in raw_scopes if isinstance(s, str) and s in AGS_SCOPES}))\
            if isinstance(raw_scopes, list) else ()
        return cls(lineitems, lineitem if isinstance(lineitem, str) and len(lineitem) <= 1000
                   else "", scopes)

    def as_json(self) -> dict[str, Any]:
        return {"lineitems": self.lineitems, "lineitem": self.lineitem,
                "scope": list(self.scopes)}

    @property
    def can_read_lineitems(self) -> bool:
        return AGS_SCOPE_LINEITEM in self.scopes or AGS_SCOPE_LINEITEM_READONLY in self.scopes

    @property
    def can_create_lineitems(self) -> bool:
        return AGS_SCOPE_LINEITEM in self.scopes

    @property
    def can_post_scores(self) -> bool:
        return AGS_SCOPE_SCORE in self.scopes


def credential_resource_id(credential_code: str) -> str:
    """Our line item's ``resourceId``: how we recognise our column among the course's."""
    return RESOURCE_ID_PREFIX + credential_code


@dataclass(frozen=True)
class LineItemSpec:
    """The "credential earned" grade-book column: scored out of 1, tagged as ours."""

    label: str
    resource_id: str
    tag: str = LINEITEM_TAG
    score_maximum: int = 1

    @classmethod
    def for_credential(cls, code: str, title: str) -> LineItemSpec:
        return cls(label=(LABEL_PREFIX + title)[:255], resource_id=credential_resource_id(code))

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "scoreMaximum": self.score_maximum,
                "resourceId": self.resource_id, "tag": self.tag}


def find_lineitem(items: Iterable[object], resource_id: str) -> str | None:
    """The URL (``id``) of the listed line item with our ``resourceId``; others are never
    touched."""
    for item in items:
        if isinstance(item, Mapping) and item.get("resourceId") == resource_id:
            url = item.get("id")
            if isinstance(url, str) and url:
                return url
    return None


def score_body(user_id: str, *, at: datetime, score_given: float = 1,
               score_maximum: float = 1, comment: str = "") -> dict[str, Any]:
    """A completed, fully graded score (AGS §3.4.1); ``timestamp`` with milliseconds and
    an offset, as platforms compare it with earlier scores."""
    if at.tzinfo is None:
        raise ValueError("the score timestamp needs a time zone")
    body: dict[str, Any] = {
        "userId": user_id, "scoreGiven": score_given, "scoreMaximum": score_maximum,
        "activityProgress": "Completed", "gradingProgress": "FullyGraded",
        "timestamp": at.astimezone(UTC).isoformat(timespec="milliseconds"),
    }
    if comment:
        body["comment"] = comment[:1000]
    return body


def scopes_key(scopes: Sequence[str]) -> str:
    """A stable text for a set of scopes (token cache keys)."""
    return " ".join(sorted(set(scopes)))
