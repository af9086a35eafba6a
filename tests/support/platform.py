"""A test LTI platform: signs real RS256 id_tokens shaped like Moodle 5.0.6's captured
launches, and serves its JWKS through a requests transport adapter (no network)."""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from requests.adapters import BaseAdapter

REPO = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (REPO.parent / "shared", Path("/work/shared")) if p.exists()),
              REPO.parent / "shared")
MOODLE = SHARED / "fixtures" / "moodle-5.0.6"


def moodle_fixture(name: str) -> dict[str, Any]:
    return json.loads((MOODLE / name).read_text())


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_uint(value: int) -> str:
    return b64u(value.to_bytes((value.bit_length() + 7) // 8, "big"))


_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """Keys are cached per test session: generating 2048-bit keys is slow."""
    if name not in _KEYS:
        _KEYS[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEYS[name]


def jwk_of(key: rsa.RSAPrivateKey, kid: str, alg: str = "RS256") -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "alg": alg, "use": "sig",
            "n": b64u_uint(numbers.n), "e": b64u_uint(numbers.e)}


def sign_jwt(payload: dict[str, Any], key: rsa.RSAPrivateKey | None, header: dict[str, Any]) -> str:
    signing_input = f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64u(signature)}"


class FakeTransport(BaseAdapter):
    """Serves canned responses for URLs of test platforms; counts hits per URL."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[tuple[str, str], Any] = {}
        self.hits: dict[str, int] = {}
        self.requests: list[requests.PreparedRequest] = []

    def add(self, method: str, url: str, handler: Any) -> None:
        self.routes[(method, url.split("?")[0])] = handler

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.requests.append(request)
        key = (request.method or "GET", (request.url or "").split("?")[0])
        self.hits[key[1]] = self.hits.get(key[1], 0) + 1
        handler = self.routes.get(key)
        response = requests.Response()
        response.url = request.url or ""
        response.request = request
        if handler is None:
            raise requests.ConnectionError(f"no route for {key}")
        answer = handler(request) if callable(handler) else (200, handler)
        # A handler answers (status, body) or (status, body, extra headers), e.g. a Link.
        status, body = answer[0], answer[1]
        headers = {"Content-Type": "application/json", **(answer[2] if len(answer) > 2 else {})}
        response.status_code = status
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        import io

        from requests.structures import CaseInsensitiveDict
        from urllib3 import HTTPResponse

        response.raw = HTTPResponse(body=io.BytesIO(raw), status=status, preload_content=False,
                                    headers=headers)
        response.headers = CaseInsensitiveDict(headers)
        return response

    def close(self) -> None:
        pass


class TestPlatform:
    """Moodle-shaped platform registered in the tool's database."""

    __test__ = False

    def __init__(self, issuer: str = "https://moodle.test", client_id: str = "8EWetTI3y0mK5ko",
                 deployment_id: str = "1", key_name: str = "platform-a") -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.key = rsa_key(key_name)
        self.kid = f"kid-{key_name}"
        self.extra_keys: list[dict[str, Any]] = []

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/mod/lti/certs.php"

    @property
    def auth_url(self) -> str:
        return f"{self.issuer}/mod/lti/auth.php"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk_of(self.key, self.kid), *self.extra_keys]}

    def claims(self, fixture: str = "instructor_claims_INTROPROG.json", *, nonce: str,
               target_link_uri: str, **overrides: Any) -> dict[str, Any]:
        body = copy.deepcopy(moodle_fixture(fixture))
        now = int(time.time())
        body.update({"iss": self.issuer, "aud": self.client_id, "nonce": nonce,
                     "iat": now, "exp": now + 60})
        body["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = self.deployment_id
        body["https://purl.imsglobal.org/spec/lti/claim/target_link_uri"] = target_link_uri
        for key, value in overrides.items():
            if value is REMOVE:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def sign(self, body: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None,
             header: dict[str, Any] | None = None) -> str:
        hdr = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        hdr.update(header or {})
        return sign_jwt(body, self.key if key is None else key, hdr)


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


REMOVE = _Remove()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def new_nonce() -> str:
    return uuid.uuid4().hex


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()
