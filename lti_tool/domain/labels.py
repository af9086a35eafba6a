"""Display labels of domain values in the reader's language (lazy: translated when shown).

The English maps beside the domain values (``tracking.METHOD_LABELS``, ``lti.ROLE_LABELS``,
``catalog.LABELS``, the last shown through ``catalog.display_label``) stay English: they
also go into what MicroCred signs and exports. Pages and messages read these instead;
outside a request they read as English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lti_tool.domain import catalog
from lti_tool.domain.lti import AppRole
from lti_tool.domain.texts import LocalText, localized
from lti_tool.domain.tracking import CellStatus, Method
from lti_tool.translate import lazy_gettext as _l

METHOD = {
    Method.IN_COURSE_ASSIGNMENT: _l("In-course assignment"),
    Method.OBSERVATION: _l("Observation"),
    Method.PORTFOLIO: _l("Portfolio"),
    Method.CHALLENGE_ASSESSMENT: _l("Challenge assessment"),
    Method.PLAR: _l("Prior learning assessment (PLAR)"),
    Method.TRANSFER: _l("Transfer (another institution's credential)"),
}

CELL = {
    CellStatus.NOT_YET: _l("Not yet"),
    CellStatus.ATTEMPTED: _l("Attempted, not yet demonstrated"),
    CellStatus.DEMONSTRATED: _l("Demonstrated"),
}

ROLE = {
    AppRole.ADMINISTRATOR: _l("Institution administrator"),
    AppRole.INSTRUCTOR: _l("Instructor"),
    AppRole.TEACHING_ASSISTANT: _l("Teaching assistant"),
    AppRole.LEARNER: _l("Learner"),
    AppRole.OTHER: _l("Guest"),
}

def method_label(value: str) -> str:
    try:
        return str(METHOD[Method(value)])
    except ValueError:
        return label(value)


def label(value: str) -> str:
    """``catalog.label`` in the reader's language (``catalog.display_label``)."""
    return catalog.display_label(value)


def earning_rule(view: Mapping[str, Any]) -> LocalText:
    """A version view's earning rule in the reader's language (its French sentence when the
    catalog wrote French, else the English one, marked as such by the ``ltext`` filter)."""
    from lti_tool.i18n import current_locale

    return localized(str(view.get("earning_rule") or ""), view.get("translations") or {},
                     "earning_rule", current_locale())


def intl(obj: Any, field: str) -> LocalText:
    """A catalog text of ``obj`` in the reader's language: a skill's or issuer's (their
    ``translations`` column), a credential version's (``content["translations"]``) or a
    view's (a mapping with ``translations``). English, marked as a fallback, when the
    catalog has no French for it."""
    from lti_tool.i18n import current_locale

    locale = current_locale()
    if isinstance(obj, Mapping):
        return localized(obj.get(field) or "", obj.get("translations") or {}, field, locale)
    if hasattr(obj, "translations"):
        return localized(obj, None, field, locale)
    content = getattr(obj, "content", None)
    if isinstance(content, Mapping):
        text = getattr(obj, field, None) or content.get(field) or ""
        return localized(str(text), content.get("translations") or {}, field, locale)
    return localized(str(getattr(obj, field, "") or ""), {}, field, locale)
