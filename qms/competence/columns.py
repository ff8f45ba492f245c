"""The columns of the competence lists taken out as CSV or XLSX."""

from __future__ import annotations

from qms.exports import Column
from qms.i18n import N_

COMPETENCE_COLUMNS = (
    Column("code", N_("Code")),
    Column("role", N_("Role"), coded=True),
    Column("title", N_("Title")),
    Column("obtained_by", N_("Obtained by"), coded=True),
    Column("renewal_months", N_("Renewal (months)")),
    Column("before_matching", N_("Required before matching")),
    Column("is_active", N_("Active")),
)

TRAINING_COLUMNS = (
    Column("number", N_("Number")),
    Column("competence", N_("Competence")),
    Column("competence_title", N_("Title")),
    Column("role", N_("Role"), coded=True),
    Column("user", N_("User")),
    Column("participant", N_("Mentor")),
    Column("programme_id", N_("Programme"), refers="programme"),
    Column("completed_on", N_("Completed")),
    Column("given_by", N_("Given by")),
    Column("expires_on", N_("Expires")),
    Column("expired", N_("Expired")),
)

ACKNOWLEDGEMENT_COLUMNS = (
    Column("code", N_("Code")),
    Column("number", N_("Version")),
    Column("title", N_("Title")),
    Column("user", N_("User")),
    Column("due_on", N_("Due")),
    Column("acknowledged_at", N_("Acknowledged")),
    Column("overdue", N_("Overdue")),
)
