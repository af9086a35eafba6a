"""Open Badges 3.0 issuing: issuer signing keys, revocation status lists, credential records.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issuer_signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('public_multibase', sa.String(length=64), nullable=False),
    sa.Column('private_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_issuer_signing_keys_issuer_id_issuers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_signing_keys')),
    sa.UniqueConstraint('public_multibase', name=op.f('uq_issuer_signing_keys_public_multibase'))
    )
    with op.batch_alter_table('issuer_signing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issuer_signing_keys_issuer_id'), ['issuer_id'], unique=False)

    op.create_table('status_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('bits', sa.LargeBinary(), nullable=False),
    sa.Column('next_index', sa.Integer(), nullable=False),
    sa.Column('signed', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_status_lists_issuer_id_issuers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_lists')),
    sa.UniqueConstraint('issuer_id', 'list_id', name=op.f('uq_status_lists_issuer_id'))
    )

    op.create_table('credential_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('status_list_id', sa.Integer(), nullable=False),
    sa.Column('status_list_index', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('json', sa.JSON(), nullable=False),
    sa.Column('jwt', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_credential_records_award_id_awards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_credential_records_issuer_id_issuers')),
    sa.ForeignKeyConstraint(['key_id'], ['issuer_signing_keys.id'], name=op.f('fk_credential_records_key_id_issuer_signing_keys')),
    sa.ForeignKeyConstraint(['status_list_id'], ['status_lists.id'], name=op.f('fk_credential_records_status_list_id_status_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_records')),
    sa.UniqueConstraint('award_id', name=op.f('uq_credential_records_award_id')),
    sa.UniqueConstraint('status_list_id', 'status_list_index', name=op.f('uq_credential_records_status_list_id'))
    )
    with op.batch_alter_table('credential_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_records_issuer_id'), ['issuer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credential_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_records_issuer_id'))
    op.drop_table('credential_records')
    op.drop_table('status_lists')
    with op.batch_alter_table('issuer_signing_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issuer_signing_keys_issuer_id'))
    op.drop_table('issuer_signing_keys')
