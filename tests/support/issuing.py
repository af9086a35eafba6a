"""Helpers for the credential-issuing tests: a learner who has earned a published
micro-credential through the real services (launch records, catalog, award engine), and a
socket guard proving that signing and verifying never touch the network."""

from __future__ import annotations

import itertools
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState
from lti_tool.models import Award, Context, CredentialVersion, LearnerAccount
from lti_tool.services.keys import KeyVault
from tests.support.tracking_engine import Campus, record

_seq = itertools.count(1)
BASE = "http://tool.test"  # config/test.py PUBLIC_BASE_URL


class NetworkUsed(AssertionError):
    pass


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def refuse_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection or name lookup beyond this machine fails the test. Loopback stays open:
    the test database and Redis run there (nothing of ours is ever fetched from them by
    URL)."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo, real_create = socket.getaddrinfo, socket.create_connection

    def check(address: Any) -> None:
        if isinstance(address, tuple) and str(address[0]) not in _LOOPBACK:
            raise NetworkUsed(f"network access attempted: {address!r}")

    def connect(self: socket.socket, address: Any) -> Any:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        check(address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        check(address)
        return real_create(address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host) not in _LOOPBACK:
            raise NetworkUsed(f"name lookup attempted: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)


def vault_of(app: Flask) -> KeyVault:
    vault: KeyVault = app.extensions["lti"].vault
    return vault


@dataclass
class Earned:
    campus: Campus
    course: Context
    learner: LearnerAccount
    version: CredentialVersion
    award: Award


def publish(campus: Campus, code: str, required: tuple[str, ...] = ("VAR", "LOOP"),
            **content: Any) -> CredentialVersion:
    for skill in required:
        campus.skill(skill)
    return campus.catalog.credential(code, LifecycleState.PUBLISHED, required=required,
                                     optional=(), optional_min=0,
                                     allowed_routes=["integrated", "stand_alone"], **content)


def earn(db: Session, *, campus: Campus | None = None, code: str | None = None,
         required: tuple[str, ...] = ("VAR", "LOOP"), email: str = "",
         sourcedid: str = "", sub: str | None = None, course: Context | None = None,
         awarded_days_ago: int | None = None, evidence_url: str = "", locale: str = "",
         **content: Any) -> Earned:
    """A learner in a for-credit course who passed every required skill: the engine awards
    the credential (the award is returned, not yet issued)."""
    n = next(_seq)
    campus = campus or Campus.create(db)
    version = publish(campus, code or f"MC{n}", required, **content)
    course = course or campus.course(f"CS{n}", "for-credit")
    campus.offer(course, version)
    learner = campus.learner(sub or f"learner-{n}", course, email=email, sourcedid=sourcedid,
                             name=f"Learner {n}", locale=locale)
    award = None
    for skill in required:
        result = record(db, course, learner, campus.skill(skill), evidence_url=evidence_url)
        award = award or (result.new_awards[0] if result.new_awards else None)
    assert award is not None
    if awarded_days_ago is not None:
        award.awarded_at = award.awarded_at - timedelta(days=awarded_days_ago)
    db.flush()
    return Earned(campus, course, learner, version, award)
