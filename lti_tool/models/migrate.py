"""Run Alembic migrations programmatically (``microcred db upgrade``, tests, the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _no_statement_timeout(connection: Connection) -> None:
    """A migration may rewrite a large table: lift the web tier's statement timeout for
    this transaction (the lock timeout stays, so a migration never queues behind a long
    transaction while blocking every request behind itself)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL statement_timeout = 0"))


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply the migrations up to ``revision`` (every head by default: features developed
    side by side may each add a migration after the same parent)."""
    from lti_tool.extensions import unbounded_statements

    cfg = alembic_config()
    with unbounded_statements(), engine.begin() as connection:
        _no_statement_timeout(connection)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from lti_tool.extensions import unbounded_statements

    cfg = alembic_config()
    with unbounded_statements(), engine.begin() as connection:
        _no_statement_timeout(connection)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ", ".join(sorted(heads)) if heads else None
