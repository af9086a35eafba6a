"""Sandbox data (two courses, four people) and its platform registration and signing."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy.orm import Session

from lti_tool.domain import lti as claims
from lti_tool.models import Platform
from lti_tool.services import keys as key_service
from lti_tool.services import platforms as platform_service
from lti_tool.services.keys import KeyVault

CLIENT_ID = "microcred-sandbox"
DEPLOYMENT_ID = "sandbox-deployment-1"
INSTRUCTOR = claims.ROLE_MEMBERSHIP + "Instructor"
LEARNER = claims.ROLE_MEMBERSHIP + "Learner"
INSTITUTION_ADMIN = claims.ROLE_INSTITUTION + "Administrator"
SYSTEM_ADMIN = claims.ROLE_SYSTEM + "Administrator"
#: the languages a tryer can launch in, as the launch's ``launch_presentation.locale`` (the
#: BCP 47 tags Canvas sends; Moodle sends its language pack's code, e.g. ``fr_ca``)
LAUNCH_LOCALES = {"en": "en-US", "fr": "fr-CA"}


@dataclass(frozen=True)
class Course:
    slug: str
    lti_id: str
    title: str
    label: str
    kind: str


@dataclass(frozen=True)
class User:
    slug: str
    sub: str
    given_name: str
    family_name: str
    email: str
    sourcedid: str
    role_label: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


COURSES = (
    Course("intro-programming", "sandbox-course-101", "Intro to Programming", "INTROPROG",
           "for-credit"),
    Course("coding-for-teachers", "sandbox-course-201", "Coding for Teachers", "CODETEACH",
           "continuing-ed"),
)
USERS = (
    User("instructor", "sandbox-user-instructor", "Terry", "Teacher", "terry.teacher@sandbox.test",
         "EMP-1001", "Instructor"),
    User("learner1", "sandbox-user-learner-1", "Lena", "Learner", "lena.learner@sandbox.test",
         "STU-2001", "Learner"),
    User("learner2", "sandbox-user-learner-2", "Omar", "Osei", "omar.osei@sandbox.test",
         "STU-2002", "Learner"),
    User("admin", "sandbox-user-admin", "Avery", "Admin", "avery.admin@sandbox.test",
         "EMP-0001", "Administrator"),
)
COURSE_BY_SLUG = {c.slug: c for c in COURSES}
USER_BY_SLUG = {u.slug: u for u in USERS}


def roles_for(user: User) -> list[str]:
    if user.slug == "instructor":
        return [INSTRUCTOR]
    if user.slug == "admin":
        return [INSTITUTION_ADMIN, SYSTEM_ADMIN, INSTRUCTOR]
    return [LEARNER]


def issuer_for(base_url: str) -> str:
    return base_url + "/sandbox"


def ensure_platform(session: Session, vault: KeyVault, base_url: str) -> Platform:
    """Register the sandbox as a normal platform (idempotent)."""
    issuer = issuer_for(base_url)
    platform = platform_service.find_platform(session, issuer, CLIENT_ID)
    key = key_service.ensure_active_key(session, vault, key_service.PURPOSE_SANDBOX)
    # Registering a platform hands it the tool's keyset, so the tool must have a key: without
    # one the first deep-linking response of a fresh install has nothing to sign with.
    key_service.ensure_active_key(session, vault)
    jwks = {"keys": [key_service.public_jwk(key.public_pem, key.kid)]}
    if platform is None:
        platform = platform_service.add_platform(session, platform_service.PlatformInput(
            name="MicroCred sandbox LMS", issuer=issuer, client_id=CLIENT_ID,
            auth_login_url=f"{issuer}/auth", auth_token_url=f"{issuer}/token",
            jwks_url=f"{issuer}/jwks.json", product_family="microcred-sandbox",
            deployment_ids=(DEPLOYMENT_ID,), registered_via="sandbox",
        ), allow_http=True)
    if platform.static_jwks != jwks:
        # A platform may publish a static keyset (pylti1p3's key_set); the sandbox does, so
        # a single-process demo never has to fetch its own JWKS over HTTP.
        platform.static_jwks = jwks
    session.flush()
    return platform


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(session: Session, vault: KeyVault, payload: dict[str, Any]) -> str:
    key = key_service.ensure_active_key(session, vault, key_service.PURPOSE_SANDBOX)
    header = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
    signing_input = (_b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     _b64u(json.dumps(payload, separators=(",", ":")).encode()))
    signature = vault.private_key(key).sign(signing_input.encode(), padding.PKCS1v15(),
                                            hashes.SHA256())
    return signing_input + "." + _b64u(signature)


def id_token_claims(*, base_url: str, course: Course, user: User, nonce: str, message: str,
                    link_id: str, link_title: str, custom: dict[str, str],
                    dl_data: str = "", locale: str = "en-US") -> dict[str, Any]:
    """Claims shaped like Moodle 5.0.6's (full role URIs, CourseSection context); ``locale``
    is the user's language, sent in ``launch_presentation.locale`` as LMSs do."""
    issuer = issuer_for(base_url)
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": issuer, "aud": CLIENT_ID, "sub": user.sub, "nonce": nonce,
        "iat": now, "exp": now + 300,
        "name": user.name, "given_name": user.given_name, "family_name": user.family_name,
        "email": user.email,
        claims.CLAIM_DEPLOYMENT_ID: DEPLOYMENT_ID,
        claims.CLAIM_MESSAGE_TYPE: message,
        claims.CLAIM_VERSION: claims.LTI_VERSION,
        claims.CLAIM_TARGET_LINK_URI: base_url + "/lti/launch",
        claims.CLAIM_ROLES: roles_for(user),
        claims.CLAIM_CONTEXT: {"id": course.lti_id, "label": course.label,
                               "title": course.title, "type": ["CourseSection"]},
        claims.CLAIM_TOOL_PLATFORM: {"guid": "microcred-sandbox", "name": "MicroCred sandbox",
                                     "product_family_code": "microcred-sandbox",
                                     "version": "1.0"},
        claims.CLAIM_LAUNCH_PRESENTATION: {"document_target": "iframe", "locale": locale,
                                           "return_url": issuer},
        claims.CLAIM_LIS: {"person_sourcedid": user.sourcedid,
                           "course_section_sourcedid": course.label},
        claims.CLAIM_CUSTOM: {"context_kind": course.kind, **custom},
        # No NRPS claim: the sandbox serves no Names and Roles service, so the roster is the
        # learners seen in launches (the documented fallback), as on a platform without it.
    }
    if message == claims.MESSAGE_DEEP_LINKING:
        body[claims.CLAIM_DL_SETTINGS] = {
            "deep_link_return_url": f"{issuer}/deep-link-return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True, "auto_create": True,
            "title": "MicroCred", "data": dl_data,
        }
    else:
        body[claims.CLAIM_RESOURCE_LINK] = {"id": link_id, "title": link_title}
    return body


def new_link_id() -> str:
    return "sandbox-link-" + secrets.token_hex(4)
