"""The learner's landing page, cached in Redis as rendered HTML.

Rendering the page reads a dozen tables and runs the templates (~25 ms of CPU); a learner
reloads it, comes back to it from a credential, opens it again from the course. The cache
keeps the HTML and serves it again only while nothing it shows can have changed:

* **Validity.** The key includes ``learner_records.page_state``: the launched account's
  Person now and two counters, one per Person and one for shared data (catalog, pathways,
  occupations, courses, offerings, PLAR set-up), which database triggers bump on every write
  to a table the page reads (migration 0018), whoever writes: the ORM, Core bulk
  statements, the CLI, RQ jobs, imports, another process. The counters are read in one
  statement *before* the page's data, so a write committed meanwhile makes a stored page
  newer than its key, never older. Redis holds nothing that decides freshness: losing or
  flushing it only costs renders.
* **What else the HTML depends on** is in the key too: the launch's data (names, course
  title, roles, custom parameters, its database record; everything but the launch id), the
  locale, the URL root and path, and a fingerprint of this build's package files (code,
  templates, translation catalogs): a deploy never serves an older build's HTML.
* **Per-launch secrets.** The launch token (``lt`` in links and forms) and the CSRF token are
  replaced by placeholders before storing and put back for the launch being served, so an
  entry holds no secret and two launches of the same learner share it. A page that still
  contains the launch id or the token's signature afterwards, or a placeholder already (text
  someone typed), is not stored.
* **Not cached:** a request with query parameters besides ``lt`` (``name_saved`` shows a
  notice); a render after which the versions differ (read again once the page is rendered,
  in the same transaction: an award made on the way, a credential issued, anyone's commit
  meanwhile; a page must never be stored under versions a rollback could bring back); a
  page over ``MAX_BYTES``; nothing at all when ``LEARNER_PAGE_CACHE_SECONDS`` is 0 or
  templates reload (debug mode: the build fingerprint is computed once per process).
* **Redis down** (the breaker open, or a command failing): the page is rendered as without
  a cache; a connection-level failure trips the breaker. Never an error page.
* **Bounded:** entries expire after ``LEARNER_PAGE_CACHE_SECONDS`` (default 30 min); at most
  one entry per (person, launch data, locale) lives at a time in practice, since a version
  change moves the key and the old entry just expires.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import redis
from flask import current_app, request
from flask_babel import get_locale

from lti_tool.domain.lti import LaunchContext
from lti_tool.extensions import STORE, breaker, dependency_failure, kv
from lti_tool.services.learner_records import PageState
from lti_tool.web.common.launch_session import CurrentLaunch

log = logging.getLogger(__name__)

KEY_PREFIX = "learner-page:"
MAX_BYTES = 512 * 1024
# Placeholders, not secrets (private-use characters: never in text the page renders).
TOKEN_MARK = "\ue000mc-launch-token\ue000"  # noqa: S105
CSRF_MARK = "\ue000mc-csrf-token\ue000"
_fingerprint: str | None = None
# Everything a launch carries but its id (shallow: its values are JSON-able already).
_LAUNCH_FIELDS = tuple(f for f in fields(LaunchContext) if f.name != "launch_id")


def build_fingerprint() -> str:
    """A hash of this build's package files (code, templates, translation catalogs, data),
    computed once per process: a deploy never serves HTML another build rendered."""
    global _fingerprint
    if _fingerprint is None:
        package = Path(__file__).resolve().parents[3]
        digest = hashlib.sha256()
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(package)).encode() + b"\0")
                digest.update(path.read_bytes())
        _fingerprint = digest.hexdigest()[:16]
    return _fingerprint


def cache_key(current: CurrentLaunch, state: PageState) -> str:
    launch = {f.name: getattr(current.launch, f.name) for f in _LAUNCH_FIELDS}
    launch["app_roles"] = sorted(role.value for role in current.launch.app_roles)
    parts = [build_fingerprint(), str(get_locale()), request.script_root, request.host,
             request.path, request.blueprint,
             launch, current.record, state.person_id, state.person_version,
             state.shared_version]
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return KEY_PREFIX + hashlib.sha256(blob.encode()).hexdigest()


def cacheable_request() -> bool:
    return all(name == "lt" for name in request.args) and request.method == "GET"


def _store_failed(exc: Exception) -> None:
    failure = dependency_failure(exc)
    if failure is not None and failure.outage:
        breaker().trip(failure.dependency)
    log.warning("learner page cache unavailable", extra={"error": type(exc).__name__})


def cached(current: CurrentLaunch, state: PageState,
           render: Callable[[], tuple[str, bool]]) -> str:
    """The page from the cache, or ``render()`` (HTML, may be stored) stored for next time."""
    ttl = int(current_app.config.get("LEARNER_PAGE_CACHE_SECONDS", 0))
    if ttl <= 0 or not cacheable_request() or breaker().is_open(STORE) \
            or current_app.jinja_env.auto_reload:  # debug: templates change under us
        return render()[0]
    key = cache_key(current, state)
    try:
        stored = kv().get(key)
    except (redis.RedisError, OSError) as exc:
        _store_failed(exc)
        return render()[0]
    except Exception:  # the cache must never take the page down
        log.exception("learner page cache read failed")
        return render()[0]
    if stored is not None:
        return stored.replace(TOKEN_MARK, current.token).replace(CSRF_MARK, current.csrf_token)
    html, storable = render()
    template = _template_of(html, current)
    if storable and template is not None:
        try:
            kv().set(key, template, ttl)
        except (redis.RedisError, OSError) as exc:
            _store_failed(exc)
        except Exception:  # the cache must never take the page down
            log.exception("learner page cache write failed")
    return html


def _template_of(html: str, current: CurrentLaunch) -> str | None:
    """The page with its per-launch secrets replaced by placeholders; None when it must not
    be stored (too big, carries the launch id, or a placeholder is in it already)."""
    if len(html) > MAX_BYTES or TOKEN_MARK in html or CSRF_MARK in html:
        return None
    template = html.replace(current.token, TOKEN_MARK).replace(current.csrf_token, CSRF_MARK)
    # Belt and braces: no trace of this launch may remain (the launch id, or the token's
    # signature in some other encoding than the one replaced).
    signature = current.token.rsplit(".", 1)[-1]
    if current.launch.launch_id in template or (len(signature) >= 16 and signature in template):
        return None
    return template


