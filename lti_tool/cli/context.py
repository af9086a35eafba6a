"""What every ``microcred`` command shares: the one-line error rule, the Flask app and a
database session for a command, and the issuer a command works on.

Every error — invalid input, an unknown id, a conflict, a bad setting, a database that is not
reachable or not migrated, a click usage error — is one line on stderr starting with
``error:``, and the exit status is 2. No traceback reaches the operator: ``CliGroup`` (the
top-level group) parses and runs every subcommand inside ``one_line_errors``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lti_tool.domain.catalog import Scope
from lti_tool.errors import ConfigurationError, ToolError, ValidationFailed
from lti_tool.models import Issuer
from lti_tool.services.catalog import Actor

EXIT_ERROR = 2


class CliError(click.ClickException):
    """A one-line ``error: ...`` on stderr and exit status 2."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the source said

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@contextmanager
def one_line_errors() -> Iterator[None]:
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


class CliGroup(click.Group):
    """The top-level group: parsing and running every subcommand happen inside it, so this
    is the one place where errors become one line."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        with one_line_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with one_line_errors():
            return super().invoke(ctx)


def make_app() -> Flask:
    from lti_tool import create_app

    return create_app()  # ConfigurationError becomes one line in one_line_errors


@contextmanager
def session_for(app: Flask) -> Iterator[Session]:
    """Commits on success; any error rolls back and reaches the one-line handler."""
    from lti_tool.extensions import session_scope

    with session_scope(app) as session:
        yield session



def resolve_issuer(session: Session, slug: str | None) -> Issuer:
    """The issuer named by --issuer; without it, the only issuer there is."""
    if slug:
        issuer = session.scalars(select(Issuer).where(Issuer.slug == slug)).first()
        if issuer is None:
            raise CliError(f"no issuer with slug {slug!r} (see `microcred issuers list`).")
        return issuer
    issuers = list(session.scalars(select(Issuer).order_by(Issuer.slug).limit(11)))
    if not issuers:
        raise CliError("there is no issuer yet: create one first (`microcred issuers create`).")
    if len(issuers) > 1:
        slugs = ", ".join(i.slug for i in issuers[:10]) + (", ..." if len(issuers) > 10 else "")
        raise CliError(f"there are several issuers: choose one with --issuer ({slugs}).")
    return issuers[0]


def cli_actor(issuer: Issuer) -> Actor:
    """Whoever runs the command line can do everything (they own the database anyway)."""
    return Actor(ref="cli", name="command line", issuer_id=issuer.id, scopes=frozenset(Scope))
