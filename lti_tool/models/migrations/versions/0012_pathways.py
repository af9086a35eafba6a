"""Pathways: an issuer's ladders of micro-credentials into a larger credential
(``pathways``, their versions with the credentials' lifecycle, rubric reviews and the
credentials each version has as steps, indexed for the award engine).

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 18:50:14.732572
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pathways',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_pathways_issuer_id_issuers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathways')),
    sa.UniqueConstraint('issuer_id', 'code', name=op.f('uq_pathways_issuer_id'))
    )
    with op.batch_alter_table('pathways', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathways_issuer_id'), ['issuer_id'], unique=False)

    op.create_table('pathway_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pathway_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('target_credential_id', sa.Integer(), nullable=True),
    sa.Column('author_ref', sa.String(length=100), nullable=False),
    sa.Column('author_name', sa.String(length=300), nullable=False),
    sa.Column('contributors', sa.JSON(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['pathway_id'], ['pathways.id'], name=op.f('fk_pathway_versions_pathway_id_pathways'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_credential_id'], ['micro_credentials.id'], name=op.f('fk_pathway_versions_target_credential_id_micro_credentials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathway_versions')),
    sa.UniqueConstraint('pathway_id', 'version', name=op.f('uq_pathway_versions_pathway_id'))
    )
    with op.batch_alter_table('pathway_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_versions_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_pathway_versions_target_credential_id'), ['target_credential_id'], unique=False)

    op.create_table('pathway_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_ref', sa.String(length=100), nullable=False),
    sa.Column('reviewer_name', sa.String(length=300), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('rubric', sa.JSON(), nullable=False),
    sa.Column('confirmed_not_met', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['pathway_versions.id'], name=op.f('fk_pathway_reviews_version_id_pathway_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathway_reviews'))
    )
    with op.batch_alter_table('pathway_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_reviews_version_id'), ['version_id'], unique=False)

    op.create_table('pathway_steps',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['micro_credentials.id'], name=op.f('fk_pathway_steps_credential_id_micro_credentials')),
    sa.ForeignKeyConstraint(['version_id'], ['pathway_versions.id'], name=op.f('fk_pathway_steps_version_id_pathway_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'credential_id', name=op.f('pk_pathway_steps'))
    )
    with op.batch_alter_table('pathway_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_steps_credential_id'), ['credential_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pathway_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_steps_credential_id'))

    op.drop_table('pathway_steps')
    with op.batch_alter_table('pathway_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_reviews_version_id'))

    op.drop_table('pathway_reviews')
    with op.batch_alter_table('pathway_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_versions_target_credential_id'))
        batch_op.drop_index(batch_op.f('ix_pathway_versions_state'))

    op.drop_table('pathway_versions')
    with op.batch_alter_table('pathways', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathways_issuer_id'))

    op.drop_table('pathways')
