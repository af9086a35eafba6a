"""Typed gettext helpers: Flask-Babel's, with types (it ships none, so strict mypy would see
``Any``). Import them under the names the extractor knows (``make i18n``, ``babel.cfg``):
``from lti_tool.translate import gettext as _, ngettext, lazy_gettext as _l``.

``%(name)s`` placeholders are filled from the keyword arguments after translation, so a
sentence is translated whole, never assembled from pieces.
"""

from __future__ import annotations

from typing import Any, cast

from flask_babel import gettext as _gettext
from flask_babel import lazy_gettext as _lazy_gettext
from flask_babel import ngettext as _ngettext


def gettext(string: str, **variables: Any) -> str:
    """``string`` in the request's language (English outside a request)."""
    return str(_gettext(string, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The plural form for ``num`` in the request's language; ``%(num)s`` is ``num``."""
    return str(_ngettext(singular, plural, num, **variables))


def lazy_gettext(string: str, **variables: Any) -> str:
    """Marked for translation now, translated when read as text (module-level constants)."""
    return cast(str, _lazy_gettext(string, **variables))
