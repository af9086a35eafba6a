"""A partial index of the corrections: ``demonstrations (supersedes_id) WHERE supersedes_id
IS NOT NULL`` (issue 14; plans in docs/operations.md, "Capacity").

Every read of current demonstrations (the grid, a learner's page, the award evaluation)
excludes superseded ones with ``NOT EXISTS (… later.supersedes_id = demonstrations.id)``.
The unique constraint on ``supersedes_id`` indexes every row, NULLs included (2 M entries
for 2 M demonstrations, of which about 1 in 2,000 is a correction), so PostgreSQL probed
that large index once per row read (a nested-loop anti-join: ~15,000 probes for a
600-learner grid). The partial index holds the corrections only (a few pages): the
anti-join becomes a merge against it (a 600 x 40 grid's facts query: 27 → 20 ms in
EXPLAIN ANALYZE, database CPU per grid page 35 → 27 ms). The unique constraint stays: it
decides correction races.

On a large existing database create it first without blocking writes, then upgrade (the
migration skips an index that exists)::

    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_demonstrations_superseded
        ON demonstrations (supersedes_id) WHERE supersedes_id IS NOT NULL;

Revision ID: 0017
Revises: 0010
Create Date: 2026-12-06 22:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_demonstrations_superseded', 'demonstrations', ['supersedes_id'],
                    unique=False, if_not_exists=True,
                    postgresql_where=sa.text('supersedes_id IS NOT NULL'),
                    sqlite_where=sa.text('supersedes_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_demonstrations_superseded', table_name='demonstrations',
                  if_exists=True)
