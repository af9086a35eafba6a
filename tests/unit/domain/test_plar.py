"""PLAR rules: which state moves are allowed, the issuer settings read defensively from
stored JSON and checked from a form, second-assessor statuses, and the route an award
records when its passes came through PLAR."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lti_tool.domain.catalog import Route
from lti_tool.domain.plar import (
    DEFAULT_TURNAROUND_DAYS,
    PlarState,
    SkillStatus,
    all_final,
    can_move,
    check_settings,
    due_date,
    needs_second_assessor,
    read_settings,
)
from lti_tool.domain.tracking import award_route


@pytest.mark.parametrize(("current", "target", "allowed"), [
    ("submitted", PlarState.IN_ASSESSMENT, True),
    ("submitted", PlarState.WITHDRAWN, True),
    ("in_assessment", PlarState.MORE_EVIDENCE, True),
    ("more_evidence", PlarState.IN_ASSESSMENT, True),
    ("more_evidence", PlarState.DECIDED, True),
    ("decided", PlarState.WITHDRAWN, False),
    ("decided", PlarState.IN_ASSESSMENT, False),
    ("withdrawn", PlarState.IN_ASSESSMENT, False),
    ("in_assessment", PlarState.SUBMITTED, False),
    ("nonsense", PlarState.DECIDED, False),
])
def test_state_moves(current, target, allowed):
    assert can_move(current, target) is allowed


def test_settings_from_malformed_json_fall_back_to_defaults():
    assert read_settings(None).turnaround_days == DEFAULT_TURNAROUND_DAYS
    odd = read_settings({"policy": 3, "fee_note": ["x"], "turnaround_days": "10",
                         "second_assessor_for_credit": "yes",
                         "translations": {"fr": {"policy": "P", "evil": "x"}, 4: {}}})
    assert (odd.policy, odd.fee_note, odd.turnaround_days) == ("", "", DEFAULT_TURNAROUND_DAYS)
    assert odd.second_assessor_for_credit is False
    assert odd.translations == {"fr": {"policy": "P"}}
    assert read_settings({"turnaround_days": 0}).turnaround_days == DEFAULT_TURNAROUND_DAYS


def test_settings_form_is_checked():
    settings, errors = check_settings({"policy": " P ", "fee_note": "F", "turnaround_days": "12",
                                       "policy_fr": "Politique", "second_assessor_for_credit": "1"})
    assert errors == {}
    assert (settings.policy, settings.turnaround_days) == ("P", 12)
    assert settings.second_assessor_for_credit is True
    assert settings.translations == {"fr": {"policy": "Politique"}}
    _settings, errors = check_settings({"turnaround_days": "-3", "policy": "x" * 9000})
    assert set(errors) == {"turnaround_days", "policy"}


def test_due_date_counts_calendar_days():
    submitted = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    assert due_date(submitted, 15) == datetime(2026, 12, 21, 18, 0, tzinfo=UTC)


def test_second_assessor_statuses():
    settings, _ = check_settings({"turnaround_days": "5", "second_assessor_for_credit": "1"})
    assert needs_second_assessor(settings, True) and not needs_second_assessor(settings, False)
    waiting = SkillStatus("demonstrated", confirmed=False, second_needed=True)
    assert waiting.awaiting_confirmation and not waiting.granted and not waiting.final
    confirmed = SkillStatus("demonstrated", confirmed=True, second_needed=True)
    assert confirmed.granted and confirmed.final
    not_yet = SkillStatus("not_yet", confirmed=False, second_needed=True)
    assert not_yet.final and not not_yet.granted
    assert all_final([confirmed, not_yet]) and not all_final([confirmed, waiting])
    assert not all_final([])


def test_award_route_names_plar_when_every_pass_came_through_it():
    allowed = ("stand_alone", "plar")
    assert award_route(Route.STAND_ALONE, [Route.PLAR] * 4, allowed) == "plar"
    # Mixed: the course's own route, as before.
    assert award_route(Route.STAND_ALONE, [Route.PLAR, Route.STAND_ALONE], allowed) == \
        "stand_alone"
    # A course route the credential does not allow: the most common route of the passes.
    assert award_route(Route.INTEGRATED, [Route.PLAR, Route.PLAR, Route.STAND_ALONE],
                       allowed) == "plar"
    assert award_route(Route.INTEGRATED, [Route.INTEGRATED] * 3,
                       ("integrated",)) == "integrated"


def test_calendar_event_escapes_and_folds_long_french_text():
    from lti_tool.domain.plar import calendar_event

    start = datetime(2026, 12, 21, 14, 30, tzinfo=UTC)
    text = calendar_event(uid="plar-1-2@tool", start=start, minutes=90,
                          summary="Entrevue : « Communiquer avec des graphiques »",
                          location="Salle B-204, campus Lakeshore; aile nord",
                          description="é" * 100 + "\nLigne deux",
                          stamp=datetime(2026, 12, 6, tzinfo=UTC))
    lines = text.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    unfolded = text.replace("\r\n ", "")
    assert "DTEND:20261221T160000Z" in unfolded
    assert "LOCATION:Salle B-204\\, campus Lakeshore\\; aile nord" in unfolded
    assert "DESCRIPTION:" + "é" * 100 + "\\nLigne deux" in unfolded
