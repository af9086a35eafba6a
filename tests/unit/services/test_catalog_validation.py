"""Field and earning-rule validation of skills and credentials; text is stored verbatim
(HTML is never interpreted), URLs must be http(s)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import LifecycleState
from lti_tool.errors import ValidationFailed
from lti_tool.services import catalog
from tests.support.catalog import CatalogBuilder, credential_data, skill_data

HOSTILE = "<script>alert(1)</script><b onmouseover=x>bold</b> & \"q\""


@pytest.fixture()
def b(db: Session) -> CatalogBuilder:
    builder = CatalogBuilder(db)
    builder.skills("S1", "S2", "S3")
    return builder


@pytest.mark.parametrize(("overrides", "field", "fragment"), [
    ({"optional": ("S3",), "optional_min": 2}, "optional_min", "between 0 and"),
    ({"required": ("S1", "S2"), "optional": ("S2",), "optional_min": 1}, "optional_skills",
     "both required and optional: S2"),
    ({"required": ("S1", "NOPE")}, "required_skills", "no skill with code NOPE"),
    ({"required": (), "optional": ("S1",), "optional_min": 0}, "skills", "at least one"),
    ({"required": ("S1", "S1")}, "skills", "twice"),
])
def test_earning_rule_problems_are_field_errors(b: CatalogBuilder, overrides: dict[str, Any],
                                                field: str, fragment: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        b.draft("C1", **overrides)
    assert refused.value.status_code == 422
    assert any(fragment in m for m in refused.value.errors[field]), refused.value.errors
    assert catalog.list_credentials(b.db, b.author).total == 0


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": "ab"}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"notional_hours": "0"}, "notional_hours"),
    ({"notional_hours": "abc"}, "notional_hours"),
    ({"credit_bearing": True}, "credit_value"),
    ({"credit_value": "3"}, "credit_value"),
    ({"delivery_modes": ["telepathy"]}, "delivery_modes.0"),
    ({"delivery_modes": []}, "delivery_modes"),
    ({"image_url": "javascript:alert(1)"}, "image_url"),
    ({"expiry_months": 0}, "expiry_months"),
    ({"learning_outcomes": []}, "learning_outcomes"),
    ({"languages": ["English"]}, "languages.0"),
    ({"colour": "blue"}, "colour"),
    ({"title": "bad\x00title"}, "title"),
])
def test_credential_fields_are_validated(b: CatalogBuilder, overrides: dict[str, Any],
                                         field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        catalog.create_credential(b.db, b.author, credential_data("C1", **overrides))
    assert field in refused.value.errors, refused.value.errors


@pytest.mark.parametrize(("overrides", "field"), [
    ({"code": "has space"}, "code"),
    ({"code": "S1"}, "code"),  # already used
    ({"name": ""}, "name"),
    ({"alignments": [{"framework": "X", "target_url": "javascript:alert(1)"}]},
     "alignments.0.target_url"),
    ({"alignments": [{"framework": "X", "target_url": "ftp://example.org/x"}]},
     "alignments.0.target_url"),
    ({"alignments": [{"framework": "X", "target_url": "https://x.example",
                      "target_type": "Nonsense"}]}, "alignments.0.target_type"),
    ({"tags": ["x" * 51]}, "tags.0"),
])
def test_skill_fields_are_validated(b: CatalogBuilder, overrides: dict[str, Any],
                                    field: str) -> None:
    code = overrides.pop("code", "NEW")
    with pytest.raises(ValidationFailed) as refused:
        catalog.create_skill(b.db, b.author, skill_data(code, **overrides))
    assert field in refused.value.errors, refused.value.errors


def test_html_in_text_fields_is_stored_verbatim(b: CatalogBuilder) -> None:
    skill = catalog.create_skill(b.db, b.author, skill_data("H1", name=HOSTILE,
                                                            description=HOSTILE))
    version = b.credential("C1", LifecycleState.PUBLISHED, required=("H1",), title=HOSTILE,
                           learning_outcomes=[HOSTILE], long_description=HOSTILE)
    b.db.expire_all()
    assert (skill.name, skill.description) == (HOSTILE, HOSTILE)
    view = catalog.learner_view(version)
    assert view["title"] == HOSTILE and view["learning_outcomes"] == [HOSTILE]
    assert view["skills"][0]["name"] == HOSTILE
    assert view["long_description"] == HOSTILE


def test_codes_are_unique_per_issuer_only(b: CatalogBuilder, db: Session) -> None:
    b.draft("C1")
    with pytest.raises(ValidationFailed) as refused:
        b.draft("C1")
    assert "code" in refused.value.errors
    other = CatalogBuilder(db)
    other.skills("S1", "S2")
    assert other.draft("C1").credential.issuer_id == other.issuer.id
