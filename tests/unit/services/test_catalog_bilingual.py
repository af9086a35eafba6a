"""The catalog services with French texts (issue 10): validation of ``translations``, a new
version copying them, diffs naming each French text, the snapshot freezing them, the
missing texts that review checks."""

from __future__ import annotations

import pytest

from lti_tool.domain.catalog import LifecycleState
from lti_tool.errors import ValidationFailed
from lti_tool.services import catalog
from tests.support.catalog import CatalogBuilder, credential_data, skill_data

FRENCH = {"fr": {"title": "Titre en français", "learning_outcomes": ["Expliquer."]}}


def test_french_texts_are_validated_like_the_english_ones(db):
    b = CatalogBuilder(db)
    b.skills("S1", "S2")
    with pytest.raises(ValidationFailed) as refused:
        catalog.create_credential(db, b.author, credential_data("C1", translations={
            "fr": {"title": "ab", "learning_outcomes": ["ok"], "colour": "bleu"},
            "es": {"title": "Título"}}))
    assert refused.value.errors == {
        "translations.es": ["Unknown field."],
        "translations.fr.colour": ["Unknown field."],
        "translations.fr.title": ["Length must be between 3 and 200."],
        "translations.fr.learning_outcomes.0": ["Length must be between 3 and 500."]}
    # Empty texts are dropped, and a language without any text disappears.
    version = catalog.create_credential(db, b.author, credential_data("C2", translations={
        "fr": {"title": "  ", "short_description": ""}}))
    assert "translations" not in version.content


def test_a_new_version_copies_the_french_texts_and_the_diff_names_them(db):
    b = CatalogBuilder(db)
    b.skills("S1", "S2")
    v1 = b.credential("C", LifecycleState.PUBLISHED, translations=FRENCH)
    assert v1.snapshot["translations"]["fr"]["title"] == "Titre en français"
    v2 = catalog.new_version(db, b.author, v1.credential_id)
    assert v2.content["translations"] == FRENCH
    changed = {**catalog.input_of(v2), "translations": {"fr": {
        "title": "Nouveau titre", "learning_outcomes": ["Expliquer."]}}}
    catalog.update_draft(db, b.author, v2.id, changed)
    diff = catalog.version_diff(v1, v2)
    assert [(c.field, c.before, c.after) for c in diff] == [
        ("fr-title", "Titre en français", "Nouveau titre")]
    # The published version's snapshot did not move.
    assert v1.snapshot["translations"]["fr"]["title"] == "Titre en français"


def test_missing_french_texts_are_listed_with_the_skills(db):
    b = CatalogBuilder(db)
    catalog.create_skill(db, b.author, skill_data("S1", translations={
        "fr": {"name": "Compétence un", "description": "Décrite.", "criteria": "Critère."}}))
    b.skills("S2")
    version = b.draft("C", translations=FRENCH)
    missing = catalog.missing_translations(catalog.learner_view(version))
    assert "title" not in missing and "learning_outcomes" not in missing
    assert {"short_description", "long_description", "assessment_method"} <= set(missing)
    assert [m for m in missing if m.startswith("skills.")] == [
        "skills.S2.name", "skills.S2.description", "skills.S2.criteria"]

