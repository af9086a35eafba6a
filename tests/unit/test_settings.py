"""Settings resolution: production refuses to start half-configured, with one message that
names the environment variable to fix; development and test are usable out of the box."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lti_tool import create_app
from lti_tool.errors import ConfigurationError
from lti_tool.settings import SETTINGS, load_settings
from tests.conftest import REDIS_URL

PRODUCTION: dict[str, str] = {
    "MICROCRED_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret",
    "DATABASE_URL": "postgresql+psycopg://microcred@db.internal/microcred",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "PUBLIC_BASE_URL": "https://microcred.college.example",
}


def production(**changes: str | None) -> dict[str, str]:
    environ = dict(PRODUCTION)
    for key, value in changes.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


@pytest.fixture()
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """create_app reads os.environ: keep a developer's or CI's variables out of these tests."""
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.delenv("MICROCRED_INSTANCE_PATH", raising=False)
    yield


def test_complete_production_environment_loads():
    values = load_settings(environ=PRODUCTION)
    assert values["ENV"] == "production"
    assert values["SANDBOX_ENABLED"] is False
    assert values["ALLOW_HTTP_ISSUERS"] is False
    assert values["PUBLIC_BASE_URL"] == "https://microcred.college.example"
    assert values["LOG_FORMAT"] == "json"


def test_unset_environment_means_production():
    environ = production(MICROCRED_ENV=None)
    assert load_settings(environ=environ)["ENV"] == "production"
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_settings(environ={})


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL",
                                     "PUBLIC_BASE_URL"])
def test_production_names_the_missing_variable(missing):
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(environ=production(**{missing: None}))
    message = str(excinfo.value)
    assert f"Setting {missing} is required in production" in message
    assert "\n" not in message


@pytest.mark.parametrize("empty", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL"])
def test_production_treats_an_empty_variable_as_missing(empty):
    with pytest.raises(ConfigurationError, match=f"Setting {empty} is required"):
        load_settings(environ=production(**{empty: ""}))


def test_secret_value_is_never_echoed_in_errors():
    environ = production(PUBLIC_BASE_URL="http://microcred.college.example")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(environ=environ)
    assert PRODUCTION["SECRET_KEY"] not in str(excinfo.value)


@pytest.mark.parametrize("base_url", ["http://microcred.college.example", "microcred.example",
                                      "ftp://microcred.example", "https://",
                                      "https://microcred.example/?x=1"])
def test_production_refuses_a_non_https_public_url(base_url):
    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL must be an https:// URL"):
        load_settings(environ=production(PUBLIC_BASE_URL=base_url))


def test_production_refuses_the_sandbox():
    with pytest.raises(ConfigurationError, match="SANDBOX_ENABLED"):
        load_settings(environ=production(SANDBOX_ENABLED="true"))


def test_production_refuses_http_issuers():
    with pytest.raises(ConfigurationError, match="ALLOW_HTTP_ISSUERS"):
        load_settings(environ=production(ALLOW_HTTP_ISSUERS="1"))


def test_production_refuses_the_sandbox_passed_as_override():
    with pytest.raises(ConfigurationError, match="SANDBOX_ENABLED"):
        load_settings({"SANDBOX_ENABLED": True}, environ=PRODUCTION)


@pytest.mark.parametrize("env", ["prod", "Production", "staging"])
def test_unknown_environment_is_a_clear_error(env):
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(environ=production(MICROCRED_ENV=env))
    message = str(excinfo.value)
    assert "MICROCRED_ENV must be one of development, test, production" in message
    assert repr(env) in message


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_non_boolean_flag_is_a_clear_error(value):
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(environ={"MICROCRED_ENV": "development", "ALLOW_HTTP_ISSUERS": value})
    message = str(excinfo.value)
    assert "ALLOW_HTTP_ISSUERS" in message
    assert "boolean" in message


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("Yes", True), ("1", True),
                                               ("off", False), ("0", False), ("", False)])
def test_boolean_flags_accept_common_spellings(raw, expected):
    values = load_settings(environ={"MICROCRED_ENV": "development", "ALLOW_HTTP_ISSUERS": raw})
    assert values["ALLOW_HTTP_ISSUERS"] is expected


@pytest.mark.parametrize(("name", "raw", "expected"), [
    ("HTTP_TIMEOUT_SECONDS", "5s", "expected a number of seconds, got '5s'"),
    ("HTTP_TIMEOUT_SECONDS", "0", "expected a positive number"),
    ("REDIS_TIMEOUT_SECONDS", "nan", "expected a positive number"),
    ("RATE_LIMIT_LOGIN", "lots", "expected a rate limit such as '300 per minute'"),
    ("PORT", "80.5", "expected a whole number"),
    ("MAX_CONTENT_LENGTH", "-1", "expected a positive whole number"),
    ("CLOCK_SKEW_SECONDS", "-5", "expected zero or a positive whole number"),
    ("LOG_LEVEL", "verbose", "expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("LOG_FORMAT", "yaml", "expected one of text, json"),
])
def test_malformed_setting_is_a_clear_error(name, raw, expected):
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(environ={"MICROCRED_ENV": "development", name: raw})
    assert str(excinfo.value).startswith(f"Setting {name} is invalid: {expected}")


def test_log_level_is_case_insensitive():
    values = load_settings(environ={"MICROCRED_ENV": "development", "LOG_LEVEL": "debug"})
    assert values["LOG_LEVEL"] == "DEBUG"


def test_development_defaults_enable_the_sandbox():
    values = load_settings(environ={"MICROCRED_ENV": "development"})
    assert values["ENV"] == "development"
    assert values["SANDBOX_ENABLED"] is True
    assert values["ALLOW_HTTP_ISSUERS"] is True
    # Nothing is required: the demo runs with SQLite and an in-process store.
    assert values["DATABASE_URL"] == ""
    assert values["REDIS_URL"] == ""


def test_environment_overrides_the_profile_and_overrides_win():
    environ = {"MICROCRED_ENV": "development", "SANDBOX_ENABLED": "false", "LOG_LEVEL": "DEBUG"}
    values = load_settings({"LOG_LEVEL": "ERROR"}, environ=environ)
    assert values["SANDBOX_ENABLED"] is False
    assert values["LOG_LEVEL"] == "ERROR"


def test_production_app_has_no_sandbox(tmp_path: Path, clean_environ: None):
    app = create_app({
        "ENV": "production", "SECRET_KEY": "a-long-random-production-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}", "REDIS_URL": REDIS_URL,
        "PUBLIC_BASE_URL": "https://microcred.college.example", "LOG_LEVEL": "WARNING",
        "INSTANCE_PATH": str(tmp_path / "instance"),
    })
    try:
        assert app.config["ENV"] == "production"
        assert not any(rule.rule.startswith("/sandbox") for rule in app.url_map.iter_rules())
        client = app.test_client()
        assert client.get("/sandbox").status_code == 404
        assert client.get("/sandbox/").status_code == 404
        assert client.get("/healthz").status_code == 200
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "None"
    finally:
        app.extensions["db_engine"].dispose()


def test_test_profile_app_has_the_sandbox(app):
    # The contrast to the production app above: the same factory does register it.
    assert any(rule.rule.startswith("/sandbox") for rule in app.url_map.iter_rules())


def test_every_setting_is_in_the_operations_guide():
    """An operator finds every variable, with its default, in docs/operations.md."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    missing = [s.env for s in SETTINGS if f"| `{s.env}` |" not in guide]
    assert not missing, missing


@pytest.mark.parametrize("env", ["production", "development"])
def test_the_test_fetch_allowance_is_refused_outside_the_test_profile(env):
    """TEST_REMOTE_FETCH_ORIGINS lets the suite reach issuers on 127.0.0.1 through the SSRF
    guard; no other profile accepts it, and no environment variable can set it."""
    environ = production() if env == "production" else {"MICROCRED_ENV": env}
    with pytest.raises(ConfigurationError, match="TEST_REMOTE_FETCH_ORIGINS"):
        load_settings({"TEST_REMOTE_FETCH_ORIGINS": {"http://127.0.0.1:9": ""}},
                      environ=environ)
    assert "TEST_REMOTE_FETCH_ORIGINS" not in {s.name for s in SETTINGS}
    loaded = load_settings({"ENV": "test",
                            "TEST_REMOTE_FETCH_ORIGINS": {"http://127.0.0.1:9": ""}},
                           environ={})
    assert loaded["TEST_REMOTE_FETCH_ORIGINS"] == {"http://127.0.0.1:9": ""}
