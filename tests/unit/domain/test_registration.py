"""LTI Dynamic Registration: OpenID configuration parsing, registration request and response.

Inputs are built on the messages captured from a real Moodle 5.0.6 site
(``shared/fixtures/moodle-5.0.6``), altered where a test needs an older Moodle, Canvas or a
hostile document.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lti_tool.domain.registration import (
    CANVAS_PRIVACY_LEVEL_KEY,
    PLATFORM_CONFIGURATION_KEY,
    TOOL_CONFIGURATION_KEY,
    PlatformConfiguration,
    RegistrationError,
    ToolUrls,
    build_registration_request,
    parse_openid_configuration,
    parse_registration_response,
)


def _fixture_dir() -> Path:
    local = Path(__file__).parents[3].parent / "shared" / "fixtures" / "moodle-5.0.6"
    return local if local.is_dir() else Path("/work/shared/fixtures/moodle-5.0.6")


def _load(name: str) -> Any:
    return json.loads((_fixture_dir() / name).read_text(encoding="utf-8"))


MOODLE_LOCAL = "http://127.0.0.1:8088"
MOODLE_LOCAL_CONFIG_URL = MOODLE_LOCAL + "/mod/lti/openid-configuration.php"
MOODLE_HTTPS = "https://moodle.school.example"
MOODLE_HTTPS_CONFIG_URL = MOODLE_HTTPS + "/mod/lti/openid-configuration.php"

AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
AGS_LINEITEM_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
AGS_RESULT_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_WANTED = " ".join([AGS_LINEITEM, AGS_LINEITEM_RO, AGS_RESULT_RO, AGS_SCORE, NRPS])

TOOL = ToolUrls(
    base_url="http://127.0.0.1:5005",
    login_url="http://127.0.0.1:5005/lti/login",
    launch_url="http://127.0.0.1:5005/lti/launch",
    jwks_url="http://127.0.0.1:5005/.well-known/jwks.json",
    logo_url="http://127.0.0.1:5005/static/logo.svg",
)


def moodle_doc() -> dict[str, Any]:
    """The captured Moodle 5.0.6 OpenID configuration (served over http on 127.0.0.1)."""
    doc = _load("openid_configuration.json")
    assert isinstance(doc, dict)
    return doc


def moodle_https_doc() -> dict[str, Any]:
    """The captured configuration as a production Moodle on https would serve it."""
    text = json.dumps(moodle_doc()).replace(MOODLE_LOCAL, MOODLE_HTTPS)
    doc = json.loads(text)
    assert isinstance(doc, dict)
    return doc


def old_moodle_doc() -> dict[str, Any]:
    """What Moodle 3.10-4.0 served: trailing-space key, no authorization_endpoint, and
    messages_supported as strings (with the pre-final ``LtiResourceLink`` name)."""
    doc = moodle_https_doc()
    platform = doc.pop(PLATFORM_CONFIGURATION_KEY)
    platform["messages_supported"] = ["LtiResourceLink", "LtiDeepLinkingRequest"]
    platform["placements"] = ["AddContentMenu"]
    platform["version"] = "3.11.4 (Build: 20211108)"
    doc[PLATFORM_CONFIGURATION_KEY + " "] = platform
    del doc["authorization_endpoint"]
    return doc


CANVAS_CONFIG_URL = "https://school.instructure.com/api/lti/security/openid-configuration"


def canvas_doc() -> dict[str, Any]:
    """Instructure-hosted Canvas, as served to https://school.instructure.com ."""
    return {
        "issuer": "https://canvas.instructure.com",
        "authorization_endpoint": "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "registration_endpoint": "https://school.instructure.com/api/lti/registrations",
        "jwks_uri": "https://sso.canvaslms.com/api/lti/security/jwks",
        "token_endpoint": "https://sso.canvaslms.com/login/oauth2/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": [
            "openid",
            AGS_LINEITEM,
            AGS_LINEITEM_RO,
            AGS_RESULT_RO,
            AGS_SCORE,
            NRPS,
            "https://canvas.instructure.com/lti/public_jwk/scope/update",
            "https://canvas.instructure.com/lti/account_lookup/scope/show",
            "https://canvas.instructure.com/lti-ags/progress/scope/show",
        ],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "picture", "email", "name", "given_name", "family_name"],
        "subject_types_supported": ["public"],
        "authorization_server": "sso.canvaslms.com",
        PLATFORM_CONFIGURATION_KEY: {
            "product_family_code": "canvas",
            "version": "vCloud",
            "messages_supported": [
                {
                    "type": "LtiResourceLinkRequest",
                    "placements": ["account_navigation", "course_navigation", "link_selection"],
                },
                {
                    "type": "LtiDeepLinkingRequest",
                    "placements": ["assignment_selection", "link_selection", "editor_button"],
                },
            ],
            "variables": ["ResourceLink.id", "Canvas.environment.test"],
            "https://canvas.instructure.com/lti/account_name": "School of Testing",
            "https://canvas.instructure.com/lti/account_lti_guid": "abc123:canvas-lms",
        },
    }


def parse_moodle_local(doc: object) -> PlatformConfiguration:
    return parse_openid_configuration(
        doc, openid_configuration_url=MOODLE_LOCAL_CONFIG_URL, allow_http=True
    )


def parse_moodle_https(doc: object) -> PlatformConfiguration:
    return parse_openid_configuration(
        doc, openid_configuration_url=MOODLE_HTTPS_CONFIG_URL, allow_http=False
    )


def parse_canvas(doc: object, url: str = CANVAS_CONFIG_URL) -> PlatformConfiguration:
    return parse_openid_configuration(doc, openid_configuration_url=url, allow_http=False)


# --------------------------------------------------------------------------------------------
# parse_openid_configuration: Moodle
# --------------------------------------------------------------------------------------------


def test_captured_moodle_5_configuration_parses() -> None:
    config = parse_moodle_local(moodle_doc())

    assert config.issuer == MOODLE_LOCAL
    assert config.authorization_endpoint == MOODLE_LOCAL + "/mod/lti/auth.php"
    assert config.token_endpoint == MOODLE_LOCAL + "/mod/lti/token.php"
    assert config.jwks_uri == MOODLE_LOCAL + "/mod/lti/certs.php"
    assert config.registration_endpoint == MOODLE_LOCAL + "/mod/lti/openid-registration.php"
    assert config.product_family_code == "moodle"
    assert config.version == "5.0.6+ (Build: 20260403)"
    assert config.messages_supported == (
        ("LtiResourceLinkRequest", ()),
        ("LtiDeepLinkingRequest", ("ContentArea",)),
    )
    assert config.scopes_supported == tuple(moodle_doc()["scopes_supported"])
    assert config.token_endpoint_auth_signing_alg_values_supported == ("RS256",)


def test_moodle_on_https_parses_without_allow_http() -> None:
    config = parse_moodle_https(moodle_https_doc())
    assert config.issuer == MOODLE_HTTPS
    assert config.registration_endpoint == MOODLE_HTTPS + "/mod/lti/openid-registration.php"


def test_old_moodle_trailing_space_key_and_missing_authorization_endpoint() -> None:
    config = parse_moodle_https(old_moodle_doc())

    assert config.authorization_endpoint == MOODLE_HTTPS + "/mod/lti/auth.php"
    # Only readable if the trailing-space key was recognised:
    assert config.product_family_code == "moodle"
    assert config.version == "3.11.4 (Build: 20211108)"
    assert config.messages_supported == (
        ("LtiResourceLinkRequest", ()),
        ("LtiDeepLinkingRequest", ()),
    )


def test_old_moodle_other_keys_with_stray_whitespace_are_read() -> None:
    doc = old_moodle_doc()
    doc["issuer "] = doc.pop("issuer")
    doc[" jwks_uri"] = doc.pop("jwks_uri")
    platform = doc[PLATFORM_CONFIGURATION_KEY + " "]
    platform["product_family_code "] = platform.pop("product_family_code")

    config = parse_moodle_https(doc)

    assert config.issuer == MOODLE_HTTPS
    assert config.jwks_uri == MOODLE_HTTPS + "/mod/lti/certs.php"
    assert config.product_family_code == "moodle"


def test_old_moodle_in_a_subdirectory_derives_auth_url_under_the_issuer_path() -> None:
    text = json.dumps(old_moodle_doc()).replace(MOODLE_HTTPS, "https://school.example/moodle")
    config = parse_openid_configuration(
        json.loads(text),
        openid_configuration_url="https://school.example/moodle/mod/lti/openid-configuration.php",
        allow_http=False,
    )
    assert config.authorization_endpoint == "https://school.example/moodle/mod/lti/auth.php"


def test_moodle_recognised_by_registration_path_when_product_code_absent() -> None:
    doc = old_moodle_doc()
    del doc[PLATFORM_CONFIGURATION_KEY + " "]["product_family_code"]

    config = parse_moodle_https(doc)

    assert config.product_family_code == ""
    assert config.authorization_endpoint == MOODLE_HTTPS + "/mod/lti/auth.php"


def test_missing_authorization_endpoint_is_not_guessed_for_other_platforms() -> None:
    doc = moodle_https_doc()
    del doc["authorization_endpoint"]
    doc[PLATFORM_CONFIGURATION_KEY]["product_family_code"] = "sakai"
    doc["registration_endpoint"] = MOODLE_HTTPS + "/lti/register"

    with pytest.raises(RegistrationError) as err:
        parse_moodle_https(doc)
    assert "authorization_endpoint" in err.value.public_message


# --------------------------------------------------------------------------------------------
# parse_openid_configuration: refusals
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [None, [], "issuer", 42])
def test_non_object_configuration_is_refused(doc: object) -> None:
    with pytest.raises(RegistrationError, match="not a JSON object"):
        parse_moodle_https(doc)


@pytest.mark.parametrize("field", ["issuer", "token_endpoint", "jwks_uri", "registration_endpoint"])
def test_missing_required_field_is_named(field: str) -> None:
    doc = moodle_https_doc()
    del doc[field]
    with pytest.raises(RegistrationError) as err:
        parse_moodle_https(doc)
    assert field in err.value.public_message


@pytest.mark.parametrize("field", ["issuer", "token_endpoint", "jwks_uri"])
def test_empty_required_field_is_named(field: str) -> None:
    doc = moodle_https_doc()
    doc[field] = "  "
    with pytest.raises(RegistrationError) as err:
        parse_moodle_https(doc)
    assert field in err.value.public_message


def test_http_moodle_is_refused_unless_allow_http() -> None:
    with pytest.raises(RegistrationError, match="https"):
        parse_openid_configuration(
            moodle_doc(), openid_configuration_url=MOODLE_LOCAL_CONFIG_URL, allow_http=False
        )
    # Same document, development mode: accepted.
    assert parse_moodle_local(moodle_doc()).issuer == MOODLE_LOCAL


def test_http_issuer_refused_even_when_fetched_over_https() -> None:
    doc = moodle_https_doc()
    doc["issuer"] = "http://moodle.school.example"
    with pytest.raises(RegistrationError) as err:
        parse_moodle_https(doc)
    assert "issuer" in err.value.public_message


@pytest.mark.parametrize("field", ["authorization_endpoint", "token_endpoint", "jwks_uri"])
def test_http_endpoint_in_https_configuration_is_refused(field: str) -> None:
    doc = moodle_https_doc()
    doc[field] = doc[field].replace("https://", "http://")
    with pytest.raises(RegistrationError) as err:
        parse_moodle_https(doc)
    assert field in err.value.public_message


def test_url_with_credentials_is_refused() -> None:
    doc = moodle_https_doc()
    doc["jwks_uri"] = "https://user:secret@moodle.school.example/mod/lti/certs.php"
    with pytest.raises(RegistrationError) as err:
        parse_moodle_https(doc)
    assert "jwks_uri" in err.value.public_message
    assert "secret" not in err.value.public_message


@pytest.mark.parametrize(
    "config_url",
    [
        "https://other.example/mod/lti/openid-configuration.php",
        "https://moodle.school.example:8443/mod/lti/openid-configuration.php",
        "https://evil.moodle.school.example/mod/lti/openid-configuration.php",
    ],
)
def test_issuer_not_matching_configuration_url_is_refused(config_url: str) -> None:
    with pytest.raises(RegistrationError) as err:
        parse_openid_configuration(
            moodle_https_doc(), openid_configuration_url=config_url, allow_http=False
        )
    assert "issuer" in err.value.public_message
    assert "other.example" not in err.value.public_message


def test_issuer_match_ignores_case_and_default_port() -> None:
    config = parse_openid_configuration(
        moodle_https_doc(),
        openid_configuration_url="https://Moodle.School.Example:443/mod/lti/openid-configuration.php",
        allow_http=False,
    )
    assert config.issuer == MOODLE_HTTPS


def test_registration_endpoint_on_another_host_is_refused() -> None:
    doc = moodle_https_doc()
    doc["registration_endpoint"] = "https://collector.evil.example/mod/lti/openid-registration.php"
    with pytest.raises(RegistrationError) as err:
        parse_moodle_https(doc)
    assert "registration endpoint" in err.value.public_message
    assert "evil" in err.value.log_detail


def test_issuer_with_query_is_refused() -> None:
    doc = moodle_https_doc()
    doc["issuer"] = MOODLE_HTTPS + "?tenant=1"
    with pytest.raises(RegistrationError, match="query"):
        parse_moodle_https(doc)


def test_rs256_must_be_offered_when_algorithms_are_listed() -> None:
    doc = moodle_https_doc()
    doc["id_token_signing_alg_values_supported"] = ["HS256", "none"]
    with pytest.raises(RegistrationError, match="RS256"):
        parse_moodle_https(doc)


def test_algorithms_key_absent_is_accepted() -> None:
    doc = moodle_https_doc()
    del doc["id_token_signing_alg_values_supported"]
    assert parse_moodle_https(doc).issuer == MOODLE_HTTPS


def test_malformed_scopes_supported_is_refused() -> None:
    doc = moodle_https_doc()
    doc["scopes_supported"] = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    with pytest.raises(RegistrationError, match="scopes_supported"):
        parse_moodle_https(doc)


def test_messages_supported_entries_without_type_are_skipped() -> None:
    doc = moodle_https_doc()
    doc[PLATFORM_CONFIGURATION_KEY]["messages_supported"].extend(
        [{"placements": ["ContentArea"]}, 7, {"type": ""}]
    )
    config = parse_moodle_https(doc)
    assert [kind for kind, _ in config.messages_supported] == [
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    ]


# --------------------------------------------------------------------------------------------
# parse_openid_configuration: Canvas
# --------------------------------------------------------------------------------------------


def test_canvas_configuration_parses() -> None:
    config = parse_canvas(canvas_doc())

    assert config.issuer == "https://canvas.instructure.com"
    assert config.authorization_endpoint == "https://sso.canvaslms.com/api/lti/authorize_redirect"
    assert config.jwks_uri == "https://sso.canvaslms.com/api/lti/security/jwks"
    assert config.registration_endpoint == "https://school.instructure.com/api/lti/registrations"
    assert config.product_family_code == "canvas"
    assert config.version == "vCloud"
    assert config.placements_for("LtiDeepLinkingRequest") == (
        "assignment_selection",
        "link_selection",
        "editor_button",
    )


@pytest.mark.parametrize(
    ("issuer", "sso"),
    [
        ("https://canvas.beta.instructure.com", "sso.beta.canvaslms.com"),
        ("https://canvas.test.instructure.com", "sso.test.canvaslms.com"),
    ],
)
def test_canvas_beta_and_test_environments_parse(issuer: str, sso: str) -> None:
    text = json.dumps(canvas_doc())
    text = text.replace('https://canvas.instructure.com"', issuer + '"')
    text = text.replace("sso.canvaslms.com", sso)
    text = text.replace("school.instructure.com", "school.beta.instructure.com")
    config = parse_canvas(json.loads(text), CANVAS_CONFIG_URL.replace("school.", "school.beta."))
    assert config.issuer == issuer
    assert config.jwks_uri == f"https://{sso}/api/lti/security/jwks"


def test_canvas_registration_endpoint_must_be_on_the_configuration_host() -> None:
    doc = canvas_doc()
    doc["registration_endpoint"] = "https://other-school.instructure.com/api/lti/registrations"
    with pytest.raises(RegistrationError) as err:
        parse_canvas(doc)
    assert "registration endpoint" in err.value.public_message


def test_canvas_issuer_cannot_bring_its_own_key_set() -> None:
    doc = canvas_doc()
    doc["jwks_uri"] = "https://school.instructure.com/api/lti/security/jwks"
    with pytest.raises(RegistrationError) as err:
        parse_canvas(doc)
    assert "jwks_uri" in err.value.public_message


def test_canvas_sso_host_of_another_environment_is_refused() -> None:
    doc = canvas_doc()
    doc["authorization_endpoint"] = "https://sso.beta.canvaslms.com/api/lti/authorize_redirect"
    with pytest.raises(RegistrationError, match="authorization_endpoint"):
        parse_canvas(doc)


def test_canvas_issuer_without_canvas_product_gets_the_standard_origin_check() -> None:
    doc = canvas_doc()
    doc[PLATFORM_CONFIGURATION_KEY]["product_family_code"] = "acme"
    with pytest.raises(RegistrationError) as err:
        parse_canvas(doc)
    assert "issuer" in err.value.public_message


def test_self_hosted_canvas_gets_the_standard_origin_check() -> None:
    text = json.dumps(canvas_doc())
    text = text.replace('canvas.instructure.com"', 'lms.school.example"')
    text = text.replace("sso.canvaslms.com", "lms.school.example")
    text = text.replace("school.instructure.com", "lms.school.example")
    doc = json.loads(text)
    config = parse_canvas(doc, "https://lms.school.example/api/lti/security/openid-configuration")
    assert config.issuer == "https://lms.school.example"

    doc["registration_endpoint"] = "https://elsewhere.example/api/lti/registrations"
    with pytest.raises(RegistrationError, match="registration endpoint"):
        parse_canvas(doc, "https://lms.school.example/api/lti/security/openid-configuration")


# --------------------------------------------------------------------------------------------
# build_registration_request
# --------------------------------------------------------------------------------------------


def _messages_by_type(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    messages = body[TOOL_CONFIGURATION_KEY]["messages"]
    return {m["type"]: m for m in messages}


def test_tool_urls_domain_is_the_base_netloc() -> None:
    assert TOOL.domain == "127.0.0.1:5005"


def test_request_for_captured_moodle() -> None:
    body = build_registration_request(parse_moodle_local(moodle_doc()), TOOL)

    assert body["application_type"] == "web"
    assert body["response_types"] == ["id_token"]
    assert body["grant_types"] == ["implicit", "client_credentials"]
    assert body["initiate_login_uri"] == "http://127.0.0.1:5005/lti/login"
    assert body["redirect_uris"] == ["http://127.0.0.1:5005/lti/launch"]
    assert body["jwks_uri"] == "http://127.0.0.1:5005/.well-known/jwks.json"
    assert body["logo_uri"] == "http://127.0.0.1:5005/static/logo.svg"
    assert body["client_name"] == "MicroCred"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["scope"] == ALL_WANTED

    tool_config = body[TOOL_CONFIGURATION_KEY]
    assert tool_config["domain"] == "127.0.0.1:5005"
    assert tool_config["target_link_uri"] == "http://127.0.0.1:5005/lti/launch"
    assert tool_config["claims"] == ["iss", "sub", "name", "given_name", "family_name", "email"]
    assert tool_config["description"]
    assert CANVAS_PRIVACY_LEVEL_KEY not in tool_config
    assert "custom_parameters" not in tool_config

    messages = _messages_by_type(body)
    assert set(messages) == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    deep_linking = messages["LtiDeepLinkingRequest"]
    assert deep_linking["target_link_uri"] == "http://127.0.0.1:5005/lti/launch"
    assert deep_linking["placements"] == ["ContentArea"]
    assert "placements" not in messages["LtiResourceLinkRequest"]
    assert all("custom_parameters" not in m for m in messages.values())


def test_request_matches_what_moodle_accepted() -> None:
    """Every field of the request Moodle 5.0.6 accepted is present with the same meaning."""
    sent = _load("dynamic_registration_exchange.json")["sent"]
    body = build_registration_request(parse_moodle_local(moodle_doc()), TOOL)

    assert set(sent) <= set(body)
    for key in (
        "application_type",
        "response_types",
        "grant_types",
        "initiate_login_uri",
        "redirect_uris",
        "jwks_uri",
        "token_endpoint_auth_method",
    ):
        assert body[key] == sent[key], key
    assert set(sent["scope"].split()) <= set(body["scope"].split())
    ours, theirs = body[TOOL_CONFIGURATION_KEY], sent[TOOL_CONFIGURATION_KEY]
    for key in ("claims", "domain", "target_link_uri"):
        assert ours[key] == theirs[key], key
    assert {m["type"] for m in theirs["messages"]} == set(_messages_by_type(body))


def test_request_json_round_trips() -> None:
    body = build_registration_request(parse_canvas(canvas_doc()), TOOL)
    assert json.loads(json.dumps(body)) == body


def test_scope_is_intersection_with_what_the_platform_offers() -> None:
    doc = moodle_https_doc()
    doc["scopes_supported"] = ["openid", AGS_SCORE, NRPS, "https://example/other"]
    body = build_registration_request(parse_moodle_https(doc), TOOL)
    assert body["scope"] == f"{AGS_SCORE} {NRPS}"


def test_scope_asks_for_all_when_platform_lists_none() -> None:
    doc = moodle_https_doc()
    del doc["scopes_supported"]
    body = build_registration_request(parse_moodle_https(doc), TOOL)
    assert body["scope"] == ALL_WANTED


def test_no_deep_linking_message_unless_platform_lists_it() -> None:
    doc = moodle_https_doc()
    doc[PLATFORM_CONFIGURATION_KEY]["messages_supported"] = [{"type": "LtiResourceLinkRequest"}]
    body = build_registration_request(parse_moodle_https(doc), TOOL)
    assert list(_messages_by_type(body)) == ["LtiResourceLinkRequest"]


def test_old_moodle_gets_deep_linking_without_placement() -> None:
    body = build_registration_request(parse_moodle_https(old_moodle_doc()), TOOL)
    deep_linking = _messages_by_type(body)["LtiDeepLinkingRequest"]
    assert deep_linking["target_link_uri"] == TOOL.launch_url
    assert "placements" not in deep_linking


def test_request_for_canvas() -> None:
    body = build_registration_request(
        parse_canvas(canvas_doc()), TOOL, client_name="MicroCred (test)", description="Badges."
    )

    tool_config = body[TOOL_CONFIGURATION_KEY]
    assert tool_config[CANVAS_PRIVACY_LEVEL_KEY] == "public"
    assert tool_config["description"] == "Badges."
    assert body["client_name"] == "MicroCred (test)"
    assert body["scope"] == ALL_WANTED
    messages = _messages_by_type(body)
    assert messages["LtiResourceLinkRequest"]["placements"] == ["course_navigation"]
    assert messages["LtiResourceLinkRequest"]["label"] == "MicroCred (test)"
    assert messages["LtiDeepLinkingRequest"]["placements"] == ["link_selection"]
    assert messages["LtiDeepLinkingRequest"]["target_link_uri"] == TOOL.launch_url


def test_empty_logo_is_left_out() -> None:
    tool = ToolUrls(
        base_url=TOOL.base_url,
        login_url=TOOL.login_url,
        launch_url=TOOL.launch_url,
        jwks_url=TOOL.jwks_url,
        logo_url="",
    )
    body = build_registration_request(parse_moodle_local(moodle_doc()), tool)
    assert "logo_uri" not in body


# --------------------------------------------------------------------------------------------
# parse_registration_response
# --------------------------------------------------------------------------------------------


def test_captured_moodle_response() -> None:
    response = _load("dynamic_registration_exchange.json")["response"]
    result = parse_registration_response(response)
    assert result.client_id == "PvsVMoA3kylQdkP"
    assert result.deployment_id == "2"
    assert result.raw == response


def test_canvas_style_response_without_deployment_id() -> None:
    response = {
        "client_id": "10000000000123",
        "application_type": "web",
        "client_name": "MicroCred",
        "scope": ALL_WANTED,
        TOOL_CONFIGURATION_KEY: {
            "domain": "microcred.example",
            "target_link_uri": "https://microcred.example/lti/launch",
            "https://canvas.instructure.com/lti/registration_config_url": (
                "https://school.instructure.com/api/lti/registrations/1/view"
            ),
        },
    }
    result = parse_registration_response(response)
    assert result.client_id == "10000000000123"
    assert result.deployment_id is None


def test_numeric_ids_become_strings() -> None:
    result = parse_registration_response(
        {"client_id": 10000000000123, TOOL_CONFIGURATION_KEY: {"deployment_id": 7}}
    )
    assert result.client_id == "10000000000123"
    assert result.deployment_id == "7"


@pytest.mark.parametrize("doc", [None, [], "PvsVMoA3kylQdkP", 3])
def test_non_object_response_is_refused(doc: object) -> None:
    with pytest.raises(RegistrationError, match="not a JSON object"):
        parse_registration_response(doc)


@pytest.mark.parametrize("client_id", [None, "", "   "])
def test_response_without_client_id_is_refused(client_id: object) -> None:
    response = copy.deepcopy(_load("dynamic_registration_exchange.json")["response"])
    if client_id is None:
        del response["client_id"]
    else:
        response["client_id"] = client_id
    with pytest.raises(RegistrationError) as err:
        parse_registration_response(response)
    assert "client_id" in err.value.public_message


@pytest.mark.parametrize("client_id", [True, ["abc"], {"id": "abc"}, 1.5])
def test_response_with_malformed_client_id_is_refused(client_id: object) -> None:
    with pytest.raises(RegistrationError, match="client_id"):
        parse_registration_response({"client_id": client_id})
