"""Other institutions, made in the test: an Open Badges 3.0 issuer with its own did:key, one
whose https issuer profile (and status list) is served by a real local TLS server, and an
Open Badges 2.0 issuer hosting assertions (or signing them with RS256).

The servers are real (``ThreadingHTTPServer`` on 127.0.0.1, TLS with a certificate made for
the test); MicroCred reaches them through its own HTTP client and SSRF guard, allowed only
by the test-profile setting ``TEST_REMOTE_FETCH_ORIGINS`` (origin → the test CA file)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from lti_tool.badges import eddsa, jwt_vc, ob, status_list
from lti_tool.badges.multikey import did_key_from_public_key, did_key_verification_method


class Site:
    """A tiny web site serving JSON documents by path (status 410 for a "gone" path),
    counting requests; plain http or TLS."""

    def __init__(self, tls_dir: Path | None = None) -> None:
        self.documents: dict[str, Any] = {}
        self.gone: set[str] = set()
        self.delays: dict[str, float] = {}  # path → seconds before answering
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                if self.path in site.delays:
                    import time

                    time.sleep(site.delays[self.path])
                if self.path in site.gone:
                    self.send_response(410)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                document = site.documents.get(self.path)
                body = json.dumps(document).encode() if document is not None else b"{}"
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A client that gave up (the deadline tests) is not an error worth a traceback.
        self.server.handle_error = lambda *_args: None  # type: ignore[method-assign]
        self.ca_file = ""
        scheme = "http"
        if tls_dir is not None:
            cert, key = _self_signed(tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.ca_file = str(cert)
            scheme = "https"
        self.origin = f"{scheme}://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.origin + path

    def start(self) -> Site:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextmanager
def serve(tls_dir: Path | None = None) -> Iterator[Site]:
    site = Site(tls_dir).start()
    try:
        yield site
    finally:
        site.stop()


FRAMEWORK = "Pan-Canadian Digital Skills"


def achievement(achievement_id: str, *, name: str = "Data Analysis Basics",
                version: str = "2", codes: tuple[str, ...] = ("DA.1", "DA.2")
                ) -> dict[str, Any]:
    return ob.build_achievement(
        achievement_id=achievement_id, name=name,
        description="Cleans, summarises and charts a data set.",
        criteria_narrative="Passed a supervised data-analysis project.",
        image_url="https://other.example/badge.png", image_caption=f"Badge: {name}",
        alignments=[ob.AlignmentTarget(f"Skill {c}", f"https://framework.example/{c}",
                                       target_code=c, target_framework=FRAMEWORK,
                                       target_type="CFItem") for c in codes],
        credits_available=1, field_of_study="Data", human_code="DA-100", in_language="en",
        version=version, tags=["data"])


@dataclass
class Ob3Issuer:
    """Another institution issuing OB 3.0 credentials: a did:key issuer (``site`` only
    hosts its status list) or an https issuer whose profile ``site`` serves."""

    site: Site
    name: str = "Northern Polytechnic"
    key: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)
    https_profile: bool = False
    revoked: set[int] = field(default_factory=set)

    @property
    def issuer_id(self) -> str:
        if self.https_profile:
            return self.site.url("/issuer")
        return did_key_from_public_key(self.key.public_key())

    @property
    def vm(self) -> str:
        if self.https_profile:
            return ob.verification_method_id(self.issuer_id, self.key.public_key())
        return did_key_verification_method(self.key.public_key())

    @property
    def achievement_id(self) -> str:
        return self.site.url("/achievements/data-analysis")

    def publish(self) -> None:
        """Serve the profile (https issuers) and the signed status list."""
        if self.https_profile:
            method = ob.verification_method(self.vm, self.issuer_id, self.key.public_key())
            profile = ob.controller_document(self.issuer_id, [method], [self.vm])
            profile.update({"type": ["Profile"], "name": self.name})
            self.site.documents["/issuer"] = profile
        bits = status_list.StatusList()
        for index in self.revoked:
            bits.set(index)
        self.site.documents["/status/1"] = eddsa.sign(
            status_list.build_status_list_credential(self.site.url("/status/1"),
                                                     self.issuer_id, bits,
                                                     valid_from="2026-01-01T00:00:00Z"),
            self.key, self.vm)

    def credential(self, *, email: str, index: int = 5, version: str = "2",
                   issued: datetime | None = None, codes: tuple[str, ...] = ("DA.1", "DA.2"),
                   valid_until: datetime | None = None) -> dict[str, Any]:
        self.publish()
        credential = ob.build_credential(
            credential_id=self.site.url(f"/credentials/{index}"),
            issuer=ob.build_profile(self.issuer_id, self.name),
            achievement=achievement(self.achievement_id, version=version, codes=codes),
            valid_from=issued or datetime(2026, 6, 1, tzinfo=UTC), valid_until=valid_until,
            recipient_email=email, salt="0123456789abcdef", name="Data Analysis Basics",
            credential_status=status_list.build_status_entry(self.site.url("/status/1"),
                                                             index),
            awarded_date=issued or datetime(2026, 6, 1, tzinfo=UTC))
        return eddsa.sign(credential, self.key, self.vm)

    def jwt(self, credential: dict[str, Any]) -> str:
        unsigned = {k: v for k, v in credential.items() if k != "proof"}
        return jwt_vc.sign_jwt(unsigned, self.key, kid=self.vm)


@dataclass
class Ob2Issuer:
    """Another institution issuing Open Badges 2.0 assertions from ``site``."""

    site: Site
    name: str = "Lakeside College"
    rsa_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def publish(self, *, revoked: tuple[str, ...] = ()) -> None:
        key_url = self.site.url("/key")
        self.site.documents["/issuer"] = {
            "@context": "https://w3id.org/openbadges/v2", "type": "Issuer",
            "id": self.site.url("/issuer"), "name": self.name,
            "url": self.site.url("/"), "email": "badges@lakeside.example",
            "publicKey": key_url, "revocationList": self.site.url("/revocations")}
        self.site.documents["/key"] = {
            "@context": "https://w3id.org/openbadges/v2", "type": "CryptographicKey",
            "id": key_url, "owner": self.site.url("/issuer"),
            "publicKeyPem": self.rsa_key.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo).decode()}
        self.site.documents["/revocations"] = {
            "@context": "https://w3id.org/openbadges/v2", "type": "RevocationList",
            "id": self.site.url("/revocations"), "issuer": self.site.url("/issuer"),
            "revokedAssertions": [{"id": r, "revocationReason": "Issued in error"}
                                  for r in revoked]}
        self.site.documents["/badges/spreadsheets"] = {
            "@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass",
            "id": self.site.url("/badges/spreadsheets"), "name": "Spreadsheet Skills",
            "description": "Builds and checks spreadsheets.",
            "image": "https://lakeside.example/badge.png",
            "criteria": {"narrative": "Built a budget workbook."},
            "issuer": self.site.url("/issuer"),
            "alignment": [{"targetName": "Skill DA.1", "targetUrl": "https://framework.example/DA.1",
                           "targetCode": "DA.1", "targetFramework": FRAMEWORK}]}

    def assertion(self, path: str, *, email: str, hosted: bool = True,
                  revoked: bool = False, expires: str | None = None) -> dict[str, Any]:
        import hashlib

        self.publish()
        salt = "deadbeef"
        assertion: dict[str, Any] = {
            "@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
            "id": self.site.url(path),
            "recipient": {"type": "email", "hashed": True, "salt": salt,
                          "identity": "sha256$" + hashlib.sha256(
                              (email + salt).encode()).hexdigest()},
            "badge": self.site.url("/badges/spreadsheets"),
            "issuedOn": "2026-03-01T00:00:00Z",
            "verification": {"type": "hosted"} if hosted else {
                "type": "signed", "creator": self.site.url("/key")}}
        assertion["verify"] = assertion.pop("verification")
        if expires:
            assertion["expires"] = expires
        if revoked:
            assertion["revoked"] = True
            assertion["revocationReason"] = "Academic misconduct"
        if hosted:
            self.site.documents[path] = assertion
        return assertion

    def signed(self, assertion: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT"}
        signing_input = (jwt_vc.b64url_encode(json.dumps(header).encode()) + "." +
                         jwt_vc.b64url_encode(json.dumps(assertion).encode()))
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = self.rsa_key.sign(signing_input.encode(), padding.PKCS1v15(),
                                      hashes.SHA256())
        return signing_input + "." + jwt_vc.b64url_encode(signature)


def approved_equivalency(db: Any, other: Ob3Issuer, *, issuer_id: int,
                         credential_id: int) -> Any:
    """An equivalency from ``other``'s achievement to ``credential_id``, drafted and
    approved by two registrars of ``issuer_id`` (not committed). Returns it."""
    from lti_tool.domain.catalog import Scope
    from lti_tool.services import transfer
    from lti_tool.services.catalog import Actor

    author = Actor("account:901", "Rita", issuer_id, frozenset({Scope.TRANSFER}))
    second = Actor("account:902", "Sam", issuer_id, frozenset({Scope.TRANSFER}))
    eq = transfer.create_equivalency(db, author, {
        "external_issuer_id": other.issuer_id, "match_by": "achievement",
        "achievement_id": other.achievement_id, "target_kind": "credential",
        "credential_id": str(credential_id)})
    transfer.approve_equivalency(db, second, eq.id)
    return eq


def recognise_by_transfer(db: Any, *, issuer_id: int, credential_id: int, account: Any,
                          email: str, base_url: str = "http://tool.test") -> Any:
    """The whole transfer path through the services: another institution (a did:key issuer
    whose status list a real local server serves) issued ``email`` a credential; an
    equivalency to ``credential_id`` is drafted and approved by two registrars; the
    credential is submitted for ``account``. Returns the TransferRequest."""
    from lti_tool.services import transfer
    from lti_tool.services.external_credentials import Fetcher
    from lti_tool.services.http_client import HttpClient
    from lti_tool.services.remote_issuers import fetch_allowance_for_tests

    with serve() as site:
        other = Ob3Issuer(site)
        approved_equivalency(db, other, issuer_id=issuer_id, credential_id=credential_id)
        return transfer.submit(
            db, issuer_id=issuer_id, account=account,
            data=json.dumps(other.credential(email=email)).encode(),
            by=transfer.Submitter(f"account:{account.id}", "Learner"), base_url=base_url,
            fetcher=Fetcher(HttpClient(timeout=3), fetch_allowance_for_tests(
                {"ENV": "test", "TEST_REMOTE_FETCH_ORIGINS": {site.origin: ""}})))
