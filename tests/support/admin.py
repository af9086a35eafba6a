"""Helpers for the admin UI tests: launch as a given person, set up the issuer, and submit
the pages' real forms (so a test fails if a form loses its launch token, CSRF token or
row_version, or a field is renamed)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from lti_tool.domain.lti import CLAIM_ROLES, ROLE_INSTITUTION, ROLE_MEMBERSHIP
from lti_tool.models import Issuer
from lti_tool.services import catalog as catalog_service
from lti_tool.services.platforms import find_platform
from tests.support.lti import full_launch
from tests.support.platform import TestPlatform, query_of

INSTITUTION_ADMIN = ROLE_INSTITUTION + "Administrator"
INSTRUCTOR = ROLE_MEMBERSHIP + "Instructor"
LEARNER = ROLE_MEMBERSHIP + "Learner"


@dataclass
class Person:
    """A launched user: their launch token and a client of their own (cookies apart)."""

    client: FlaskClient
    lt: str
    sub: str

    def get(self, path: str, **params: Any) -> TestResponse:
        return self.client.get(path, query_string={"lt": self.lt, **params})

    def page(self, path: str, **params: Any) -> Page:
        response = self.get(path, **params)
        return Page(response)

    def submit(self, form: Form, **overrides: Any) -> TestResponse:
        data = form.data()
        for name, value in overrides.items():
            data.setlist(name, value if isinstance(value, list) else [value])
        return self.client.post(form.action, data=data)


def launch(app: Any, platform: TestPlatform, *, sub: str, name: str, roles: list[str],
           fixture: str = "instructor_claims_INTROPROG.json") -> Person:
    client = app.test_client()
    given, _, family = name.partition(" ")
    response = full_launch(client, platform, fixture, sub=sub, name=name, given_name=given,
                           family_name=family, email=f"{sub}@example.edu",
                           **{CLAIM_ROLES: roles})
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return Person(client, query_of(response.headers["Location"])["lt"], sub)


def make_issuer(db: Session, platform: TestPlatform, slug: str = "northern") -> Issuer:
    row = find_platform(db, platform.issuer, platform.client_id)
    assert row is not None
    issuer = catalog_service.create_issuer(
        db, {"name": "Northern College", "url": "https://northern.example.edu",
             "email": "registrar@northern.example.edu"}, slug=slug, platform_id=row.id)
    db.commit()
    return issuer


# -- reading pages -------------------------------------------------------------------------
@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)

    def data(self) -> MultiDict[str, str]:
        return MultiDict(self.fields)

    def value(self, name: str) -> str | None:
        return next((v for n, v in self.fields if n == name), None)

    def values(self, name: str) -> list[str]:
        return [v for n, v in self.fields if n == name]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: tuple[str | None, bool, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "form":
            self._form = Form(attrs.get("action", ""), attrs.get("method", "get").lower(),
                              attrs=attrs)
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name", "")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(attrs.get("value", "on"))
                if "checked" in attrs:
                    form.fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                form.fields.append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = (name, [])
        elif tag == "option" and self._select is not None:
            self._option = (attrs.get("value"), "selected" in attrs, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None:
            self._option[2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._textarea[1])
            self._form.fields.append((self._textarea[0], text.removeprefix("\n")))
            self._textarea = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value, selected, text = self._option
            self._select[1].append((value if value is not None else "".join(text).strip(),
                                    selected))
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            self._form.options[name] = [v for v, _ in options]
            chosen = [v for v, s in options if s] or [v for v, _ in options[:1]]
            self._form.fields.extend((name, v) for v in chosen[:1])
            self._select = None
        elif tag == "form":
            self._form = None


class Page:
    def __init__(self, response: TestResponse) -> None:
        self.response = response
        self.status = response.status_code
        self.html = response.get_data(as_text=True)
        parser = _FormParser()
        parser.feed(self.html)
        self.forms = parser.forms

    def form(self, action_contains: str, *, containing: str = "", method: str = "post") -> Form:
        """The form whose action contains ``action_contains`` (and, if given, which has a
        field with that value, e.g. an ``action`` button value)."""
        found = [f for f in self.forms if action_contains in f.action and f.method == method
                 and (not containing or containing in [v for _, v in f.fields])]
        assert found, f"no form posting to {action_contains!r} ({containing!r}) on the page"
        return found[0]

    def has_form(self, action_contains: str, *, containing: str = "") -> bool:
        return any(action_contains in f.action and f.method == "post" and
                   (not containing or containing in [v for _, v in f.fields])
                   for f in self.forms)

    @property
    def text(self) -> str:
        """The visible text, whitespace collapsed (for assertions on what a user reads)."""
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", self.html, flags=re.S)
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()

    def field_error(self, name: str) -> str:
        match = re.search(rf'<p class="field-error" id="f-{re.escape(name)}-error">(.*?)</p>',
                          self.html, re.S)
        return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""

    def is_invalid(self, name: str) -> bool:
        """The control says it is invalid and points to its error message."""
        match = re.search(rf'<(input|textarea|select)[^>]*id="f-{re.escape(name)}"[^>]*>',
                          self.html)
        return bool(match and 'aria-invalid="true"' in match.group(0)
                    and f"f-{name}-error" in match.group(0))

    def summary_links(self) -> list[str]:
        block = re.search(r'<div class="error-summary".*?</div>', self.html, re.S)
        return re.findall(r'href="#([^"]+)"', block.group(0)) if block else []


def credential_fields(**overrides: Any) -> dict[str, Any]:
    """A complete, valid credential form submission."""
    data: dict[str, Any] = {
        "code": "PY-FUND", "title": "Python Programming Fundamentals",
        "short_description": "Write, test and debug small Python programs.",
        "long_description": "Line one.\nLine two.",
        "learning_outcomes": "Write programs with variables and types\nUse control flow\n"
                             "Write and call functions",
        "assessment_kind": "pass_fail_demonstration",
        "assessment_method": "Each skill is demonstrated on a short programming task.",
        "grading": "pass_fail", "notional_hours": "40", "credit_bearing": "1",
        "credit_value": "3", "credit_system": "Ontario college credit hours",
        "delivery_modes": ["asynchronous", "in_person"],
        "allowed_routes": ["integrated", "stand_alone"],
        "required_skills": ["PY-VAR"], "optional_skills": [], "optional_min": "0",
        "stand_alone_value": "Entry-level scripting.", "target_occupations": "Junior developer",
        "field_of_study": "Computer science", "level": "Introductory",
        "image_url": "", "image_alt": "", "expiry_months": "", "languages": "en, fr",
        "tags": "python, programming",
    }
    data.update(overrides)
    return data
