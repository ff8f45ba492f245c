"""The state machines, as data: states, allowed moves and what each move requires.

Services read these tables to decide a move; the API reads them to name the allowed moves in a 409;
documents read them to print a record's life cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from qms.errors import FieldError, InvalidTransition, ValidationFailed
from qms.i18n import N_, Code, Either, Text


@dataclass(frozen=True)
class Move:
    """One allowed move and the request fields it cannot be made without."""

    source: str
    target: str
    requires: tuple[str, ...] = ()
    description: str = ""


class BlockedMove(BaseModel):
    """A move the workflow has from the record's state, which its conditions do not allow yet."""

    to: str
    missing: list[str] = Field(
        description="What the move waits for, as codes: root_cause_analysis, actions_verified, "
        "verifier_not_owner"
    )


@dataclass(frozen=True)
class StateMachine:
    """A named set of states and the moves between them."""

    name: str
    initial: str
    states: tuple[str, ...]
    moves: tuple[Move, ...]

    def allowed_from(self, state: str) -> list[str]:
        """Return the states reachable in one move from the given one."""
        return [m.target for m in self.moves if m.source == state]

    def move(self, source: str, target: str, **given: object) -> Move:
        """Return the move from source to target, or raise naming the allowed ones."""
        if target not in self.states:
            raise ValidationFailed(
                Text("There is no status %(state)r.", state=target),
                [
                    FieldError(
                        "to",
                        Text(
                            "Choose one of: %(states)s.",
                            states=Either(Code(state) for state in self.states),
                        ),
                    )
                ],
            )
        for move in self.moves:
            if move.source == source and move.target == target:
                missing = [f for f in move.requires if not given.get(f)]
                if missing:
                    raise ValidationFailed(
                        Text(
                            "Fill in the %(fields)s to set the status to %(state)s.",
                            fields=[Code(f) for f in missing],
                            state=Code(target),
                        ),
                        [
                            FieldError(
                                f,
                                Text(
                                    "Fill this in to set the status to %(state)s.",
                                    state=Code(target),
                                ),
                            )
                            for f in missing
                        ],
                    )
                return move
        allowed = self.allowed_from(source)
        if not allowed:
            raise InvalidTransition(
                Text(
                    "The status %(state)s is final: it does not change.",
                    state=Code(source),
                ),
                allowed=allowed,
            )
        raise InvalidTransition(
            Text(
                "The status cannot change from %(source)s to %(target)s; "
                "from %(source)s it can change to %(allowed)s.",
                source=Code(source),
                target=Code(target),
                allowed=Either(Code(state) for state in allowed),
            ),
            allowed=allowed,
        )


PROGRAMME = StateMachine(
    name="programme",
    initial="planned",
    states=("planned", "running", "closed", "cancelled"),
    moves=(
        Move("planned", "running", description=N_("the first cohort has started")),
        Move(
            "planned",
            "cancelled",
            requires=("reason",),
            description=N_("the programme will not run"),
        ),
        Move("running", "closed", requires=("reason",), description=N_("every cohort has ended")),
    ),
)

DEVIATION = StateMachine(
    name="deviation",
    initial="open",
    states=("open", "investigating", "action_required", "closed", "reopened"),
    moves=(
        Move("open", "investigating", description=N_("someone looks into it")),
        Move(
            "investigating",
            "action_required",
            description=N_(
                "the cause is known and actions are needed; major and critical "
                "deviations need a root-cause analysis first"
            ),
        ),
        Move(
            "investigating",
            "closed",
            requires=("closure_summary",),
            description=N_("closed without corrective action: needs a no-action reason"),
        ),
        Move(
            "action_required",
            "investigating",
            requires=("reason",),
            description=N_("back to investigation, when the analysis did not hold"),
        ),
        Move(
            "action_required",
            "closed",
            requires=("closure_summary",),
            description=N_("every linked action is verified effective"),
        ),
        Move("closed", "reopened", requires=("reason",), description=N_("it came back")),
        Move("reopened", "investigating", description=N_("investigation starts again")),
    ),
)

ACTION = StateMachine(
    name="corrective action",
    initial="planned",
    states=("planned", "in_progress", "done", "verified_effective", "ineffective"),
    moves=(
        Move("planned", "in_progress", description=N_("work has started")),
        Move(
            "in_progress",
            "done",
            requires=("completion_note",),
            description=N_("the action is carried out: a note says what was done"),
        ),
        Move(
            "done",
            "verified_effective",
            requires=("evidence",),
            description=N_(
                "checked, with evidence, by someone other than the owner; before the "
                "effectiveness check date only with the reason to verify early"
            ),
        ),
        Move(
            "done",
            "ineffective",
            requires=("evidence", "follow_on"),
            description=N_("checked and found wanting: a follow-on action takes over"),
        ),
    ),
)

PAIR = StateMachine(
    name="pair",
    initial="matched",
    states=("matched", "active", "completed", "unwound"),
    moves=(
        Move("matched", "active", description=N_("the pair has had its first meeting")),
        Move(
            "matched",
            "unwound",
            requires=("reason",),
            description=N_("the match is undone before it started"),
        ),
        Move(
            "active",
            "completed",
            requires=("reason",),
            description=N_("the programme period ended; closure and exit feedback recorded"),
        ),
        Move(
            "active",
            "unwound",
            requires=("reason",),
            description=N_("a match that does not work is unwound (and may be rematched)"),
        ),
    ),
)

PROCEDURE_VERSION = StateMachine(
    name="procedure version",
    initial="draft",
    states=("draft", "in_review", "approved", "superseded", "obsolete"),
    moves=(
        Move("draft", "in_review", description=N_("submitted for review")),
        Move(
            "in_review",
            "draft",
            requires=("reason",),
            description=N_("change requested: back to the author with the reason"),
        ),
        Move(
            "in_review",
            "approved",
            description=N_(
                "approved and signed by a reviewer other than the author; the version "
                "before it is superseded in the same step"
            ),
        ),
        Move(
            "approved",
            "superseded",
            description=N_("only when the next version is approved, never by hand"),
        ),
        Move("approved", "obsolete", requires=("reason",), description=N_("withdrawn from use")),
    ),
)

MACHINES = {m.name: m for m in (PROGRAMME, DEVIATION, ACTION, PAIR, PROCEDURE_VERSION)}

INTERNAL_AUDIT = StateMachine(
    name="internal audit",
    initial="planned",
    states=("planned", "in_progress", "reported", "closed", "cancelled"),
    moves=(
        Move("planned", "in_progress", description=N_("the audit has started: lines are answered")),
        Move("planned", "cancelled", requires=("reason",), description=N_("it will not be held")),
        Move(
            "in_progress",
            "reported",
            description=N_("every checklist line is answered and the conclusion is written"),
        ),
        Move(
            "reported",
            "in_progress",
            requires=("reason",),
            description=N_("back to the field, when the report did not hold"),
        ),
        Move("reported", "closed", description=N_("the report is accepted; signed")),
    ),
)

MANAGEMENT_REVIEW = StateMachine(
    name="management review",
    initial="planned",
    states=("planned", "held", "closed", "cancelled"),
    moves=(
        Move(
            "planned",
            "held",
            requires=("held_on",),
            description=N_("the meeting took place: the inputs are frozen as they were reviewed"),
        ),
        Move("planned", "cancelled", requires=("reason",), description=N_("it will not be held")),
        Move("held", "closed", description=N_("the conclusion is written; signed")),
    ),
)

COMPLAINT = StateMachine(
    name="complaint",
    initial="received",
    states=("received", "acknowledged", "answered", "closed", "withdrawn"),
    moves=(
        Move(
            "received",
            "acknowledged",
            description=N_("the complainant is told the complaint has been received"),
        ),
        Move(
            "received",
            "withdrawn",
            requires=("reason",),
            description=N_("the complainant withdrew it"),
        ),
        Move(
            "acknowledged",
            "answered",
            requires=("answer", "outcome"),
            description=N_("the complainant has the answer: what was found and done"),
        ),
        Move(
            "acknowledged",
            "withdrawn",
            requires=("reason",),
            description=N_("the complainant withdrew it"),
        ),
        Move("answered", "closed", description=N_("nothing more is to be done")),
    ),
)

OBJECTIVE = StateMachine(
    name="quality objective",
    initial="planned",
    states=("planned", "in_progress", "achieved", "not_achieved", "withdrawn"),
    moves=(
        Move("planned", "in_progress", description=N_("work on the plan has started")),
        Move(
            "planned",
            "withdrawn",
            requires=("reason",),
            description=N_("the objective is no longer pursued: the reason is recorded"),
        ),
        Move(
            "in_progress",
            "achieved",
            requires=("result_note",),
            description=N_("the target is reached: a note says what the result was"),
        ),
        Move(
            "in_progress",
            "not_achieved",
            requires=("result_note",),
            description=N_("the due date came and the target was not reached: a note says why"),
        ),
        Move(
            "in_progress",
            "withdrawn",
            requires=("reason",),
            description=N_("the objective is no longer pursued: the reason is recorded"),
        ),
    ),
)

RISK = StateMachine(
    name="risk",
    initial="open",
    states=("open", "treated", "realised", "closed"),
    moves=(
        Move(
            "open",
            "treated",
            description=N_(
                "a treatment is chosen (accepting a risk or declining an opportunity with the "
                "reason) and the rating after treatment is set"
            ),
        ),
        Move(
            "open",
            "realised",
            description=N_("it came true: a deviation names it, never by hand"),
        ),
        Move(
            "treated",
            "realised",
            description=N_("it came true: a deviation names it, never by hand"),
        ),
        Move("treated", "open", requires=("reason",), description=N_("the treatment did not hold")),
        Move("open", "closed", requires=("reason",), description=N_("it no longer applies")),
        Move("treated", "closed", requires=("reason",), description=N_("it no longer applies")),
        Move(
            "realised",
            "closed",
            requires=("reason",),
            description=N_("what came of it is dealt with by its deviation"),
        ),
        Move("closed", "open", requires=("reason",), description=N_("it applies again")),
    ),
)
