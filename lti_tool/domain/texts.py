"""Bilingual catalog content: what an issuer writes (titles, descriptions, criteria …).

The English text stays in its own column or field (the catalog's default language); the
other languages travel beside it in a ``translations`` mapping shaped
``{"fr": {"<field>": "<text>", ...}}``. Reading a text for a language gives a
:class:`LocalText` saying which language the text really is in, so a page shows a missing
French text in English *visibly* (marked, with the right ``lang`` attribute) instead of
silently blank or silently English.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

DEFAULT = "en"


@dataclass(frozen=True)
class LocalText:
    text: str
    lang: str          # the language the text is in ("en" / "fr")
    fallback: bool     # True when the asked language had no text and another was used

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


def short_lang(locale: str) -> str:
    """``fr_CA`` / ``fr-CA`` / ``fr`` → ``fr``; anything else → ``en``."""
    tag = (locale or "").replace("_", "-").lower()
    return "fr" if tag == "fr" or tag.startswith("fr-") else DEFAULT


def translation(translations: Mapping[str, Any] | None, lang: str, field: str) -> str:
    """The stored text of one field in one language ('' when there is none)."""
    if not translations:
        return ""
    per_lang = translations.get(lang)
    if not isinstance(per_lang, Mapping):
        return ""
    value = per_lang.get(field)
    return value.strip() if isinstance(value, str) else ""


def localized(default_text: object, translations: Mapping[str, Any] | None, field: str,
              locale: str) -> LocalText:
    """``field`` in ``locale``'s language, else the English text, marked as a fallback.

    ``default_text`` is the English value (from its column); ``translations`` the object's
    ``translations`` mapping. An object with ``field`` and ``translations`` attributes may be
    passed as ``default_text`` with ``translations=None``."""
    if translations is None and hasattr(default_text, "translations"):
        obj = default_text
        translations = getattr(obj, "translations", None) or {}
        default_text = getattr(obj, field, "")
    english = default_text if isinstance(default_text, str) else (
        "" if default_text is None else str(default_text))
    lang = short_lang(locale)
    if lang == DEFAULT:
        return LocalText(english, DEFAULT, False)
    text = translation(translations, lang, field)
    if text:
        return LocalText(text, lang, False)
    return LocalText(english, DEFAULT, bool(english))


FALLBACK_NOTE = {"fr": "(en anglais)", "en": "(in French)"}


def render_ltext(value: object, page_lang: str | None = None) -> Markup:
    """Jinja filter ``ltext``: the text, escaped; when it is a fallback, wrapped in a
    ``<span lang="en">`` and followed by a visible note saying the translation is missing."""
    if not isinstance(value, LocalText):
        return escape("" if value is None else value)
    if not value.fallback:
        if page_lang and short_lang(page_lang) != value.lang:
            return Markup('<span lang="{}">{}</span>').format(value.lang, value.text)
        return escape(value.text)
    return (Markup('<span lang="{}">{}</span>').format(value.lang, value.text)
            + fallback_note(value))


@dataclass(frozen=True)
class LocalList:
    """A list of texts (learning outcomes, target occupations) in one language, with the
    same fallback marking as :class:`LocalText` (the whole list is in one language)."""

    items: tuple[str, ...]
    lang: str
    fallback: bool

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def translation_list(translations: Mapping[str, Any] | None, lang: str,
                     field: str) -> list[str]:
    """The stored list of one field in one language ([] when there is none)."""
    per_lang = (translations or {}).get(lang)
    if not isinstance(per_lang, Mapping):
        return []
    value = per_lang.get(field)
    if not isinstance(value, list):
        return []
    return [v.strip() for v in value if isinstance(v, str) and v.strip()]


def localized_list(default_items: object, translations: Mapping[str, Any] | None, field: str,
                   locale: str) -> LocalList:
    """Like :func:`localized` for a list of texts: the French list when there is one, else
    the English list marked as a fallback."""
    english = tuple(str(v) for v in default_items if v) \
        if isinstance(default_items, list | tuple) else ()
    lang = short_lang(locale)
    if lang != DEFAULT:
        items = translation_list(translations, lang, field)
        if items:
            return LocalList(tuple(items), lang, False)
        return LocalList(english, DEFAULT, bool(english))
    return LocalList(english, DEFAULT, False)


def localized_view(data: Mapping[str, Any], locale: str, text_fields: tuple[str, ...],
                   list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of ``data`` (a dict with English values and a ``translations`` mapping, e.g. a
    version's snapshot or a skill's dict) whose ``text_fields`` are :class:`LocalText` and
    ``list_fields`` :class:`LocalList` in ``locale``'s language. Other keys are kept."""
    translations = data.get("translations") if isinstance(data.get("translations"),
                                                          Mapping) else None
    out = dict(data)
    for field in text_fields:
        out[field] = localized(data.get(field) or "", translations or {}, field, locale)
    for field in list_fields:
        out[field] = localized_list(data.get(field) or [], translations or {}, field, locale)
    return out


def text_in(data: Mapping[str, Any], field: str, lang: str) -> str:
    """The plain text of ``field`` in ``lang`` from a dict with a ``translations`` mapping,
    falling back to English (for documents that are wholly in one language, e.g. a signed
    credential, where a fallback cannot be marked)."""
    translations = data.get("translations")
    return localized(str(data.get(field) or ""), translations if isinstance(
        translations, Mapping) else {}, field, lang).text


def has_text(data: Mapping[str, Any], field: str, lang: str) -> bool:
    """Whether ``field`` has its own text in ``lang`` (English: the field itself)."""
    if short_lang(lang) == DEFAULT:
        value = data.get(field)
        return bool(value.strip()) if isinstance(value, str) else bool(value)
    translations = data.get("translations")
    translations = translations if isinstance(translations, Mapping) else {}
    return bool(translation(translations, short_lang(lang), field)
                or translation_list(translations, short_lang(lang), field))


def fallback_note(value: object) -> Markup:
    """Jinja filter ``lnote``: the visible "(en anglais)" note after a fallback list or text
    rendered by hand (the ``ltext`` filter adds it itself)."""
    if not getattr(value, "fallback", False):
        return Markup("")
    from lti_tool.i18n import current_short

    asked = current_short()
    note = FALLBACK_NOTE.get(asked, "")
    return Markup(' <span class="lang-fallback" lang="{}">{}</span>').format(asked, note) \
        if note else Markup("")
