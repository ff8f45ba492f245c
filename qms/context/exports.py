"""The columns of the context's lists taken out as files."""

from __future__ import annotations

from qms.exports import Column
from qms.i18n import N_

ISSUE_COLUMNS = (
    Column("number", N_("Number")),
    Column("origin", N_("Internal or external"), coded=True),
    Column("title", N_("Title")),
    Column("description", N_("Issue")),
    Column("effect", N_("Effect on the programmes")),
    Column("programme_id", N_("Programme"), refers="programme"),
    Column("status", N_("Status"), coded=True),
    Column("next_review_on", N_("Next review")),
    Column("last_reviewed_on", N_("Last reviewed")),
    Column("last_reviewed_by", N_("Reviewed by")),
)
PARTY_COLUMNS = (
    Column("number", N_("Number")),
    Column("name", N_("Name")),
    Column("kind", N_("Kind"), coded=True),
    Column("requirements", N_("Requirements")),
    Column("how_met", N_("How they are met")),
    Column("programme_id", N_("Programme"), refers="programme"),
    Column("next_review_on", N_("Next review")),
    Column("last_reviewed_on", N_("Last reviewed")),
    Column("last_reviewed_by", N_("Reviewed by")),
)
