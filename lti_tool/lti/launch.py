"""From a validated id_token to a launch session: accept a first-seen deployment where the
registration allows it, record the launch (services), and keep the launch data under a
random launch id in the store; the browser then carries a signed per-launch token."""

from __future__ import annotations

import logging
import secrets
from dataclasses import fields
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from lti_tool.domain.advantage import AgsEndpoint
from lti_tool.domain.lti import CLAIM_AGS, AppRole, LaunchContext, launch_context_from_claims
from lti_tool.errors import LaunchSessionError
from lti_tool.lti.storage import LaunchStore
from lti_tool.lti.validation import ValidatedLaunch
from lti_tool.models import Deployment
from lti_tool.services import audit
from lti_tool.services.launches import LaunchRecord, record_launch
from lti_tool.services.roster import note_launch
from lti_tool.services.tracking import apply_kind_rules_at_launch

log = logging.getLogger(__name__)
_LAUNCH_FIELDS = tuple(f.name for f in fields(LaunchContext))


def _accept_new_deployment(session: Session, launch: ValidatedLaunch) -> Deployment:
    """Canvas's Dynamic Registration returns no deployment_id; the first signed launch from
    a new deployment of such a registration is recorded (and audited).
    https://canvas.instructure.com/doc/api/file.registration.html """
    deployment_id = str(launch.body["https://purl.imsglobal.org/spec/lti/claim/deployment_id"])
    deployment = Deployment(platform_id=launch.platform.id, deployment_id=deployment_id,
                            name="accepted at first launch")
    session.add(deployment)
    session.flush()
    audit.record(session, "platform.deployment_accepted", platform_id=launch.platform.id,
                 subject_type="deployment", subject_id=deployment.id,
                 detail={"deployment_id": deployment_id})
    return deployment


def complete_launch(session: Session, store: LaunchStore, validated: ValidatedLaunch, *,
                    ttl: int, request_id: str = "") -> tuple[LaunchContext, LaunchRecord | None]:
    deployment = validated.deployment or _accept_new_deployment(session, validated)
    launch_id = secrets.token_urlsafe(18)
    launch = launch_context_from_claims(
        validated.body, launch_id=launch_id, platform_id=validated.platform.id,
        deployment_pk=deployment.id, client_id=validated.login.client_id,
    )
    record = None
    if not validated.anonymous:
        endpoint = AgsEndpoint.from_claim(validated.body.get(CLAIM_AGS))
        record = record_launch(session, launch, request_id=request_id,
                               ags=endpoint.as_json() if endpoint is not None else None)
        note_launch(session, launch, account_id=record.account_id, context_pk=record.context_pk,
                    known=record.roster)
        record = apply_kind_rules_at_launch(session, launch, record)
    session.commit()
    # A shallow copy (``asdict`` would deep-copy the custom claims): serialised at once.
    data: dict[str, Any] = {name: getattr(launch, name) for name in _LAUNCH_FIELDS}
    data["app_roles"] = sorted(r.value for r in launch.app_roles)
    data["roles"] = list(launch.roles)
    data["context_types"] = list(launch.context_types)
    data["record"] = {"account_id": record.account_id, "person_id": record.person_id,
                      "context_pk": record.context_pk,
                      "resource_link_pk": record.resource_link_pk,
                      "context_kind": record.context_kind} if record else None
    store.save_launch(launch_id, data, ttl)
    return launch, record


def wants_roster_refresh(launch: LaunchContext, record: LaunchRecord | None) -> int | None:
    """The course whose roster an instructor's launch should refresh (NRPS offered), else
    None. The web layer starts the refresh (``jobs.refresh_roster_after_launch``): ``lti``
    never imports ``jobs``, which imports ``lti.advantage``."""
    if record is not None and record.context_pk and launch.nrps_url and \
            AppRole.INSTRUCTOR in launch.app_roles:
        return record.context_pk
    return None


def launch_from_data(data: dict[str, Any]) -> tuple[LaunchContext, dict[str, Any] | None]:
    fields = dict(data)
    record = fields.pop("record", None)
    fields["app_roles"] = frozenset(AppRole(r) for r in fields["app_roles"])
    fields["roles"] = tuple(fields["roles"])
    fields["context_types"] = tuple(fields["context_types"])
    return LaunchContext(**fields), record


class LaunchTokens:
    """Signed per-launch tokens, carried in links and forms when cookies are blocked."""

    def __init__(self, secret: str, ttl: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="microcred-launch")
        self.ttl = ttl

    def issue(self, launch_id: str) -> str:
        return self._serializer.dumps(launch_id)

    def read(self, token: str) -> str:
        try:
            launch_id = self._serializer.loads(token, max_age=self.ttl)
        except SignatureExpired:
            raise LaunchSessionError() from None
        except BadSignature:
            raise LaunchSessionError(code="launch_token_invalid") from None
        if not isinstance(launch_id, str):
            raise LaunchSessionError(code="launch_token_invalid")
        return launch_id
