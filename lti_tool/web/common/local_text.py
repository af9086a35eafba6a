"""Issuer-written text of an object in the request's language, for pages."""

from __future__ import annotations

from typing import Any

from lti_tool.domain.texts import LocalText, localized
from lti_tool.i18n import current_locale


def local_text(obj: Any, field: str) -> LocalText:
    """``obj.<field>`` in the page's language: French from ``obj.translations`` (the
    catalog's bilingual convention) or from an ``obj.<field>_fr`` attribute (the plain
    references of ``domain.occupations``); English, marked as a fallback, otherwise."""
    french = getattr(obj, f"{field}_fr", None)
    translations = ({"fr": {field: french}} if isinstance(french, str) and french
                    else getattr(obj, "translations", None) or {})
    return localized(getattr(obj, field), translations, field, current_locale())
