"""Plain values the desk hands to handlers and the CLI instead of ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.delivery.kinds import Priority
from nlp.classifier import Classification
from nlp.faq import FaqMatch

__all__ = [
    "DraftView",
    "EventView",
    "FaqMatch",
    "GroupOutcome",
    "Origin",
    "Person",
    "TicketDetail",
    "TicketView",
]

if TYPE_CHECKING:
    from bot.duplicates import SimilarTicket


@dataclass(frozen=True)
class Person:
    """Who is talking to the bot, as handlers know them."""

    telegram_id: int
    display_name: str
    first_name: str = ""


@dataclass(frozen=True)
class Origin:
    """Where a request came from: the update (claimed by the transaction that acts on it, so a
    redelivered one is not acted on twice), the chat, and the message sent or pressed."""

    update_id: int | None
    chat_id: int
    message_id: int | None
    private: bool

    @property
    def reply(self) -> bool:
        """Group answers quote the message they answer; private ones need not."""
        return not self.private

    @property
    def priority(self) -> Priority:
        return Priority.PRIVATE if self.private else Priority.GROUP


@dataclass(frozen=True)
class DraftView:
    """A draft as the resident sees it before submitting."""

    id: int
    revision: int
    state: str  # awaiting_text | ready
    text: str
    classification: Classification | None
    due_at: datetime | None
    place_id: str | None
    place_name: str | None
    photo_count: int
    has_location: bool
    faq: FaqMatch | None = None  # a consultation the FAQ answers at once
    similar: tuple[SimilarTicket, ...] = ()  # open tickets that may be the same matter
    own: tuple[tuple[int, str], ...] = ()  # the resident's own open tickets (id, number)


@dataclass(frozen=True)
class TicketView:
    """A ticket for display: what a resident, a cadre or a script is shown."""

    id: int
    number: str
    status: str
    category: str
    category_label: str
    kind: str
    kind_label: str
    urgent: bool
    complexity: str
    place_id: str
    place_name: str
    source: str
    text: str
    keywords: tuple[str, ...]
    confidence: float
    created_at: datetime
    due_at: datetime
    resident_name: str
    supporters: int = 0
    photo_file_ids: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    admin_chat_id: int | None = None
    admin_message_id: int | None = None
    emergency_numbers: tuple[str, ...] = field(default=())
    level: str = "village"
    handler_name: str = ""
    handler_telegram_id: int | None = None
    anonymous: bool = False
    answers: int = 0
    version: int = 1
    level_place_name: str = ""  # who handles it when escalated above the village

    def to_json(self) -> dict[str, Any]:
        """The fields `fengqiao tickets list --json` prints (no personal data)."""
        return {
            "number": self.number,
            "status": self.status,
            "category": self.category,
            "kind": self.kind,
            "urgent": self.urgent,
            "place": self.place_id,
            "created": self.created_at.isoformat(),
            "due": self.due_at.isoformat(),
        }


@dataclass(frozen=True)
class EventView:
    """One timeline entry."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class TicketDetail:
    """A ticket with its timeline, for a resident who opened or joined it.

    For a supporter (`reporter` False) the view is already reduced: the text masked, the
    reporter's name, photos and location left out.
    """

    ticket: TicketView
    events: tuple[EventView, ...]
    reporter: bool = False


@dataclass(frozen=True)
class GroupOutcome:
    """What a message addressed to the bot in a group led to: a FAQ answer or a ticket."""

    faq: FaqMatch | None = None
    ticket: TicketView | None = None
