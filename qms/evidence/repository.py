"""Queries of evidence files and their blobs."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, undefer

from qms.evidence.models import EvidenceBlob, EvidenceFile


def files_of(session: Session, record: str, record_ids: Iterable[int]) -> list[EvidenceFile]:
    """Return the files attached to these records, oldest first."""
    ids = list(record_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(EvidenceFile)
            .where(EvidenceFile.record == record, EvidenceFile.record_id.in_(ids))
            .order_by(EvidenceFile.record_id, EvidenceFile.id)
        )
    )


def blob(session: Session, sha256: str, *, with_content: bool = False) -> EvidenceBlob | None:
    """Return the blob with this SHA-256, if it is kept."""
    query = select(EvidenceBlob).where(EvidenceBlob.sha256 == sha256)
    if with_content:
        query = query.options(undefer(EvidenceBlob.content))
    return session.scalars(query).one_or_none()


def drop_unused_blobs(session: Session, hashes: Iterable[str]) -> None:
    """Remove the blobs among these that no file refers to any more."""
    wanted = set(hashes)
    if not wanted:
        return
    used = set(session.scalars(select(EvidenceFile.sha256).where(EvidenceFile.sha256.in_(wanted))))
    if unused := wanted - used:
        session.execute(delete(EvidenceBlob).where(EvidenceBlob.sha256.in_(unused)))
