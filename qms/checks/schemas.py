"""What a run of the rules takes and gives."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from qms.fields import IsoDate


class CheckRun(BaseModel):
    """Run the rules as of a date."""

    model_config = ConfigDict(extra="forbid")

    on: IsoDate | None = Field(default=None, description="Default: today")


class FindingRead(BaseModel):
    """One thing a rule found, and the deviation that stands for it."""

    key: str
    rule: str
    pair_code: str | None
    detail: str
    deviation_number: str


class CheckResult(BaseModel):
    """What a run opened, what it skipped as already open, and what has cleared since."""

    on: date
    opened: list[FindingRead]
    skipped: list[FindingRead]
    cleared: list[FindingRead]
