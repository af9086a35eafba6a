"""``microcred keys``: the tool's LTI signing keys (``rotate``, ``list``) and an issuer's
Open Badges signing key (``rotate-issuer``)."""

from __future__ import annotations

import click

from lti_tool.cli.context import make_app, resolve_issuer, session_for
from lti_tool.services import issuer_keys, issuing


@click.group(help="The tool's signing keys (published at /.well-known/jwks.json).")
def keys() -> None:
    pass


@keys.command("rotate", help="Create a new active key; the previous stays published for the "
                             "grace period.")
def keys_rotate() -> None:
    from lti_tool.services import audit
    from lti_tool.services.keys import rotate_keys

    app = make_app()
    with session_for(app) as session:
        key = rotate_keys(session, app.extensions["lti"].vault,
                          app.config["KEY_ROTATION_GRACE_DAYS"])
        audit.record(session, "keys.rotated", subject_type="tool_key", subject_id=key.kid)
        click.echo(f"New active key {key.kid}; previous keys stay published for "
                   f"{app.config['KEY_ROTATION_GRACE_DAYS']} days.")


@keys.command("list", help="List keys and whether they are published.")
def keys_list() -> None:
    from lti_tool.models.base import utcnow
    from lti_tool.services.keys import list_keys

    with session_for(make_app()) as session:
        now = utcnow()
        rows = list_keys(session)
        if not rows:
            click.echo("No keys yet (one is created on first use).")
        for k in rows:
            published = k.status == "active" or (k.publish_until and k.publish_until > now)
            until = k.publish_until.date().isoformat() if k.publish_until else "-"
            click.echo(f"{k.kid}\t{k.status}\tcreated {k.created_at.date().isoformat()}\t"
                       f"published={'yes' if published else 'no'}\tuntil {until}")


# The previous issuer key is retired, not removed: it stays in the issuer's controller document
# (/issuers/<slug>/keys) and JWKS, so every credential it signed keeps verifying. The status
# lists are signed again with the new key.
@keys.command("rotate-issuer",
               help="New signing key for an issuer's credentials; old keys stay published so "
                    "credentials they signed keep verifying.")
@click.option("--issuer", "issuer_slug", default=None,
              help="The issuer's slug (optional when there is only one issuer).")
def rotate_issuer(issuer_slug: str | None) -> None:
    app = make_app()
    base_url = app.config["PUBLIC_BASE_URL"]
    with session_for(app) as session:
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
