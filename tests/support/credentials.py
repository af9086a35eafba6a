"""Helpers for the /verify and /credentials tests: the public form's token, uploads, a
guard that fails the test on any outbound network connection, and the text of a page."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.unit.badges.conftest import CONFORMANCE, FIXTURES

OB30 = FIXTURES / "ob30"
needs_conformance = pytest.mark.skipif(not CONFORMANCE.is_dir(),
                                       reason=f"conformance data not found at {CONFORMANCE}")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class NetworkUsed(AssertionError):
    pass


def _host_of(address: Any) -> str:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


@pytest.fixture(name="no_outbound_network")
def no_outbound_network_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any connection or DNS lookup to a host other than loopback (our Redis/PostgreSQL)
    fails the request and is recorded; the test asserts the record is empty."""
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo
    real_create = socket.create_connection

    def guard(host: str) -> None:
        if host not in LOOPBACK:
            attempts.append(host)
            raise NetworkUsed(f"network access attempted: {host}")

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard(_host_of(address))
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard(_host_of(address))
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        guard(_host_of(address))
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield attempts


def text_of(response: TestResponse) -> str:
    """The page's visible text, whitespace collapsed (tags dropped, entities decoded)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def form_token(client: FlaskClient, path: str = "/verify") -> str:
    page = client.get(path)
    assert page.status_code == 200
    match = re.search(r'name="form_token" value="([0-9a-f]{64})"', page.get_data(as_text=True))
    assert match, "the page has no form token"
    return match.group(1)


def verify_file(client: FlaskClient, data: bytes, filename: str = "credential.json",
                **fields: Any) -> TestResponse:
    """Submit the /verify form with a file, as a browser does (token from the page)."""
    import io

    form = {"form_token": form_token(client), **fields,
            "credential_file": (io.BytesIO(data), filename)}
    return client.post("/verify", data=form, content_type="multipart/form-data")


def verify_text(client: FlaskClient, text: str) -> TestResponse:
    import io

    return client.post("/verify", data={"form_token": form_token(client),
                                        "credential_text": text,
                                        "credential_file": (io.BytesIO(b""), "")},
                       content_type="multipart/form-data")


def result_of(response: TestResponse) -> str:
    """The "Result: ..." heading's words."""
    match = re.search(r"Result: ([^<]+)</h[23]>", response.get_data(as_text=True))
    assert match, text_of(response)[:600]
    return unescape(match.group(1)).strip()


# --- an earned, issued credential -------------------------------------------------------------

FOR_CREDIT = {"context_kind": "for-credit"}
PYFUND_TITLE = "Python Programming Fundamentals"


def build_school(app: Any, db: Any, platform: Any, *, expiry_months: int | None = 24) -> dict:
    """Northern College with a credit-bearing "Python Programming Fundamentals" (24-month
    expiry) offered in the for-credit INTROPROG course; Sam (sub 4) and Alex (sub 5) have
    launched there. Nobody has earned anything yet."""
    from lti_tool.domain.catalog import LifecycleState
    from lti_tool.services import catalog as catalog_service
    from tests.support.catalog import CatalogBuilder, skill_data
    from tests.support.learning import (
        INTROPROG,
        SKILLS,
        account_of,
        context_of,
        launch,
        make_issuer,
        offer,
    )

    issuer = make_issuer(db, platform)
    builder = CatalogBuilder(db, issuer)
    skills = {code: catalog_service.create_skill(db, builder.author, skill_data(code, name=name))
              for code, name in SKILLS.items()}
    version = builder.credential(
        "PY-FUND", LifecycleState.PUBLISHED, title=PYFUND_TITLE,
        required=("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG"), optional=("PY-TEST", "PY-REC"),
        optional_min=1, allowed_routes=["integrated", "stand_alone"], credit_bearing=True,
        credit_value="1.5", credit_system="Northern College credits",
        delivery_modes=["asynchronous", "in_person"], notional_hours="37.5",
        expiry_months=expiry_months,
        learning_outcomes=["Write small Python programs.", "Debug them methodically."])
    db.commit()
    launch(app, platform, "instructor_claims_INTROPROG.json", custom=FOR_CREDIT)
    for sub, name in (("4", "Sam Student"), ("5", "Alex Learner")):
        launch(app, platform, INTROPROG, sub=sub, name=name, email=f"student{sub}@example.com",
               custom=FOR_CREDIT)
    intro = context_of(db, platform, "2")
    offer(db, issuer, intro, version)
    return {"issuer": issuer, "version": version, "skills": skills, "intro": intro,
            "sam": account_of(db, platform, "4"), "alex": account_of(db, platform, "5")}


def earn(app: Any, db: Any, school: dict, who: str = "sam", *, days_ago: int = 1,
         issue: bool = True) -> Any:
    """``who`` demonstrates the five skills; returns the award (its credential issued
    unless ``issue`` is false)."""
    from lti_tool.services import issuing
    from tests.support.learning import demonstrate

    result = None
    for code in ("PY-VAR", "PY-FLOW", "PY-FUNC", "PY-DEBUG", "PY-TEST"):
        result = demonstrate(db, school["intro"], school[who], school["skills"][code],
                             days_ago=days_ago)
    assert result is not None and result.new_awards, "the rule should have been met"
    award = result.new_awards[0]
    if not issue:
        return award
    issuing.issue_for_award(db, award, vault=app.extensions["lti"].vault,
                            base_url=app.config["PUBLIC_BASE_URL"])
    db.commit()
    return award


def learner(app: Any, platform: Any, who: str = "sam") -> Any:
    from tests.support.learning import INTROPROG, launch

    sub, name = {"sam": ("4", "Sam Student"), "alex": ("5", "Alex Learner")}[who]
    return launch(app, platform, INTROPROG, sub=sub, name=name,
                  email=f"student{sub}@example.com", custom=FOR_CREDIT)
