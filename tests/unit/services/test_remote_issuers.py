"""Credentials of other institutions: their keys are taken from the profile they publish
(fetched over HTTP from a real local server here), only when it lists the key for signing
credentials; private addresses and other hosts' tricks are refused without a fetch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lti_tool.badges import eddsa, ob, status_list
from lti_tool.badges.verify import verify_credential
from lti_tool.services.http_client import HttpClient
from lti_tool.services.remote_issuers import RemoteResolvers
from tests.support.other_issuers import Site
from tests.unit.badges import builders


@pytest.fixture()
def site() -> Iterator[Site]:
    site = Site()
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()


def _resolvers(**options: Any) -> RemoteResolvers:
    defaults: dict[str, Any] = {"host_check": lambda _url: True, "require_https": False}
    return RemoteResolvers(HttpClient(timeout=2), **{**defaults, **options})


def _publish(site: Site, *, listed: bool = True, profile_id: str | None = None,
             revoked: str | None = None) -> tuple[dict[str, Any], Any]:
    """Another college's issuer profile and a credential it signed."""
    key = builders.issuer_key(7)
    issuer_id = site.url("/issuer")
    vm = ob.verification_method_id(issuer_id, key.public_key())
    method = ob.verification_method(vm, issuer_id, key.public_key())
    if revoked:
        method["revoked"] = revoked
    profile = ob.controller_document(profile_id or issuer_id, [method],
                                     [vm] if listed else [])
    profile.update({"type": ["Profile"], "name": "Other College"})
    site.documents["/issuer"] = profile
    bits = status_list.StatusList()
    bits.set(3)
    site.documents["/status/1"] = eddsa.sign(status_list.build_status_list_credential(
        site.url("/status/1"), issuer_id, bits, valid_from="2026-01-01T00:00:00Z"), key, vm)
    credential = builders.credential(index=3)
    credential["issuer"] = ob.build_profile(issuer_id, "Other College")
    credential["credentialStatus"] = status_list.build_status_entry(site.url("/status/1"), 3)
    return eddsa.sign(credential, key, vm), vm


def _verify(credential: dict[str, Any], resolvers: RemoteResolvers) -> Any:
    return verify_credential(credential, key_resolver=resolvers.key,
                             status_resolver=resolvers.status_list, now=builders_now())


def builders_now() -> Any:
    from datetime import UTC, datetime

    return datetime(2027, 1, 1, tzinfo=UTC)


def test_a_key_the_issuer_publishes_for_credentials_counts(site: Site) -> None:
    credential, _vm = _publish(site)
    report = _verify(credential, _resolvers())
    assert report.step("issuer-key").status == "ok", report.steps
    assert report.step("issuer-key").message == (
        f"signed by the issuer: the key is Other College's: listed by {site.url('/issuer')}")
    # and its own status list says revoked (index 3 is set), verified the same way
    assert report.revoked and report.result == "invalid"
    assert site.requests.count("/issuer") == 1  # fetched once, then remembered


def test_a_key_not_listed_for_credentials_does_not_count(site: Site) -> None:
    credential, _vm = _publish(site, listed=False)
    report = _verify(credential, _resolvers())
    assert report.result == "invalid"
    assert "publishes this key, but not for signing credentials" in report.reason


def test_a_withdrawn_key_does_not_count(site: Site) -> None:
    credential, _vm = _publish(site, revoked="2026-10-01T00:00:00Z")
    report = _verify(credential, _resolvers())
    assert report.reason.startswith("issuer-key: ") and "withdrew this key on 2026-10-01" in \
        report.reason


def test_a_document_that_is_not_the_one_it_claims_is_refused(site: Site) -> None:
    credential, _vm = _publish(site, profile_id="https://elsewhere.example/issuer")
    report = _verify(credential, _resolvers())
    assert report.result == "invalid"
    assert "does not describe itself" in report.reason


def test_private_addresses_and_plain_http_are_never_fetched(site: Site) -> None:
    credential, _vm = _publish(site)
    report = _verify(credential, RemoteResolvers(HttpClient(timeout=2)))  # the real guard
    assert report.result == "invalid"
    assert "is not an https address" in report.reason
    guarded = _resolvers(require_https=False, host_check=lambda _url: False)
    assert "is not a public internet address" in _verify(credential, guarded).reason
    assert site.requests == []


def test_fetches_per_verification_are_capped(site: Site) -> None:
    credential, _vm = _publish(site)
    report = _verify(credential, _resolvers(max_fetches=0))
    assert "more than 0 documents would have to be fetched" in report.reason


def test_an_unreachable_issuer_is_reported_not_raised(site: Site) -> None:
    credential, _vm = _publish(site)
    site.documents.clear()
    report = _verify(credential, _resolvers())
    assert report.result == "invalid"
    assert "the issuer's published document could not be fetched" in report.reason
