"""The message catalogs are complete: every translatable string in the code and the
templates has a Canadian French translation (all plural forms), with the same placeholders,
and the compiled ``.mo`` says the same as the ``.po`` (run ``make i18n`` after a change)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
TRANSLATIONS = ROOT / "lti_tool" / "translations"
LOCALES = ("fr_CA",)
METHOD_MAP = [("lti_tool/**.py", "python"), ("lti_tool/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None,
            "_l": None, "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}
PLACEHOLDER = re.compile(r"%\([a-zA-Z_]+\)[sdif]|%[sdif]|\{[a-zA-Z_][a-zA-Z0-9_]*\}")


def _extracted() -> dict[tuple[str, str | None], str]:
    """(msgid, context) → where it is used (the first place), from the code as it is now."""
    found: dict[tuple[str, str | None], str] = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT), METHOD_MAP, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((msgid, context), filename)
    return found


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str, str | None], str]:
    return _extracted()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_is_translated(locale: str,
                                    extracted: dict[tuple[str, str | None], str]) -> None:
    catalog = _catalog(locale)
    missing = []
    for (msgid, context), where in sorted(extracted.items(), key=lambda i: (i[0][0],
                                                                            i[0][1] or "")):
        message = catalog.get(msgid, context=context)
        strings = () if message is None else (
            message.string if isinstance(message.string, tuple) else (message.string,))
        if message is None or message.fuzzy or not strings or not all(s.strip()
                                                                        for s in strings):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, (f"{len(missing)} string(s) without a {locale} translation "
                         f"(run `make i18n`, then fill the empty msgstr):\n"
                         + "\n".join(missing[:60]))


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders(locale: str) -> None:
    catalog = _catalog(locale)
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if text and set(PLACEHOLDER.findall(text)) - expected | (
                    set(PLACEHOLDER.findall(ids[0])) - set(PLACEHOLDER.findall(text))
                    if len(ids) == 1 else set()):
                wrong.append(f"{ids[0]!r} → {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong[:40])


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_is_current(locale: str) -> None:
    po = _catalog(locale)
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        mo = read_mo(fh)
    # Plural messages read back from a .mo as lists, from a .po as tuples.
    def key(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    expected = {key(m.id): key(m.string) for m in po if m.id and m.string and not m.fuzzy}
    actual = {key(m.id): key(m.string) for m in mo if m.id}
    assert actual == expected, "messages.mo is out of date: run `make i18n`"


def test_plural_forms_follow_the_locale() -> None:
    catalog = _catalog("fr_CA")
    assert catalog.num_plurals >= 2
