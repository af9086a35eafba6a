"""Pathways where learners and staff meet them inside the LMS (issue 12): the learner's
progress on the pathways their credentials belong to, and, for instructors, where the
course's offered credentials lead. Both render ``templates/learner/_pathways.html`` with
``services.public_pathways.pathway_json`` (the description the public page uses), so the
LMS and the public page say the same."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.domain.texts import localized
from lti_tool.i18n import current_locale
from lti_tool.models import Issuer, MicroCredential
from lti_tool.services import pathways, public_pathways


def _localize(data: dict[str, Any]) -> dict[str, Any]:
    locale = current_locale()
    data["title_text"] = localized(data["title"], data["translations"], "title", locale)
    data["description_text"] = localized(data["description"], data["translations"],
                                         "description", locale)
    return data


def learner_pathways(session: Session, issuer: Issuer | None, person_id: int,
                     offered_codes: Iterable[str]) -> list[dict[str, Any]]:
    """The issuer's published pathways this learner has started (a step earned or in
    progress) or that a credential offered in this course (``offered_codes``) belongs to,
    with their progress; started ones first."""
    if issuer is None:
        return []
    base = current_app.config["PUBLIC_BASE_URL"]
    codes = list(offered_codes)
    offered = set(session.scalars(select(MicroCredential.id).where(
        MicroCredential.issuer_id == issuer.id, MicroCredential.code.in_(codes)))) \
        if codes else set()
    related = {p.version_id for p in pathways.pathways_with_credential(
        session, issuer.id, offered)} if offered else set()
    result = []
    for lp in pathways.progress_for_person(session, person_id, issuer.id):
        if not (lp.progress.started or lp.progress.complete or
                lp.pathway.version_id in related):
            continue
        result.append(_localize(public_pathways.pathway_json(issuer, lp.pathway, base,
                                                             lp.progress)))
    result.sort(key=lambda p: (not p["progress"]["steps_earned"], p["title"]))
    return result


def course_pathways(session: Session, issuer: Issuer | None,
                    credential_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Published pathways the course's offered credentials belong to (no learner)."""
    if issuer is None:
        return []
    base = current_app.config["PUBLIC_BASE_URL"]
    return [_localize(public_pathways.pathway_json(issuer, p, base))
            for p in pathways.pathways_with_credential(session, issuer.id, credential_ids)]
