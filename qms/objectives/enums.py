"""The values a quality objective's state takes."""

from __future__ import annotations

import enum


class ObjectiveStatus(enum.StrEnum):
    """Where the objective is (see qms.workflow.OBJECTIVE)."""

    planned = "planned"
    in_progress = "in_progress"
    achieved = "achieved"
    not_achieved = "not_achieved"
    withdrawn = "withdrawn"
