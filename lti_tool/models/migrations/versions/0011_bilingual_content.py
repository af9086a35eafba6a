"""Bilingual catalog content and credentials: skills and issuers carry their French texts
in a ``translations`` JSON column (``{"fr": {"name": …, "description": …}}``; the English
text stays in its own column); a learner account remembers the language of its latest
launch (``learner_accounts.language``: ``en`` / ``fr``, empty until a launch sends a
locale), from which a credential's language is chosen when it is issued. A version's
French texts live in its ``content`` (``content["translations"]``), so they need no column
and a published snapshot freezes them with the rest.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 19:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('skills', 'issuers'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))
    with op.batch_alter_table('learner_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('learner_accounts', schema=None) as batch_op:
        batch_op.drop_column('language')
    for table in ('issuers', 'skills'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('translations')
