"""Transfer between institutions: the issuer's equivalency table
(``transfer_equivalencies``) and learners' transfer requests (``transfer_requests``, the
external credential kept verbatim with its verification and the decision).

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-06 19:00:00
"""
from alembic import op
import sqlalchemy as sa



revision = '0016'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'transfer_equivalencies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('external_issuer_id', sa.String(length=1000), nullable=False),
        sa.Column('external_issuer_name', sa.String(length=300), nullable=False),
        sa.Column('match_by', sa.String(length=20), nullable=False),
        sa.Column('achievement_id', sa.String(length=1000), nullable=False),
        sa.Column('achievement_name', sa.String(length=300), nullable=False),
        sa.Column('alignments', sa.JSON(), nullable=False),
        sa.Column('target_kind', sa.String(length=20), nullable=False),
        sa.Column('credential_id', sa.Integer(), nullable=True),
        sa.Column('skill_ids', sa.JSON(), nullable=False),
        sa.Column('valid_months', sa.Integer(), nullable=True),
        sa.Column('min_version', sa.String(length=50), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('translations', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('author_ref', sa.String(length=100), nullable=False),
        sa.Column('author_name', sa.String(length=300), nullable=False),
        sa.Column('contributors', sa.JSON(), nullable=False),
        sa.Column('approved_by', sa.String(length=100), nullable=False),
        sa.Column('approved_by_name', sa.String(length=300), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('row_version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['credential_id'], ['micro_credentials.id'],
                                name=op.f('fk_transfer_equivalencies_credential_id_micro_credentials')),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], ondelete='CASCADE',
                                name=op.f('fk_transfer_equivalencies_issuer_id_issuers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_equivalencies')),
    )
    op.create_index('ix_transfer_equivalencies_issuer_external', 'transfer_equivalencies',
                    ['issuer_id', 'external_issuer_id'], unique=False)
    op.create_table(
        'transfer_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('context_id', sa.Integer(), nullable=True),
        sa.Column('submitted_by', sa.String(length=100), nullable=False),
        sa.Column('submitted_by_name', sa.String(length=300), nullable=False),
        sa.Column('original', sa.LargeBinary(), nullable=False),
        sa.Column('original_type', sa.String(length=100), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('standard', sa.String(length=10), nullable=False),
        sa.Column('result', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.Column('claims', sa.JSON(), nullable=False),
        sa.Column('recipient_match', sa.String(length=30), nullable=False),
        sa.Column('external_issuer_id', sa.String(length=1000), nullable=False),
        sa.Column('external_achievement_id', sa.String(length=1000), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('equivalency_id', sa.Integer(), nullable=True),
        sa.Column('auto', sa.Boolean(), nullable=False),
        sa.Column('decision_note', sa.Text(), nullable=False),
        sa.Column('decided_by', sa.String(length=100), nullable=False),
        sa.Column('decided_by_name', sa.String(length=300), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('demonstration_ids', sa.JSON(), nullable=False),
        sa.Column('award_ids', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['learner_accounts.id'],
                                name=op.f('fk_transfer_requests_account_id_learner_accounts')),
        sa.ForeignKeyConstraint(['context_id'], ['contexts.id'],
                                name=op.f('fk_transfer_requests_context_id_contexts')),
        sa.ForeignKeyConstraint(['equivalency_id'], ['transfer_equivalencies.id'],
                                name=op.f('fk_transfer_requests_equivalency_id_transfer_equivalencies')),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], ondelete='CASCADE',
                                name=op.f('fk_transfer_requests_issuer_id_issuers')),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'],
                                name=op.f('fk_transfer_requests_person_id_persons')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_requests')),
    )
    op.create_index('ix_transfer_requests_issuer_state', 'transfer_requests',
                    ['issuer_id', 'state'], unique=False)
    op.create_index(op.f('ix_transfer_requests_person_id'), 'transfer_requests',
                    ['person_id'], unique=False)
    op.create_index(op.f('ix_transfer_requests_sha256'), 'transfer_requests', ['sha256'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_transfer_requests_sha256'), table_name='transfer_requests')
    op.drop_index(op.f('ix_transfer_requests_person_id'), table_name='transfer_requests')
    op.drop_index('ix_transfer_requests_issuer_state', table_name='transfer_requests')
    op.drop_table('transfer_requests')
    op.drop_index('ix_transfer_equivalencies_issuer_external',
                  table_name='transfer_equivalencies')
    op.drop_table('transfer_equivalencies')
