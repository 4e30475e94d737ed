"""Inline keyboards and the callback data they carry (≤ 64 bytes, prefixed by purpose)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.places import PlaceInfo
from bot.texts import Texts

# Callback data prefixes; the handlers route on these patterns.
DRAFT_SUBMIT = "d:ok"
DRAFT_CATEGORIES = "d:cat"
DRAFT_BACK = "d:back"
DRAFT_CANCEL = "d:x"
DRAFT_SET_CATEGORY = "d:c:"  # + category id
SET_PLACE = "p:"  # + village id

DRAFT_PATTERN = r"^d:"
PLACE_PATTERN = r"^p:"


def draft(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts("buttons.submit"), callback_data=DRAFT_SUBMIT)],
            [
                InlineKeyboardButton(
                    texts("buttons.change_category"), callback_data=DRAFT_CATEGORIES
                ),
                InlineKeyboardButton(texts("buttons.cancel"), callback_data=DRAFT_CANCEL),
            ],
        ]
    )


def categories(texts: Texts, choices: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(label, callback_data=DRAFT_SET_CATEGORY + cid)
        for cid, label in choices
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(texts("buttons.back"), callback_data=DRAFT_BACK)])
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
