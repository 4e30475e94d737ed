"""Inline buttons as plain values, and the callback data they carry (≤ 64 bytes, by purpose).

The desk decides which buttons a message shows; the sending side turns them into Telegram's
markup. Callback data names what to act on; the server checks every press (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.dto import DraftView
from bot.places import PlaceInfo
from bot.texts import Texts


@dataclass(frozen=True)
class Button:
    """One inline button: callback data to press, or a link to open."""

    text: str
    data: str | None = None
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]

# Draft buttons carry "d:<action>:<draft id>:<revision>[:<category>]", so a button of an older
# preview is recognised as stale instead of acting on newer content.
SUBMIT, CATEGORIES, BACK, CANCEL, SET_CATEGORY = "ok", "cat", "back", "x", "c"
FAQ_SOLVED, FAQ_HUMAN = "fok", "fhu"
JOIN = "join"  # + ticket id: "me too" on an open ticket
ADD = "add"  # + ticket id: the draft is more about one of the resident's own open tickets
SET_PLACE = "p:"  # + village id
# In groups the question is the message the answer replies to, so the data needs no id.
GROUP_FAQ_SOLVED, GROUP_FAQ_HUMAN = "g:fok", "g:fhu"

ANONYMOUS = "anon"  # submit without showing the resident's name to the cadres

DRAFT_PATTERN = r"^d:"
PLACE_PATTERN = r"^p:"
GROUP_FAQ_PATTERN = r"^g:"
# Card actions "k:<action>:<ticket id>[:<argument>]" and ratings "r:<ticket id>:<answer>:<r>".
# They name what to act on; the server decides whether the presser may (bot/cadres.py).
CARD_PATTERN = r"^k:"
RATE_PATTERN = r"^r:"


@dataclass(frozen=True)
class DraftAction:
    """A pressed draft button, decoded."""

    action: str
    ref: tuple[int, int]
    arg: str | None  # the category chosen, or the ticket joined


def draft_data(action: str, view: DraftView, category: str | None = None) -> str:
    return ":".join(
        ["d", action, str(view.id), str(view.revision), *([category] if category else [])]
    )


def parse_draft_data(data: str) -> DraftAction | None:
    """The button's action, or None for data no current keyboard produces."""
    parts = data.split(":")
    if len(parts) not in (4, 5) or parts[0] != "d" or not (parts[2] + parts[3]).isdigit():
        return None
    return DraftAction(
        parts[1], (int(parts[2]), int(parts[3])), parts[4] if len(parts) == 5 else None
    )


def draft(texts: Texts, view: DraftView) -> Keyboard:
    join = tuple(
        (
            Button(
                texts("buttons.join", number=similar.number),
                draft_data(JOIN, view, str(similar.id)),
            ),
        )
        for similar in view.similar
    )
    add = tuple(
        (Button(texts("buttons.add_to", number=number), draft_data(ADD, view, str(ticket_id))),)
        for ticket_id, number in view.own
    )
    submit = texts("buttons.submit_new" if view.similar else "buttons.submit")
    return (
        *join,
        (
            Button(submit, draft_data(SUBMIT, view)),
            Button(texts("buttons.submit_anonymous"), draft_data(ANONYMOUS, view)),
        ),
        *add,
        (
            Button(texts("buttons.change_category"), draft_data(CATEGORIES, view)),
            Button(texts("buttons.cancel"), draft_data(CANCEL, view)),
        ),
    )


def faq(texts: Texts, view: DraftView) -> Keyboard:
    return (
        (
            Button(texts("buttons.faq_solved"), draft_data(FAQ_SOLVED, view)),
            Button(texts("buttons.faq_human"), draft_data(FAQ_HUMAN, view)),
        ),
    )


def group_faq(texts: Texts) -> Keyboard:
    return (
        (
            Button(texts("buttons.faq_solved"), GROUP_FAQ_SOLVED),
            Button(texts("buttons.faq_human"), GROUP_FAQ_HUMAN),
        ),
    )


def categories(texts: Texts, view: DraftView, choices: list[tuple[str, str]]) -> Keyboard:
    buttons = [Button(label, draft_data(SET_CATEGORY, view, cid)) for cid, label in choices]
    return (*rows_of(buttons, 2), (Button(texts("buttons.back"), draft_data(BACK, view)),))


def places(villages: list[PlaceInfo]) -> Keyboard:
    return rows_of([Button(v.name, SET_PLACE + v.id) for v in villages], 2)


def continue_privately(texts: Texts, bot_username: str, number: str | None = None) -> Keyboard:
    """A deep link that opens the private chat (on this ticket, when given)."""
    start = f"?start=t{number.replace('-', '')}" if number else ""
    url = f"https://t.me/{bot_username}{start}"
    return ((Button(texts("group.continue_privately"), url=url),),)


@dataclass(frozen=True)
class Pressed:
    """A card or rating button, decoded: what it asks, on which ticket, with what argument."""

    action: str
    ticket_id: int
    arg: str | None = None


def card_data(action: str, ticket_id: int, arg: str | None = None) -> str:
    return ":".join(["k", action, str(ticket_id), *([arg] if arg is not None else [])])


def parse_card_data(data: str) -> Pressed | None:
    parts = data.split(":", 3)
    if len(parts) < 3 or parts[0] != "k" or not parts[2].isdigit():
        return None
    return Pressed(parts[1], int(parts[2]), parts[3] if len(parts) == 4 else None)


def rate_data(ticket_id: int, answer: int, rating: str) -> str:
    return f"r:{ticket_id}:{answer}:{rating}"


def parse_rate_data(data: str) -> tuple[int, int, str] | None:
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != "r" or not (parts[1] + parts[2]).isdigit():
        return None
    return int(parts[1]), int(parts[2]), parts[3]


def rows_of(buttons: list[Button], width: int) -> Keyboard:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


def card(texts: Texts, ticket_id: int, actions: list[str]) -> Keyboard:
    """The card's buttons: the actions its status allows, labelled from the catalogue."""
    return rows_of([Button(texts(f"buttons.{a}"), card_data(a, ticket_id)) for a in actions], 4)


def rating(texts: Texts, ticket_id: int, answer: int, ratings: list[str]) -> Keyboard:
    return (
        tuple(Button(texts(f"buttons.rate_{r}"), rate_data(ticket_id, answer, r)) for r in ratings),
    )


def choices(
    ticket_id: int,
    action: str,
    options: list[tuple[str, str]],
    cancel: str,
    owner: int | None,
    width: int = 2,
) -> Keyboard:
    """A list to pick from (categories, transfer targets, common answers), and 取消 for the
    cadre `owner` who asked for it."""
    picks = [Button(label, card_data(action, ticket_id, value)) for value, label in options]
    call_off = Button(cancel, card_data(CANCEL_INPUT, ticket_id, str(owner)))
    return (*rows_of(picks, width), (call_off,))


CANCEL_INPUT = "cancel_input"
