"""``microcred worker``: run a background worker (RQ) for roster refreshes and grade-book
publications. Start as many as the load needs; each serves the ``JOBS_QUEUE`` queue."""

from __future__ import annotations

import click

from lti_tool.cli.context import CliError, make_app


@click.command("worker", help="Run a background worker (roster refreshes, grade-book "
                              "publications) on the Redis queue.")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option("--queue", "queue_names", multiple=True, metavar="NAME",
              help="Queue to serve (repeatable; default: the JOBS_QUEUE setting).")
def worker(burst: bool, queue_names: tuple[str, ...]) -> None:
    from lti_tool import jobs

    app = make_app()
    if not app.config["REDIS_URL"]:
        raise CliError("REDIS_URL is not set: background jobs run inside the web process "
                       "(the single-process demo), so there is nothing for a worker to do.")
    if app.config["JOBS_INLINE"]:
        raise CliError("JOBS_INLINE is set: background jobs run inside the web process, so "
                       "there is nothing for a worker to do. Unset it to use workers.")
    click.echo(f"worker serving {', '.join(queue_names or (app.config['JOBS_QUEUE'],))}"
               f"{' (burst)' if burst else ''}", err=True)
    jobs.run_worker(app, queue_names=queue_names, burst=burst)
