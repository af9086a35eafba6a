"""The OpenAPI document shows an example of what every route takes and returns, and every
example is valid against the schema it illustrates (a wrong example misleads more than
none): JSON Schema validation of each component's example, and every request and success
body, except files, has one."""

from __future__ import annotations

from typing import Any

import jsonschema

from lti_tool.web.api.openapi import openapi_document
from lti_tool.web.api.openapi_examples import BINARY_MEDIA


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema draft 4 (nullable → null allowed)."""
    if isinstance(node, list):
        return [_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "example"}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/definitions/")
    if out.pop("nullable", False):
        out = {**out, "type": [out["type"], "null"]} if "type" in out else \
            {"anyOf": [out, {"type": "null"}]}
    return out


def test_every_component_has_a_valid_example():
    document = openapi_document("http://localhost")
    schemas = document["components"]["schemas"]
    definitions = {name: _json_schema(schema) for name, schema in schemas.items()}
    problems = []
    for name, schema in schemas.items():
        assert "example" in schema, f"{name} has no example"
        validator = jsonschema.Draft4Validator({**definitions[name],
                                                "definitions": definitions})
        problems += [f"{name}{list(e.path)}: {e.message}"
                     for e in validator.iter_errors(schema["example"])]
    assert problems == []


def test_every_route_shows_what_it_takes_and_returns():
    document = openapi_document("http://localhost")
    schemas = document["components"]["schemas"]

    def shown(media: dict[str, Any]) -> bool:
        ref = media.get("schema", {}).get("$ref", "")
        return "example" in media or bool(ref and "example" in schemas[ref.rsplit("/", 1)[-1]])

    missing = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            bodies = [("request", mt, m) for mt, m in
                      operation.get("requestBody", {}).get("content", {}).items()]
            bodies += [(status, mt, m) for status, response in operation["responses"].items()
                       if status.startswith("2")
                       for mt, m in response.get("content", {}).items()]
            missing += [f"{method.upper()} {path} {where} {mt}" for where, mt, m in bodies
                        if mt not in BINARY_MEDIA and not shown(m)]
    assert missing == []
