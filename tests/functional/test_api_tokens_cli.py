"""``microcred tokens create|list|revoke`` as an operator uses them, on a fresh SQLite file:
the token is printed once, alone on the last line, works against the API, is stored only as
a hash, and stops working when revoked. Errors are one line, exit status 2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from lti_tool import create_app
from lti_tool.cli import main
from lti_tool.extensions import session_scope
from lti_tool.models import ApiToken
from lti_tool.services import catalog
from tests.conftest import REDIS_URL


def cli_env(tmp_path: Path, db_name: str) -> dict[str, str]:
    return {"MICROCRED_ENV": "test", "DATABASE_URL": f"sqlite:///{tmp_path / db_name}",
            "REDIS_URL": REDIS_URL, "MICROCRED_INSTANCE_PATH": str(tmp_path)}


def runner_for(env: dict[str, str]):
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def assert_one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, "tokens.sqlite3")


@pytest.fixture()
def cli(env):
    run = runner_for(env)
    assert run("db", "upgrade").exit_code == 0
    return run


@pytest.fixture()
def tool(env, cli):
    """The web app on the CLI's database, to use the tokens the CLI prints."""
    app = create_app({"ENV": "test", "DATABASE_URL": env["DATABASE_URL"],
                      "REDIS_URL": env["REDIS_URL"],
                      "INSTANCE_PATH": env["MICROCRED_INSTANCE_PATH"]})
    yield app
    app.extensions["db_engine"].dispose()


def add_issuer(app, slug: str) -> None:
    with session_scope(app) as session:
        catalog.create_issuer(session, {"name": f"{slug} College",
                                        "url": f"https://{slug}.example.edu",
                                        "email": f"it@{slug}.example.edu"}, slug=slug)


def test_create_prints_the_token_once_alone_on_the_last_line(cli, tool):
    add_issuer(tool, "lakeshore")
    result = cli("tokens", "create", "--name", "registrar sync",
                 "--scopes", "catalog:read, catalog:write")
    assert result.exit_code == 0, result.output
    lines = result.stdout.rstrip("\n").split("\n")
    token = lines[-1]
    assert token.startswith("mc_") and " " not in token and len(token) > 40
    assert token not in "\n".join(lines[:-1])
    assert "lakeshore" in result.stdout and "catalog:read, catalog:write" in result.stdout

    client = tool.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/skills", json={"code": "cli.skill", "name": "From CLI"},
                          headers=headers)
    assert created.status_code == 201
    assert client.post("/api/v1/versions/1/reviews", json={}, headers=headers) \
        .status_code == 403  # no review scope
    with session_scope(tool) as session:
        row = session.scalars(select(ApiToken)).one()
        assert token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
        assert row.created_by == "cli"

    listed = cli("tokens", "list")
    assert listed.exit_code == 0
    assert "registrar sync" in listed.output and "active" in listed.output
    assert token not in listed.output


def test_revoke_by_prefix_stops_the_token(cli, tool):
    add_issuer(tool, "lakeshore")
    token = cli("tokens", "create", "--name", "old", "--scopes", "catalog:read") \
        .stdout.strip().split("\n")[-1]
    client = tool.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/skills", headers=headers).status_code == 200
    prefix = token.split("_")[1]
    revoked = cli("tokens", "revoke", prefix)
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.output
    assert client.get("/api/v1/skills", headers=headers).status_code == 401
    assert "was already revoked" in cli("tokens", "revoke", prefix).output
    assert "revoked" in cli("tokens", "list").output
    assert_one_line_error(cli("tokens", "revoke", "ffffffff"), "No API token")


def test_a_token_with_an_expiry_says_so_and_the_list_shows_it(cli, tool):
    add_issuer(tool, "lakeshore")
    result = cli("tokens", "create", "--name", "term export", "--scopes", "catalog:read",
                 "--expires-in-days", "30")
    assert result.exit_code == 0, result.output
    assert "expiring 20" in result.stdout
    listed = cli("tokens", "list").output
    assert "expires 20" in listed and "active" in listed
    with session_scope(tool) as session:
        row = session.scalars(select(ApiToken)).one()
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    assert "\texpired\t" in cli("tokens", "list").output
    assert_one_line_error(cli("tokens", "create", "--name", "x", "--scopes", "catalog:read",
                              "--expires-in-days", "0"), "expires")



def test_issuer_is_required_when_there_are_several(cli, tool):
    add_issuer(tool, "alpha")
    add_issuer(tool, "beta")
    message = assert_one_line_error(cli("tokens", "create", "--name", "n",
                                        "--scopes", "catalog:read"), "--issuer")
    assert "alpha" in message and "beta" in message
    result = cli("tokens", "create", "--name", "n", "--scopes", "review", "--issuer", "beta")
    assert result.exit_code == 0, result.output
    assert "beta" in result.stdout
    assert_one_line_error(cli("tokens", "create", "--name", "n", "--scopes", "review",
                              "--issuer", "gamma"), "gamma")
    only_beta = cli("tokens", "list", "--issuer", "beta").output
    assert "\tbeta\t" in only_beta and "\talpha\t" not in only_beta


@pytest.mark.parametrize(("scopes", "fragment"), [
    ("catalog:read,catalog:delete", "catalog:delete"),
    ("admin", "admin"),
    (",", "at least one"),
])
def test_a_bad_scope_is_a_one_line_error_and_creates_nothing(cli, tool, scopes, fragment):
    add_issuer(tool, "lakeshore")
    result = cli("tokens", "create", "--name", "n", "--scopes", scopes)
    assert_one_line_error(result, fragment)
    assert "mc_" not in result.output
    assert cli("tokens", "list").output.strip() == "No API tokens."


def test_without_any_issuer_create_says_what_to_do(cli):
    assert_one_line_error(cli("tokens", "create", "--name", "n", "--scopes", "catalog:read"),
                          "no issuer")


def test_create_help_lists_every_scope_with_what_it_allows():
    from lti_tool.domain.catalog import SCOPE_DESCRIPTIONS, Scope

    result = CliRunner().invoke(main, ["tokens", "create", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for scope in Scope:
        assert scope.value in text, scope
        words = " ".join(SCOPE_DESCRIPTIONS[scope].rstrip(".").lower().split())
        assert words in text, words


def test_a_token_whose_prefix_is_all_digits_is_revoked_by_its_prefix(db):
    """A prefix is eight hex digits; about one in 40 is all decimal digits, and was then
    taken for a token id (the revocation missed, or hit another token)."""
    from lti_tool.models import ApiToken
    from lti_tool.services import api_tokens
    from tests.support.api import make_issuer, make_token

    issuer = make_issuer(db)
    make_token(db, issuer)
    token = make_token(db, issuer)
    row = db.scalars(select(ApiToken).where(ApiToken.prefix == token.split("_")[1])).one()
    row.prefix = "12345678"
    db.commit()
    revoked = api_tokens.revoke_token(db, issuer.id, "12345678", by="test")
    assert revoked.id == row.id and revoked.revoked_at is not None
    others = db.scalars(select(ApiToken).where(ApiToken.id != row.id)).all()
    assert all(t.revoked_at is None for t in others)
    # An id is still an id.
    other = others[0]
    assert api_tokens.revoke_token(db, issuer.id, str(other.id), by="test").id == other.id
