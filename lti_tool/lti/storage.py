"""OIDC login state, nonces and launch sessions in the key-value store (Redis).

Every one-time value is consumed atomically (GETDEL / SET NX) so two workers can never both
accept the same state, nonce or id_token. Login on worker A and launch on worker B work
because nothing lives in process memory.

Round trips: a login stores its state and nonce in one (MULTI); a launch reads everything
it checks in one (MGET, ``launch_facts``) and consumes the state, nonce and id_token in one
atomic step (a Lua script, ``consume``), then stores the launch session: three in all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any

from lti_tool.extensions import Budget, KeyValueStore


@dataclass(frozen=True)
class LoginState:
    state: str
    nonce: str
    platform_id: int
    issuer: str
    client_id: str
    target_link_uri: str
    deployment_hint: str
    browser_binding: str  # sha256 of the browser cookie value ("" when none could be set)
    storage_target: str
    issued_at: int
    # sha256 of a secret kept in the platform's storage frame (lti_storage_target): proves at
    # launch that this is the browser that logged in, when our cookie is blocked.
    storage_binding: str = ""
    storage_origin: str = ""
    # What the platform sent at login, to start the same login again in a new window when
    # our cookie turns out to be blocked in the LMS frame (lti.login.resume_params).
    login_hint: str = ""
    message_hint: str = ""
    new_window: bool = False  # this login was itself started in a new window


@dataclass(frozen=True)
class LaunchFacts:
    token_used: bool
    login: LoginState | None
    state_used: bool
    nonce_used: bool
    nonce_owner: str | None  # the hashed state the nonce was issued with


_LOGIN_FIELDS = tuple(f.name for f in fields(LoginState))


def storage_key(state: str) -> str:
    """The platform-storage key of a login's binding secret."""
    return "microcred-" + hashlib.sha256(state.encode()).hexdigest()[:24]


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class LaunchStore:
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    # -- login ---------------------------------------------------------------------------
    def save_login(self, login: LoginState, ttl: int, budget: Budget | None = None) -> bool:
        """Store the login's state and nonce, spending one unit of ``budget`` (the client's
        login rate limit) in the same round trip. False (nothing stored) when over it."""
        # A shallow dict (every field is a str, int or bool): ``asdict`` deep-copies, 10 µs.
        stored = {name: getattr(login, name) for name in _LOGIN_FIELDS}
        items = [(f"state:{_h(login.state)}", json.dumps(stored), ttl),
                 (f"nonce:{_h(login.nonce)}", _h(login.state), ttl)]
        if budget is not None:
            return self.kv.spend_then_set(budget, items) >= 0
        self.kv.set_many(items)
        return True

    def launch_facts(self, state: str, nonce: str | None, id_token: str) -> LaunchFacts:
        """What a launch checks before consuming anything, read in one round trip."""
        keys = [f"token-used:{_h(id_token)}", f"state:{_h(state)}", f"state-used:{_h(state)}"]
        if nonce:
            keys += [f"nonce-used:{_h(nonce)}", f"nonce:{_h(nonce)}"]
        values = self.kv.get_many(keys)
        login = LoginState(**json.loads(values[1])) if values[1] else None
        return LaunchFacts(
            token_used=values[0] is not None, login=login, state_used=values[2] is not None,
            nonce_used=bool(nonce) and values[3] is not None,
            nonce_owner=values[4] if nonce else None)

    def consume(self, state: str, nonce: str, id_token: str, *, state_ttl: int,
                nonce_ttl: int, token_ttl: int) -> tuple[LoginState | None, str]:
        """Consume the login of ``state``, the nonce and the id_token in one atomic step,
        as ``take_login`` + ``use_nonce`` + ``use_token`` would one after the other.
        Returns (the login, "") or (None or the login, what was already used: "state",
        "nonce" or "id_token")."""
        raw, first_used = self.kv.take_once(
            f"state-used:{_h(state)}", f"state:{_h(state)}", state_ttl,
            [(f"nonce-used:{_h(nonce)}", nonce_ttl),
             (f"token-used:{_h(id_token)}", max(token_ttl, 1))])
        if raw is None:
            return None, "state"
        login = LoginState(**json.loads(raw))
        return login, ("", "nonce", "id_token")[first_used]

    def peek_login(self, state: str) -> LoginState | None:
        raw = self.kv.get(f"state:{_h(state)}")
        return LoginState(**json.loads(raw)) if raw else None

    def use_nonce(self, nonce: str, ttl: int) -> bool:
        """Mark a nonce used; False if it already was (atomic SET NX). (A launch marks its
        nonce in ``consume``.)"""
        return self.kv.set(f"nonce-used:{_h(nonce)}", "1", ttl, only_if_absent=True)

    def use_token(self, id_token: str, ttl: int) -> bool:
        return self.kv.set(f"token-used:{_h(id_token)}", "1", max(ttl, 1), only_if_absent=True)

    # -- launch sessions -------------------------------------------------------------------
    def save_launch(self, launch_id: str, data: dict[str, Any], ttl: int) -> None:
        self.kv.set(f"launch:{launch_id}", json.dumps(data, separators=(",", ":")), ttl)

    def load_launch(self, launch_id: str) -> dict[str, Any] | None:
        raw = self.kv.get(f"launch:{launch_id}")
        return json.loads(raw) if raw else None

    @staticmethod
    def hash_state(state: str) -> str:
        return _h(state)
