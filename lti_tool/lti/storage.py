"""OIDC login state, nonces and launch sessions in the key-value store (Redis).

Every one-time value is consumed atomically (GETDEL / SET NX) so two workers can never both
accept the same state, nonce or id_token. Login on worker A and launch on worker B work
because nothing lives in process memory.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from lti_tool.extensions import KeyValueStore


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


def storage_key(state: str) -> str:
    """The platform-storage key of a login's binding secret."""
    return "microcred-" + hashlib.sha256(state.encode()).hexdigest()[:24]


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class LaunchStore:
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    # -- login ---------------------------------------------------------------------------
    def save_login(self, login: LoginState, ttl: int) -> None:
        self.kv.set(f"state:{_h(login.state)}", json.dumps(asdict(login)), ttl)
        self.kv.set(f"nonce:{_h(login.nonce)}", _h(login.state), ttl)

    def take_login(self, state: str, ttl: int) -> LoginState | None:
        """Consume the login for ``state`` (atomic); leaves a tombstone so a second use is
        reported as a replay rather than as an unknown state. The tombstone is written
        first: a twin request that looks between the two steps must see a replay."""
        self.kv.set(f"state-used:{_h(state)}", "1", ttl)
        raw = self.kv.take(f"state:{_h(state)}")
        if raw is None:
            return None
        return LoginState(**json.loads(raw))

    def state_was_used(self, state: str) -> bool:
        return self.kv.get(f"state-used:{_h(state)}") is not None

    def peek_login(self, state: str) -> LoginState | None:
        raw = self.kv.get(f"state:{_h(state)}")
        return LoginState(**json.loads(raw)) if raw else None

    def nonce_owner(self, nonce: str) -> str | None:
        """The hashed state a nonce was issued with, or None if we never issued it."""
        return self.kv.get(f"nonce:{_h(nonce)}")

    def nonce_was_used(self, nonce: str) -> bool:
        return self.kv.get(f"nonce-used:{_h(nonce)}") is not None

    def use_nonce(self, nonce: str, ttl: int) -> bool:
        """Mark a nonce used; False if it already was (atomic SET NX)."""
        return self.kv.set(f"nonce-used:{_h(nonce)}", "1", ttl, only_if_absent=True)

    def token_was_used(self, id_token: str) -> bool:
        return self.kv.get(f"token-used:{_h(id_token)}") is not None

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
