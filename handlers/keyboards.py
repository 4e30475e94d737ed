"""Inline keyboards and the callback data they carry (≤ 64 bytes, prefixed by purpose)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.dto import DraftView
from bot.places import PlaceInfo
from bot.texts import Texts

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


def draft(texts: Texts, view: DraftView) -> InlineKeyboardMarkup:
    join = [
        [
            InlineKeyboardButton(
                texts("buttons.join", number=similar.number),
                callback_data=draft_data(JOIN, view, str(similar.id)),
            )
        ]
        for similar in view.similar
    ]
    submit = texts("buttons.submit_new" if view.similar else "buttons.submit")
    return InlineKeyboardMarkup(
        [
            *join,
            [InlineKeyboardButton(submit, callback_data=draft_data(SUBMIT, view))],
            [
                InlineKeyboardButton(
                    texts("buttons.change_category"), callback_data=draft_data(CATEGORIES, view)
                ),
                InlineKeyboardButton(
                    texts("buttons.cancel"), callback_data=draft_data(CANCEL, view)
                ),
            ],
        ]
    )


def faq(texts: Texts, view: DraftView) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts("buttons.faq_solved"), callback_data=draft_data(FAQ_SOLVED, view)
                ),
                InlineKeyboardButton(
                    texts("buttons.faq_human"), callback_data=draft_data(FAQ_HUMAN, view)
                ),
            ]
        ]
    )


def group_faq(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts("buttons.faq_solved"), callback_data=GROUP_FAQ_SOLVED),
                InlineKeyboardButton(texts("buttons.faq_human"), callback_data=GROUP_FAQ_HUMAN),
            ]
        ]
    )


def categories(
    texts: Texts, view: DraftView, choices: list[tuple[str, str]]
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(label, callback_data=draft_data(SET_CATEGORY, view, cid))
        for cid, label in choices
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(texts("buttons.back"), callback_data=draft_data(BACK, view))])
    return InlineKeyboardMarkup(rows)


def places(villages: list[PlaceInfo]) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(v.name, callback_data=SET_PLACE + v.id) for v in villages]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def continue_privately(texts: Texts, bot_username: str, number: str) -> InlineKeyboardMarkup:
    """A deep link that opens the private chat on this ticket."""
    url = f"https://t.me/{bot_username}?start=t{number.replace('-', '')}"
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts("group.continue_privately"), url=url)]]
    )
