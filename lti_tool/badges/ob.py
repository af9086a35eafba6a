"""Builders for MicroCred's Open Badges 3.0 credentials (no I/O; the issuing service calls
them and signs the result with :mod:`lti_tool.badges.eddsa` / :mod:`lti_tool.badges.jwt_vc`).

Shapes follow the OB 3.0 data model (https://www.imsglobal.org/spec/ob/v3p0/#data-model):

* ``OpenBadgeCredential`` (§B.1.1 AchievementCredential) with the standard contexts only:
  VCDM 2.0 + OB 3.0.3 + OB ``extensions.json`` (it defines the
  ``1EdTechJsonSchemaValidator2019`` type of ``credentialSchema``). Every term is defined by
  them, so any verifier that trusts only the standard contexts can process it (how catalog
  facts without an OB 3.0 property travel: docs/badges-vocabulary.md);
* issuer ``Profile`` (§B.1.16); ``AchievementSubject`` (§B.1.2) identified by a salted
  SHA-256 hashed e-mail ``IdentityObject`` (§B.1.13, ``hashed: true``, ``salt``);
* ``Achievement`` (§B.1.3) with ``achievementType`` MicroCredential, ``Criteria``,
  ``Image``, ``Alignment`` (§B.1.5), ``ResultDescription`` Pass/Fail (§B.1.20);
* ``Result`` (§B.1.19): ``value`` "Pass" against that ResultDescription, and ``status``
  "Completed" because its ``resultType`` is Status (the spec requires ``status`` then);
* ``Evidence`` (§B.1.9), ``credentialSchema`` (the 1EdTech JSON Schema) and a
  ``BitstringStatusListEntry`` for revocation.

Issuer keys: the verification method id is ``<issuer id>#<publicKeyMultibase>`` and its
``controller`` is the issuer id, so the issuer Profile is the controller document
(https://www.w3.org/TR/cid-1.0/): it lists every key under ``verificationMethod`` and the
keys that may sign credentials under ``assertionMethod`` (:func:`controller_document`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from lti_tool.badges.contexts import (
    DID_V1,
    MULTIKEY_V1,
    OB_V3P0,
    OB_V3P0_EXTENSIONS,
    VC_V2,
)
from lti_tool.badges.eddsa import format_datetime
from lti_tool.badges.jwt_vc import jwk_from_public_key
from lti_tool.badges.multikey import PublicKey, encode_ed25519_public_key
from lti_tool.badges.schemas import OB_ACHIEVEMENT_CREDENTIAL_SCHEMA_ID, SCHEMA_VALIDATOR_TYPE
from lti_tool.domain.credential_words import number, words

ACHIEVEMENT_TYPE = "MicroCredential"
PASS, FAIL = "Pass", "Fail"
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


@dataclass(frozen=True)
class AlignmentTarget:
    """One skill / framework item the achievement aligns to (OB 3.0 Alignment)."""

    target_name: str
    target_url: str
    target_code: str | None = None
    target_framework: str | None = None
    target_type: str | None = None
    target_description: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": ["Alignment"], "targetName": self.target_name,
                                "targetUrl": self.target_url}
        optional = {"targetCode": self.target_code, "targetFramework": self.target_framework,
                    "targetType": self.target_type,
                    "targetDescription": self.target_description}
        data.update({k: v for k, v in optional.items() if v})
        return data


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence (a demonstration), shown to verifiers (OB 3.0 Evidence)."""

    narrative: str
    name: str | None = None
    description: str | None = None
    id: str | None = None
    genre: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": ["Evidence"]}
        optional = {"id": self.id, "name": self.name, "description": self.description,
                    "narrative": self.narrative, "genre": self.genre}
        data.update({k: v for k, v in optional.items() if v})
        return data


def image(url: str, caption: str | None = None) -> dict[str, Any]:
    """OB 3.0 Image: ``caption`` is the alt text."""
    data: dict[str, Any] = {"id": url, "type": "Image"}
    if caption:
        data["caption"] = caption
    return data


def build_profile(profile_id: str, name: str, *, url: str | None = None,
                  email: str | None = None, image_url: str | None = None,
                  image_caption: str | None = None, description: str | None = None
                  ) -> dict[str, Any]:
    """An OB 3.0 ``Profile`` (the issuer, or a ``source`` naming where it was earned)."""
    profile: dict[str, Any] = {"id": profile_id, "type": ["Profile"], "name": name}
    if url:
        profile["url"] = url
    if email:
        profile["email"] = email
    if description:
        profile["description"] = description
    if image_url:
        profile["image"] = image(image_url, image_caption or name)
    return profile


def _decimal_text(value: Decimal | float | int | str, what: str) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{what} must be a number") from exc
    if not number.is_finite() or number < 0:
        raise ValueError(f"{what} must be a non-negative number")
    text = format(number.normalize(), "f")
    return text


def build_achievement(*, achievement_id: str, name: str, description: str,
                      criteria_narrative: str, criteria_url: str | None = None,
                      image_url: str | None = None, image_caption: str | None = None,
                      alignments: Iterable[AlignmentTarget] = (),
                      credits_available: Decimal | float | None = None,
                      field_of_study: str | None = None, human_code: str | None = None,
                      in_language: str | None = None, version: str | None = None,
                      tags: Sequence[str] = (),
                      creator: Mapping[str, Any] | None = None,
                      achievement_type: str = ACHIEVEMENT_TYPE,
                      related: Iterable[Mapping[str, Any]] = (),
                      result_name: str = "Pass/Fail") -> dict[str, Any]:
    """The catalog version of a micro-credential as an OB 3.0 ``Achievement``.

    ``credits_available`` only for credit-bearing credentials (omit it otherwise). Facts
    without an OB 3.0 property (learning hours, delivery modes) belong in
    ``criteria_narrative`` (see :func:`workload_narrative`). ``in_language``: the language
    of the achievement's texts (BCP 47); ``related``: its editions in other languages
    (:func:`related_edition`); ``result_name``: the Pass/Fail ResultDescription's name in
    that language.
    """
    criteria: dict[str, Any] = {"narrative": criteria_narrative}
    if criteria_url:
        criteria["id"] = criteria_url
    result_description_id = f"{achievement_id}#result-pass-fail"
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": achievement_type,
        "name": name,
        "description": description,
        "criteria": criteria,
        "resultDescription": [{
            "id": result_description_id,
            "type": ["ResultDescription"],
            "name": result_name,
            "resultType": "Status",
            "allowedValue": [PASS, FAIL],
            "requiredValue": PASS,
        }],
    }
    if image_url:
        achievement["image"] = image(image_url, image_caption or name)
    aligned = [a.to_json() for a in alignments]
    if aligned:
        achievement["alignment"] = aligned
    if credits_available is not None:
        achievement["creditsAvailable"] = float(_decimal_text(credits_available,
                                                              "creditsAvailable"))
    optional = {"fieldOfStudy": field_of_study, "humanCode": human_code,
                "inLanguage": in_language, "version": version}
    achievement.update({k: v for k, v in optional.items() if v})
    if tags:
        achievement["tag"] = list(tags)
    if creator is not None:
        achievement["creator"] = dict(creator)
    editions = [dict(r) for r in related]
    if editions:
        achievement["related"] = editions
    return achievement


def related_edition(edition_id: str, in_language: str,
                    version: str | None = None) -> dict[str, Any]:
    """An OB 3.0 ``Related`` (§B.1.21): the same achievement in another language ("primarily
    intended to identify alternate language editions or previous versions")."""
    data: dict[str, Any] = {"id": edition_id, "type": ["Related"], "inLanguage": in_language}
    if version:
        data["version"] = version
    return data


def workload_narrative(notional_learning_hours: Decimal | float | int | str | None,
                       delivery_modes: Sequence[str] = (), lang: str = "en") -> str:
    """The catalog facts OB 3.0 has no property for, as the sentences that go into
    ``criteria.narrative`` (docs/badges-vocabulary.md): "Notional learning hours: 37.5."
    and "Delivery: Online, asynchronous; In person." (``delivery_modes`` are labels), or
    in French ("Heures d'apprentissage théoriques : 37,5.") for ``lang`` "fr"."""
    lines = []
    if notional_learning_hours is not None and notional_learning_hours != "":
        hours = _decimal_text(notional_learning_hours, "notional learning hours")
        lines.append(words(lang, "hours", hours=number(hours, lang)))
    if delivery_modes:
        lines.append(words(lang, "delivery", modes="; ".join(delivery_modes)))
    return "\n".join(lines)


def new_salt() -> str:
    return secrets.token_hex(16)


def hashed_identifier(value: str, identity_type: str, salt: str) -> dict[str, Any]:
    """A hashed IdentityObject: ``sha256$`` + hex(SHA-256(value + salt)).

    ``identity_type`` is an OB 3.0 IdentifierTypeEnum value (``emailAddress``,
    ``lisSourcedId``, ``ltiUserId``, ...) (OB 3.0 §B.1.13 IdentityObject, §B.2.4
    IdentityHash).
    """
    if not value:
        raise ValueError("an identifier needs a value")
    digest = hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
    return {"type": "IdentityObject", "identityHash": f"sha256${digest}",
            "identityType": identity_type, "hashed": True, "salt": salt}


def hashed_email_identifier(email: str, salt: str) -> dict[str, Any]:
    """IdentityObject for an e-mail: ``sha256$`` + hex(SHA-256(email + salt)).

    The address is trimmed and lower-cased first so the learner can prove it later
    (OB 3.0 §B.1.13 IdentityObject, §B.2.4 IdentityHash).
    """
    normalized = email.strip().lower()
    if "@" not in normalized:
        raise ValueError("not an e-mail address")
    return hashed_identifier(normalized, "emailAddress", salt)


def identity_matches(identifier: Mapping[str, Any], email: str) -> bool:
    """Whether a hashed e-mail IdentityObject names ``email``."""
    salt = identifier.get("salt")
    if not isinstance(salt, str):
        return False
    expected = hashed_email_identifier(email, salt)["identityHash"]
    return secrets.compare_digest(str(identifier.get("identityHash", "")).lower(), expected)


def build_credential(*, credential_id: str, issuer: Mapping[str, Any],
                     achievement: Mapping[str, Any], valid_from: datetime,
                     valid_until: datetime | None = None,
                     recipient_email: str | None = None, salt: str | None = None,
                     subject_id: str | None = None, name: str | None = None,
                     description: str | None = None,
                     credential_image: Mapping[str, Any] | None = None,
                     evidence: Iterable[EvidenceItem | Mapping[str, Any]] = (),
                     credential_status: Mapping[str, Any] | None = None,
                     source: Mapping[str, Any] | None = None,
                     awarded_date: datetime | None = None,
                     extra_contexts: Sequence[str] = (),
                     identifiers: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential for one award.

    The subject is identified by ``subject_id``, a salted hashed ``recipient_email`` and/or
    ready-made IdentityObjects in ``identifiers`` (e.g. :func:`hashed_identifier`; OB 3.0
    requires an id or at least one identifier). The result is Pass against the
    achievement's Pass/Fail ResultDescription. Raises ValueError on inconsistent input.
    """
    if not recipient_email and not subject_id and not identifiers:
        raise ValueError("the credential subject needs an id or an identifier")
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("validUntil must be after validFrom")
    result_descriptions = achievement.get("resultDescription") or []
    if not result_descriptions:
        raise ValueError("the achievement has no resultDescription")
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if subject_id:
        subject["id"] = subject_id
    identities = [dict(i) for i in identifiers]
    if recipient_email:
        identities.insert(0, hashed_email_identifier(recipient_email, salt or new_salt()))
    if identities:
        subject["identifier"] = identities
    subject["achievement"] = dict(achievement)
    subject["result"] = [{
        "type": ["Result"],
        "resultDescription": result_descriptions[0]["id"],
        "value": PASS,
        "status": "Completed",
    }]
    if source is not None:
        subject["source"] = dict(source)

    # extensions.json defines the 1EdTechJsonSchemaValidator2019 credentialSchema type.
    context = [VC_V2, OB_V3P0, OB_V3P0_EXTENSIONS]
    context.extend(c for c in extra_contexts if c not in context)
    credential: dict[str, Any] = {
        "@context": context,
        "id": credential_id,
        "type": list(CREDENTIAL_TYPES),
        "name": name or str(achievement.get("name", "")),
        "issuer": dict(issuer),
        "validFrom": format_datetime(valid_from),
    }
    if description:
        credential["description"] = description
    if credential_image is not None:
        credential["image"] = dict(credential_image)
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    if awarded_date is not None:
        credential["awardedDate"] = format_datetime(awarded_date)
    credential["credentialSubject"] = subject
    items = [e.to_json() if isinstance(e, EvidenceItem) else dict(e) for e in evidence]
    if items:
        credential["evidence"] = items
    credential["credentialSchema"] = [{"id": OB_ACHIEVEMENT_CREDENTIAL_SCHEMA_ID,
                                       "type": SCHEMA_VALIDATOR_TYPE}]
    if credential_status is not None:
        credential["credentialStatus"] = dict(credential_status)
    return credential


# --- issuer keys ----------------------------------------------------------------------


def verification_method_id(controller: str, public_key: PublicKey) -> str:
    """``<controller>#<publicKeyMultibase>`` for an Ed25519 key."""
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise ValueError("eddsa-rdfc-2022 issuer keys are Ed25519")
    return f"{controller}#{encode_ed25519_public_key(public_key)}"


def verification_method(method_id: str, controller: str, public_key: PublicKey, *,
                        revoked: datetime | None = None) -> dict[str, Any]:
    """A ``Multikey`` verification method (CID 1.0 §2.2.2). ``revoked`` marks a key its
    controller withdrew: verifiers must not accept its signatures any more."""
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise ValueError("eddsa-rdfc-2022 issuer keys are Ed25519")
    method: dict[str, Any] = {"id": method_id, "type": "Multikey", "controller": controller,
                              "publicKeyMultibase": encode_ed25519_public_key(public_key)}
    if revoked is not None:
        method["revoked"] = format_datetime(revoked)
    return method


def controller_document(document_id: str, methods: Sequence[Mapping[str, Any]],
                        assertion_method: Sequence[str]) -> dict[str, Any]:
    """A controlled identifier document (https://www.w3.org/TR/cid-1.0/): the keys
    (``verificationMethod``, withdrawn ones marked ``revoked``) and those that may sign
    credentials (``assertionMethod``). Its first context is DID v1, which tells Data
    Integrity libraries they can read ``assertionMethod`` without JSON-LD framing."""
    # DID v1 defines verificationMethod / assertionMethod / controller and Multikey v1 the
    # key terms (incl. revoked): with these two every property expands.
    return {"@context": [DID_V1, MULTIKEY_V1], "id": document_id,
            "verificationMethod": [dict(m) for m in methods],
            "assertionMethod": list(assertion_method)}


def jwks(keys: Sequence[tuple[str, PublicKey]]) -> dict[str, Any]:
    """A JWKS (RFC 7517) of (kid, public key) pairs for VC-JWT verification."""
    return {"keys": [jwk_from_public_key(key, kid=kid) for kid, key in keys]}
