"""The values a corrective action's type and state take."""

from __future__ import annotations

import enum


class ActionType(enum.StrEnum):
    """What the action does: fix this case, remove the cause, or prevent it elsewhere."""

    correction = "correction"
    corrective = "corrective"
    preventive = "preventive"


class ActionStatus(enum.StrEnum):
    """Where the action is (see qms.workflow.ACTION)."""

    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    verified_effective = "verified_effective"
    ineffective = "ineffective"
