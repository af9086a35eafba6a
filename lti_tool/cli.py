"""``microcred`` command line: platforms, deployments, keys, db, demo.
Calls services, never the web layer.

Every error — invalid input, an unknown id, a conflict, a bad setting, a database that is not
reachable or not migrated, a click usage error — is one line on stderr starting with
``error:``, and the exit status is 2. No traceback reaches the operator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lti_tool.errors import ConfigurationError, ToolError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])
EXIT_ERROR = 2


class CliError(click.ClickException):
    """A one-line ``error: ...`` on stderr and exit status 2."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the source said

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except (CliError, click.exceptions.NoArgsIsHelpError):
        raise  # already one line / the help text the user asked for by giving no command
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        raise CliError(exc.format_message() + hint) from None
    except ValidationFailed as exc:
        detail = "; ".join(f"{k} {', '.join(v)}" for k, v in exc.errors.items())
        raise CliError(detail or exc.public_message) from None
    except ToolError as exc:
        raise CliError(exc.public_message) from None
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError as exc:
        # Never str(exc): it carries SQL and parameters. The class says enough to act on.
        cause = type(getattr(exc, "orig", None) or exc).__name__
        raise CliError(f"database error ({cause}): check that DATABASE_URL is reachable and "
                       "that `microcred db upgrade` has been run.") from None


class _Cli(click.Group):
    """The top-level group: parsing and running every subcommand happen inside it, so this
    is the one place where errors become one line."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        with _one_line_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_errors():
            return super().invoke(ctx)


def _app() -> Flask:
    from lti_tool import create_app

    return create_app()  # ConfigurationError becomes one line in _one_line_errors


@contextmanager
def _session(app: Flask) -> Iterator[Session]:
    """Commits on success; any error rolls back and reaches the one-line handler."""
    from lti_tool.extensions import session_scope

    with session_scope(app) as session:
        yield session


@click.group(cls=_Cli, help="MicroCred: LTI 1.3 skills and micro-credentials tool.")
def main() -> None:
    pass


# -- db ----------------------------------------------------------------------------------
@main.group(help="Database migrations.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply all migrations (creates the database if needed).")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from alembic.util import CommandError

    from lti_tool.models.migrate import upgrade

    app = _app()
    engine = app.extensions["db_engine"]
    try:
        upgrade(engine, revision)
    except CommandError as exc:  # e.g. an unknown --revision
        raise CliError(str(exc)) from None
    # render_as_string hides the password by default.
    click.echo(f"database at {revision}: {engine.url.render_as_string()}")
    if revision == "head":
        # Make the first tool key now, so two workers serving the first JWKS request at once
        # cannot each create one.
        from lti_tool.extensions import session_scope
        from lti_tool.services.keys import ensure_active_key

        with session_scope(app) as session:
            key = ensure_active_key(session, app.extensions["lti"].vault)
            click.echo(f"tool signing key: {key.kid}")


@db.command("current", help="Show the applied migration revision.")
def db_current() -> None:
    from lti_tool.models.migrate import current

    click.echo(current(_app().extensions["db_engine"]) or "(none)")


# -- platforms ---------------------------------------------------------------------------
@main.group(help="Platform (LMS) registrations.")
def platforms() -> None:
    pass


def _paste_values(app: Flask) -> list[tuple[str, str]]:
    base = app.config["PUBLIC_BASE_URL"]
    return [("Tool URL", f"{base}/lti/launch"), ("Initiate login URL", f"{base}/lti/login"),
            ("Redirection URI", f"{base}/lti/launch"),
            ("Public keyset URL", f"{base}/.well-known/jwks.json"),
            ("Dynamic registration URL", f"{base}/lti/register"),
            ("Canvas configuration JSON", f"{base}/lti/config/canvas.json")]


@platforms.command("add", help="Register a platform; prints the values to paste into the LMS.")
@click.option("--name", required=True)
@click.option("--issuer", default="",
              help="The platform's issuer (iss). Optional with a Canvas preset.")
@click.option("--client-id", required=True)
@click.option("--deployment-id", multiple=True, help="May be repeated.")
@click.option("--preset", type=click.Choice(["moodle", "canvas", "canvas-beta", "canvas-test"]))
@click.option("--auth-url", default="")
@click.option("--token-url", default="")
@click.option("--jwks-url", default="")
@click.option("--accept-new-deployments", is_flag=True,
              help="Record deployments at their first (signed) launch.")
def platforms_add(name: str, issuer: str, client_id: str, deployment_id: tuple[str, ...],
                  preset: str | None, auth_url: str, token_url: str, jwks_url: str,
                  accept_new_deployments: bool) -> None:
    from lti_tool.services import audit
    from lti_tool.services.platforms import PlatformInput, add_platform

    app = _app()
    with _session(app) as session:
        platform = add_platform(session, PlatformInput(
            name=name, issuer=issuer, client_id=client_id, preset=preset or "",
            auth_login_url=auth_url, auth_token_url=token_url, jwks_url=jwks_url,
            deployment_ids=deployment_id, accept_new_deployments=accept_new_deployments,
        ), allow_http=app.config["ALLOW_HTTP_ISSUERS"])
        audit.record(session, "platform.registered", platform_id=platform.id,
                     subject_type="platform", subject_id=platform.id, detail={"via": "cli"})
        deployments = ", ".join(d.deployment_id for d in platform.deployments) or (
            "recorded at first launch" if platform.accept_new_deployments else "none yet")
    # Reported only once committed: a failed commit must not look like a registration.
    click.echo(f"Registered platform {platform.id}: {platform.name}")
    click.echo(f"  issuer {platform.issuer}, client id {platform.client_id}")
    click.echo(f"  auth {platform.auth_login_url}\n  token {platform.auth_token_url}\n"
               f"  jwks {platform.jwks_url}\n  deployments {deployments}")
    click.echo("Paste these into the LMS:")
    for label, value in _paste_values(app):
        click.echo(f"  {label}: {value}")


@platforms.command("list", help="List registered platforms.")
def platforms_list() -> None:
    from lti_tool.services.platforms import list_platforms

    with _session(_app()) as session:
        rows = list_platforms(session)
        if not rows:
            click.echo("No platforms registered.")
        for p in rows:
            deps = ",".join(d.deployment_id for d in p.deployments) or "-"
            click.echo(f"{p.id}\t{p.name}\t{p.issuer}\t{p.client_id}\tdeployments={deps}")


@platforms.command("show", help="Show one platform.")
@click.argument("platform_id", type=int)
def platforms_show(platform_id: int) -> None:
    from lti_tool.services.platforms import get_platform

    app = _app()
    with _session(app) as session:
        p = get_platform(session, platform_id)
        for label, value in [("id", p.id), ("name", p.name), ("issuer", p.issuer),
                             ("client id", p.client_id), ("product", p.product_family or "-"),
                             ("auth login URL", p.auth_login_url),
                             ("token URL", p.auth_token_url), ("JWKS URL", p.jwks_url or "-"),
                             ("registered via", p.registered_via),
                             ("accepts new deployments", p.accept_new_deployments),
                             ("deployments", ", ".join(d.deployment_id for d in p.deployments)
                              or "-")]:
            click.echo(f"{label}: {value}")
    for label, value in _paste_values(app):
        click.echo(f"{label}: {value}")


@platforms.command("remove", help="Remove a platform and its deployments.")
@click.argument("platform_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def platforms_remove(platform_id: int, yes: bool) -> None:
    from lti_tool.services import audit
    from lti_tool.services.platforms import get_platform, remove_platform

    app = _app()
    with _session(app) as session:
        platform = get_platform(session, platform_id)
        if not yes and not click.confirm(f"Remove platform {platform.name}?"):
            click.echo("Nothing removed.")
            return
        remove_platform(session, platform_id)
        audit.record(session, "platform.removed", subject_type="platform",
                     subject_id=platform_id)
        click.echo(f"Removed platform {platform_id}.")


@main.group(help="Deployments of a platform.")
def deployments() -> None:
    pass


@deployments.command("add", help="Add a deployment id to a platform.")
@click.option("--platform", "platform_id", type=int, required=True)
@click.option("--deployment-id", required=True)
@click.option("--name", default="")
def deployments_add(platform_id: int, deployment_id: str, name: str) -> None:
    from lti_tool.services.platforms import add_deployment

    with _session(_app()) as session:
        dep = add_deployment(session, platform_id, deployment_id, name)
        click.echo(f"Added deployment {dep.deployment_id} to platform {platform_id}.")


# -- keys --------------------------------------------------------------------------------
@main.group(help="The tool's signing keys (published at /.well-known/jwks.json).")
def keys() -> None:
    pass


@keys.command("rotate", help="Create a new active key; the previous stays published for the "
                             "grace period.")
def keys_rotate() -> None:
    from lti_tool.services import audit
    from lti_tool.services.keys import rotate_keys

    app = _app()
    with _session(app) as session:
        key = rotate_keys(session, app.extensions["lti"].vault,
                          app.config["KEY_ROTATION_GRACE_DAYS"])
        audit.record(session, "keys.rotated", subject_type="tool_key", subject_id=key.kid)
        click.echo(f"New active key {key.kid}; previous keys stay published for "
                   f"{app.config['KEY_ROTATION_GRACE_DAYS']} days.")


@keys.command("list", help="List keys and whether they are published.")
def keys_list() -> None:
    from lti_tool.models.base import utcnow
    from lti_tool.services.keys import list_keys

    with _session(_app()) as session:
        now = utcnow()
        rows = list_keys(session)
        if not rows:
            click.echo("No keys yet (one is created on first use).")
        for k in rows:
            published = k.status == "active" or (k.publish_until and k.publish_until > now)
            until = k.publish_until.date().isoformat() if k.publish_until else "-"
            click.echo(f"{k.kid}\t{k.status}\tcreated {k.created_at.date().isoformat()}\t"
                       f"published={'yes' if published else 'no'}\tuntil {until}")


# -- demo --------------------------------------------------------------------------------
@main.command("settings", help="List every setting, its environment variable and default.")
def settings_cmd() -> None:
    from lti_tool.settings import SETTINGS

    for s in SETTINGS:
        default = "(secret)" if s.secret else repr(s.default)
        required = " [required in production]" if s.required_in_production else ""
        click.echo(f"{s.env}={default}{required}\n    {s.doc}")


from lti_tool.cli_tokens import tokens  # noqa: E402 - last: cli_tokens imports this module

main.add_command(tokens)
from lti_tool.cli_catalog import catalog, demo, issuers  # noqa: E402 - imports this module

main.add_command(catalog)
main.add_command(issuers)
main.add_command(demo)
from lti_tool.cli_worker import worker  # noqa: E402 - imports this module

main.add_command(worker)
from lti_tool.cli_badges import rotate_issuer  # noqa: E402 - imports this module

keys.add_command(rotate_issuer)


if __name__ == "__main__":  # pragma: no cover
    main()
