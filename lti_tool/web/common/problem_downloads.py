"""The full list of an import's problems, kept for its launch to download as CSV: the page
shows the first 100 and the counts per kind (``services.problem_lists``); the link serves
them all. Kept in the key-value store for an hour under a random reference bound to the
launch (a link shared outside the launch finds nothing)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence

from flask import make_response
from werkzeug.wrappers import Response

from lti_tool.errors import NotFound
from lti_tool.extensions import kv
from lti_tool.services import problem_lists
from lti_tool.translate import gettext as _
from lti_tool.web.common.launch_session import load_current_launch

TTL_SECONDS = 3600
MAX_KEPT = 10_000


def _key(ref: str) -> str:
    launch_id = load_current_launch().launch.launch_id
    return "import-problems:" + hashlib.sha256(f"{launch_id}:{ref}".encode()).hexdigest()


def keep(problems: Sequence[dict[str, str]]) -> str:
    """Keep the list for this launch; returns the reference for the download link."""
    ref = secrets.token_urlsafe(9)
    kv().set(_key(ref), json.dumps(list(problems)[:MAX_KEPT]), TTL_SECONDS)
    return ref


def download(ref: str, filename: str) -> Response:
    """The kept list as a CSV attachment (404 when expired or not this launch's)."""
    raw = kv().get(_key(ref[:20])) if ref.isascii() and len(ref) <= 20 else None
    if not raw:
        raise NotFound(_("This list of problems has expired: check the file again to get a "
                       "new one."), code="problems_expired")
    response = make_response(problem_lists.to_csv(json.loads(raw)))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
