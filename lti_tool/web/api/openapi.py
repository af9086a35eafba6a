"""The OpenAPI 3.0.3 document of /api/v1, served at /api/v1/openapi.json.

Every route shows an example of what it takes and returns (``openapi_examples``).
Component schemas are generated from the marshmallow schemas the API actually validates and
serialises with (a small converter: String → string with maxLength/enum/pattern/format,
Integer, Decimal → string with a pattern, Boolean, List → array, Nested → $ref, required
lists); paths, parameters and responses are written out below.
Spec: https://spec.openapis.org/oas/v3.0.3
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from marshmallow import RAISE, Schema, fields, missing, validate

from lti_tool import __version__
from lti_tool.domain.catalog import SCOPE_DESCRIPTIONS
from lti_tool.domain.catalog_schemas import (
    CredentialInputSchema,
    ReviewInputSchema,
    SkillInputSchema,
)
from lti_tool.web.api import schemas as S
from lti_tool.web.api.openapi_examples import add_examples

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


class Components:
    """Collects component schemas by name while converting."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}

    def ref(self, schema: type[Schema] | Schema) -> dict[str, Any]:
        cls = schema if isinstance(schema, type) else type(schema)
        name = cls.__name__.removesuffix("Schema")
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: guards against recursion
            self.schemas[name] = self.object_schema(cls())
        return {"$ref": f"#/components/schemas/{name}"}

    def object_schema(self, schema: Schema) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for attr, field in schema.fields.items():
            if field.load_only and field.dump_only:
                continue
            name = field.data_key or attr
            properties[name] = self.field(field)
            if field.required:
                required.append(name)
        result: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            result["required"] = required
        if schema.unknown == RAISE:
            result["additionalProperties"] = False
        doc = (type(schema).__doc__ or "").strip()
        if doc:
            result["description"] = " ".join(doc.split())
        return result

    def field(self, field: fields.Field[Any]) -> dict[str, Any]:
        result = self._type(field)
        for validator in field.validators:
            _apply_validator(result, validator)
        description = field.metadata.get("description")
        default = field.load_default
        if callable(default):
            default = default()
        if "$ref" in result and (description or field.allow_none):
            result = {"allOf": [result]}
        if description:
            result["description"] = description
        # "" and [] mean "none given": as a default they could contradict the schema
        # (an enum, a minimum length or item count), so they are left out.
        if default is not missing and default not in (None, "", []) and "$ref" not in result \
                and not isinstance(field, fields.Nested):
            result["default"] = default
        if field.allow_none:
            result["nullable"] = True
            if "enum" in result:
                result["enum"] = [*result["enum"], None]
        return result

    def _type(self, field: fields.Field[Any]) -> dict[str, Any]:
        if isinstance(field, fields.Nested):
            return self.ref(field.nested)  # type: ignore[arg-type]
        if isinstance(field, fields.List):
            return {"type": "array", "items": self.field(field.inner)}
        if isinstance(field, fields.Dict):
            values = field.value_field
            return {"type": "object",
                    "additionalProperties": self.field(values) if values else {}}
        if isinstance(field, fields.Email):
            return {"type": "string", "format": "email"}
        if isinstance(field, fields.Url):
            return {"type": "string", "format": "uri"}
        if isinstance(field, fields.DateTime):
            return {"type": "string", "format": "date-time"}
        if isinstance(field, fields.Decimal):
            return {"type": "string", "pattern": DECIMAL_PATTERN,
                    "description": "A decimal number written as a string."}
        if isinstance(field, fields.Integer):
            return {"type": "integer"}
        if isinstance(field, fields.Number):
            return {"type": "number"}
        if isinstance(field, fields.Boolean):
            return {"type": "boolean"}
        if isinstance(field, fields.String):
            return {"type": "string"}
        return {}  # Raw: any JSON value


def _apply_validator(result: dict[str, Any], validator: Any) -> None:
    is_array = result.get("type") == "array"
    if isinstance(validator, validate.Length):
        low, high = ("minItems", "maxItems") if is_array else ("minLength", "maxLength")
        if validator.equal is not None:
            result[low] = result[high] = validator.equal
        if validator.min is not None and validator.min > 0:
            result[low] = validator.min
        if validator.max is not None:
            result[high] = validator.max
    elif isinstance(validator, validate.OneOf):
        result["enum"] = list(validator.choices)
    elif isinstance(validator, validate.Regexp):
        result["pattern"] = validator.regex.pattern
    elif isinstance(validator, validate.Range):
        if result.get("type") in ("integer", "number"):
            if validator.min is not None:
                result["minimum"] = validator.min
                if not validator.min_inclusive:
                    result["exclusiveMinimum"] = True
            if validator.max is not None:
                result["maximum"] = validator.max
                if not validator.max_inclusive:
                    result["exclusiveMaximum"] = True
        else:  # a Decimal written as a string: say the range in words
            result["description"] = (f"{result.get('description', '')} From {validator.min} "
                                     f"to {validator.max}.").strip()


# -- paths ----------------------------------------------------------------------------------------
ERROR_TEXT = {
    "304": "Not modified: the ETag in If-None-Match still matches.",
    "401": "No API token, or one that is unknown, malformed or revoked.",
    "403": "The token lacks the scope this needs, or the action is not allowed for it.",
    "404": "No such resource in this token's catalog.",
    "409": "Conflict: a stale row_version, a refused lifecycle transition or a resource in use.",
    "413": "The request body is larger than the server accepts.",
    "406": "None of the media types in Accept can be served.",
    "415": "The body is not of the expected media type.",
    "422": "Invalid input: see error.fields for a message per field.",
    "428": "Say which row_version you edited (If-Match or a row_version field).",
}


class Builder:
    def __init__(self) -> None:
        self.components = Components()
        self.paths: dict[str, dict[str, Any]] = {}

    def error(self, status: str) -> dict[str, Any]:
        if status == "304":
            return {"description": ERROR_TEXT[status]}
        return {"description": ERROR_TEXT[status],
                "content": {"application/json": {"schema": self.components.ref(S.ErrorSchema)}}}

    def json(self, schema: type[Schema] | dict[str, Any], description: str, *,
             etag: bool = False, link: bool = False, location: bool = False) -> dict[str, Any]:
        body = self.components.ref(schema) if isinstance(schema, type) else schema
        response: dict[str, Any] = {"description": description,
                                    "content": {"application/json": {"schema": body}}}
        headers: dict[str, Any] = {}
        if etag:
            headers["ETag"] = {"description": "Weak ETag of this representation; send it "
                                              "back in If-None-Match (or If-Match to edit).",
                               "schema": {"type": "string"}}
        if link:
            headers["Link"] = {"description": "RFC 8288 links: next, prev, first, last.",
                               "schema": {"type": "string"}}
        if location:
            headers["Location"] = {"description": "The new resource.",
                                   "schema": {"type": "string"}}
        if headers:
            response["headers"] = headers
        return response

    def add(self, path: str, method: str, *, summary: str, tag: str, scope: str | None,
            params: Iterable[dict[str, Any]] = (), body: dict[str, Any] | None = None,
            ok: dict[str, dict[str, Any]], errors: Iterable[str] = (),
            description: str = "") -> None:
        operation: dict[str, Any] = {
            "operationId": _operation_id(method, path), "summary": summary, "tags": [tag],
        }
        if description:
            operation["description"] = description
        if scope:
            # Scopes may be listed in a security requirement only for OAuth2/OpenID
            # schemes (OAS 3.0.3 §4.7.30): say it in words and in an extension.
            operation["description"] = (description + f" Needs the {scope} scope.").strip()
            operation["security"] = [{"bearerAuth": []}]
            operation["x-required-scope"] = scope
        else:
            operation["security"] = []
        if params:
            operation["parameters"] = list(params)
        if body is not None:
            operation["requestBody"] = body
        responses = dict(ok)
        for status in (*(["401", "403"] if scope else []), *errors):
            responses[status] = self.error(status)
        operation["responses"] = responses
        self.paths.setdefault(path, {})[method] = operation

    def json_body(self, schema: type[Schema], description: str = "") -> dict[str, Any]:
        result: dict[str, Any] = {"required": True, "content": {
            "application/json": {"schema": self.components.ref(schema)}}}
        if description:
            result["description"] = description
        return result

    def query_params(self, schema: type[Schema]) -> list[dict[str, Any]]:
        params = []
        for attr, field in schema().fields.items():
            spec = self.components.field(field)
            spec.pop("nullable", None)
            if "enum" in spec:
                spec["enum"] = [v for v in spec["enum"] if v is not None]
            param: dict[str, Any] = {"name": field.data_key or attr, "in": "query",
                                     "required": False, "schema": spec}
            if "description" in spec:
                param["description"] = spec.pop("description")
            params.append(param)
        return params


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[{}]", "", path.removeprefix("/api/v1/")).replace(".", "_")
    return method + "_" + re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_")


def _path_id(name: str, what: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}


IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                 "description": "An ETag from an earlier response: 304 if unchanged.",
                 "schema": {"type": "string"}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "description": 'The row_version you edited, e.g. "3" (or the ETag you read). '
                           "Required on PUT unless the body has row_version; a stale one "
                           "is 409.",
            "schema": {"type": "string"}}


def openapi_document(base_url: str) -> dict[str, Any]:
    b = Builder()
    c = b.components
    read, write, review = "catalog:read", "catalog:write", "review"
    skill_id, version_id = _path_id("skill_id", "skill"), _path_id("version_id", "version")
    credential_id = _path_id("credential_id", "micro-credential")
    reading = ["304", "404"]

    b.add("/api/v1/skills", "get", summary="List skills", tag="skills", scope=read,
          params=[*b.query_params(S.SkillListQuerySchema), IF_NONE_MATCH],
          ok={"200": b.json(S.SkillPageSchema, "A page of skills.", etag=True, link=True)},
          errors=["304", "422"])
    b.add("/api/v1/skills", "post", summary="Create a skill", tag="skills", scope=write,
          body=b.json_body(SkillInputSchema),
          ok={"201": b.json(S.SkillSchema, "Created.", etag=True, location=True)},
          errors=["413", "415", "422"])
    b.add("/api/v1/skills/{skill_id}", "get", summary="Read a skill", tag="skills",
          scope=read, params=[skill_id, IF_NONE_MATCH],
          ok={"200": b.json(S.SkillSchema, "The skill.", etag=True)}, errors=reading)
    b.add("/api/v1/skills/{skill_id}", "put", summary="Replace a skill", tag="skills",
          scope=write, params=[skill_id, IF_MATCH], body=b.json_body(S.SkillUpdateSchema),
          ok={"200": b.json(S.SkillSchema, "Saved.", etag=True)},
          errors=["404", "409", "413", "415", "422", "428"])
    b.add("/api/v1/skills/{skill_id}", "delete", summary="Delete an unused skill",
          tag="skills", scope=write, params=[skill_id, IF_MATCH],
          ok={"204": {"description": "Deleted."}}, errors=["404", "409", "422"],
          description="A skill that is part of a micro-credential cannot be deleted (409).")

    b.add("/api/v1/credentials", "get", summary="List micro-credentials (latest versions)",
          tag="credentials", scope=read,
          params=[*b.query_params(S.CredentialListQuerySchema), IF_NONE_MATCH],
          ok={"200": b.json(S.VersionPageSchema, "A page of latest versions.", etag=True,
                            link=True)}, errors=["304", "422"])
    b.add("/api/v1/credentials", "post", summary="Create a micro-credential (draft v1)",
          tag="credentials", scope=write, body=b.json_body(CredentialInputSchema),
          ok={"201": b.json(S.VersionSchema, "Created: its first version, a draft.",
                            etag=True, location=True)}, errors=["413", "415", "422"])
    b.add("/api/v1/credentials/{credential_id}", "get",
          summary="Read a micro-credential and its versions", tag="credentials", scope=read,
          params=[credential_id, IF_NONE_MATCH],
          ok={"200": b.json(S.CredentialSchema, "The micro-credential.", etag=True)},
          errors=reading)
    b.add("/api/v1/credentials/{credential_id}/versions", "post",
          summary="Start a new draft version", tag="credentials", scope=write,
          params=[credential_id],
          ok={"201": b.json(S.VersionSchema, "The new draft (a copy of the latest version).",
                            etag=True, location=True)}, errors=["404", "409"],
          description="Refused (409) while another version is still a draft, in review or "
                      "approved.")

    b.add("/api/v1/versions/{version_id}", "get", summary="Read a version", tag="versions",
          scope=read, params=[version_id, IF_NONE_MATCH],
          ok={"200": b.json(S.VersionSchema, "The version.", etag=True)}, errors=reading)
    b.add("/api/v1/versions/{version_id}", "put", summary="Edit a draft", tag="versions",
          scope=write, params=[version_id, IF_MATCH],
          body=b.json_body(S.CredentialUpdateSchema),
          ok={"200": b.json(S.VersionSchema, "Saved.", etag=True)},
          errors=["404", "409", "413", "415", "422", "428"],
          description="Only a draft can be edited (409 otherwise): a published version never "
                      "changes; start a new version instead.")
    b.add("/api/v1/versions/{version_id}/transitions", "post",
          summary="Submit, withdraw, publish or retire a version", tag="versions",
          scope=write, params=[version_id, IF_MATCH],
          body=b.json_body(S.TransitionInputSchema),
          ok={"200": b.json(S.VersionSchema, "The version in its new state.", etag=True)},
          errors=["404", "409", "413", "415", "422"],
          description="A transition not allowed from the current state is refused (409) "
                      "and changes nothing. Publishing retires the previously published "
                      "version.")
    b.add("/api/v1/versions/{version_id}/reviews", "get", summary="The version's reviews",
          tag="reviews", scope=read, params=[version_id, IF_NONE_MATCH],
          ok={"200": b.json(S.ReviewListSchema, "Every review, oldest first.", etag=True)},
          errors=reading)
    b.add("/api/v1/versions/{version_id}/reviews", "post", summary="Review a version",
          tag="reviews", scope=review, params=[version_id, IF_MATCH],
          body=b.json_body(S.ReviewCreateSchema, "Score every rubric criterion (GET "
                                                  "/api/v1/rubric) and decide."),
          ok={"201": b.json(S.ReviewSchema, "Recorded; the decision was applied.",
                            location=True)},
          errors=["404", "409", "413", "415", "422"],
          description="Whoever wrote or edited the version cannot review it (403).")
    b.add("/api/v1/versions/{version_id}/diff/{other_id}", "get",
          summary="Compare two versions of a micro-credential", tag="versions", scope=read,
          params=[version_id, _path_id("other_id", "other version"), IF_NONE_MATCH],
          ok={"200": b.json(S.DiffSchema, "The fields that differ.", etag=True)},
          errors=["304", "404", "422"])

    b.add("/api/v1/rubric", "get", summary="The quality-review rubric", tag="reviews",
          scope=read, params=[IF_NONE_MATCH],
          ok={"200": b.json(S.RubricSchema, "Levels, lenses and criteria.", etag=True)},
          errors=["304"])
    b.add("/api/v1/issuer", "get", summary="The token's issuer profile", tag="issuer",
          scope=read, params=[IF_NONE_MATCH],
          ok={"200": b.json(S.IssuerSchema, "The issuer.", etag=True)}, errors=["304"])
    _import_export_paths(b, read, write)
    _pathway_paths(b, read, write, review)
    _tracking_paths(b)
    _badge_paths(b)
    _records_paths(b)
    _verify_paths(b)

    b.add("/api/v1/openapi.json", "get", summary="This document", tag="meta", scope=None,
          ok={"200": b.json({"type": "object"}, "OpenAPI 3.0.3 document.", etag=True)})

    for cls in (ReviewInputSchema, S.ErrorSchema):
        c.ref(cls)
    return add_examples({
        "openapi": "3.0.3",
        "info": {"title": "MicroCred catalog API", "version": __version__,
                 "description": "The institution's micro-credential catalog: skills, "
                                "micro-credentials and their versions, lifecycle, quality "
                                "reviews, import/export; courses with their offerings and "
                                "rosters; demonstrations recorded by autograders, imported "
                                "in bulk and read back; awards. Authenticate "
                                "with a per-issuer API token: 'Authorization: Bearer "
                                "mc_...'. Errors answer {error: {code, title, message, "
                                "fields, request_id}}: code and the field names never "
                                "change; title, message and MicroCred's own field messages "
                                "follow Accept-Language (Canadian French for fr, fr-CA …; "
                                "English otherwise)."},
        "servers": [{"url": base_url}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in ("skills", "credentials", "versions", "reviews",
                                      "pathways", "issuer", "catalog", "courses",
                                      "demonstrations", "awards", "records", "verify",
                                      "meta")],
        "paths": b.paths,
        "components": {
            "schemas": dict(sorted(c.schemas.items())),
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "mc_<prefix>_<secret>",
                "description": "A per-issuer API token with one or more scopes: " +
                               "; ".join(f"{scope.value} ({text.rstrip('.').lower()})"
                                         for scope, text in SCOPE_DESCRIPTIONS.items()) +
                               "."}},
        },
    })


def _import_export_paths(b: Builder, read: str, write: str) -> None:
    """Import/export (lti_tool.services.catalog_io)."""
    document = {"type": "object", "description": "The whole catalog (issuer profile, skills, "
                                                 "micro-credentials with every version)."}
    csv_text = {"type": "string"}
    dry_run = b.query_params(S.ImportQuerySchema)
    report = b.json(S.ImportReportSchema, "Applied (or, with dry_run, what would be).")
    problems = {"description": "Problems found: nothing was applied. error.fields has the "
                               "messages by location (skills[3].code, row 4); report has "
                               "the whole import report. Also a body that is not JSON.",
                "content": {"application/json": {"schema": b.components.ref(
                    S.ErrorSchema)}}}
    b.add("/api/v1/catalog/export", "get", summary="Export the catalog as JSON",
          tag="catalog", scope=read, params=[IF_NONE_MATCH],
          ok={"200": b.json(document, "The catalog document.", etag=True)}, errors=["304"])
    b.add("/api/v1/catalog/import", "post", summary="Import a catalog document",
          tag="catalog", scope=write, params=dry_run,
          body={"required": True, "content": {"application/json": {"schema": document}}},
          ok={"200": report, "422": problems}, errors=["413", "415"],
          description="Everything is validated first; on any problem nothing is applied.")
    b.add("/api/v1/skills.csv", "get", summary="Export skills as CSV", tag="catalog",
          scope=read, params=[IF_NONE_MATCH, *b.query_params(S.CsvExportQuerySchema)],
          ok={"200": {"description": "One skill per row, with a header row; the French "
                                     "texts in the name_fr, description_fr and criteria_fr "
                                     "columns.",
                      "headers": {"ETag": {"schema": {"type": "string"}}},
                      "content": {"text/csv": {"schema": csv_text}}}}, errors=["304"])
    b.add("/api/v1/skills.csv", "post", summary="Import skills from CSV", tag="catalog",
          scope=write, params=dry_run,
          body={"required": True, "content": {"text/csv": {"schema": csv_text}}},
          ok={"200": report, "422": problems}, errors=["413", "415"],
          description="Creates or updates skills by code. Everything is validated first; on "
                      "any problem nothing is applied. The separator (comma, semicolon or "
                      "tab) is found from the header row; the text may be UTF-8 (with or "
                      "without a byte-order mark) or Windows-1252.")


def _pathway_paths(b: Builder, read: str, write: str, review: str) -> None:
    """Pathways and learners' progress on them (lti_tool.web.api.pathways)."""
    from lti_tool.domain.pathways import PathwayInputSchema
    from lti_tool.web.api import pathway_schemas as P

    pathway_id = _path_id("pathway_id", "pathway")
    version_id = _path_id("version_id", "pathway version")
    b.add("/api/v1/pathways", "get", summary="List pathways (latest versions)",
          tag="pathways", scope=read,
          params=[*b.query_params(P.PathwayListQuerySchema), IF_NONE_MATCH],
          ok={"200": b.json(P.PathwayVersionPageSchema, "A page of latest versions.",
                            etag=True, link=True)}, errors=["304", "422"])
    b.add("/api/v1/pathways", "post", summary="Create a pathway (draft v1)", tag="pathways",
          scope=write, body=b.json_body(PathwayInputSchema),
          ok={"201": b.json(P.PathwayVersionSchema, "Created: its first version, a draft.",
                            etag=True, location=True)}, errors=["413", "415", "422"],
          description="Steps name the issuer's micro-credentials by code, in groups with a "
                      "rule (all, choose k, at least N credits or hours); order pairs say "
                      "which step comes first. Refused (422, every problem by field): an "
                      "unknown or repeated credential, a rule no learner can meet, a "
                      "cycle in the order or across pathways.")
    b.add("/api/v1/pathways/{pathway_id}", "get", summary="Read a pathway and its versions",
          tag="pathways", scope=read, params=[pathway_id, IF_NONE_MATCH],
          ok={"200": b.json(P.PathwaySchema, "The pathway.", etag=True)},
          errors=["304", "404"])
    b.add("/api/v1/pathways/{pathway_id}/versions", "post",
          summary="Start a new draft version of a pathway", tag="pathways", scope=write,
          params=[pathway_id],
          ok={"201": b.json(P.PathwayVersionSchema, "The new draft.", etag=True,
                            location=True)}, errors=["404", "409"],
          description="Refused (409) while another version is still a draft, in review or "
                      "approved.")
    b.add("/api/v1/pathway-versions/{version_id}", "get", summary="Read a pathway version",
          tag="pathways", scope=read, params=[version_id, IF_NONE_MATCH],
          ok={"200": b.json(P.PathwayVersionSchema, "The version.", etag=True)},
          errors=["304", "404"])
    b.add("/api/v1/pathway-versions/{version_id}", "put", summary="Edit a draft pathway",
          tag="pathways", scope=write, params=[version_id, IF_MATCH],
          body=b.json_body(P.PathwayUpdateSchema),
          ok={"200": b.json(P.PathwayVersionSchema, "Saved.", etag=True)},
          errors=["404", "409", "413", "415", "422", "428"],
          description="Only a draft can be edited (409 otherwise).")
    b.add("/api/v1/pathway-versions/{version_id}/transitions", "post",
          summary="Submit, withdraw, publish or retire a pathway version", tag="pathways",
          scope=write, params=[version_id, IF_MATCH],
          body=b.json_body(S.TransitionInputSchema),
          ok={"200": b.json(P.PathwayVersionSchema, "The version in its new state.",
                            etag=True)},
          errors=["404", "409", "413", "415", "422"],
          description="Submitting and publishing check the pathway against the catalog now "
                      "(422: a step or the target without a published version, versions "
                      "that count but do not exist). Publishing retires the previous "
                      "version and awards the program credential to learners who already "
                      "hold what the pathway asks for.")
    b.add("/api/v1/pathway-versions/{version_id}/reviews", "get",
          summary="The pathway version's reviews", tag="pathways", scope=read,
          params=[version_id, IF_NONE_MATCH],
          ok={"200": b.json(P.PathwayReviewListSchema, "Every review, oldest first.",
                            etag=True)}, errors=["304", "404"])
    b.add("/api/v1/pathway-versions/{version_id}/reviews", "post",
          summary="Review a pathway version", tag="pathways", scope=review,
          params=[version_id, IF_MATCH],
          body=b.json_body(S.ReviewCreateSchema, "Score every rubric criterion (GET "
                                                  "/api/v1/rubric) and decide."),
          ok={"201": b.json(S.ReviewSchema, "Recorded; the decision was applied.",
                            location=True)},
          errors=["404", "409", "413", "415", "422"],
          description="The same rubric and rules as micro-credentials: whoever wrote or "
                      "edited the version cannot review it (403).")
    b.add("/api/v1/learners/{person_id}/pathways", "get",
          summary="A learner's progress on the pathways", tag="pathways",
          scope="awards:read", params=[_path_id("person_id", "learner"), IF_NONE_MATCH],
          ok={"200": b.json(P.LearnerPathwayListSchema,
                            "Every published pathway with the learner's progress.",
                            etag=True)},
          errors=["304", "404"],
          description="Per pathway: steps earned (with a version that counts), each group's "
                      "rule, credits, hours and course credit earned so far, the next "
                      "steps, and whether the program credential was awarded. 404 for a "
                      "learner without any award of the token's institution.")


def _tracking_paths(b: Builder) -> None:
    """Demonstrations and awards (lti_tool.web.api.tracking)."""
    from lti_tool.services.demonstration_import import COLUMNS, MAX_BYTES, MAX_ROWS
    from lti_tool.web.api import tracking_schemas as T

    write, read = "demonstrations:write", "awards:read"
    problems = {"description": "Problems found: nothing was applied. error.fields has the "
                               "messages by row (row 4); report has the whole import report.",
                "content": {"application/json": {"schema": b.components.ref(
                    S.ErrorSchema)}}}
    idempotency_key = {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "A unique key per demonstration (e.g. a UUID), 1-255 visible ASCII "
                       "characters. A retry with the same key and body gets the first "
                       "response again (header Idempotent-Replayed: true) and records "
                       "nothing; the same key with another body is 422; while the first "
                       "request runs, 409. Kept for 24 hours.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                   "pattern": "^[\\x21-\\x7e]+$"}}
    b.add("/api/v1/demonstrations", "post", summary="Record a demonstration",
          tag="demonstrations", scope=write, params=[idempotency_key],
          body=b.json_body(T.DemonstrationInputSchema,
                           "Give exactly one of offering_id and context, and exactly one "
                           "learner identifier."),
          ok={"201": b.json(T.DemonstrationResultSchema,
                            "Recorded; awards lists any credential it completed.")},
          errors=["404", "409", "413", "415", "422"],
          description="Appends one demonstration (pass/fail) for a learner on the course's "
                      "roster and evaluates awards with the same engine as the instructor's "
                      "grid. A course (offering or platform ids) of another institution is "
                      "404. Idempotent with an Idempotency-Key.")
    b.add("/api/v1/demonstrations/import", "post",
          summary="Import demonstrations from CSV", tag="demonstrations", scope=write,
          params=b.query_params(T.CourseQuerySchema),
          body={"required": True, "content": {"text/csv": {"schema": {
              "type": "string", "description": "A header row naming the columns "
                                               f"({', '.join(COLUMNS)}), then one "
                                               "demonstration per row."}}}},
          ok={"200": b.json(T.DemonstrationImportReportSchema,
                            "Applied (or, with dry_run, what would be)."),
              "422": problems},
          errors=["404", "413", "415"],
          description=f"At most {MAX_ROWS:,} rows and {MAX_BYTES // 1_000_000} MB. Columns "
                      "learner (platform user id, email or institutional id), skill_code, "
                      "outcome (pass/fail), date (ISO date or date-time, not in the "
                      "future) are required; evidence_url, method and note are optional. "
                      "Every row is validated first; on any problem nothing is applied. "
                      "Rows identical to demonstrations already recorded in the course "
                      "are skipped. Give offering_id, or the course's context_id (with "
                      "issuer, client_id and deployment_id only when two of the "
                      "institution's platforms use that context id: 409 otherwise).")
    _course_paths(b)
    b.add("/api/v1/awards", "get", summary="List awards", tag="awards", scope=read,
          params=[*b.query_params(T.AwardListQuerySchema), IF_NONE_MATCH],
          ok={"200": b.json(T.AwardPageSchema, "A page of awards, oldest first.",
                            etag=True, link=True)},
          errors=["304", "422"],
          description="Awards of the token's institution, wherever they were earned.")
    b.add("/api/v1/awards/{award_id}", "get", summary="Read an award", tag="awards",
          scope=read,
          params=[{"name": "award_id", "in": "path", "required": True,
                   "description": "The award's id or its public_id.",
                   "schema": {"type": "string", "minLength": 1, "maxLength": 40}},
                  IF_NONE_MATCH],
          ok={"200": b.json(T.AwardSchema, "The award.", etag=True)}, errors=["304", "404"])


def _course_paths(b: Builder) -> None:
    """Courses, rosters, offerings and demonstration reads (lti_tool.web.api.courses)."""
    from lti_tool.web.api import tracking_schemas as T

    read, offer = "courses:read", "offerings:write"
    course_id = _path_id("course_id", "course")
    b.add("/api/v1/courses", "get", summary="List courses with their offerings",
          tag="courses", scope=read,
          params=[*b.query_params(T.CourseListQuerySchema), IF_NONE_MATCH],
          ok={"200": b.json(T.CoursePageSchema, "A page of courses, newest first.",
                            etag=True, link=True)},
          errors=["304", "422"],
          description="The courses launched from the institution's platforms, each with the "
                      "micro-credentials offered there: their ids are the offering_id a "
                      "demonstration or an import names. ?context_id= finds a course by "
                      "the platform's own id.")
    b.add("/api/v1/courses/{course_id}", "get", summary="Read a course", tag="courses",
          scope=read, params=[course_id, IF_NONE_MATCH],
          ok={"200": b.json(T.CourseSchema, "The course and its offerings.", etag=True)},
          errors=["304", "404"])
    b.add("/api/v1/courses/{course_id}/roster", "get", summary="The course's roster",
          tag="courses", scope=read,
          params=[course_id, *b.query_params(T.RosterQuerySchema), IF_NONE_MATCH],
          ok={"200": b.json(T.RosterPageSchema, "A page of members, by account id.",
                            etag=True, link=True)},
          errors=["304", "404", "422"],
          description="Members as the platform's member list (NRPS) and launches recorded "
                      "them, with the identifiers a demonstration's learner takes.")
    b.add("/api/v1/courses/{course_id}/offerings", "post",
          summary="Offer a micro-credential in a course", tag="courses", scope=offer,
          params=[course_id], body=b.json_body(T.OfferingInputSchema),
          ok={"201": b.json(T.OfferingSchema, "Offered."),
              "200": b.json(T.OfferingSchema, "It was offered already: nothing changed.")},
          errors=["404", "409", "413", "415", "422"],
          description="Only a published micro-credential of the institution's catalog can "
                      "be offered (409 not_published). Idempotent; a detached offering is "
                      "offered again.")
    b.add("/api/v1/offerings/{offering_id}", "delete", summary="Detach an offering",
          tag="courses", scope=offer, params=[_path_id("offering_id", "offering")],
          ok={"200": b.json(T.OfferingSchema, "Detached (or detached already).")},
          errors=["404"],
          description="Nothing new is awarded through it; its demonstrations and awards "
                      "stay. Idempotent.")
    b.add("/api/v1/demonstrations", "get", summary="List demonstrations",
          tag="demonstrations", scope=read,
          params=[*b.query_params(T.DemonstrationListQuerySchema), IF_NONE_MATCH],
          ok={"200": b.json(T.DemonstrationPageSchema, "A page of demonstrations, in the "
                                                       "order they were recorded.",
                            etag=True, link=True)},
          errors=["304", "404", "422"],
          description="Demonstrations recorded in the institution's courses, corrected ones "
                      "included (supersedes_id and superseded_by link a correction and the "
                      "record it replaced). Filter by course, offering, person and since "
                      "(recorded at or after) to read only what is new.")


def _records_paths(b: Builder) -> None:
    """The registrar's record for student information systems (lti_tool.web.api.records)."""
    from lti_tool.web.api import records_schemas as R

    b.add("/api/v1/records/awards", "get", summary="The registrar's record: awards",
          tag="records", scope="records:read",
          params=[*b.query_params(R.RecordQuerySchema), IF_NONE_MATCH],
          ok={"200": b.json(R.RecordAwardPageSchema, "A page of awards, in the order they "
                                                    "were made.", etag=True, link=True)},
          errors=["304", "422"],
          description="Every award of the institution across courses, platforms and routes "
                      "(in a for-credit course, continuing education, PLAR, transfer), with "
                      "the credit, notional hours, transcript notation (English and French) "
                      "and the student numbers the learning platforms sent. For a term: "
                      "from and to. For a student information system's sync: changed_since "
                      "(made, revoked or flagged after that time), then follow the next "
                      "links.")


def _badge_paths(b: Builder) -> None:
    """Issued credentials (``web.api_badges``): JSON-LD or VC-JWT by Accept, revocation,
    the learner's CLR."""
    from lti_tool.web.api import tracking_schemas as T

    award_id = {"name": "award_id", "in": "path", "required": True,
                "description": "The award's id or its public_id.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 40}}
    accept = {"name": "Accept", "in": "header", "required": False,
              "description": "application/ld+json (default), application/json or "
                             "application/vc+jwt; anything else is 406.",
              "schema": {"type": "string"}}
    credential = {"type": "object", "description": "A signed OpenBadgeCredential (OB 3.0 "
                  "AchievementCredential, VCDM 2.0) with an eddsa-rdfc-2022 proof.",
                  "additionalProperties": True}
    b.add("/api/v1/awards/{award_id}/credential", "get",
          summary="The award's signed credential", tag="awards", scope="awards:read",
          params=[award_id, accept, IF_NONE_MATCH],
          ok={"200": {"description": "The credential: JSON-LD with its Data Integrity proof, "
                                     "or the VC-JWT (compact JWS; kid resolvable at "
                                     "/issuers/<slug>/jwks.json).",
                      "headers": {"ETag": {"description": "ETag of this representation.",
                                           "schema": {"type": "string"}}},
                      "content": {"application/ld+json": {"schema": credential},
                                  "application/json": {"schema": credential},
                                  "application/vc+jwt": {"schema": {
                                      "type": "string",
                                      "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\."
                                                 "[A-Za-z0-9_-]+$"}}}}},
          errors=["304", "404", "406"],
          description="Issued on first request if it was not yet. Verifiers can check it "
                      "offline against /issuers/<slug>/keys and its status list.")
    b.add("/api/v1/awards/{award_id}/revoke", "post", summary="Revoke an award",
          tag="awards", scope="awards:revoke", params=[award_id],
          body={"required": True, "content": {"application/json": {"schema": {
              "type": "object", "required": ["reason"], "additionalProperties": False,
              "properties": {"reason": {"type": "string", "minLength": 1,
                                        "maxLength": 2000,
                                        "description": "Why it is revoked (kept in the "
                                                       "award's record)."}}}}}},
          ok={"200": b.json({"type": "object", "properties": {
              "award": b.components.ref(T.AwardSchema),
              "credential": {"type": "object", "properties": {
                  "id": {"type": "string"}, "status": {"type": "string", "enum": ["revoked"]},
                  "status_list_credential": {"type": "string"},
                  "status_list_index": {"type": "integer"}}}}},
              "Revoked (or already revoked): the status-list bit is set and the list is "
              "signed again.")},
          errors=["404", "413", "415", "422"],
          description="Idempotent. Verifiers see the credential as revoked as soon as they "
                      "read the status list again (it may be cached for 5 minutes).")
    b.add("/api/v1/learners/{person_id}/clr", "get",
          summary="The learner's Comprehensive Learner Record (CLR 2.0)", tag="awards",
          scope="awards:read",
          params=[_path_id("person_id", "learner (person)"),
                  {**accept, "description": "application/ld+json (default) or "
                                            "application/json; anything else is 406."}],
          ok={"200": {"description": "A signed ClrCredential holding every non-revoked "
                                     "credential of this institution (embedded, signed) "
                                     "and their achievements.",
                      "content": {"application/ld+json": {"schema": {"type": "object"}},
                                  "application/json": {"schema": {"type": "object"}}}}},
          errors=["404", "406"],
          description="404 when the learner has no credential from this institution.")


def _verify_paths(b: Builder) -> None:
    """The public verifier (``web.credentials``): no token, any origin."""
    step = {"type": "object", "required": ["name", "status", "message"], "properties": {
        "name": {"type": "string", "description": "input, extract, parse, size, context, "
                                                  "type, issuer, credentialSubject, json-ld, "
                                                  "schema, proof (is the signature intact?), "
                                                  "issuer-key (is the key the issuer's?), "
                                                  "validity, status, credentials, ..."},
        "status": {"type": "string", "enum": ["ok", "warn", "error", "skipped"]},
        "message": {"type": "string"}}}
    report: dict[str, Any] = {
        "type": "object", "required": ["result", "reason", "steps"], "properties": {
        "result": {"type": "string", "enum": ["valid", "warning", "invalid"]},
        "reason": {"type": "string", "description": "The first error (or the warnings)."},
        "format": {"type": "string", "enum": ["json", "jwt", "png", "svg", "unknown"]},
        "kind": {"type": "string", "nullable": True,
                 "enum": ["ob", "endorsement", "clr", "status-list", None]},
        "revoked": {"type": "boolean"}, "suspended": {"type": "boolean"},
        "expired": {"type": "boolean"}, "notYetValid": {"type": "boolean"},
        "tooComplex": {"type": "boolean", "description": "Refused for its size or complexity "
                                                         "before any costly work (then 422)."},
        "steps": {"type": "array", "items": step},
        "claims": {"type": "object", "nullable": True, "additionalProperties": True,
                   "description": "What the credential says (issuer, achievement, subject, "
                                  "dates, image URLs as text): claims, confirmed only when "
                                  "result is not invalid."}}}
    body = {"type": "string", "format": "binary", "maxLength": 2 * 1024 * 1024}
    b.add("/api/v1/verify", "post", summary="Verify a credential (JSON, VC-JWT, PNG or SVG)",
          tag="verify", scope=None,
          body={"required": True, "description": "The credential itself, up to 2 MB: JSON "
                "(OB 3.0 / CLR 2.0 with an embedded proof), a VC-JWT, or a baked PNG or "
                "SVG; or multipart/form-data with a 'file' part.",
                "content": {"application/ld+json": {"schema": {"type": "object"}},
                            "application/json": {"schema": {"type": "object"}},
                            "application/vc+jwt": {"schema": {"type": "string"}},
                            "image/png": {"schema": body},
                            "image/svg+xml": {"schema": body},
                            "multipart/form-data": {"schema": {
                                "type": "object", "properties": {"file": body}}}}},
          ok={"200": b.json(report, "The step-by-step verification report (also for an "
                                    "invalid credential: see result and reason)."),
              "422": b.json({**report, "properties": {
                  **report["properties"], "error": {"type": "object", "properties": {
                      "code": {"type": "string", "enum": ["too_complex"]},
                      "title": {"type": "string"}, "message": {"type": "string"},
                      "request_id": {"type": "string"}}}}},
                  "Too large or too entangled to verify within the cost budget: the report "
                  "(tooComplex true) with error.code too_complex.")},
          errors=["413"],
          description="Anyone may call it (no token, no cookie; CORS open). Contexts are "
                      "bundled; keys and status lists come from this site's issuers, did:key, "
                      "or another institution's published profile (https, public addresses "
                      "only). A signature counts only when its key is shown to be the "
                      "issuer's. 400 when the body is empty.")
