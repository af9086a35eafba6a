"""Declarative base with a naming convention so migrations name constraints the same on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        # PostgreSQL's timestamptz values arrive aware from the driver: no per-value Python
        # call (a 600-learner grid reads 28,000 of them). SQLite's need the time zone.
        if dialect.name == "postgresql":
            return self.impl_instance.result_processor(dialect, coltype)
        return super().result_processor(dialect, coltype)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@contextmanager
def autocommit_connection(session: Session) -> Iterator[Connection]:
    """A connection for statements that each stand alone: reads, or one self-contained
    write whose own implicit transaction is all it needs (a data-modifying CTE).

    On PostgreSQL, when ``session`` is bound to an Engine and has no transaction open, a
    pooled connection in AUTOCOMMIT: the statement alone, without the BEGIN before it and
    the COMMIT or ROLLBACK after it (two of the three round trips the session would make).
    Under READ COMMITTED a statement sees what was committed when it started, as it would
    in the session; a later transaction of the session sees newer data, never older.
    Otherwise (SQLite, a session bound to one connection as in the tests, or a transaction
    already open) the session's connection, in its transaction."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql" \
            or session.in_transaction():
        yield session.connection()
        return
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection
