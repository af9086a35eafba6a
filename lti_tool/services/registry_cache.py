"""A per-process cache of the registry: platforms, deployments and which issuer each serves.

Every login, launch and page inside the LMS resolves them, and they change a few times a
year (an administrator's platforms page, Dynamic Registration, the CLI), so each process
keeps what it read and skips the SELECTs. A row served from the cache is a fresh instance
built from the cached column values and attached to the caller's session as if loaded
(``make_transient_to_detached`` + ``Session.add``): callers get ordinary ORM objects they
may read, navigate and change, and no two sessions ever share one.

Invalidation:

- any flush that adds, changes or deletes a Platform, Deployment, Issuer or IssuerPlatform
  clears this process's cache at once; its commit also replaces the shared version token in
  the key-value store (Redis: the request's, or the one named in the session's
  ``info["registry_store"]``, which the app's session factory sets for CLI and job
  sessions), so every other process clears its own;
- whatever happens to that token (Redis unreachable at that moment), a process never
  serves an entry older than ``MAX_AGE_SECONDS``;
- the cache is used only inside a *scope* (a web request, opened by the app factory): the
  scope's first lookup reads the version token (one GET) and, when it differs from the one
  the cache was filled under, empties it. A scope opened with ``check_every`` (the app's
  ``REGISTRY_CHECK_SECONDS``, 1 s by default) skips that GET when this process read the
  token less than that long ago: another process's change is seen within that time, and a
  launch (three requests) costs no Redis round trip for it. Outside a scope (CLI,
  background jobs), or when the token cannot be read (Redis unreachable: pages that need
  only the database keep working), every lookup reads the database.

Not cached: lookups that find nothing (anyone can send an unknown issuer; caching those would
let them fill memory), except "this platform/deployment serves no issuer", which is bounded
by the registry's size.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from lti_tool.models import Deployment, Issuer, IssuerPlatform, Platform

VERSION_KEY = "registry-version"
STORE_INFO_KEY = "registry_store"
MAX_AGE_SECONDS = 300
_WATCHED = (Platform, Deployment, Issuer, IssuerPlatform)
_CHANGED = "registry_changed"
_NONE = object()  # a cached "nothing" (only for issuer_for_platform)
# Column values that are mutable (JSON): kept as JSON text, so that each attached instance
# gets its own copy (json.loads is several times cheaper than copy.deepcopy).
_MUTABLE = (dict, list)


class _Json(str):
    """A mutable column value, kept as its JSON text."""

T = TypeVar("T")
log = logging.getLogger(__name__)


class VersionStore(Protocol):
    """What the cache needs of the key-value store (``extensions.KeyValueStore``)."""

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl: int, *, only_if_absent: bool = False) -> bool: ...


@dataclass(frozen=True)
class _Row:
    """One cached row: its model and committed column values."""

    model: type[Any]
    values: tuple[tuple[str, Any], ...]
    # Its shared read-only instance once built (``shared``); goes with the row.
    built: list[Any] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def of(cls, obj: Any) -> _Row | None:
        state = inspect(obj)
        if state.expired_attributes or state.modified:
            return None  # not a clean, fully loaded row: do not cache it
        mapper = state.mapper
        values = []
        for prop in mapper.column_attrs:
            if prop.key not in state.dict:
                return None
            value = state.dict[prop.key]
            values.append((prop.key, _Json(json.dumps(value)) if isinstance(value, _MUTABLE)
                           else value))
        return cls(mapper.class_, tuple(values))

    def shared(self) -> Any:
        """One instance per cached row, never in any session, shared by every thread: for
        callers that only read its columns (``lookup(..., shared=True)``). Reading loaded
        attributes of a detached instance changes nothing, so threads may share it."""
        if not self.built:
            obj = self.model()
            for key, value in self.values:
                set_committed_value(obj, key, json.loads(value) if type(value) is _Json
                                    else value)
            make_transient_to_detached(obj)
            self.built.append(obj)  # two threads may both build one: the first is kept
        return self.built[0]

    def attach(self, session: Session) -> Any:
        pk = dict(self.values)["id"]
        loaded = session.identity_map.get(identity_key(self.model, pk))
        if loaded is not None:
            return loaded  # the session's own copy (possibly changed by the caller) wins
        obj = self.model()
        for key, value in self.values:
            set_committed_value(obj, key, json.loads(value) if type(value) is _Json else value)
        make_transient_to_detached(obj)
        session.add(obj)
        return obj


class _Scope:
    def __init__(self, store: VersionStore, tag: Hashable,
                 on_failure: Callable[[BaseException], None] | None,
                 check_every: float = 0.0) -> None:
        self.store = store
        self.tag = tag
        self.on_failure = on_failure
        self.check_every = check_every
        self.checked = False
        self.bypass = False


_scope: ContextVar[_Scope | None] = ContextVar("registry_cache_scope", default=None)


class RegistryCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[Hashable, str] | None = None
        self._rows: dict[Hashable, _Row | object] = {}
        self._since = time.monotonic()
        self._read_at = 0.0  # when the version token was last read (monotonic)

    # -- scope ------------------------------------------------------------------------------
    def begin(self, store: VersionStore, tag: Hashable,
              on_failure: Callable[[BaseException], None] | None = None,
              check_every: float = 0.0) -> object:
        """Open a scope (a request) reading the version from ``store``; ``tag`` names the
        store (several apps in one process keep apart); ``on_failure`` hears of a store
        that could not be read; ``check_every``: seconds during which the version last
        read still holds (0: read it in every scope). Returns a token for ``end``."""
        return _scope.set(_Scope(store, tag, on_failure, check_every))

    def end(self, token: Any) -> None:
        _scope.reset(token)

    def _current(self) -> _Scope | None:
        scope = _scope.get()
        if scope is None:
            return None
        if scope.bypass:
            return None
        if not scope.checked:
            scope.checked = True
            if scope.check_every > 0:
                held = self._version
                now = time.monotonic()
                if held is not None and held[0] == scope.tag and \
                        now - self._read_at < scope.check_every and \
                        now - self._since <= MAX_AGE_SECONDS:
                    return scope  # read less than check_every ago
            try:
                version = scope.store.get(VERSION_KEY)
                if version is None:  # first use (or the store was emptied): start a version
                    scope.store.set(VERSION_KEY, secrets.token_hex(8), 10 * 365 * 86400,
                                    only_if_absent=True)
                    version = scope.store.get(VERSION_KEY) or ""
            except Exception as exc:  # Redis unreachable: this request reads the database
                scope.bypass = True
                if scope.on_failure is not None:
                    scope.on_failure(exc)
                return None
            with self._lock:
                if self._version != (scope.tag, version) or \
                        time.monotonic() - self._since > MAX_AGE_SECONDS:
                    self._rows.clear()
                    self._version = (scope.tag, version)
                    self._since = time.monotonic()
                self._read_at = time.monotonic()
        return scope

    # -- lookups ------------------------------------------------------------------------------
    def lookup(self, session: Session, key: Hashable, load: Callable[[], T | None], *,
               cache_none: bool = False, shared: bool = False) -> T | None:
        """``load()`` (a query in ``session``), or its cached result attached to
        ``session``; ``shared``: the caller only reads the row's columns (never changes it,
        adds it to a session or follows its relationships), so the process's one read-only
        instance of a cached row will do (no instance built per request)."""
        if self._current() is None or session.info.get(_CHANGED):
            return load()
        cached = self._rows.get(key)
        if cached is _NONE:
            return None
        if isinstance(cached, _Row):
            if shared and identity_key(cached.model, dict(cached.values)["id"]) \
                    not in session.identity_map:
                one: T = cached.shared()
                return one
            attached: T = cached.attach(session)
            return attached
        version = self._version
        found = load()
        row = _Row.of(found) if found is not None else None
        if (row is not None or (found is None and cache_none)) and \
                not session.info.get(_CHANGED):
            with self._lock:
                if self._version == version:  # not cleared meanwhile
                    self._rows[key] = row if row is not None else _NONE
        return found

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._version = None

    # -- invalidation ------------------------------------------------------------------------
    def _after_flush(self, session: Session, _context: Any) -> None:
        if any(isinstance(obj, _WATCHED)
               for objs in (session.new, session.dirty, session.deleted) for obj in objs):
            session.info[_CHANGED] = True
            self.clear()

    def _after_commit(self, session: Session) -> None:
        if not session.info.pop(_CHANGED, False):
            return
        self.clear()
        scope = _scope.get()
        store = session.info.get(STORE_INFO_KEY) or (scope.store if scope is not None
                                                     else None)
        if store is None:
            return
        try:
            store.set(VERSION_KEY, secrets.token_hex(8), 10 * 365 * 86400)
        except Exception as exc:  # the commit is done; other processes catch up by age
            log.warning("registry change not announced to other processes (%s): they see "
                        "it within %d s", type(exc).__name__, MAX_AGE_SECONDS,
                        extra={"event": "registry_cache.announce_failed"})

    def _after_rollback(self, session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            self.clear()

    def install(self) -> None:
        """Listen to every session of the process (idempotent)."""
        if not event.contains(Session, "after_flush", self._after_flush):
            event.listen(Session, "after_flush", self._after_flush)
            event.listen(Session, "after_commit", self._after_commit)
            event.listen(Session, "after_rollback", self._after_rollback)


cache = RegistryCache()
cache.install()
