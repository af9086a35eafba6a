"""Issuer key revocation: when a key was withdrawn and why; when a credential was re-signed.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('issuer_signing_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('compromised_since', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('revocation_reason', sa.String(length=300),
                                      nullable=True))
    with op.batch_alter_table('credential_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reissued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_credential_records_key_id'), ['key_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credential_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_records_key_id'))
        batch_op.drop_column('reissued_at')
    with op.batch_alter_table('issuer_signing_keys', schema=None) as batch_op:
        batch_op.drop_column('revocation_reason')
        batch_op.drop_column('compromised_since')
        batch_op.drop_column('revoked_at')
