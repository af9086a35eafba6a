"""A migrated database of a test module's own, for races that need real commits from
several connections, threads or processes (the rolled-back per-test transaction can't be
shared). PostgreSQL when TEST_DATABASE_URL says so (a fresh database on that server,
dropped afterwards), otherwise a SQLite file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from lti_tool.extensions import make_engine
from lti_tool.models.migrate import upgrade


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


@contextmanager
def own_database(tag: str, sqlite_dir: Path) -> Iterator[str]:
    """Yield the URL of a new, migrated database named after ``tag``."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        url = f"sqlite:///{sqlite_dir / 'race.sqlite3'}"
        _migrate(url)
        yield url
        return
    server = make_url(base)
    name = f"{server.database}_{tag}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
