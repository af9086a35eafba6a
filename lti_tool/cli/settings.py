"""``microcred settings``: every setting, its environment variable and default."""

from __future__ import annotations

import click


@click.command("settings", help="List every setting, its environment variable and default.")
def settings_cmd() -> None:
    from lti_tool.settings import SETTINGS

    for s in SETTINGS:
        default = "(secret)" if s.secret else repr(s.default)
        required = " [required in production]" if s.required_in_production else ""
        click.echo(f"{s.env}={default}{required}\n    {s.doc}")
