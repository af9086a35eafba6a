"""The ``microcred`` command line as an operator uses it, on its own fresh SQLite file (not
the suite's shared database): register platforms from presets, manage deployments, rotate
keys; every error is one line on stderr with exit status 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lti_tool.cli import main
from tests.conftest import REDIS_URL

Run = Callable[..., Result]


def cli_env(tmp_path: Path, db_name: str = "cli.sqlite3", **extra: str) -> dict[str, str]:
    return {"MICROCRED_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / db_name}",
            "REDIS_URL": REDIS_URL, "MICROCRED_INSTANCE_PATH": str(tmp_path), **extra}


def runner_for(env: dict[str, str]) -> Run:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return run


@pytest.fixture()
def cli(tmp_path: Path) -> Run:
    run = runner_for(cli_env(tmp_path))
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    return run


def assert_one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error: "), result.stderr
    assert "\n" not in message, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message
    return message


def values(output: str) -> dict[str, str]:
    """``label: value`` lines of the output."""
    pairs = (line.strip().split(": ", 1) for line in output.splitlines() if ": " in line)
    return {label: value for label, value in pairs}


def add_moodle(cli: Run, *extra: str, issuer: str = "https://moodle.college.example",
               client_id: str = "8EWetTI3y0mK5ko") -> Result:
    return cli("platforms", "add", "--name", "College Moodle", "--issuer", issuer,
               "--client-id", client_id, "--preset", "moodle", *extra)


# -- db ---------------------------------------------------------------------------------------
def test_db_upgrade_creates_the_schema_and_is_repeatable(tmp_path):
    run = runner_for(cli_env(tmp_path))
    first = run("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("database at heads: sqlite:///")
    assert (tmp_path / "cli.sqlite3").exists()
    current = run("db", "current")
    assert current.exit_code == 0
    assert current.output.strip() not in ("", "(none)")
    again = run("db", "upgrade")
    assert again.exit_code == 0, again.output
    assert run("db", "current").output == current.output
    assert run("platforms", "list").output.strip() == "No platforms registered."


def test_unknown_revision_is_a_one_line_error(cli):
    assert_one_line_error(cli("db", "upgrade", "--revision", "nope"), "nope")


def test_commands_on_an_unmigrated_database_fail_in_one_line(tmp_path):
    run = runner_for(cli_env(tmp_path, db_name="empty.sqlite3"))
    message = assert_one_line_error(run("platforms", "list"), "db upgrade")
    assert "SELECT" not in message  # no SQL in front of the operator


# -- platforms add ----------------------------------------------------------------------------
def test_moodle_preset_derives_endpoints_and_prints_paste_values(cli):
    result = add_moodle(cli, "--deployment-id", "1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "auth https://moodle.college.example/mod/lti/auth.php" in out
    assert "token https://moodle.college.example/mod/lti/token.php" in out
    assert "jwks https://moodle.college.example/mod/lti/certs.php" in out
    paste = values(out.split("Paste these into the LMS:")[1])
    assert paste["Tool URL"] == "http://tool.test/lti/launch"
    assert paste["Initiate login URL"] == "http://tool.test/lti/login"
    assert paste["Redirection URI"] == "http://tool.test/lti/launch"
    assert paste["Public keyset URL"] == "http://tool.test/.well-known/jwks.json"

    shown = values(cli("platforms", "show", "1").output)
    assert shown["issuer"] == "https://moodle.college.example"
    assert shown["product"] == "moodle"
    assert shown["auth login URL"] == "https://moodle.college.example/mod/lti/auth.php"
    assert shown["token URL"] == "https://moodle.college.example/mod/lti/token.php"
    assert shown["JWKS URL"] == "https://moodle.college.example/mod/lti/certs.php"
    assert shown["deployments"] == "1"
    assert shown["registered via"] == "manual"


def test_a_platform_added_with_its_institution_is_linked_to_it(cli):
    """After the manual method the platform must be linked to an institution, or its
    teachers see no catalog: --institution does it at once; without it the command says
    how."""
    unlinked = add_moodle(cli, client_id="first")
    assert "not linked to an institution yet" in unlinked.output
    assert "microcred issuers map --issuer <slug> --platform-id 1" in unlinked.output
    assert values(cli("platforms", "show", "1").output)["institution"].startswith("-")
    created = cli("issuers", "create", "--slug", "northern", "--name", "Northern College",
                  "--url", "https://northern.example", "--email", "info@northern.example")
    assert created.exit_code == 0, created.output

    result = add_moodle(cli, "--institution", "northern", client_id="second")
    assert result.exit_code == 0, result.output
    assert "linked to northern (Northern College)" in result.output
    shown = values(cli("platforms", "show", "2").output)
    assert shown["institution"] == "northern (Northern College)"
    assert shown["active"] == "True"
    assert "platforms=2" in cli("issuers", "list").output

    unknown = add_moodle(cli, "--institution", "nowhere", client_id="third")
    assert_one_line_error(unknown, "no issuer with slug 'nowhere'")
    assert "third" not in cli("platforms", "list").output  # nothing registered


def test_moodle_preset_under_a_path_keeps_the_path(cli):
    result = add_moodle(cli, issuer="https://lms.college.example/moodle/")
    assert result.exit_code == 0, result.output
    assert "auth https://lms.college.example/moodle/mod/lti/auth.php" in result.output


def test_explicit_url_overrides_the_preset(cli):
    result = add_moodle(cli, "--auth-url", "https://sso.college.example/lti/auth")
    assert result.exit_code == 0, result.output
    shown = values(cli("platforms", "show", "1").output)
    assert shown["auth login URL"] == "https://sso.college.example/lti/auth"
    assert shown["token URL"] == "https://moodle.college.example/mod/lti/token.php"


@pytest.mark.parametrize(("preset", "issuer", "sso"), [
    ("canvas", "https://canvas.instructure.com", "sso.canvaslms.com"),
    ("canvas-beta", "https://canvas.beta.instructure.com", "sso.beta.canvaslms.com"),
    ("canvas-test", "https://canvas.test.instructure.com", "sso.test.canvaslms.com"),
])
def test_canvas_presets_use_the_instructure_sso_endpoints(cli, preset, issuer, sso):
    result = cli("platforms", "add", "--name", "Canvas", "--client-id", "10000000000042",
                 "--preset", preset, "--accept-new-deployments")
    assert result.exit_code == 0, result.output
    shown = values(cli("platforms", "show", "1").output)
    assert shown["issuer"] == issuer  # hosted Canvas: the issuer comes with the preset
    assert shown["product"] == "canvas"
    assert shown["auth login URL"] == f"https://{sso}/api/lti/authorize_redirect"
    assert shown["token URL"] == f"https://{sso}/login/oauth2/token"
    assert shown["JWKS URL"] == f"https://{sso}/api/lti/security/jwks"
    assert shown["accepts new deployments"] == "True"
    assert shown["deployments"] == "-"


def test_duplicate_platform_is_a_one_line_error(cli):
    assert add_moodle(cli).exit_code == 0
    duplicate = add_moodle(cli)
    assert_one_line_error(duplicate, "already registered", "8EWetTI3y0mK5ko")
    assert "Registered platform" not in duplicate.stdout
    assert len(cli("platforms", "list").output.strip().splitlines()) == 1


def test_same_issuer_with_another_client_id_is_a_second_registration(cli):
    assert add_moodle(cli).exit_code == 0
    assert add_moodle(cli, client_id="second-client").exit_code == 0
    assert len(cli("platforms", "list").output.strip().splitlines()) == 2


def test_non_url_issuer_is_a_one_line_error(cli):
    result = cli("platforms", "add", "--name", "Bad", "--issuer", "not-a-url",
                 "--client-id", "c1", "--preset", "moodle")
    assert_one_line_error(result, "issuer must be an absolute https:// URL")
    assert cli("platforms", "list").output.strip() == "No platforms registered."


def test_missing_endpoints_without_preset_are_named(cli):
    result = cli("platforms", "add", "--name", "Bare", "--issuer", "https://lms.example",
                 "--client-id", "c1")
    assert_one_line_error(result, "auth_login_url is required", "jwks_url is required")


def test_repeated_deployment_id_counts_once(cli):
    result = add_moodle(cli, "--deployment-id", "1", "--deployment-id", "1")
    assert result.exit_code == 0, result.output
    assert values(cli("platforms", "show", "1").output)["deployments"] == "1"


def test_usage_errors_are_one_line(cli):
    assert_one_line_error(cli("platforms", "add", "--name", "X"), "Missing option")
    assert_one_line_error(cli("platforms", "show", "abc"), "not a valid integer")
    assert_one_line_error(cli("platforms", "add", "--name", "X", "--client-id", "c",
                              "--preset", "blackboard"), "blackboard")
    assert_one_line_error(cli("no-such-command"), "No such command")


def test_bad_setting_is_a_one_line_error(tmp_path):
    run = runner_for(cli_env(tmp_path, ALLOW_HTTP_ISSUERS="perhaps"))
    assert_one_line_error(run("platforms", "list"), "ALLOW_HTTP_ISSUERS", "boolean")


# -- list / show / remove ---------------------------------------------------------------------
def test_list_show_and_remove(cli):
    assert add_moodle(cli, "--deployment-id", "1", "--deployment-id", "2").exit_code == 0
    assert cli("platforms", "add", "--name", "Canvas", "--client-id", "10000000000042",
               "--preset", "canvas").exit_code == 0

    listed = cli("platforms", "list").output.strip().splitlines()
    assert listed == [
        "1\tCollege Moodle\thttps://moodle.college.example\t8EWetTI3y0mK5ko\tdeployments=1,2",
        "2\tCanvas\thttps://canvas.instructure.com\t10000000000042\tdeployments=-",
    ]
    shown = values(cli("platforms", "show", "2").output)
    assert shown["name"] == "Canvas"
    assert shown["Public keyset URL"] == "http://tool.test/.well-known/jwks.json"

    kept = cli("platforms", "remove", "1", input="n\n")
    assert kept.exit_code == 0
    assert "Nothing removed." in kept.output
    assert len(cli("platforms", "list").output.strip().splitlines()) == 2

    removed = cli("platforms", "remove", "1", "--yes")
    assert removed.exit_code == 0, removed.output
    assert "Removed platform 1." in removed.output
    listed = cli("platforms", "list").output.strip().splitlines()
    assert [line.split("\t")[0] for line in listed] == ["2"]
    assert_one_line_error(cli("platforms", "show", "1"), "No platform with id 1.")


@pytest.mark.parametrize("args", [
    ("platforms", "show", "99"),
    ("platforms", "remove", "99", "--yes"),
    ("deployments", "add", "--platform", "99", "--deployment-id", "x"),
])
def test_unknown_platform_id_is_a_one_line_error(cli, args):
    assert_one_line_error(cli(*args), "No platform with id 99.")


# -- deployments ------------------------------------------------------------------------------
def test_deployments_add(cli):
    assert add_moodle(cli, "--deployment-id", "1").exit_code == 0
    added = cli("deployments", "add", "--platform", "1", "--deployment-id", "7",
                "--name", "Continuing education")
    assert added.exit_code == 0, added.output
    assert "Added deployment 7 to platform 1." in added.output
    assert values(cli("platforms", "show", "1").output)["deployments"] == "1, 7"

    assert_one_line_error(cli("deployments", "add", "--platform", "1", "--deployment-id", "7"),
                          "already registered")
    assert_one_line_error(cli("deployments", "add", "--platform", "1", "--deployment-id", " "),
                          "deployment_id must be 1 to 255 characters")
    assert values(cli("platforms", "show", "1").output)["deployments"] == "1, 7"


# -- keys -------------------------------------------------------------------------------------
def test_keys_rotate_twice_leaves_one_active_and_one_published_retired_key(cli):
    # `db upgrade` (run by the fixture) made the first key, so concurrent first requests
    # can never race to create two.
    initial = [line.split("\t") for line in cli("keys", "list").output.strip().splitlines()]
    assert len(initial) == 1 and initial[0][1] == "active"
    original_kid = initial[0][0]
    first = cli("keys", "rotate")
    assert first.exit_code == 0, first.output
    second = cli("keys", "rotate")
    assert second.exit_code == 0, second.output
    assert "previous keys stay published for 14 days" in second.output
    first_kid = first.output.split()[3].rstrip(";")
    second_kid = second.output.split()[3].rstrip(";")
    assert first_kid != second_kid

    rows = [line.split("\t") for line in cli("keys", "list").output.strip().splitlines()]
    assert len(rows) == 3
    by_kid = {row[0]: row for row in rows}
    assert by_kid[original_kid][1] == "retired"
    assert by_kid[second_kid][1] == "active"
    assert by_kid[second_kid][3] == "published=yes"
    assert by_kid[first_kid][1] == "retired"
    assert by_kid[first_kid][3] == "published=yes"
    assert by_kid[first_kid][4] != "until -"
