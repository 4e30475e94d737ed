"""Turn the desk's plain values into the texts people read (HTML, from the catalogue)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from bot.dto import DraftView, FaqMatch, TicketDetail, TicketView
from bot.texts import Texts

PREVIEW_CHARS = 600


def when(texts: Texts, at: datetime, tz: ZoneInfo, now: datetime | None = None) -> str:
    """A moment as 11月24日 16:30, or 今天 16:30 when it is today."""
    local = at.astimezone(tz)
    if now is not None and now.astimezone(tz).date() == local.date():
        return texts("format.today", hour=local.hour, minute=local.minute)
    return texts(
        "format.datetime", month=local.month, day=local.day, hour=local.hour, minute=local.minute
    )


def due(texts: Texts, at: datetime, tz: ZoneInfo, now: datetime, urgent: bool) -> str:
    """A deadline: hours matter when urgent, otherwise the day (the end of that day)."""
    if urgent:
        return when(texts, at, tz, now)
    local = at.astimezone(tz)
    weekday = texts("format.weekdays")[local.weekday()]
    return texts("format.date", month=local.month, day=local.day, weekday=weekday)


def emergency_numbers(texts: Texts, numbers: tuple[str, ...]) -> str:
    labels = [texts(f"urgent.n{n}") for n in numbers if f"urgent.n{n}" in texts]
    return texts("urgent.joiner").join(labels) if labels else texts("urgent.number_labels")


def preview(texts: Texts, text: str) -> str:
    if len(text) <= PREVIEW_CHARS:
        return escape(text)
    return escape(text[:PREVIEW_CHARS]) + texts("private.draft_truncated", length=len(text))


def draft(texts: Texts, view: DraftView, tz: ZoneInfo, now: datetime) -> str:
    result = view.classification
    assert result is not None and view.due_at is not None, "only ready drafts are shown"
    extras = ""
    if view.photo_count:
        extras += texts("private.draft_extras_photos", count=view.photo_count)
    if view.has_location:
        extras += texts("private.draft_extras_location")
    similar = ""
    if view.similar:
        items = "\n".join(
            texts(
                "private.similar_item",
                number=s.number,
                created=when(texts, s.created_at, tz, now),
                supporters=s.supporters,
                preview=escape(s.text),
            )
            for s in view.similar
        )
        similar = texts("private.similar", items=items)
    return texts(
        "private.draft",
        similar=similar,
        text=preview(texts, view.text),
        category=result.category_label,
        kind=result.kind_label,
        due=due(texts, view.due_at, tz, now, result.urgent),
        extras=extras,
        place=escape(view.place_name or "—"),
    )


def faq_answer(texts: Texts, match: FaqMatch) -> str:
    return texts("faq.answer", question=escape(match.question), answer=escape(match.answer))


def submitted(texts: Texts, ticket: TicketView, tz: ZoneInfo, now: datetime) -> str:
    key = "private.urgent_submitted" if ticket.urgent else "private.submitted"
    return texts(
        key,
        number=ticket.number,
        category=ticket.category_label,
        kind=ticket.kind_label,
        due=due(texts, ticket.due_at, tz, now, ticket.urgent),
    )


def card(texts: Texts, ticket: TicketView, tz: ZoneInfo, now: datetime) -> str:
    """The cadres' card: the original text, since cadres see what the resident wrote."""
    extras = ""
    if ticket.photo_file_ids:
        extras += texts("card.extras_photos", count=len(ticket.photo_file_ids))
    if ticket.latitude is not None:
        extras += texts("card.extras_location")
    if ticket.supporters:
        extras += texts("card.supporters", count=ticket.supporters)
    return texts(
        "card.new",
        mark=texts("card.urgent_mark") if ticket.urgent else "",
        number=ticket.number,
        place=escape(ticket.place_name),
        category=ticket.category_label,
        kind=ticket.kind_label,
        source=texts(f"card.source_{ticket.source}"),
        name=escape(ticket.resident_name),
        due=due(texts, ticket.due_at, tz, now, ticket.urgent),
        keywords=escape("、".join(ticket.keywords)) or texts("card.no_keywords"),
        text=escape(ticket.text),
        extras=extras,
    )


def status(texts: Texts, value: str) -> str:
    return texts.section("status").get(value, value)


def my_list(texts: Texts, tickets: list[TicketView], tz: ZoneInfo, now: datetime) -> str:
    lines = [texts("private.my_header", count=len(tickets))]
    lines += [
        texts(
            "private.my_line",
            number=t.number,
            status=status(texts, t.status),
            category=t.category_label,
            due=due(texts, t.due_at, tz, now, t.urgent),
        )
        for t in tickets
    ]
    return "\n".join(lines)


def detail(texts: Texts, item: TicketDetail, tz: ZoneInfo, now: datetime) -> str:
    ticket = item.ticket
    actions = texts.section("action")
    timeline = "\n".join(
        texts(
            "private.timeline_line",
            at=when(texts, e.at, tz),
            action=actions.get(e.action, e.action),
        )
        for e in item.events
    )
    return texts(
        "private.ticket_detail",
        number=ticket.number,
        status=status(texts, ticket.status),
        category=ticket.category_label,
        kind=ticket.kind_label,
        place=escape(ticket.place_name),
        created=when(texts, ticket.created_at, tz),
        due=due(texts, ticket.due_at, tz, now, ticket.urgent),
        text=preview(texts, ticket.text),
        timeline=timeline,
    )
