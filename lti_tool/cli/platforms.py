"""``microcred platforms`` and ``microcred deployments``: LMS registrations made by hand,
and the values to paste into the LMS."""

from __future__ import annotations

import click
from flask import Flask

from lti_tool.cli.context import make_app, resolve_issuer, session_for


@click.group(help="Platform (LMS) registrations.")
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
@click.option("--institution", "institution", default=None, metavar="SLUG",
              help="Link the platform to this institution (issuer slug): its teachers then "
                   "see that catalog. Later: `microcred issuers map` or the admin "
                   "Platforms page.")
def platforms_add(name: str, issuer: str, client_id: str, deployment_id: tuple[str, ...],
                  preset: str | None, auth_url: str, token_url: str, jwks_url: str,
                  accept_new_deployments: bool, institution: str | None) -> None:
    from lti_tool.services import audit
    from lti_tool.services import catalog as catalog_service
    from lti_tool.services.platforms import PlatformInput, add_platform

    app = make_app()
    with session_for(app) as session:
        linked = resolve_issuer(session, institution) if institution else None
        platform = add_platform(session, PlatformInput(
            name=name, issuer=issuer, client_id=client_id, preset=preset or "",
            auth_login_url=auth_url, auth_token_url=token_url, jwks_url=jwks_url,
            deployment_ids=deployment_id, accept_new_deployments=accept_new_deployments,
        ), allow_http=app.config["ALLOW_HTTP_ISSUERS"])
        audit.record(session, "platform.registered", platform_id=platform.id,
                     subject_type="platform", subject_id=platform.id, detail={"via": "cli"})
        if linked is not None:
            catalog_service.map_platform(session, linked.id, platform.id)
            audit.record(session, "issuer.platform_mapped", platform_id=platform.id,
                         subject_type="issuer", subject_id=linked.id, detail={"by": "cli"})
        link = (f"linked to {linked.slug} ({linked.name})" if linked is not None else
                "not linked to an institution yet: its teachers see no catalog until "
                f"`microcred issuers map --issuer <slug> --platform-id {platform.id}`")
        deployments = ", ".join(d.deployment_id for d in platform.deployments) or (
            "recorded at first launch" if platform.accept_new_deployments else "none yet")
    # Reported only once committed: a failed commit must not look like a registration.
    click.echo(f"Registered platform {platform.id}: {platform.name}")
    click.echo(f"  issuer {platform.issuer}, client id {platform.client_id}")
    click.echo(f"  {link}")
    click.echo(f"  auth {platform.auth_login_url}\n  token {platform.auth_token_url}\n"
               f"  jwks {platform.jwks_url}\n  deployments {deployments}")
    click.echo("Paste these into the LMS:")
    for label, value in _paste_values(app):
        click.echo(f"  {label}: {value}")


@platforms.command("list", help="List registered platforms.")
def platforms_list() -> None:
    from lti_tool.services.platforms import list_platforms

    with session_for(make_app()) as session:
        rows = list_platforms(session)
        if not rows:
            click.echo("No platforms registered.")
        for p in rows:
            deps = ",".join(d.deployment_id for d in p.deployments) or "-"
            click.echo(f"{p.id}\t{p.name}\t{p.issuer}\t{p.client_id}\tdeployments={deps}")


@platforms.command("show", help="Show one platform.")
@click.argument("platform_id", type=int)
def platforms_show(platform_id: int) -> None:
    from lti_tool.services.catalog import issuer_for_platform
    from lti_tool.services.platforms import get_platform

    app = make_app()
    with session_for(app) as session:
        p = get_platform(session, platform_id)
        linked = issuer_for_platform(session, p.id, None)
        for label, value in [("id", p.id), ("name", p.name), ("issuer", p.issuer),
                             ("client id", p.client_id), ("product", p.product_family or "-"),
                             ("auth login URL", p.auth_login_url),
                             ("token URL", p.auth_token_url), ("JWKS URL", p.jwks_url or "-"),
                             ("registered via", p.registered_via),
                             ("active", p.active),
                             ("institution", f"{linked.slug} ({linked.name})" if linked
                              else "- (not linked: `microcred issuers map`)"),
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

    app = make_app()
    with session_for(app) as session:
        platform = get_platform(session, platform_id)
        if not yes and not click.confirm(f"Remove platform {platform.name}?"):
            click.echo("Nothing removed.")
            return
        remove_platform(session, platform_id)
        audit.record(session, "platform.removed", subject_type="platform",
                     subject_id=platform_id)
        click.echo(f"Removed platform {platform_id}.")


@click.group(help="Deployments of a platform.")
def deployments() -> None:
    pass


@deployments.command("add", help="Add a deployment id to a platform.")
@click.option("--platform", "platform_id", type=int, required=True)
@click.option("--deployment-id", required=True)
@click.option("--name", default="")
def deployments_add(platform_id: int, deployment_id: str, name: str) -> None:
    from lti_tool.services.platforms import add_deployment

    with session_for(make_app()) as session:
        dep = add_deployment(session, platform_id, deployment_id, name)
        click.echo(f"Added deployment {dep.deployment_id} to platform {platform_id}.")
