"""The learner page's shortcuts through Flask-Babel say what Flask-Babel says: dates and
times formatted by Babel with the request's locale and zone (``long_date``,
``long_date_short_time``), and template translations bound to the request's catalog
(``bound_template_gettext``), escaping included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import flask_babel
import pytest
from flask import Flask

from lti_tool.i18n import bound_template_gettext, format_date, long_date, long_date_short_time

MOMENTS = [datetime(2025, 1, 2, 3, 4), datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
           datetime(2024, 6, 1, 13, 5, tzinfo=timezone(timedelta(hours=-5))),
           datetime(2026, 3, 8, 0, 0, 1, tzinfo=UTC)]


@pytest.mark.parametrize("locale", ["en", "fr_CA"])
def test_dates_and_times_as_flask_babel_formats_them(base_app: Flask, locale: str) -> None:
    with base_app.test_request_context("/"), flask_babel.force_locale(locale):
        for moment in MOMENTS:
            assert long_date_short_time(moment) == (
                format_date(moment, "long"), str(flask_babel.format_time(moment, "short")))
            assert long_date(moment) == format_date(moment, "long")
            assert long_date(moment.date()) == format_date(moment.date(), "long")


def test_bound_template_gettext_renders_as_the_installed_one(base_app: Flask) -> None:
    # Each message twice (translated once per render: the second call must still fill its
    # own values), through ``_`` and ``gettext``, with and without autoescaping, and a
    # "%%" in a message without variables.
    source = ("{{ _('Evidence:') }} {{ _('Demonstrated on %(date)s', date='<b>&') }} "
              "{{ gettext('Demonstrated on %(date)s', date='2 mai') }} "
              "{{ ngettext('%(num)s record', '%(num)s records', 3) }} {{ _('Not a msgid') }} "
              "{{ _('100%% sure') }}{% autoescape false %} "
              "{{ _('Demonstrated on %(date)s', date='<i>') }}{% endautoescape %}")
    rendered = {}
    for locale in ("en", "fr_CA"):
        with base_app.test_request_context("/"), flask_babel.force_locale(locale):
            template = base_app.jinja_env.from_string(source)
            rendered[locale] = template.render()
            bound = bound_template_gettext()
            assert bound["_"] is bound["gettext"]
            assert template.render(**bound) == rendered[locale]
            assert template.render(**bound) == rendered[locale]  # its memo changes nothing
        assert "&lt;b&gt;&amp;" in rendered[locale] and "2 mai" in rendered[locale]
        assert "100% sure" in rendered[locale] and "<i>" in rendered[locale]
    assert rendered["fr_CA"] != rendered["en"]  # the French catalog was used
