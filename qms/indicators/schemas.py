"""What the API takes and gives for indicators."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qms.fields import Code, Figure, IsoDate, Name, Reason
from qms.indicators.models import Computation, Direction


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndicatorCreate(_In):
    """An indicator of a programme: what is measured, the plan, and the breach threshold."""

    code: Code
    name: Name
    unit: Literal["percent", "count", "score"]
    computation: Computation
    params: dict[str, str] = Field(
        default_factory=dict, description='mean_score: {"instrument": "FINAL", "question": "SAT"}'
    )
    planned: Figure
    direction: Direction = Direction.higher_is_better
    threshold: Figure | None = None

    @model_validator(mode="after")
    def _params_fit(self) -> IndicatorCreate:
        if self.computation is Computation.mean_score and not {"instrument", "question"} <= set(
            self.params
        ):
            raise ValueError("mean_score needs params instrument and question")
        return self


class IndicatorValueCreate(_In):
    """A value entered by hand for a period."""

    period_start: IsoDate
    period_end: IsoDate
    value: Figure
    note: Reason | None = None


class IndicatorRow(BaseModel):
    """One line of the planned-against-actual table, with the figures behind the ratio."""

    id: int
    code: str
    name: str
    unit: str
    computation: Computation
    planned: float
    actual: float | None
    numerator: float | None
    denominator: float | None
    detail: str
    direction: Direction
    threshold: float | None
    status: Literal["met", "below_plan", "breach", "no_data", "stale"] = Field(
        description="stale: a value entered for a period that ends before the date, not rated"
    )


class IndicatorTable(BaseModel):
    """A programme's indicators as of a date."""

    programme_id: int
    programme_code: str
    as_of: date
    rows: list[IndicatorRow]
