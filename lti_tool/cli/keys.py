"""``microcred keys``: the tool's LTI signing keys (``rotate``, ``list``) and an issuer's
Open Badges signing keys (``rotate-issuer``, ``revoke-issuer-key`` for a compromised key,
``reissue-credentials`` for credentials from earlier versions)."""

from __future__ import annotations

from datetime import datetime

import click

from lti_tool.cli.context import CliError, make_app, resolve_issuer, session_for
from lti_tool.models import IssuerSigningKey
from lti_tool.services import issuer_keys, issuing

#: ``--issuer``: which issuer's keys (every issuer-key command takes it).
issuer_option = click.option("--issuer", "issuer_slug", default=None,
                             help="The issuer's slug (optional when there is only one "
                                  "issuer).")


@click.group(help="Signing keys: the tool's LTI keys (published at /.well-known/jwks.json) "
                   "and each issuer's Open Badges keys (in its profile at /issuers/<slug>).")
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


# The previous issuer key is retired, not removed: it stays in the issuer profile's
# assertionMethod and the JWKS, so every credential it signed keeps verifying. The status
# lists are signed again with the new key.
@keys.command("rotate-issuer",
               help="New signing key for an issuer's credentials; old keys stay published so "
                    "credentials they signed keep verifying.")
@issuer_option
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
        click.echo(f"Published at {issuer_keys.issuer_url(base_url, issuer)} (the issuer "
                   f"profile) and {issuing.jwks_url(base_url, issuer)}.")


def _parse_moment(value: str) -> datetime:
    """An ISO 8601 time with its zone (``2026-12-01T08:00:00Z``)."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z",
                                                                                    "+00:00"))
    except ValueError:
        raise CliError(f"--compromised-since {value!r} is not an ISO 8601 time "
                       "(e.g. 2026-12-01T08:00:00Z)") from None
    if moment.tzinfo is None:
        raise CliError("--compromised-since needs a time zone (e.g. 2026-12-01T08:00:00Z)")
    return moment


# A compromised key is withdrawn, not just retired: it leaves the issuer profile's
# assertionMethod and the JWKS, and what it signed is signed again with the active key.
@keys.command("revoke-issuer-key",
              help="Withdraw an issuer's signing key that may be compromised: its signatures "
                   "stop counting, and every credential it signed is re-issued with the "
                   "current key (same links).")
@issuer_option
@click.option("--key", "multibase", required=True,
              help="The key's publicKeyMultibase (z6Mk...), as `rotate-issuer` lists it.")
@click.option("--compromised-since", "since", required=True,
              help="Since when the key may have been misused (ISO 8601 with a zone); shown "
                   "to verifiers.")
@click.option("--reason", required=True,
              help="Why the key is withdrawn, in a sentence; shown to anyone who verifies a "
                   "copy it signed.")
def revoke_issuer_key(issuer_slug: str | None, multibase: str, since: str,
                      reason: str) -> None:
    compromised_since = _parse_moment(since)
    app = make_app()
    base_url = app.config["PUBLIC_BASE_URL"]
    vault = app.extensions["lti"].vault
    with session_for(app) as session:
        issuer = resolve_issuer(session, issuer_slug)
        key = issuing.revoke_issuer_key(session, issuer, multibase, vault=vault,
                                        base_url=base_url, compromised_since=compromised_since,
                                        reason=reason, by="cli")
        key_id, slug = key.id, issuer.slug
        active = issuer_keys.active_key(session, issuer)
        click.echo(f"Key {key.public_multibase} of issuer {slug} is revoked; it no longer "
                   "counts for any credential.")
        if active is not None:
            click.echo(f"Active key: {issuer_keys.verification_method(base_url, issuer, active)}")
    total = 0
    while True:  # one committed batch at a time: an interruption loses nothing
        with session_for(app) as session:
            key = session.get(IssuerSigningKey, key_id)
            assert key is not None
            done = issuing.reissue_signed_by(session, key, vault=vault, base_url=base_url,
                                             by="cli")
        if not done:
            break
        total += done
        click.echo(f"Re-issued {total} credential(s) with the active key...")
    click.echo(f"Done: {total} credential(s) it signed were re-issued (same ids and links); "
               "status lists signed again.")


@keys.command("reissue-credentials",
              help="Re-issue an issuer's credentials from earlier versions (keys named "
                   ".../keys#..., the old MicroCred context) so that outside verifiers accept "
                   "them; current ones are left alone.")
@issuer_option
def reissue_credentials(issuer_slug: str | None) -> None:
    app = make_app()
    base_url = app.config["PUBLIC_BASE_URL"]
    vault = app.extensions["lti"].vault
    after: int | None = 0
    total = 0
    while after is not None:
        with session_for(app) as session:
            issuer = resolve_issuer(session, issuer_slug)
            done, after = issuing.reissue_outdated(session, issuer, vault=vault,
                                                   base_url=base_url, after_id=after, by="cli")
            slug = issuer.slug
        total += done
    click.echo(f"Re-issued {total} credential(s) of issuer {slug} in the current standard "
               "form (same ids and links).")
