"""``microcred issuers``, ``microcred catalog`` and ``microcred demo``.

- ``issuers create|list|map``: the institutions a deployment serves, and which platform (or
  one deployment of it) serves which issuer.
- ``catalog export|import``: the whole catalog as JSON (lossless) or the skills as CSV.
  An import validates everything first: on any problem it prints every one with its place
  (``skills[3].code``, ``row 4``), changes nothing, and exits with status 1.
- ``demo seed``: the sandbox's demo issuer and catalog (idempotent; ``make run`` also seeds
  at the first sandbox request).

Errors (unknown issuer, bad option, database trouble) are one ``error:`` line on stderr and
exit status 2, like every ``microcred`` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from lti_tool.cli.context import CliError, cli_actor, make_app, resolve_issuer, session_for
from lti_tool.models import Issuer, IssuerPlatform
from lti_tool.services import audit
from lti_tool.services import catalog as catalog_service
from lti_tool.services.catalog_io import (
    ImportReport,
    export_catalog,
    export_skills_csv,
    import_catalog,
    import_skills_csv,
    parse_catalog_json,
)

MAX_JSON_BYTES = 50 * 1024 * 1024  # a catalog of thousands of credentials is a few MB
EXIT_PROBLEMS = 1


# -- issuers ---------------------------------------------------------------------------------
@click.group(help="Issuers: the institutions whose catalogs this deployment serves.")
def issuers() -> None:
    pass


@issuers.command("create", help="Create an issuer (and optionally map a platform to it).")
@click.option("--slug", required=True, help="Short name used in public URLs, e.g. lakeshore.")
@click.option("--name", required=True)
@click.option("--url", required=True, help="The institution's web site (http or https).")
@click.option("--email", required=True, help="Contact address shown on public pages.")
@click.option("--description", default="")
@click.option("--language", "languages", multiple=True,
              help="Language code, e.g. en; may be repeated (default en).")
@click.option("--platform-id", type=int, default=None,
              help="Map this platform (all its deployments) to the new issuer.")
def issuers_create(slug: str, name: str, url: str, email: str, description: str,
                   languages: tuple[str, ...], platform_id: int | None) -> None:
    from lti_tool.services.platforms import get_platform

    with session_for(make_app()) as session:
        if platform_id is not None:
            get_platform(session, platform_id)  # NotFound → one line, nothing created
        issuer = catalog_service.create_issuer(
            session, {"name": name, "url": url, "email": email, "description": description,
                      "languages": list(languages) or ["en"]},
            slug=slug, platform_id=platform_id, actor_ref="cli")
        mapped = f", serving platform {platform_id}" if platform_id is not None else ""
        message = f"Created issuer {issuer.slug}: {issuer.name}{mapped}."
    click.echo(message)


@issuers.command("list", help="List issuers and the platforms mapped to them.")
def issuers_list() -> None:
    with session_for(make_app()) as session:
        rows = list(session.scalars(select(Issuer).order_by(Issuer.slug)))
        if not rows:
            click.echo("No issuers yet (`microcred issuers create`, or `microcred demo seed`).")
        for issuer in rows:
            maps = session.execute(select(IssuerPlatform.platform_id,
                                          IssuerPlatform.deployment_pk)
                                   .where(IssuerPlatform.issuer_id == issuer.id)
                                   .order_by(IssuerPlatform.platform_id)).all()
            served = ",".join(f"{p}" if d is None else f"{p}/deployment-pk-{d}"
                              for p, d in maps) or "-"
            click.echo(f"{issuer.slug}\t{issuer.name}\t{issuer.url}\tplatforms={served}")


@issuers.command("map", help="Serve an issuer's catalog to a platform, or to one deployment "
                             "of it (a deployment mapping wins over the platform's).")
@click.option("--issuer", "issuer_slug", required=True)
@click.option("--platform-id", type=int, required=True)
@click.option("--deployment-id", default=None, help="The LTI deployment_id (optional).")
def issuers_map(issuer_slug: str, platform_id: int, deployment_id: str | None) -> None:
    from lti_tool.services.platforms import find_deployment, get_platform

    with session_for(make_app()) as session:
        issuer = resolve_issuer(session, issuer_slug)
        platform = get_platform(session, platform_id)
        deployment_pk = None
        if deployment_id is not None:
            deployment = find_deployment(session, platform.id, deployment_id)
            if deployment is None:
                raise CliError(f"platform {platform.id} has no deployment {deployment_id!r} "
                               "(see `microcred platforms show`).")
            deployment_pk = deployment.id
        catalog_service.map_platform(session, issuer.id, platform.id, deployment_pk)
        audit.record(session, "issuer.platform_mapped", platform_id=platform.id,
                     subject_type="issuer", subject_id=issuer.id,
                     detail={"by": "cli", "deployment_id": deployment_id})
        target = f"deployment {deployment_id} of " if deployment_id else ""
        message = f"Issuer {issuer.slug} now serves {target}platform {platform.id} " \
                  f"({platform.name})."
    click.echo(message)


# -- catalog ---------------------------------------------------------------------------------
@click.group(help="Export and import an issuer's catalog (JSON) or skills (CSV).")
def catalog() -> None:
    pass


def _format(explicit: str | None, path: str, default: str | None) -> str:
    if explicit:
        return explicit
    suffix = Path(path).suffix.lower() if path != "-" else ""
    if suffix in (".json", ".csv"):
        return suffix[1:]
    if default:
        return default
    raise CliError("cannot tell the format from the file name: add --format json or "
                   "--format csv.")


@catalog.command("export", help="Write the whole catalog as JSON, or the skills as CSV.")
@click.option("--issuer", "issuer_slug", default=None,
              help="The issuer's slug (optional when there is only one issuer).")
@click.option("--output", "-o", default="-", show_default=True,
              help="File to write, or - for standard output.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default=None,
              help="json: the whole catalog (default); csv: the skills library only.")
@click.option("--separator", type=click.Choice(["comma", "semicolon"]), default="comma",
              show_default=True,
              help="CSV only: semicolon is what spreadsheets in a French locale open "
                   "straight into columns.")
def catalog_export(issuer_slug: str | None, output: str, fmt: str | None,
                   separator: str) -> None:
    fmt = _format(fmt, output, "json")
    with session_for(make_app()) as session:
        issuer = resolve_issuer(session, issuer_slug)
        actor = cli_actor(issuer)
        if fmt == "json":
            text = json.dumps(export_catalog(session, actor), ensure_ascii=False, indent=2) + "\n"
        else:
            text = export_skills_csv(session, actor,
                                     delimiter=";" if separator == "semicolon" else ",")
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        # newline="" keeps CSV's CRLF row ends as they are.
        Path(output).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}.") from None
    click.echo(f"Exported {issuer.slug}'s {'catalog' if fmt == 'json' else 'skills'} to "
               f"{output}.", err=True)


def _read(path: str, limit: int) -> bytes:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with Path(path).open("rb") as fh:
                data = fh.read(limit + 1)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}.") from None
    if len(data) > limit:
        raise CliError(f"{path} is larger than {limit // (1024 * 1024)} MB.")
    return data


def _print_report(report: ImportReport, issuer: Issuer) -> None:
    counts = report.counts
    if not report.ok:
        click.echo(f"{len(report.problems)} problem(s) found; nothing was imported:")
        for problem in report.problems:
            field = f" ({problem['field']})" if problem["field"] else ""
            click.echo(f"  {problem['where']}{field}: {problem['message']}")
        return
    parts = [f"{counts.get('skills_created', 0)} skills created",
             f"{counts.get('skills_updated', 0)} updated",
             f"{counts.get('skills_unchanged', 0)} unchanged"]
    if "credentials_created" in counts:
        parts.append(f"{counts['credentials_created']} micro-credentials created, "
                     f"{counts.get('credentials_updated', 0)} updated, "
                     f"{counts.get('credentials_unchanged', 0)} unchanged "
                     f"({counts['versions_created']} versions added, "
                     f"{counts.get('versions_updated', 0)} drafts updated, "
                     f"{counts['reviews_created']} reviews)")
        if counts.get("rubric_replaced"):
            parts.append("review rubric replaced")
    if any(counts.get(k) for k in ("pathways_created", "pathways_updated",
                                   "pathways_unchanged")):
        parts.append(f"{counts.get('pathways_created', 0)} pathways created, "
                     f"{counts.get('pathways_updated', 0)} updated, "
                     f"{counts.get('pathways_unchanged', 0)} unchanged")
    if report.dry_run:
        click.echo(f"Dry run for {issuer.slug}: the file is valid; nothing was changed. "
                   f"It would give: {', '.join(parts)}.")
    else:
        click.echo(f"Imported into {issuer.slug}: {', '.join(parts)}.")
    words = {"create": "new", "update": "updated", "add_version": "new version",
             "replace": "replaced"}
    for change in report.changes:
        code = f" {change['code']}" if change["code"] else ""
        click.echo(f"  {change['kind']}{code}: {words.get(change['change'], change['change'])}"
                   f" ({change['detail']})")
    if not report.changes:
        click.echo("Nothing changed." if not report.dry_run else "Nothing would change.")


@catalog.command("import", help="Import a catalog (JSON) or skills (CSV). Everything is "
                                "checked first: on any problem nothing is imported and the "
                                "exit status is 1.")
@click.argument("file")
@click.option("--issuer", "issuer_slug", default=None,
              help="The issuer's slug (optional when there is only one issuer).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default=None,
              help="Default: from the file name (.json or .csv).")
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")
def catalog_import(file: str, issuer_slug: str | None, fmt: str | None, dry_run: bool) -> None:
    from lti_tool.services.catalog_io import CSV_MAX_BYTES

    fmt = _format(fmt, file, None)
    # CSV is read one byte past its limit so the service reports "larger than 1 MB".
    data = _read(file, MAX_JSON_BYTES if fmt == "json" else CSV_MAX_BYTES + 1)
    with session_for(make_app()) as session:
        issuer = resolve_issuer(session, issuer_slug)
        actor = cli_actor(issuer)
        report: ImportReport
        if fmt == "json":
            doc: Any
            doc, problems = parse_catalog_json(data)
            report = (ImportReport(ok=False, problems=problems) if problems
                      else import_catalog(session, actor, doc, dry_run=dry_run))
        else:
            report = import_skills_csv(session, actor, data, dry_run=dry_run)
        _print_report(report, issuer)
    if not report.ok:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


# -- demo ------------------------------------------------------------------------------------
@click.group(help="Demo data for the sandbox LMS.")
def demo() -> None:
    pass


@demo.command("seed", help="Create the demo issuer (Lakeshore College) and its catalog, "
                           "mapped to the sandbox LMS. Safe to run again.")
def demo_seed() -> None:
    from lti_tool.services.demo import seed_demo

    app = make_app()
    with session_for(app) as session:
        result = seed_demo(session, app.extensions["lti"].vault, app.config["PUBLIC_BASE_URL"])
        slug, name = result.issuer.slug, result.issuer.name
        skills, credentials = list(result.skills_created), list(result.credentials_created)
        pathways = list(result.pathways_created)
    if skills or credentials or pathways:
        click.echo(f"Seeded {name} ({slug}): {len(skills)} skills, "
                   f"{len(credentials)} micro-credentials ({', '.join(credentials) or '-'})"
                   + (f", {len(pathways)} pathways with their micro-credentials "
                      f"({', '.join(pathways)})" if pathways else "") + ".")
    else:
        click.echo(f"{name} ({slug}) is already seeded; nothing changed.")
    click.echo(f"Public catalog: {app.config['PUBLIC_BASE_URL']}/c/{slug}")
