"""The 1EdTech JSON Schemas, bundled, validated offline.

Bundled in ``lti_tool/badges/schemas/`` (copied from ``shared/conformance/schemas``):

* ``ob_v3p0_achievementcredential_schema.json``: the OB 3.0 AchievementCredential
  "JSON-LD adaptation" (single value or array accepted), ``$id`` ``.../schema/json/...``;
* ``ob_v3p0_achievementcredential_plain_schema.json``: the formal ("plain") flavour, which
  requires arrays (e.g. ``proof``). The 1EdTech validator runs it first and downgrades its
  errors to warnings when only the JSON-LD adaptation passes; we do the same;
* ``ob_v3p0_endorsementcredential_schema.json`` and ``clr_v2p0_clrcredential_schema.json``.

All are Draft 2019-09 and VCDM 2.0 only. ``$ref`` resolution goes through a local
``referencing`` registry holding these files; any other URI is refused, never fetched.

https://www.imsglobal.org/spec/ob/v3p0/#achievementcredential ,
https://json-schema.org/draft/2019-09/release-notes
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft201909Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

_PACKAGE = "lti_tool.badges"

OB_ACHIEVEMENT_CREDENTIAL = "ob_v3p0_achievementcredential_schema.json"
OB_ACHIEVEMENT_CREDENTIAL_PLAIN = "ob_v3p0_achievementcredential_plain_schema.json"
OB_ENDORSEMENT_CREDENTIAL = "ob_v3p0_endorsementcredential_schema.json"
CLR_CREDENTIAL = "clr_v2p0_clrcredential_schema.json"
_ALL = (OB_ACHIEVEMENT_CREDENTIAL, OB_ACHIEVEMENT_CREDENTIAL_PLAIN,
        OB_ENDORSEMENT_CREDENTIAL, CLR_CREDENTIAL)

#: The ``credentialSchema`` id and type issuers put in OB 3.0 credentials.
OB_ACHIEVEMENT_CREDENTIAL_SCHEMA_ID = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json")
SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"
MAX_ERRORS = 5


@cache
def load_schema(file_name: str) -> dict[str, Any]:
    text = resources.files(_PACKAGE).joinpath("schemas", file_name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs-generated __init__


@cache
def _registry() -> Registry[Any]:
    resources_by_id = [(load_schema(name)["$id"], Resource.from_contents(load_schema(name)))
                       for name in _ALL]
    registry: Registry[Any] = Registry(retrieve=_refuse)  # type: ignore[call-arg]
    return registry.with_resources(resources_by_id)


@cache
def validator(file_name: str) -> Draft201909Validator:
    return Draft201909Validator(load_schema(file_name), registry=_registry())


def known_schema_ids() -> dict[str, str]:
    """``$id`` -> bundled file name."""
    return {load_schema(name)["$id"]: name for name in _ALL}


def schema_errors(instance: Mapping[str, Any], file_name: str,
                  limit: int = MAX_ERRORS) -> list[str]:
    """Up to ``limit`` readable errors (``/path: message``); empty list means valid."""
    errors = sorted(validator(file_name).iter_errors(instance),
                    key=lambda e: (len(list(e.absolute_path)), list(map(str, e.absolute_path))))
    out = []
    for error in errors[:limit]:
        path = "/" + "/".join(str(p) for p in error.absolute_path)
        out.append(f"{path}: {_readable(error)}")
    return out


def _readable(error: Any) -> str:
    """A short message: jsonschema's default repeats the whole (maybe huge) instance."""
    if error.validator == "type":
        return f"must be of type {error.validator_value!r}"
    if error.validator in ("oneOf", "anyOf"):
        return "does not match any allowed form"
    if error.validator == "enum":
        return f"must be one of {error.validator_value!r}"[:200]
    if error.validator == "const":
        return f"must be {error.validator_value!r}"[:200]
    message = str(error.message)
    return message if len(message) <= 200 else message[:197] + "..."
