"""Awards: a revoked credential can be earned again; courses keep their latest roster
refresh (``contexts.roster_status``); a review records the "not met" criteria its reviewer
confirmed approving despite (``reviews.confirmed_not_met``); a platform registration or a
deployment can be deactivated (``platforms.active``, ``deployments.active``).

Awards: a revoked credential can be earned again. ``UNIQUE (person_id, version_id)``
becomes a partial unique index on (person_id, credential_id) WHERE revoked_at IS NULL: at
most one standing award per person and credential (races still lose to the index), any
number of revoked ones kept in history.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-10 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0006'
branch_labels = None
depends_on = None

STANDING = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    connection = op.get_bind()
    # Two standing awards for one person and credential (two versions) were possible in
    # theory before; the new index would refuse them. Say which, and change nothing.
    clashes = connection.execute(sa.text(
        "SELECT person_id, credential_id, COUNT(*) FROM awards WHERE revoked_at IS NULL "
        "GROUP BY person_id, credential_id HAVING COUNT(*) > 1")).fetchall()
    if clashes:
        listed = ", ".join(f"person {p} credential {c} ({n} awards)" for p, c, n in clashes[:20])
        raise RuntimeError(
            "Cannot upgrade: these learners hold more than one standing award of the same "
            f"micro-credential: {listed}. Revoke the extra ones (microcred or the Awards "
            "page), then upgrade again.")
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_constraint('uq_awards_person_id', type_='unique')
        batch_op.create_index('ix_awards_person_version', ['person_id', 'version_id'],
                              unique=False)
    op.create_index('uq_awards_person_credential_standing', 'awards',
                    ['person_id', 'credential_id'], unique=True,
                    sqlite_where=STANDING, postgresql_where=STANDING)
    with op.batch_alter_table('contexts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roster_status', sa.JSON(), nullable=True))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_not_met', sa.JSON(), nullable=True))
    for table in ('platforms', 'deployments'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False,
                                          server_default=sa.true()))


def downgrade() -> None:
    for table in ('platforms', 'deployments'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('active')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('confirmed_not_met')
    with op.batch_alter_table('contexts', schema=None) as batch_op:
        batch_op.drop_column('roster_status')
    op.drop_index('uq_awards_person_credential_standing', table_name='awards')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index('ix_awards_person_version')
        batch_op.create_unique_constraint('uq_awards_person_id', ['person_id', 'version_id'])
