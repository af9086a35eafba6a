"""``microcred keys rotate-issuer --issuer SLUG``: a new Ed25519 signing key for an issuer's
Open Badges credentials.

The previous key is retired, not removed: it stays in the issuer's controller document
(``/issuers/<slug>/keys``) and JWKS, so every credential it signed keeps verifying. The
status lists are signed again with the new key. Errors are one line on stderr, exit
status 2 (the top-level group in ``lti_tool.cli``)."""

from __future__ import annotations

import click

from lti_tool.cli import _app, _session
from lti_tool.cli_catalog import resolve_issuer
from lti_tool.services import issuer_keys, issuing


@click.command("rotate-issuer",
               help="New signing key for an issuer's credentials; old keys stay published so "
                    "credentials they signed keep verifying.")
@click.option("--issuer", "issuer_slug", default=None,
              help="The issuer's slug (optional when there is only one issuer).")
def rotate_issuer(issuer_slug: str | None) -> None:
    app = _app()
    base_url = app.config["PUBLIC_BASE_URL"]
    with _session(app) as session:
        issuer = resolve_issuer(session, issuer_slug)
        key = issuing.rotate_issuer_key(session, issuer, vault=app.extensions["lti"].vault,
                                        base_url=base_url, by="cli")
        click.echo(f"New signing key for issuer {issuer.slug}: "
                   f"{issuer_keys.verification_method(base_url, issuer, key)}")
        for row in issuer_keys.published_keys(session, issuer):
            click.echo(f"{row.public_multibase}\t{row.status}\tcreated "
                       f"{row.created_at.date().isoformat()}")
        click.echo(f"Published at {issuer_keys.controller_url(base_url, issuer)} and "
                   f"{issuing.jwks_url(base_url, issuer)}.")
