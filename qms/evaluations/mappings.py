"""Saved mappings: a survey tool's columns to an instrument's questions, kept by name so that the
next export of the same survey is imported with `mapping=<name>`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from qms.audit.service import created, record_event
from qms.errors import Conflict, FieldError, NotFound, ValidationFailed
from qms.evaluations.models import ImportMapping, Instrument
from qms.evaluations.schemas import MAPPING_TARGETS, MappingCreate, MappingRead
from qms.i18n import Text
from qms.permissions import Action, Actor, require


def _instrument(session: Session, code: str) -> Instrument:
    found = session.scalars(select(Instrument).where(Instrument.code == code)).one_or_none()
    if found is None:
        raise NotFound(Text("There is no instrument %(code)s.", code=code))
    return found


def to_read(mapping: ImportMapping) -> MappingRead:
    """Shape a saved mapping for the API."""
    return MappingRead(
        id=mapping.id,
        instrument=mapping.instrument.code,
        name=mapping.name,
        source=mapping.source,
        columns=dict(mapping.columns),
        created_at=mapping.created_at,
        created_by=mapping.created_by,
    )


def create(
    session: Session, *, actor: Actor, instrument: str, data: MappingCreate
) -> ImportMapping:
    """Keep a mapping of a survey tool's columns to the instrument's questions, by its name."""
    require(actor, Action.evaluation_import)
    found = _instrument(session, instrument)
    codes = {q.code for q in found.questions}
    errors = [
        FieldError(
            f"columns.{column}",
            Text(
                "Instrument %(instrument)s has no question %(code)s.",
                instrument=found.code,
                code=target,
            ),
        )
        for column, target in data.columns.items()
        if target not in codes and target not in MAPPING_TARGETS
    ]
    for target in MAPPING_TARGETS:
        if list(data.columns.values()).count(target) > 1:
            errors.append(
                FieldError(
                    "columns",
                    Text("Map one column only to %(target)s.", target=target),
                )
            )
    if not any(target in codes for target in data.columns.values()):
        errors.append(FieldError("columns", Text("Map at least one column to a question code.")))
    if errors:
        raise ValidationFailed(Text("The mapping does not fit the instrument."), errors)
    taken = session.scalars(
        select(ImportMapping).where(
            ImportMapping.instrument_id == found.id, ImportMapping.name == data.name
        )
    ).first()
    if taken is not None:
        raise Conflict(
            Text(
                "Instrument %(instrument)s has a mapping named %(name)s already: choose another "
                "name.",
                instrument=found.code,
                name=data.name,
            )
        )
    mapping = ImportMapping(
        instrument_id=found.id,
        name=data.name,
        source=data.source,
        columns=dict(data.columns),
        created_by=actor.name,
    )
    mapping.instrument = found
    session.add(mapping)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="import_mapping.saved",
        entity="import_mapping",
        entity_id=mapping.id,
        changes=created(
            {
                "instrument": found.code,
                "name": data.name,
                "source": data.source,
                "columns": dict(data.columns),
            }
        ),
    )
    return mapping


def list_for(session: Session, *, actor: Actor, instrument: str) -> list[ImportMapping]:
    """List an instrument's saved mappings by name."""
    require(actor, Action.evaluation_read)
    found = _instrument(session, instrument)
    return list(
        session.scalars(
            select(ImportMapping)
            .where(ImportMapping.instrument_id == found.id)
            .order_by(ImportMapping.name)
        )
    )


def get_by_name(session: Session, *, instrument: str | None, name: str) -> ImportMapping:
    """Return the instrument's mapping of that name, or say which names there are."""
    if not instrument:
        raise ValidationFailed(
            Text("A saved mapping belongs to an instrument."),
            [FieldError("instrument", Text("Name the instrument the file answers."))],
        )
    found = session.scalars(select(Instrument).where(Instrument.code == instrument)).one_or_none()
    if found is None:
        # Named in the request's form, not its path: the form is wrong, nothing is missing.
        raise ValidationFailed(
            Text("A saved mapping belongs to an instrument."),
            [FieldError("instrument", Text("There is no instrument %(code)s.", code=instrument))],
        )
    mapping = session.scalars(
        select(ImportMapping).where(
            ImportMapping.instrument_id == found.id, ImportMapping.name == name.strip()
        )
    ).first()
    if mapping is None:
        names = list(
            session.scalars(
                select(ImportMapping.name).where(ImportMapping.instrument_id == found.id)
            )
        )
        raise ValidationFailed(
            Text("There is no such saved mapping."),
            [
                FieldError(
                    "mapping",
                    Text(
                        "Instrument %(instrument)s has no mapping named %(name)s; it has "
                        "%(names)s.",
                        instrument=found.code,
                        name=name,
                        names=names,
                    )
                    if names
                    else Text(
                        "Instrument %(instrument)s has no saved mapping named %(name)s, nor any "
                        "other: save one first.",
                        instrument=found.code,
                        name=name,
                    ),
                )
            ],
        )
    return mapping
