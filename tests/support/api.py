"""Helpers for the REST API tests: an issuer, a token, a client that sends it, and valid
request bodies for skills, micro-credentials and reviews."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from lti_tool.domain.catalog import DEFAULT_RUBRIC
from lti_tool.models import Issuer
from lti_tool.services import api_tokens, catalog

ALL_SCOPES = ("catalog:read", "catalog:write", "review")
AUTHOR_SCOPES = ("catalog:read", "catalog:write")
REVIEWER_SCOPES = ("catalog:read", "review")


def make_issuer(db: Session, slug: str = "college", name: str = "Lakeshore College") -> Issuer:
    issuer = catalog.create_issuer(db, {"name": name, "url": f"https://{slug}.example.edu",
                                        "email": f"registrar@{slug}.example.edu"}, slug=slug)
    db.commit()
    return issuer


def make_token(db: Session, issuer: Issuer, scopes: tuple[str, ...] = ALL_SCOPES,
               name: str = "integration") -> str:
    _row, plaintext = api_tokens.create_token(db, issuer.id, name, scopes, created_by="test")
    db.commit()
    return plaintext


class Api:
    """The Flask test client, sending one API token."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        result = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        result.update(headers or {})
        return result

    def get(self, path: str, headers: dict[str, str] | None = None,
            **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self._headers(headers), **kwargs)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> TestResponse:
        if json is not None:
            kwargs["json"] = json
        return self.client.post(path, headers=self._headers(headers), **kwargs)

    def put(self, path: str, json: Any = None, headers: dict[str, str] | None = None,
            **kwargs: Any) -> TestResponse:
        if json is not None:
            kwargs["json"] = json
        return self.client.put(path, headers=self._headers(headers), **kwargs)

    def delete(self, path: str, headers: dict[str, str] | None = None,
               **kwargs: Any) -> TestResponse:
        return self.client.delete(path, headers=self._headers(headers), **kwargs)

    # -- shortcuts that must succeed ------------------------------------------------------------
    def create_skill(self, code: str, **fields: Any) -> dict[str, Any]:
        response = self.post("/api/v1/skills", json=skill_body(code, **fields))
        assert response.status_code == 201, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    def create_credential(self, code: str, skills: list[str], **fields: Any) -> dict[str, Any]:
        response = self.post("/api/v1/credentials",
                             json=credential_body(code, skills, **fields))
        assert response.status_code == 201, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    def version(self, version_id: int) -> dict[str, Any]:
        response = self.get(f"/api/v1/versions/{version_id}")
        assert response.status_code == 200, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    def act(self, version_id: int, action: str) -> TestResponse:
        return self.post(f"/api/v1/versions/{version_id}/transitions", json={"action": action})

    def review(self, version_id: int, decision: str = "approve",
               comment: str = "") -> TestResponse:
        return self.post(f"/api/v1/versions/{version_id}/reviews",
                         json=review_body(decision, comment))


def skill_body(code: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "name": f"Skill {code}",
                            "description": "Uses the skill in a realistic task.",
                            "criteria": "Shown in a supervised demonstration."}
    body.update(fields)
    return body


def credential_body(code: str, skills: list[str], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code, "title": f"Micro-credential {code}",
        "short_description": "Write and debug small Python programs.",
        "learning_outcomes": ["Write a Python function that uses loops and conditions",
                              "Find and fix a bug using a debugger"],
        "assessment_kind": "pass_fail_demonstration",
        "assessment_method": "Two observed programming tasks.",
        "notional_hours": "30", "delivery_modes": ["asynchronous"],
        "allowed_routes": ["integrated", "stand_alone"], "required_skills": skills,
    }
    body.update(fields)
    return body


def review_body(decision: str = "approve", comment: str = "") -> dict[str, Any]:
    return {"decision": decision, "comment": comment or ("Looks good." if decision == "approve"
                                                         else "Tighten the outcomes."),
            "scores": [{"criterion": c.key, "level": "met", "comment": ""}
                       for c in DEFAULT_RUBRIC]}
