"""The ``microcred`` command line: ``db``, ``platforms``, ``deployments``, ``keys`` (incl.
``rotate-issuer``), ``settings``, ``tokens``, ``issuers``, ``catalog``, ``demo``,
``occupations``, ``worker``
(one module per command group; what they share is in ``context``). Calls services (and
``jobs`` for the worker), never the web layer.

Every error — invalid input, an unknown id, a conflict, a bad setting, a database that is not
reachable or not migrated, a click usage error — is one line on stderr starting with
``error:``, and the exit status is 2. No traceback reaches the operator."""

from __future__ import annotations

import click

from lti_tool.cli.catalog import catalog, demo, issuers
from lti_tool.cli.context import CliGroup
from lti_tool.cli.db import db
from lti_tool.cli.keys import keys
from lti_tool.cli.occupations import occupations
from lti_tool.cli.platforms import deployments, platforms
from lti_tool.cli.settings import settings_cmd
from lti_tool.cli.tokens import tokens
from lti_tool.cli.worker import worker


@click.group(cls=CliGroup, help="MicroCred: LTI 1.3 skills and micro-credentials tool.")
def main() -> None:
    pass


for command in (db, platforms, deployments, keys, settings_cmd, tokens, issuers, catalog, demo,
                occupations, worker):
    main.add_command(command)
