"""What the API takes and gives for comments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from qms.comments.models import CommentedRecord
from qms.fields import RequiredText


class CommentCreate(BaseModel):
    """A comment as written; it is kept as it is (a correction is a new comment)."""

    model_config = ConfigDict(extra="forbid")

    text: RequiredText = Field(description="What is said")


class CommentRead(BaseModel):
    """A comment as kept: who wrote it, when, and what."""

    id: int
    record: CommentedRecord
    record_id: int
    author: str = Field(description="The user name of who wrote it")
    author_display_name: str = Field(description="The name people read the author by")
    text: str
    created_at: datetime
