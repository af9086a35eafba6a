"""``microcred db``: apply the migrations and show the applied revision."""

from __future__ import annotations

import click

from lti_tool.cli.context import CliError, make_app


@click.group(help="Database migrations.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply all migrations (creates the database if needed).")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    from alembic.util import CommandError

    from lti_tool.models.migrate import upgrade

    app = make_app()
    engine = app.extensions["db_engine"]
    try:
        upgrade(engine, revision)
    except CommandError as exc:  # e.g. an unknown --revision
        raise CliError(str(exc)) from None
    # render_as_string hides the password by default.
    click.echo(f"database at {revision}: {engine.url.render_as_string()}")
    if revision in ("head", "heads"):
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

    click.echo(current(make_app().extensions["db_engine"]) or "(none)")
