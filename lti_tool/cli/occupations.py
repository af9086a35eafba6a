"""``microcred occupations``: an issuer's occupations ("jobs in view").

- ``occupations import FILE`` (JSON or CSV; ``--sample`` instead of a file adds the bundled
  sample), checked whole first: on any problem nothing is imported, every problem is
  listed with its place, and the exit status is 1; ``--dry-run`` only checks;
- ``occupations export`` (JSON or CSV), ``occupations list``.

Other errors are one ``error:`` line and exit status 2, like every ``microcred`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from lti_tool.cli.catalog import EXIT_PROBLEMS, _format, _read
from lti_tool.cli.context import CliError, cli_actor, make_app, resolve_issuer, session_for
from lti_tool.services.catalog_io import ImportReport

MAX_JSON_BYTES = 20 * 1024 * 1024


@click.group(help="Occupations and the skills they require (NOC 2021, ESCO): import, "
                  "export, list.")
def occupations() -> None:
    pass


def _print_report(report: ImportReport, slug: str) -> None:
    if not report.ok:
        click.echo(f"{len(report.problems)} problem(s) found; nothing was imported:")
        for problem in report.problems:
            field = f" ({problem['field']})" if problem["field"] else ""
            click.echo(f"  {problem['where']}{field}: {problem['message']}")
        return
    counts = report.counts
    words = (f"{counts.get('occupations_created', 0)} occupations created, "
             f"{counts.get('occupations_replaced', 0)} replaced, "
             f"{counts.get('occupations_unchanged', 0)} unchanged")
    if report.dry_run:
        click.echo(f"Dry run for {slug}: the file is valid; nothing was changed. "
                   f"It would give: {words}.")
    else:
        click.echo(f"Imported into {slug}: {words}.")
    for change in report.changes:
        click.echo(f"  {change['code']}: {'new' if change['change'] == 'create' else 'replaced'}"
                   f" ({change['detail']})")


@occupations.command("import", help="Import occupations from JSON or CSV (or --sample). "
                                    "Everything is checked first: on any problem nothing is "
                                    "imported and the exit status is 1.")
@click.argument("file", required=False)
@click.option("--issuer", "issuer_slug", default=None,
              help="The issuer's slug (optional when there is only one issuer).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default=None,
              help="Default: from the file name (.json or .csv).")
@click.option("--sample", is_flag=True,
              help="Add the bundled sample occupations the issuer does not have yet.")
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")
def occupations_import(file: str | None, issuer_slug: str | None, fmt: str | None,
                       sample: bool, dry_run: bool) -> None:
    from lti_tool.services import occupations as service

    if sample == bool(file):
        raise CliError("give a FILE to import, or --sample (not both).")
    with session_for(make_app()) as session:
        issuer = resolve_issuer(session, issuer_slug)
        actor = cli_actor(issuer)
        if sample:
            if dry_run:
                raise CliError("--dry-run applies to a FILE.")
            added = service.add_sample(session, actor)
            click.echo(f"Added {len(added)} sample occupations to {issuer.slug}"
                       + (f": {', '.join(added)}." if added else " (it has them all)."))
            return
        assert file is not None
        kind = _format(fmt, file, None)
        data = _read(file, MAX_JSON_BYTES if kind == "json" else service.CSV_MAX_BYTES + 1)
        report: ImportReport
        if kind == "json":
            document: Any
            document, problems = service.parse_json(data)
            report = (ImportReport(ok=False, problems=problems) if problems else
                      service.import_occupations(session, actor, document, dry_run=dry_run))
        else:
            report = service.import_occupations_csv(session, actor, data, dry_run=dry_run)
        _print_report(report, issuer.slug)
        if not report.ok:
            session.rollback()
    if not report.ok:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


@occupations.command("export", help="Write the issuer's occupations as JSON (or CSV).")
@click.option("--issuer", "issuer_slug", default=None)
@click.option("--output", "-o", default="-", show_default=True,
              help="File to write, or - for standard output.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default=None)
def occupations_export(issuer_slug: str | None, output: str, fmt: str | None) -> None:
    from lti_tool.services import occupations as service

    kind = _format(fmt, output, "json")
    with session_for(make_app()) as session:
        issuer = resolve_issuer(session, issuer_slug)
        actor = cli_actor(issuer)
        text = (json.dumps(service.export_occupations(session, actor), ensure_ascii=False,
                           indent=2) + "\n" if kind == "json"
                else service.export_occupations_csv(session, actor))
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}.") from None
    click.echo(f"Exported {issuer.slug}'s occupations to {output}.", err=True)


@occupations.command("list", help="List the issuer's occupations and how many of their "
                                  "essential skills the published catalog covers.")
@click.option("--issuer", "issuer_slug", default=None)
def occupations_list(issuer_slug: str | None) -> None:
    from lti_tool.domain.occupations import summarize
    from lti_tool.services import occupations as service

    with session_for(make_app()) as session:
        issuer = resolve_issuer(session, issuer_slug)
        actor = cli_actor(issuer)
        rows = service.list_occupations(session, actor)
        if not rows:
            click.echo(f"{issuer.slug} has no occupations yet "
                       "(`microcred occupations import FILE` or `--sample`).")
            return
        coverage = service.coverage_by_occupation(session, issuer.id, rows)
        for occupation in rows:
            summary = summarize(coverage[occupation.id])
            click.echo(f"{occupation.code}\t{occupation.noc_code or '-'}\t{occupation.title}\t"
                       f"essential skills covered {summary.essential_covered}/"
                       f"{summary.essential_total}")
