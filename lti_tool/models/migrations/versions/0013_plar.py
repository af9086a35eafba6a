"""Prior learning assessment and recognition (PLAR): requests, their skills (narrative,
method, schedule, decision), evidence, messages, assessors per credential, and the e-mail
outbox (``notifications``).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06 19:00:00
"""
from alembic import op
import sqlalchemy as sa



revision = '0013'
down_revision = '0010'
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('submitted', 'in_assessment', 'more_evidence')")


def upgrade() -> None:
    op.create_table(
        'plar_assessors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.Integer(), nullable=False),
        sa.Column('platform_id', sa.Integer(), nullable=False),
        sa.Column('sub', sa.String(length=255), nullable=False),
        sa.Column('granted_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['credential_id'], ['micro_credentials.id'],
                                name=op.f('fk_plar_assessors_credential_id_micro_credentials'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'],
                                name=op.f('fk_plar_assessors_issuer_id_issuers'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'],
                                name=op.f('fk_plar_assessors_platform_id_platforms'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plar_assessors')),
        sa.UniqueConstraint('credential_id', 'platform_id', 'sub',
                            name='uq_plar_assessors_credential_user'),
    )
    op.create_index(op.f('ix_plar_assessors_issuer_id'), 'plar_assessors', ['issuer_id'])

    op.create_table(
        'plar_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('context_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('learner_email', sa.String(length=320), nullable=False),
        sa.Column('learner_name', sa.String(length=300), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('assessor_account_id', sa.Integer(), nullable=True),
        sa.Column('assessor_name', sa.String(length=300), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('award_id', sa.Integer(), nullable=True),
        sa.Column('row_version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'],
                                name=op.f('fk_plar_requests_issuer_id_issuers')),
        sa.ForeignKeyConstraint(['credential_id'], ['micro_credentials.id'],
                                name=op.f('fk_plar_requests_credential_id_micro_credentials')),
        sa.ForeignKeyConstraint(['version_id'], ['credential_versions.id'],
                                name=op.f('fk_plar_requests_version_id_credential_versions')),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'],
                                name=op.f('fk_plar_requests_person_id_persons')),
        sa.ForeignKeyConstraint(['account_id'], ['learner_accounts.id'],
                                name=op.f('fk_plar_requests_account_id_learner_accounts')),
        sa.ForeignKeyConstraint(['context_id'], ['contexts.id'],
                                name=op.f('fk_plar_requests_context_id_contexts')),
        sa.ForeignKeyConstraint(['assessor_account_id'], ['learner_accounts.id'],
                                name=op.f('fk_plar_requests_assessor_account_id_learner_accounts')),
        sa.ForeignKeyConstraint(['award_id'], ['awards.id'],
                                name=op.f('fk_plar_requests_award_id_awards')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plar_requests')),
    )
    op.create_index('ix_plar_requests_issuer_state', 'plar_requests', ['issuer_id', 'state'])
    op.create_index(op.f('ix_plar_requests_person_id'), 'plar_requests', ['person_id'])
    op.create_index('uq_plar_requests_open', 'plar_requests', ['person_id', 'credential_id'],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)

    op.create_table(
        'plar_request_skills',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('skill_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('narrative', sa.Text(), nullable=False),
        sa.Column('method', sa.String(length=30), nullable=False),
        sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('scheduled_place', sa.String(length=1000), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('rationale', sa.Text(), nullable=False),
        sa.Column('decided_by_account_id', sa.Integer(), nullable=True),
        sa.Column('decided_by_name', sa.String(length=300), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('confirmed_by_account_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_by_name', sa.String(length=300), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('demonstration_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['plar_requests.id'],
                                name=op.f('fk_plar_request_skills_request_id_plar_requests'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['skill_id'], ['skills.id'],
                                name=op.f('fk_plar_request_skills_skill_id_skills')),
        sa.ForeignKeyConstraint(
            ['decided_by_account_id'], ['learner_accounts.id'],
            name=op.f('fk_plar_request_skills_decided_by_account_id_learner_accounts')),
        sa.ForeignKeyConstraint(
            ['confirmed_by_account_id'], ['learner_accounts.id'],
            name=op.f('fk_plar_request_skills_confirmed_by_account_id_learner_accounts')),
        sa.ForeignKeyConstraint(
            ['demonstration_id'], ['demonstrations.id'],
            name=op.f('fk_plar_request_skills_demonstration_id_demonstrations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plar_request_skills')),
        sa.UniqueConstraint('request_id', 'skill_id',
                            name='uq_plar_request_skills_request_skill'),
    )

    op.create_table(
        'plar_evidence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('skill_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('url', sa.String(length=1000), nullable=False),
        sa.Column('evidence_file_id', sa.Integer(), nullable=True),
        sa.Column('award_id', sa.Integer(), nullable=True),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['plar_requests.id'],
                                name=op.f('fk_plar_evidence_request_id_plar_requests'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['skill_id'], ['skills.id'],
                                name=op.f('fk_plar_evidence_skill_id_skills')),
        sa.ForeignKeyConstraint(['evidence_file_id'], ['evidence_files.id'],
                                name=op.f('fk_plar_evidence_evidence_file_id_evidence_files')),
        sa.ForeignKeyConstraint(['award_id'], ['awards.id'],
                                name=op.f('fk_plar_evidence_award_id_awards')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plar_evidence')),
    )
    op.create_index(op.f('ix_plar_evidence_request_id'), 'plar_evidence', ['request_id'])

    op.create_table(
        'plar_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('author_account_id', sa.Integer(), nullable=True),
        sa.Column('author_name', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['plar_requests.id'],
                                name=op.f('fk_plar_messages_request_id_plar_requests'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_account_id'], ['learner_accounts.id'],
                                name=op.f('fk_plar_messages_author_account_id_learner_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plar_messages')),
    )
    op.create_index(op.f('ix_plar_messages_request_id'), 'plar_messages', ['request_id'])

    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer_id', sa.Integer(), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('subject_type', sa.String(length=30), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('to_address', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'],
                                name=op.f('fk_notifications_issuer_id_issuers')),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'],
                                name=op.f('fk_notifications_person_id_persons')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    op.create_index(op.f('ix_notifications_person_id'), 'notifications', ['person_id'])
    op.create_index('ix_notifications_status', 'notifications', ['status'])


def downgrade() -> None:
    op.drop_index('ix_notifications_status', table_name='notifications')
    op.drop_index(op.f('ix_notifications_person_id'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_index(op.f('ix_plar_messages_request_id'), table_name='plar_messages')
    op.drop_table('plar_messages')
    op.drop_index(op.f('ix_plar_evidence_request_id'), table_name='plar_evidence')
    op.drop_table('plar_evidence')
    op.drop_table('plar_request_skills')
    op.drop_index('uq_plar_requests_open', table_name='plar_requests')
    op.drop_index(op.f('ix_plar_requests_person_id'), table_name='plar_requests')
    op.drop_index('ix_plar_requests_issuer_state', table_name='plar_requests')
    op.drop_table('plar_requests')
    op.drop_index(op.f('ix_plar_assessors_issuer_id'), table_name='plar_assessors')
    op.drop_table('plar_assessors')
