"""A record's timeline read as sentences: "Status: investigating → action required", "Corrective
action CA-2026-0002 linked", never an event's name, a list in brackets or an internal id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from qms.i18n import N_, label, translate

# What a record's creation is called, by the kind of record (the rest: "… recorded").
CREATED = {
    "deviation": N_("Deviation %(record)s logged"),
    "action": N_("Corrective action %(record)s planned"),
}
RECORD = {
    "deviation": N_("Deviation %(record)s"),
    "action": N_("Corrective action %(record)s"),
}
# Shown where a value is missing (an en dash, as the pages show an empty value).
NOTHING = "\u2013"
# Fields a headline already says, so the list of changes below it leaves them out.
SAID = {"status", "actions"}


class Event(Protocol):
    """What a timeline needs of an audit event."""

    action: str
    entity: str
    entity_id: str | None
    changes: dict[str, Any]


def _record(event: Event, numbers: Mapping[tuple[str, str], str]) -> str:
    """Return the record's number (CA-2026-0002), else its kind and id as a last resort."""
    return numbers.get((event.entity, event.entity_id or ""), "") or f"#{event.entity_id}"


def headline(event: Event, language: str, numbers: Mapping[tuple[str, str], str]) -> str:
    """Return what happened, as a sentence in the language."""
    verb = event.action.rsplit(".", 1)[-1]
    record = _record(event, numbers)
    status = event.changes.get("status")
    if verb == "created":
        sentence = CREATED.get(event.entity, N_("%(record)s recorded"))
        return translate(sentence, language) % {"record": record}
    if isinstance(status, Mapping) and "new" in status:
        said = translate("Status: %(old)s → %(new)s", language) % {
            "old": label(str(status.get("old")), language) if status.get("old") else NOTHING,
            "new": label(str(status["new"]), language),
        }
    elif verb == "action_linked":
        change = event.changes.get("actions", {})
        added = [n for n in change.get("new") or [] if n not in (change.get("old") or [])]
        return translate("Corrective action %(numbers)s linked", language) % {
            "numbers": ", ".join(added) or NOTHING
        }
    elif verb == "updated":
        said = translate("Changed", language)
    else:
        said = label(event.action, language)
    if event.entity in RECORD and event.entity != "deviation":
        # On a deviation's timeline, what happened to one of its actions names the action.
        return f"{translate(RECORD[event.entity], language) % {'record': record}}: {said}"
    return said


def changes(event: Event) -> dict[str, Any]:
    """Return the changes a headline has not already said; a field a new record left empty
    (its creation event holds it, empty) says nothing."""
    return {
        name: change
        for name, change in event.changes.items()
        if name not in SAID and not empty_from_nothing(change)
    }


def empty_from_nothing(change: Any) -> bool:
    """Say whether a change is a field a new record left empty."""
    return (
        isinstance(change, dict)
        and "old" in change
        and change.get("old") is None
        and change.get("new") in (None, "", [], {})
    )
