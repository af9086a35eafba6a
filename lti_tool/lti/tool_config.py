"""pylti1p3 glue: a database-backed ToolConf and Registration, used for deep-linking
responses and LTI Advantage services (the hardened launch validation is ours)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.orm import Session

from lti_tool.models import Platform, ToolKey
from lti_tool.services import platforms as platform_service
from lti_tool.services.keys import KeyVault, public_jwk


class ToolRegistration(Registration):
    """A Registration whose kid is our key's stable kid (pylti1p3 derives its own)."""

    def __init__(self, platform: Platform, key: ToolKey, vault: KeyVault) -> None:
        self._kid = key.kid
        self._public_jwk = public_jwk(key.public_pem, key.kid)
        (self.set_issuer(platform.issuer).set_client_id(platform.client_id)
         .set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
         .set_key_set_url(platform.jwks_url).set_key_set(platform.static_jwks)  # type: ignore[arg-type]
         .set_tool_private_key(vault.private_pem(key)).set_tool_public_key(key.public_pem))
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)

    def get_kid(self) -> str:
        return self._kid

    def get_jwks(self) -> list[Mapping[str, Any]]:
        return [self._public_jwk]


class DatabaseToolConf(ToolConfAbstract):  # type: ignore[type-arg]
    """Registrations keyed by (issuer, client_id), many clients per issuer."""

    def __init__(self, session: Session, key: ToolKey, vault: KeyVault) -> None:
        self.session = session
        self.key = key
        self.vault = vault
        self.issuers_relation_types = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise NotImplementedError("registrations are keyed by (issuer, client_id)")

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any,
                                    **kwargs: Any) -> Registration:
        # pylti1p3 treats a falsy registration as "not found".
        platform = platform_service.find_platform(self.session, iss, client_id)
        return ToolRegistration(platform, self.key, self.vault) if platform else None  # type: ignore[return-value]

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        raise NotImplementedError("deployments are keyed by (issuer, client_id)")

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str,
                                  *args: Any, **kwargs: Any) -> LtiDeployment | None:
        platform = platform_service.find_platform(self.session, iss, client_id)
        if platform is None or platform_service.find_deployment(
                self.session, platform.id, deployment_id) is None:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)
