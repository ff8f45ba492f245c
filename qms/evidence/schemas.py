"""What the API says of an evidence file."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class EvidenceRead(BaseModel):
    """An evidence file: what record it belongs to, its name, type, size and SHA-256."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    record: str
    record_id: int
    purpose: str | None
    file_name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    download: str
