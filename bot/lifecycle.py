"""The ticket's state machine as plain rules: statuses, actions, who may take each, and what
each one causes. `TicketService` (bot/tickets.py) applies the result to the database as a
compare-and-set on the status it expected, so two cadres (or two processes) never both move a
ticket; this module decides, it does not store.

    open ──claim──▶ accepted ──answer──▶ answered ──rate 满意/基本满意──▶ closed
      │  ▲              │                    │
      │  └──reassign────┘                    └──rate 不满意──▶ open (the third time at one
      │                                                     level: escalated, open one up)
      ├──escalate (cadre, or overdue) ──▶ open at the next level
      └──reject (with a reason the resident sees) ──▶ rejected
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    ANSWERED = "answered"
    CLOSED = "closed"
    REJECTED = "rejected"


class Level(StrEnum):
    VILLAGE = "village"
    TOWNSHIP = "township"
    COUNTY = "county"

    def above(self) -> Level | None:
        order = list(Level)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


class Role(StrEnum):
    """Who acts. Staff roles are ordered by reach: a higher one may do what a lower one may."""

    RESIDENT = "resident"
    GRID = "grid"  # 网格员
    CADRE = "cadre"  # 村干部
    TOWNSHIP = "township"  # 镇干部
    COUNTY = "county"  # 县督办
    ADMIN = "admin"
    SYSTEM = "system"  # the scheduler: deadlines


STAFF = (Role.GRID, Role.CADRE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN)


class Action(StrEnum):
    CLAIM = "claim"  # 受理
    ANSWER = "answer"  # 回复
    ASK = "ask"  # 补充: ask the resident for detail
    REASSIGN = "reassign"  # 转派
    ESCALATE = "escalate"  # 上报
    RECATEGORIZE = "recategorize"  # 改类
    CLOSE = "close"  # 办结
    REJECT = "reject"  # 驳回
    NOTE = "note"  # 备注: cadres only
    RATE = "rate"  # the resident's 满意 / 基本满意 / 不满意
    OVERDUE = "overdue"  # the deadline passed: up one level


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


# Rejections at one level before the ticket moves up (三三调解).
UNSATISFIED_LIMIT = 3
ACTIVE = frozenset({Status.OPEN, Status.ACCEPTED, Status.ANSWERED})


@dataclass(frozen=True)
class TicketState:
    """What the rules need to know about a ticket."""

    status: Status
    level: Level
    unsatisfied_here: int = 0  # 不满意 ratings at the current level


@dataclass(frozen=True)
class Actor:
    role: Role
    # For staff: whether their jurisdiction covers the ticket at its level (decided by the
    # places tree, outside these rules). For a resident: whether it is their own ticket.
    in_charge: bool


@dataclass(frozen=True)
class Change:
    """What an allowed action does: the new state and what the people involved are told."""

    action: Action
    before: TicketState
    after: TicketState
    event: str  # the timeline action
    tell_resident: bool
    escalated: bool = False


class Refused(Exception):
    """The action is not allowed; `reason` names the catalogue text shown to the actor."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Action → statuses it starts from. Actions not listed for a status are refused.
_FROM: dict[Action, frozenset[Status]] = {
    Action.CLAIM: frozenset({Status.OPEN}),
    Action.ANSWER: frozenset({Status.OPEN, Status.ACCEPTED}),
    Action.ASK: frozenset({Status.OPEN, Status.ACCEPTED}),
    Action.REASSIGN: frozenset({Status.OPEN, Status.ACCEPTED}),
    Action.ESCALATE: frozenset({Status.OPEN, Status.ACCEPTED}),
    Action.RECATEGORIZE: ACTIVE,
    Action.CLOSE: frozenset({Status.ACCEPTED, Status.ANSWERED}),
    Action.REJECT: frozenset({Status.OPEN, Status.ACCEPTED}),
    Action.NOTE: frozenset(Status),
    Action.RATE: frozenset({Status.ANSWERED}),
    Action.OVERDUE: frozenset({Status.OPEN, Status.ACCEPTED}),
}


def decide(
    state: TicketState,
    action: Action,
    actor: Actor,
    rating: Rating | None = None,
    *,
    to_person: bool = False,
) -> Change:
    """The change `action` by `actor` makes to a ticket in `state`, or Refused.

    `to_person`: a reassignment names the cadre who takes the ticket over (it stays accepted),
    rather than a place whose cadres must claim it afresh."""
    _check_actor(action, actor)
    if state.status not in _FROM[action]:
        raise Refused("lifecycle.not_now")
    after, event, tell, escalated = state, action.value, True, False
    match action:
        case Action.CLAIM:
            after = _with(state, Status.ACCEPTED)
        case Action.ANSWER:
            after = _with(state, Status.ANSWERED)
        case Action.ASK | Action.RECATEGORIZE:
            tell = action == Action.ASK
        case Action.NOTE:
            tell = False
        case Action.REASSIGN:
            after, tell = _with(state, Status.ACCEPTED if to_person else Status.OPEN), False
        case Action.CLOSE:
            after = _with(state, Status.CLOSED)
        case Action.REJECT:
            after = _with(state, Status.REJECTED)
        case Action.ESCALATE | Action.OVERDUE:
            after, escalated = _up(state), True
        case Action.RATE:
            if rating is None:
                raise Refused("lifecycle.no_rating")
            event = f"rated_{rating.value}"
            if rating != Rating.UNSATISFIED:
                after = _with(state, Status.CLOSED)
            elif state.unsatisfied_here + 1 >= UNSATISFIED_LIMIT and state.level.above():
                after, escalated = _up(state), True
            else:
                after = TicketState(Status.OPEN, state.level, state.unsatisfied_here + 1)
    return Change(action, state, after, event, tell, escalated)


def _check_actor(action: Action, actor: Actor) -> None:
    if action == Action.RATE:
        if actor.role != Role.RESIDENT or not actor.in_charge:
            raise Refused("lifecycle.not_yours")
        return
    if action == Action.OVERDUE:
        if actor.role != Role.SYSTEM:
            raise Refused("lifecycle.not_allowed")
        return
    if actor.role not in STAFF:
        raise Refused("lifecycle.staff_only")
    if not actor.in_charge:
        raise Refused("lifecycle.not_in_charge")


def _with(state: TicketState, status: Status) -> TicketState:
    return TicketState(status, state.level, state.unsatisfied_here)


def _up(state: TicketState) -> TicketState:
    """Open again one level up (the county is the top: it stays there), the count starting
    afresh."""
    above = state.level.above()
    return TicketState(Status.OPEN, above or state.level, 0)


# The buttons a card shows, in this order, for the actions its status allows.
CARD_ACTIONS = (
    Action.CLAIM,
    Action.ANSWER,
    Action.ASK,
    Action.CLOSE,
    Action.REASSIGN,
    Action.ESCALATE,
    Action.RECATEGORIZE,
    Action.REJECT,
    Action.NOTE,
)


def offered(status: Status) -> list[Action]:
    """The card's actions for a ticket in `status` (none once it is over, but a note)."""
    return [a for a in CARD_ACTIONS if status in _FROM[a]]
