"""Occupations ("jobs in view"): an issuer's occupations (NOC 2021 / ESCO codes and
titles, bilingual) and the skills each requires, linked to catalog skills directly or
through a framework item that catalog skills are aligned to.

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-06 19:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('occupations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('noc_code', sa.String(length=5), nullable=False),
    sa.Column('esco_uri', sa.String(length=300), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('mapping_note', sa.Text(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_occupations_issuer_id_issuers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupations')),
    sa.UniqueConstraint('issuer_id', 'code', name=op.f('uq_occupations_issuer_id'))
    )
    with op.batch_alter_table('occupations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_occupations_issuer_id'), ['issuer_id'], unique=False)

    op.create_table('occupation_skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occupation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('importance', sa.String(length=10), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=True),
    sa.Column('framework_url', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['occupation_id'], ['occupations.id'], name=op.f('fk_occupation_skills_occupation_id_occupations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_occupation_skills_skill_id_skills'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_occupation_skills'))
    )
    with op.batch_alter_table('occupation_skills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_occupation_skills_occupation_id'), ['occupation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_occupation_skills_skill_id'), ['skill_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('occupation_skills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_occupation_skills_skill_id'))
        batch_op.drop_index(batch_op.f('ix_occupation_skills_occupation_id'))
    op.drop_table('occupation_skills')
    with op.batch_alter_table('occupations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_occupations_issuer_id'))
    op.drop_table('occupations')
