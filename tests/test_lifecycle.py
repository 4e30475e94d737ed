"""The ticket's state machine, table-driven, without Telegram or a database."""

from __future__ import annotations

import pytest

from bot.lifecycle import (
    Action,
    Actor,
    Level,
    Rating,
    Refused,
    Role,
    Status,
    TicketState,
    decide,
)

CADRE = Actor(Role.CADRE, in_charge=True)
OTHER_VILLAGE = Actor(Role.CADRE, in_charge=False)
REPORTER = Actor(Role.RESIDENT, in_charge=True)
STRANGER = Actor(Role.RESIDENT, in_charge=False)
SCHEDULER = Actor(Role.SYSTEM, in_charge=True)


def state(status: Status, level: Level = Level.VILLAGE, unsatisfied: int = 0) -> TicketState:
    return TicketState(status, level, unsatisfied)


@pytest.mark.parametrize(
    ("before", "action", "after"),
    [
        (state(Status.OPEN), Action.CLAIM, state(Status.ACCEPTED)),
        (state(Status.OPEN), Action.ANSWER, state(Status.ANSWERED)),
        (state(Status.ACCEPTED), Action.ANSWER, state(Status.ANSWERED)),
        (state(Status.ACCEPTED), Action.REASSIGN, state(Status.OPEN)),
        (state(Status.ACCEPTED), Action.CLOSE, state(Status.CLOSED)),
        (state(Status.ANSWERED), Action.CLOSE, state(Status.CLOSED)),
        (state(Status.OPEN), Action.REJECT, state(Status.REJECTED)),
        (state(Status.OPEN), Action.ESCALATE, state(Status.OPEN, Level.TOWNSHIP)),
        (
            state(Status.ACCEPTED, Level.TOWNSHIP, 2),
            Action.ESCALATE,
            state(Status.OPEN, Level.COUNTY),
        ),
        (state(Status.ACCEPTED), Action.ASK, state(Status.ACCEPTED)),
        (state(Status.ANSWERED), Action.RECATEGORIZE, state(Status.ANSWERED)),
        (state(Status.CLOSED), Action.NOTE, state(Status.CLOSED)),
    ],
)
def test_cadre_actions(before: TicketState, action: Action, after: TicketState) -> None:
    assert decide(before, action, CADRE).after == after


@pytest.mark.parametrize(
    ("before", "action"),
    [
        (state(Status.ACCEPTED), Action.CLAIM),  # the other cadre was first
        (state(Status.ANSWERED), Action.CLAIM),
        (state(Status.CLOSED), Action.ANSWER),
        (state(Status.REJECTED), Action.CLOSE),
        (state(Status.OPEN), Action.CLOSE),  # nobody has looked at it yet
        (state(Status.ANSWERED), Action.REJECT),
        (state(Status.CLOSED), Action.ESCALATE),
        (state(Status.CLOSED), Action.RECATEGORIZE),
    ],
)
def test_actions_that_do_not_fit_the_status_are_refused(
    before: TicketState, action: Action
) -> None:
    with pytest.raises(Refused) as refused:
        decide(before, action, CADRE)
    assert refused.value.reason == "lifecycle.not_now"


@pytest.mark.parametrize(
    ("actor", "action", "reason"),
    [
        (OTHER_VILLAGE, Action.CLAIM, "lifecycle.not_in_charge"),
        (REPORTER, Action.CLAIM, "lifecycle.staff_only"),
        (STRANGER, Action.CLOSE, "lifecycle.staff_only"),
        (SCHEDULER, Action.ANSWER, "lifecycle.staff_only"),
        (CADRE, Action.OVERDUE, "lifecycle.not_allowed"),
        (CADRE, Action.RATE, "lifecycle.not_yours"),
        (STRANGER, Action.RATE, "lifecycle.not_yours"),
    ],
)
def test_who_may_act(actor: Actor, action: Action, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        decide(state(Status.ANSWERED), action, actor, Rating.SATISFIED)
    assert refused.value.reason == reason


@pytest.mark.parametrize("rating", [Rating.SATISFIED, Rating.BASIC])
def test_a_good_rating_closes(rating: Rating) -> None:
    change = decide(state(Status.ANSWERED), Action.RATE, REPORTER, rating)
    assert change.after == state(Status.CLOSED) and change.event == f"rated_{rating.value}"


def test_the_third_unsatisfied_rating_at_one_level_escalates() -> None:
    ticket = state(Status.ANSWERED)
    for count in (1, 2):
        change = decide(ticket, Action.RATE, REPORTER, Rating.UNSATISFIED)
        assert change.after == state(Status.OPEN, Level.VILLAGE, count) and not change.escalated
        ticket = state(Status.ANSWERED, Level.VILLAGE, count)
    change = decide(ticket, Action.RATE, REPORTER, Rating.UNSATISFIED)
    assert change.escalated and change.after == state(Status.OPEN, Level.TOWNSHIP, 0)


def test_the_county_is_the_top() -> None:
    change = decide(
        state(Status.ANSWERED, Level.COUNTY, 2), Action.RATE, REPORTER, Rating.UNSATISFIED
    )
    assert change.after == state(Status.OPEN, Level.COUNTY, 3) and not change.escalated
    assert decide(state(Status.OPEN, Level.COUNTY), Action.OVERDUE, SCHEDULER).after.level == (
        Level.COUNTY
    )


def test_a_rating_needs_a_value() -> None:
    with pytest.raises(Refused):
        decide(state(Status.ANSWERED), Action.RATE, REPORTER)


def test_internal_notes_and_reassignments_are_not_told_to_the_resident() -> None:
    assert not decide(state(Status.OPEN), Action.NOTE, CADRE).tell_resident
    assert not decide(state(Status.ACCEPTED), Action.REASSIGN, CADRE).tell_resident
    assert decide(state(Status.OPEN), Action.CLAIM, CADRE).tell_resident
