"""The REST API under ``/api/v1`` for integrators and autograders (per-issuer API tokens):
the catalog (``catalog``, blueprint ``api``), demonstrations and awards (``tracking``,
``api_tracking``), courses, rosters and offerings (``courses``, on ``api_tracking``),
signed credentials and CLRs (``badges``, ``api_badges``), the registrar's record for
student information systems (``records``, on ``api_tracking``). ``common``
holds authentication, scopes, ETags and the request/response helpers; ``schemas`` and
``tracking_schemas`` the marshmallow schemas ``openapi`` documents."""

from flask import Blueprint

from lti_tool.web.api import (  # noqa: F401 - courses, pathways, records: routes
    badges,
    catalog,
    courses,
    pathways,
    records,
    tracking,
)

BLUEPRINTS: tuple[Blueprint, ...] = (catalog.bp, tracking.bp, badges.bp)
