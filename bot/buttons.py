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
SET_PLACE = "p:"  # + village id
# In groups the question is the message the answer replies to, so the data needs no id.
GROUP_FAQ_SOLVED, GROUP_FAQ_HUMAN = "g:fok", "g:fhu"

DRAFT_PATTERN = r"^d:"
PLACE_PATTERN = r"^p:"
GROUP_FAQ_PATTERN = r"^g:"


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
    submit = texts("buttons.submit_new" if view.similar else "buttons.submit")
    return (
        *join,
        (Button(submit, draft_data(SUBMIT, view)),),
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
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    return (*rows, (Button(texts("buttons.back"), draft_data(BACK, view)),))


def places(villages: list[PlaceInfo]) -> Keyboard:
    buttons = [Button(v.name, SET_PLACE + v.id) for v in villages]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def continue_privately(texts: Texts, bot_username: str, number: str | None = None) -> Keyboard:
    """A deep link that opens the private chat (on this ticket, when given)."""
    start = f"?start=t{number.replace('-', '')}" if number else ""
    url = f"https://t.me/{bot_username}{start}"
    return ((Button(texts("group.continue_privately"), url=url),),)
