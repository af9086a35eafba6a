"""Every award is committed together with its signed credential.

The award engine (``services.tracking``) notes each award it creates on the session; just
before that transaction commits, ``issue_for_new_awards`` signs their credentials
(``services.issuing.issue_for_award``) in the same transaction. So a crash at any line
leaves either both or neither: never an award without its credential, and a retried
request never finds a half-done award.

A transaction that creates more than ``EAGER_LIMIT`` awards (a large CSV import)
signs that many and leaves the rest to a durable job: the awards without a credential are
the job's to-do list, in the database, so nothing can lose them. ``issue_missing`` is that
job (enqueued after such a commit, and run by every worker when it starts); reading such a
credential before the job got to it also issues it (``issuing.credential_by_public_id``).

Functions commit nothing unless they say so; they raise what ``issue_for_award`` raises
(ConfigurationError when the issuer's key cannot be decrypted).
"""

from __future__ import annotations

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Award, CredentialRecord
from lti_tool.services.keys import KeyVault

NEW_AWARDS = "award_credentials.new_awards"
#: Credentials signed in the transaction that creates the awards, at most (see above).
EAGER_LIMIT = 50


def note_new_award(session: Session, award: Award) -> None:
    """Called by the award engine for each award it creates."""
    session.info.setdefault(NEW_AWARDS, []).append(award)


def take_new_awards(session: Session) -> list[Award]:
    """The awards noted in this transaction that still exist (and forget them)."""
    noted: list[Award] = session.info.pop(NEW_AWARDS, [])
    return [a for a in noted if sa_inspect(a).persistent]


def issue_for_new_awards(session: Session, awards: list[Award], *, vault: KeyVault,
                         base_url: str, limit: int = EAGER_LIMIT) -> int:
    """Sign the credentials of ``awards`` (at most ``limit``) in the caller's transaction.
    Returns how many were left for the job. Idempotent."""
    from lti_tool.services import issuing  # issuing imports the award engine

    issuing.issue_new_awards(session, awards, vault=vault, base_url=base_url, limit=limit)
    return max(0, len(awards) - limit)


def awards_without_credential(session: Session, limit: int = 200) -> list[int]:
    """Ids of awards that have no signed credential yet, oldest first."""
    return list(session.scalars(
        select(Award.id).outerjoin(CredentialRecord, CredentialRecord.award_id == Award.id)
        .where(CredentialRecord.id.is_(None)).order_by(Award.id).limit(limit)))


def issue_missing(session: Session, *, vault: KeyVault, base_url: str,
                  batch: int = 200) -> int:
    """Sign every credential still missing, committing after each batch. Returns how many
    were issued. Idempotent (a concurrent issue of the same award keeps the winner's)."""
    from lti_tool.services import issuing

    issued = 0
    while True:
        ids = awards_without_credential(session, batch)
        if not ids:
            return issued
        issuing.issue_new_awards(session, ids, vault=vault, base_url=base_url, limit=batch)
        session.commit()
        issued += len(ids)
