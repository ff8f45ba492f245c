"""What each signing move attests, as the sentence the signer reads and signs.

Each statement names the record by its number and says what is attested; what the signer
wrote for the move (the evidence, the closure summary) follows it, so the statement is the
signed text in full. A form shows it before signing with a placeholder for what is still to be
written (`Text("the evidence written above")`, say)."""

from __future__ import annotations

from qms.i18n import Text
from qms.signatures.models import SignatureMeaning


def action_verified(number: str, *, effective: bool, evidence: str) -> Text:
    """Verifying a corrective action's effect (or finding it ineffective)."""
    if effective:
        return Text(
            "I verify that %(number)s was effective: %(evidence)s", number=number, evidence=evidence
        )
    return Text(
        "I verify that %(number)s was not effective: %(evidence)s", number=number, evidence=evidence
    )


def deviation_closed(number: str, *, summary: str) -> Text:
    """Closing a deviation."""
    return Text(
        "I close %(number)s as investigated and resolved: %(summary)s",
        number=number,
        summary=summary,
    )


def audit_closed(number: str, *, conclusion: str) -> Text:
    """Closing an internal audit after its report."""
    return Text(
        "I close the internal audit %(number)s with its report and findings as recorded: "
        "%(conclusion)s",
        number=number,
        conclusion=conclusion,
    )


def review_approved(number: str, *, conclusion: str) -> Text:
    """Closing a management review: its conclusion approved."""
    return Text(
        "I approve the management review %(number)s and its conclusion: %(conclusion)s",
        number=number,
        conclusion=conclusion,
    )


def procedure_approved(code: str, *, version: int, title: str) -> Text:
    """Approving a procedure version for use."""
    return Text(
        "I approve %(code)s version %(version)s (%(title)s) for use.",
        code=code,
        version=str(version),
        title=title,
    )


def procedure_reviewed(code: str, *, version: int, title: str) -> Text:
    """A periodic review of a procedure that finds no need to change it."""
    return Text(
        "I have reviewed %(code)s version %(version)s (%(title)s) and find that it needs no "
        "change.",
        code=code,
        version=str(version),
        title=title,
    )


MEANING_OF_MOVE: dict[tuple[str, str], SignatureMeaning] = {
    ("action", "verified_effective"): SignatureMeaning.verified,
    ("action", "ineffective"): SignatureMeaning.verified,
    ("deviation", "closed"): SignatureMeaning.closed,
    ("internal_audit", "closed"): SignatureMeaning.closed,
    ("management_review", "closed"): SignatureMeaning.approved,
    ("procedure_version", "approved"): SignatureMeaning.approved,
    ("procedure_version", "reviewed"): SignatureMeaning.reviewed,
}
