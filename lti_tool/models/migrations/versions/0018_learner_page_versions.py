"""Learner page versions: ``learner_page_versions`` holds a counter per Person (and row 0 for
everything shared: catalog, pathways, occupations, courses, offerings, PLAR set-up), bumped
by database triggers on every write that can change a learner's landing page, whatever
makes the write (ORM, Core bulk statements, the CLI, RQ jobs, imports, another process).
The cached landing page is keyed by these counters (``web/lms/learner/page_cache.py``).

Tables the page never reads are left out (``PAGE_EXEMPT_TABLES`` in
``services/learner_records.py``; a test fails when a table is neither covered nor exempt).

PostgreSQL: statement-level triggers with transition tables, so a bulk statement bumps each
person once, in person order (no lock-order deadlocks between two bulk statements).
SQLite: row-level triggers (SQLite has no statement-level triggers).

Revision ID: 0018
Revises: 0011, 0012, 0013, 0014, 0015, 0016 (a merge point: it adds triggers to their tables)
Create Date: 2026-12-06 22:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = ('0011', '0012', '0013', '0014', '0015', '0016')  # merges: their tables get triggers
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later model changes).
# table -> SQL selecting the person ids a changed row concerns, from the row set "%s"
PERSON_TABLES = {
    'awards': 'SELECT person_id FROM %s',
    'demonstrations': 'SELECT person_id FROM %s',
    'notifications': 'SELECT person_id FROM %s',
    'transfer_requests': 'SELECT person_id FROM %s',
    'plar_requests': 'SELECT person_id FROM %s',
    'persons': 'SELECT id FROM %s',
    'credential_records': 'SELECT a.person_id FROM %s c JOIN awards a ON a.id = c.award_id',
}
# SQLite row-level form of the same: the person id of NEW / OLD
SQLITE_PERSON = {
    'awards': '{row}.person_id', 'demonstrations': '{row}.person_id',
    'notifications': '{row}.person_id', 'transfer_requests': '{row}.person_id',
    'plar_requests': '{row}.person_id', 'persons': '{row}.id',
    'credential_records': '(SELECT person_id FROM awards WHERE id = {row}.award_id)',
}
# Shared: one change may show on every learner's page (plar_requests too: an assessor's
# landing page counts the requests waiting in their queue).
SHARED_TABLES = (
    'catalog_grants', 'contexts', 'credential_skills', 'credential_versions', 'deployments',
    'evidence_files', 'issuer_platforms', 'issuer_signing_keys', 'issuers', 'link_proposals',
    'micro_credentials', 'occupation_skills', 'occupations', 'offerings', 'pathway_reviews',
    'pathway_steps', 'pathway_versions', 'pathways', 'plar_assessors', 'plar_evidence',
    'plar_messages', 'plar_request_skills', 'plar_requests', 'platforms', 'resource_links',
    'reviews', 'rubric_criteria', 'skills', 'transfer_equivalencies',
)
EVENTS = ('INSERT', 'UPDATE', 'DELETE')
# Shared tables whose new rows alone change no page (a page can show a course, link,
# deployment or evidence file only through rows that bump a counter themselves: an offering,
# a demonstration, an award), so an INSERT bumps nothing: a course's first launch, a new
# link, an evidence upload must not invalidate every learner's page nor wait on row 0.
INSERT_EXEMPT = ('contexts', 'deployments', 'evidence_files', 'resource_links')
# Shared tables whose updates bump row 0 only when one of these columns is set: what a page
# may show. Not contexts.roster_status (every roster refresh), nrps_url, ags, updated_at.
UPDATE_COLUMNS = {
    'contexts': ('deployment_id', 'lti_context_id', 'title', 'label', 'context_types',
                 'kind', 'kind_source'),
}


def _shared_events(table: str) -> list[str]:
    """The trigger events of a shared table (SQL), INSERT left out where it changes no
    page, UPDATE limited to the columns a page may show where they are listed."""
    update = 'UPDATE' if table not in UPDATE_COLUMNS else \
        'UPDATE OF ' + ', '.join(UPDATE_COLUMNS[table])
    return [e for e in ('INSERT', update, 'DELETE')
            if not (e == 'INSERT' and table in INSERT_EXEMPT)]

_PG_FUNCTIONS = [
    """
    CREATE FUNCTION mc_page_bump_shared() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE learner_page_versions SET version = version + 1 WHERE person_id = 0;
        RETURN NULL;
    END $$
    """,
    # TG_ARGV[0]: the SELECT of person ids, with %s for the transition table.
    """
    CREATE FUNCTION mc_page_bump_persons() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        changed text;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            changed := format(TG_ARGV[0], 'mc_new_rows');
        ELSIF TG_OP = 'DELETE' THEN
            changed := format(TG_ARGV[0], 'mc_old_rows');
        ELSE
            changed := format(TG_ARGV[0], 'mc_old_rows') || ' UNION '
                       || format(TG_ARGV[0], 'mc_new_rows');
        END IF;
        EXECUTE 'INSERT INTO learner_page_versions (person_id, version) '
                'SELECT p, 1 FROM (' || changed || ') AS s(p) WHERE p IS NOT NULL '
                'GROUP BY p ORDER BY p '
                'ON CONFLICT (person_id) DO UPDATE '
                'SET version = learner_page_versions.version + 1';
        RETURN NULL;
    END $$
    """,
]


def _pg_upgrade() -> None:
    for statement in _PG_FUNCTIONS:
        op.execute(statement)
    for table in SHARED_TABLES:
        events = ' OR '.join([*_shared_events(table), 'TRUNCATE'])
        op.execute(f'CREATE TRIGGER mc_page_shared AFTER {events} '
                   f'ON {table} FOR EACH STATEMENT '
                   f'EXECUTE FUNCTION mc_page_bump_shared()')
    for table, persons in PERSON_TABLES.items():
        arg = persons.replace("'", "''")
        op.execute(f"CREATE TRIGGER mc_page_person_ins AFTER INSERT ON {table} "
                   f"REFERENCING NEW TABLE AS mc_new_rows FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION mc_page_bump_persons('{arg}')")
        op.execute(f"CREATE TRIGGER mc_page_person_upd AFTER UPDATE ON {table} "
                   f"REFERENCING OLD TABLE AS mc_old_rows NEW TABLE AS mc_new_rows "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION mc_page_bump_persons('{arg}')")
        op.execute(f"CREATE TRIGGER mc_page_person_del AFTER DELETE ON {table} "
                   f"REFERENCING OLD TABLE AS mc_old_rows FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION mc_page_bump_persons('{arg}')")


def _sqlite_bump(expression: str) -> str:
    return (f"INSERT INTO learner_page_versions (person_id, version) "
            f"SELECT {expression}, 1 WHERE {expression} IS NOT NULL "
            f"ON CONFLICT (person_id) DO UPDATE SET version = version + 1;")


def _sqlite_upgrade() -> None:
    shared = "UPDATE learner_page_versions SET version = version + 1 WHERE person_id = 0;"
    for table in SHARED_TABLES:
        for event in _shared_events(table):
            name = event.split()[0].lower()
            op.execute(f"CREATE TRIGGER mc_page_shared_{table}_{name} AFTER {event} "
                       f"ON {table} FOR EACH ROW BEGIN {shared} END")
    for table, template in SQLITE_PERSON.items():
        new, old = template.format(row='NEW'), template.format(row='OLD')
        op.execute(f"CREATE TRIGGER mc_page_person_{table}_insert AFTER INSERT ON {table} "
                   f"FOR EACH ROW BEGIN {_sqlite_bump(new)} END")
        op.execute(f"CREATE TRIGGER mc_page_person_{table}_update AFTER UPDATE ON {table} "
                   f"FOR EACH ROW BEGIN {_sqlite_bump(new)} "
                   f"{_sqlite_bump(f'(CASE WHEN {old} IS NOT {new} THEN {old} END)')} END")
        op.execute(f"CREATE TRIGGER mc_page_person_{table}_delete AFTER DELETE ON {table} "
                   f"FOR EACH ROW BEGIN {_sqlite_bump(old)} END")


def upgrade() -> None:
    op.create_table(
        'learner_page_versions',
        sa.Column('person_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('person_id', name=op.f('pk_learner_page_versions')),
    )
    op.execute("INSERT INTO learner_page_versions (person_id, version) VALUES (0, 1)")
    if op.get_bind().dialect.name == 'postgresql':
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in SHARED_TABLES:
            op.execute(f'DROP TRIGGER IF EXISTS mc_page_shared ON {table}')
        for table in PERSON_TABLES:
            for suffix in ('ins', 'upd', 'del'):
                op.execute(f'DROP TRIGGER IF EXISTS mc_page_person_{suffix} ON {table}')
        op.execute('DROP FUNCTION IF EXISTS mc_page_bump_persons()')
        op.execute('DROP FUNCTION IF EXISTS mc_page_bump_shared()')
    else:
        for table in SHARED_TABLES:
            for event in EVENTS:
                op.execute(f'DROP TRIGGER IF EXISTS mc_page_shared_{table}_{event.lower()}')
        for table in SQLITE_PERSON:
            for event in EVENTS:
                op.execute(f'DROP TRIGGER IF EXISTS mc_page_person_{table}_{event.lower()}')
    op.drop_table('learner_page_versions')
