"""What an outbox message is: its Bot API method, its priority and its purpose."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Method(StrEnum):
    """The Bot API call that delivers an outbox row."""

    SEND = "send_message"
    PHOTO = "send_photo"
    LOCATION = "send_location"
    EDIT = "edit_text"
    EDIT_MARKUP = "edit_markup"


class Priority(IntEnum):
    """Lower goes first: lives first, then people waiting in a private chat, then groups."""

    LIFE = 0  # the emergency numbers: before anything else
    URGENT = 1
    PRIVATE = 2
    GROUP = 3


class Purpose(StrEnum):
    """Why a message is sent; the sender combines and records some of them specially."""

    REPLY = "reply"
    NOTICE = "notice"  # the emergency numbers
    PREVIEW = "preview"
    ACK = "ack"
    GROUP_ACK = "group_ack"  # combined with others waiting for a busy group
    CARD = "card"  # recorded on the ticket once sent; announced together when many wait
    CARD_EXTRA = "card_extra"  # a card's photos and location, under the card
    CARD_REFRESH = "card_refresh"
    # About a ticket, to the resident or into the handling chat; a reply to one of these is
    # about that ticket (bot/cadres.py).
    TICKET_NOTICE = "ticket_notice"  # a status change told to the reporter and supporters
    ANSWER = "answer"  # a cadre's answer, with the rating buttons
    ASK = "ask"  # a cadre's question to the resident
    RELAY = "relay"  # the resident's words relayed to the cadres
    PROMPT = "prompt"  # the desk asks a cadre for the words an action needs
    RATED = "rated"  # thanks for a rating; a reply to it is the rating's comment
