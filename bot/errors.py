"""Refusals the desk gives for bad input; each names the catalogue text shown to the person."""

from __future__ import annotations

from typing import Any


class DeskError(Exception):
    """A request the desk refuses; `text_key` is the texts.toml entry to show."""

    text_key = "errors.generic"

    def __init__(self, **values: Any) -> None:
        super().__init__(self.text_key)
        self.values = values


class EmptyText(DeskError):
    text_key = "errors.empty_text"


class TextTooLong(DeskError):
    text_key = "errors.text_too_long"


class NoDraft(DeskError):
    text_key = "errors.no_draft"


class StaleDraft(DeskError):
    """A button of an older preview: the draft changed or was replaced since."""

    text_key = "errors.stale_button"


class UnknownPlace(DeskError):
    text_key = "errors.unknown_place"


class UnknownCategory(DeskError):
    text_key = "errors.unknown_category"


class TicketNotFound(DeskError):
    """No such ticket, or not one the person opened or joined: one answer for both, so ticket
    numbers cannot be probed."""

    text_key = "errors.ticket_not_found"


class BadTicketNumber(DeskError):
    text_key = "errors.bad_ticket_number"


class AlreadyHandled(Exception):
    """The update was acted on before (a redelivery, or a retry after a crash): do nothing."""


class ActionRefused(DeskError):
    """A ticket action the rules or the person's rights do not allow (bot/lifecycle.py)."""

    def __init__(self, text_key: str, **values: Any) -> None:
        super().__init__(**values)
        self.text_key = text_key


class AlreadyClaimed(DeskError):
    """Two cadres pressed 受理 together: this one lost, and is told who won."""

    text_key = "errors.already_claimed"


class ChangedMeanwhile(DeskError):
    """Somebody moved the ticket between reading it and changing it."""

    text_key = "errors.changed_meanwhile"
