"""Who may use the catalog from a launch: the LTI institution Administrator of a platform
mapped to an issuer (all catalog roles), or a user granted catalog-admin/reviewer in the
tool. Everything else is 403."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.domain.catalog import CatalogRole, Scope
from lti_tool.domain.lti import AppRole
from lti_tool.errors import Forbidden
from lti_tool.models import Issuer
from lti_tool.services import catalog as catalog_service
from lti_tool.services.catalog import Actor
from lti_tool.translate import gettext as _
from lti_tool.web.common.launch_session import CurrentLaunch

ALL_CATALOG_SCOPES = frozenset({Scope.CATALOG_READ, Scope.CATALOG_WRITE, Scope.REVIEW,
                                Scope.TRANSFER, Scope.RECORDS_READ})


def issuer_for_launch(session: Session, current: CurrentLaunch) -> Issuer | None:
    launch = current.launch
    return catalog_service.issuer_for_platform(session, launch.platform_id,
                                               launch.deployment_pk)


def catalog_actor(session: Session, current: CurrentLaunch,
                  issuer: Issuer | None = None) -> Actor:
    """The Actor for this launched user, or Forbidden."""
    launch = current.launch
    issuer = issuer or issuer_for_launch(session, current)
    if issuer is None:
        raise Forbidden(_("No institution catalog is set up for this platform yet."),
                        code="no_issuer")
    record = current.record or {}
    ref = f"account:{record.get('account_id', launch.sub)}"
    if AppRole.ADMINISTRATOR in launch.app_roles:
        scopes = ALL_CATALOG_SCOPES
    else:
        roles = catalog_service.catalog_roles(session, issuer.id, launch.platform_id, launch.sub)
        scopes = catalog_service.scopes_for_roles(roles)
    if not scopes:
        raise Forbidden(_("The catalog is managed by institution administrators, catalog "
                        "administrators and reviewers."), code="not_catalog_staff")
    return Actor(ref=ref, name=launch.display_name or launch.sub, issuer_id=issuer.id,
                 scopes=scopes)


def has_catalog_access(session: Session, current: CurrentLaunch) -> bool:
    try:
        catalog_actor(session, current)
    except Forbidden:
        return False
    return True


__all__ = ["ALL_CATALOG_SCOPES", "CatalogRole", "catalog_actor", "has_catalog_access",
           "issuer_for_launch"]
