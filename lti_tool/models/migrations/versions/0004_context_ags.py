"""contexts.ags: the Assignment and Grade Services endpoint of a course (line-items URL and
granted scopes), kept from launches for the optional grade-book signal.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contexts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ags', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contexts', schema=None) as batch_op:
        batch_op.drop_column('ags')
