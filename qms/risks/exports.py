"""The columns of the risk register taken out as a file."""

from __future__ import annotations

from qms.exports import Column
from qms.i18n import N_

RISK_COLUMNS = (
    Column("number", N_("Number")),
    Column("kind", N_("Kind"), coded=True),
    Column("status", N_("Status"), coded=True),
    Column("title", N_("Title")),
    Column("description", N_("Description")),
    Column("programme_id", N_("Programme"), refers="programme"),
    Column("owner", N_("Owner")),
    Column("likelihood", N_("Likelihood")),
    Column("consequence", N_("Consequence")),
    Column("score", N_("Score")),
    Column("level", N_("Level"), coded=True),
    Column("treatment", N_("Treatment"), coded=True),
    Column("treatment_reason", N_("Reason for the treatment")),
    Column("residual_score", N_("Score after treatment")),
    Column("residual_level", N_("Level after treatment"), coded=True),
    Column("review_on", N_("Next review")),
    Column("action_numbers", N_("Actions")),
    Column("deviation_numbers", N_("Deviations")),
)
