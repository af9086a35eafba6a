"""Pages and documents anyone can read, without a launch or a token: health checks and the
tool's JWKS (``health``), an issuer's public catalog (``catalog``, ``/c``), a credential's
public page, downloads and ``/verify`` (``credentials``), and the issuer documents
verifiers dereference (``issuers``: profile, keys, status lists, badge images)."""

from flask import Blueprint

from lti_tool.web.public import catalog, credentials, health, issuers

BLUEPRINTS: tuple[Blueprint, ...] = (health.bp, catalog.bp, credentials.bp, issuers.bp)
