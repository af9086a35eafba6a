"""Catalog and institution administration inside the LMS frame (blueprint ``admin``,
``/admin``): the catalog list, skills library, credential forms with field-level errors,
the learner-facing preview, lifecycle actions, version history and diffs, quality reviews
on the issuer's rubric, the rubric itself, API tokens, people & roles, import/export, the
institution profile, tracking settings, identity links and learning platforms.

Thin: every change goes through ``services.catalog`` (and ``api_tokens``, ``catalog_io``,
``issuer_settings``, ``identity``) with an ``Actor`` from ``catalog_access.catalog_actor``.
Every link and form carries the launch token ``lt``; every POST is checked for the launch's
CSRF token, and edits carry the ``row_version`` they were read at, so a stale save is
refused (and the user's input kept) instead of silently overwriting someone else's work.
Success redirects (303) with a ``done`` code naming a fixed message: no user text is ever
reflected from the URL.

One blueprint, one module per concern: ``staff`` (who is acting, what every page shares),
``institution``, ``skills``, ``credentials``, ``reviews`` (and the rubric), ``tokens``,
``roles``, ``import_export``, ``settings``, ``identity``, ``platforms``, ``transfers`` (the
registrar's transfer queue and equivalency table), ``records`` (the registrar's record and
exports), ``pathways`` (issue 12; ``pathway_forms``); ``forms`` parses the HTML
forms.
"""

from flask import Blueprint

from lti_tool.web.admin import (  # noqa: F401 - importing registers the routes
    credentials,
    identity,
    import_export,
    institution,
    occupations,
    pathways,
    plar,
    platforms,
    records,
    reviews,
    roles,
    settings,
    skills,
    tokens,
    transfers,
)
from lti_tool.web.admin.staff import bp

BLUEPRINTS: tuple[Blueprint, ...] = (bp,)
