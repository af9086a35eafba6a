"""``microcred tokens``: per-issuer API tokens for /api/v1 (create, list, revoke).

A new token is printed once, alone on the last line of the output, so a script can take it
with ``tail -n 1``; only its hash is stored. Errors are one line on stderr, exit status 2
(the top-level group in ``lti_tool.cli.context`` turns ToolErrors into that)."""

from __future__ import annotations

import click
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from lti_tool.cli.context import make_app, resolve_issuer, session_for
from lti_tool.domain.catalog import SCOPE_DESCRIPTIONS
from lti_tool.models import Issuer
from lti_tool.services import api_tokens


@click.group(help="API tokens for /api/v1 (per issuer, scoped).")
def tokens() -> None:
    pass


def _scopes_help() -> str:
    return ("Comma-separated, any of: " +
            "; ".join(f"{scope.value} ({text.rstrip('.').lower()})"
                      for scope, text in SCOPE_DESCRIPTIONS.items()) + ".")


@tokens.command("create", help="Create a token and print it once (alone on the last line).")
@click.option("--name", required=True, help="What the token is for, e.g. 'registrar sync'.")
@click.option("--scopes", required=True, help=_scopes_help())
@click.option("--issuer", "issuer_slug", default=None,
              help="The issuer's slug (optional when there is only one issuer).")
@click.option("--expires-in-days", "expires_in_days", type=int, default=None,
              help="The token stops working after this many days (1-1830). Default: never "
                   "(until revoked).")
def tokens_create(name: str, scopes: str, issuer_slug: str | None,
                  expires_in_days: int | None) -> None:
    requested = scopes.split(",")
    api_tokens.parse_scopes(requested)  # a bad scope is refused before touching anything
    expires_at = api_tokens.expiry_after(expires_in_days)
    with session_for(make_app()) as session:
        issuer = resolve_issuer(session, issuer_slug)
        row, plaintext = api_tokens.create_token(session, issuer.id, name, requested,
                                                 created_by="cli", expires_at=expires_at)
        until = f", expiring {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else ""
        click.echo(f"Created API token {row.id} ({row.name}) for issuer {issuer.slug} with "
                   f"scopes {', '.join(row.scopes)}{until}.")
        click.echo("Copy it now: it is shown only this once. Revoke it with "
                   f"`microcred tokens revoke {row.prefix}`.")
        click.echo(plaintext)


@tokens.command("list", help="List tokens (never their secrets).")
@click.option("--issuer", "issuer_slug", default=None, help="Only this issuer's tokens.")
def tokens_list(issuer_slug: str | None) -> None:
    with session_for(make_app()) as session:
        if issuer_slug:
            issuers = [resolve_issuer(session, issuer_slug)]
        else:
            issuers = list(session.scalars(select(Issuer).order_by(Issuer.slug)))
        shown = 0
        for issuer in issuers:
            for row in api_tokens.list_tokens(session, issuer.id):
                shown += 1
                used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at \
                    else "never"
                status = "revoked" if row.revoked_at else (
                    "expired" if api_tokens.is_expired(row) else "active")
                expires = row.expires_at.strftime("%Y-%m-%d %H:%M") if row.expires_at \
                    else "never"
                click.echo(f"{row.id}\t{row.prefix}\t{issuer.slug}\t{status}\t"
                           f"{','.join(row.scopes)}\tcreated "
                           f"{row.created_at.strftime('%Y-%m-%d')}\texpires {expires}\t"
                           f"last used {used}\t{row.name}")
        if not shown:
            click.echo("No API tokens.")


@tokens.command("revoke", help="Revoke a token by id or prefix (the part after 'mc_').")
@click.argument("ident")
@click.option("--issuer", "issuer_slug", default=None, help="Look only in this issuer.")
def tokens_revoke(ident: str, issuer_slug: str | None) -> None:
    with session_for(make_app()) as session:
        issuer_id = resolve_issuer(session, issuer_slug).id if issuer_slug else None
        row = api_tokens.revoke_token(session, issuer_id, ident.strip(), by="cli")
        just_now = sa_inspect(row).attrs.revoked_at.history.has_changes()
        word = "revoked" if just_now else "was already revoked"
        click.echo(f"API token {row.id} ({row.name}) {word}; it can no longer be used.")
