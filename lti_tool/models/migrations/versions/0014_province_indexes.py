"""Indexes for province-scale data (issue 14; plans in docs/operations.md, "Capacity").

- ``roster_entries (account_id)``: a person's courses (identity links re-evaluating
  awards, imports, evidence access) joined the roster by account; without it PostgreSQL
  scanned all of it (2 M rows: ~490 ms; with it: under 1 ms).
- ``awards (issuer_id, id)`` replaces ``awards (issuer_id)``: the awards API lists an
  issuer's awards in id order, a page at a time, and counts them; the old index made it
  sort or walk the primary key filtering other issuers' rows.
- ``awards (issuer_id, status, id)``: the same list filtered by status (``?status=revoked``).

On a large existing database each CREATE INDEX blocks writes to its table while it builds:
create them first with ``CREATE INDEX CONCURRENTLY`` (docs/operations.md); the migration
then finds them and skips them.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-06 19:30:00
"""
from alembic import op


revision = '0014'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_roster_entries_account_id', 'roster_entries', ['account_id'],
                    unique=False, if_not_exists=True)
    op.create_index('ix_awards_issuer_id_id', 'awards', ['issuer_id', 'id'], unique=False,
                    if_not_exists=True)
    op.create_index('ix_awards_issuer_status_id', 'awards', ['issuer_id', 'status', 'id'],
                    unique=False, if_not_exists=True)
    op.drop_index('ix_awards_issuer_id', table_name='awards', if_exists=True)


def downgrade() -> None:
    op.create_index('ix_awards_issuer_id', 'awards', ['issuer_id'], unique=False,
                    if_not_exists=True)
    op.drop_index('ix_awards_issuer_status_id', table_name='awards', if_exists=True)
    op.drop_index('ix_awards_issuer_id_id', table_name='awards', if_exists=True)
    op.drop_index('ix_roster_entries_account_id', table_name='roster_entries',
                  if_exists=True)
