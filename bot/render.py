"""Turn the desk's plain values into the texts people read (HTML, from the catalogue).

Every function returns `Html`. Values go into the catalogue as they are: `Texts` escapes
plain strings itself, so nothing here escapes (which would escape twice).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.dto import DraftView, FaqMatch, TicketDetail, TicketView
from bot.lengths import MESSAGE_LIMIT, cut_utf16, utf16_len
from bot.texts import Html, Texts, html_escape
from nlp.pii import mask_pii

# A preview (the resident's draft, the /ticket detail) shows this much of the text.
PREVIEW_UNITS = 600
# Kept free under Telegram's limit: the estimate below is an upper bound already, this only
# absorbs what it cannot foresee (Telegram's own accounting, a reworded catalogue).
MARGIN = 64
# The /ticket detail lists this many latest timeline events; many supporters make many.
TIMELINE_EVENTS = 30


def clip(texts: Texts, text: str, budget: int) -> Html:
    """A resident's text as HTML within `budget` UTF-16 units, marker included.

    A longer text is cut at a safe boundary and ends with the catalogue's marker; the full text
    stays in the database.
    """
    if utf16_len(text) <= budget:
        return html_escape(text)
    marker = texts("format.clipped", length=len(text))
    # The marker's HTML source is at least as long as what Telegram counts of it.
    return Html(html_escape(cut_utf16(text, budget - utf16_len(marker))) + marker)


def fit(
    texts: Texts,
    text: str,
    build: Callable[[Html], Html],
    cap: int | None = None,
    limit: int = MESSAGE_LIMIT,
) -> Html:
    """build(text) within Telegram's `limit`: the resident's text gets what the rest leaves.

    The rest is measured by rendering with an empty text; its HTML source is never shorter than
    the text Telegram counts after parsing the markup, so the estimate is safe.
    """
    frame = utf16_len(build(Html("")))
    budget = limit - frame - MARGIN
    return build(clip(texts, text, budget if cap is None else min(cap, budget)))


def when(texts: Texts, at: datetime, tz: ZoneInfo, now: datetime | None = None) -> Html:
    """A moment as 11月24日 16:30, or 今天 16:30 when it is today."""
    local = at.astimezone(tz)
    if now is not None and now.astimezone(tz).date() == local.date():
        return texts("format.today", hour=local.hour, minute=local.minute)
    return texts(
        "format.datetime", month=local.month, day=local.day, hour=local.hour, minute=local.minute
    )


def due(texts: Texts, at: datetime, tz: ZoneInfo, now: datetime, urgent: bool) -> Html:
    """A deadline: hours matter when urgent, otherwise the day (the end of that day)."""
    if urgent:
        return when(texts, at, tz, now)
    local = at.astimezone(tz)
    weekday = texts("format.weekdays")[local.weekday()]
    return texts("format.date", month=local.month, day=local.day, weekday=weekday)


def emergency_numbers(texts: Texts, numbers: tuple[str, ...]) -> Html:
    labels = [texts(f"urgent.n{n}") for n in numbers if f"urgent.n{n}" in texts]
    return Html(texts("urgent.joiner").join(labels)) if labels else texts("urgent.number_labels")


def draft(texts: Texts, view: DraftView, tz: ZoneInfo, now: datetime) -> Html:
    result = view.classification
    assert result is not None and view.due_at is not None, "only ready drafts are shown"
    extras: list[Html] = []
    if view.photo_count:
        extras.append(texts("private.draft_extras_photos", count=view.photo_count))
    if view.has_location:
        extras.append(texts("private.draft_extras_location"))
    similar = Html("")
    if view.similar:
        items = "\n".join(
            texts(
                "private.similar_item",
                number=s.number,
                created=when(texts, s.created_at, tz, now),
                supporters=s.supporters,
                preview=s.text,
            )
            for s in view.similar
        )
        similar = texts("private.similar", items=Html(items))
    if view.own:
        similar = Html(similar + texts("private.own"))
    deadline = due(texts, view.due_at, tz, now, result.urgent)
    return fit(
        texts,
        view.text,
        lambda text: texts(
            "private.draft",
            similar=similar,
            text=text,
            category=result.category_label,
            kind=result.kind_label,
            due=deadline,
            extras=Html("".join(extras)),
            place=view.place_name or "—",
        ),
        cap=PREVIEW_UNITS,
    )


def faq_answer(texts: Texts, match: FaqMatch) -> Html:
    return texts("faq.answer", question=match.question, answer=match.answer)


def submitted(texts: Texts, ticket: TicketView, tz: ZoneInfo, now: datetime) -> Html:
    key = "private.urgent_submitted" if ticket.urgent else "private.submitted"
    return texts(
        key,
        number=ticket.number,
        category=ticket.category_label,
        kind=ticket.kind_label,
        due=due(texts, ticket.due_at, tz, now, ticket.urgent),
    )


def card(texts: Texts, ticket: TicketView, tz: ZoneInfo, now: datetime) -> Html:
    """The cadres' card: the original text, since cadres see what the resident wrote (as much
    of it as one message holds; the rest is in the database)."""
    extras: list[Html] = []
    if ticket.photo_file_ids:
        extras.append(texts("card.extras_photos", count=len(ticket.photo_file_ids)))
    if ticket.latitude is not None:
        extras.append(texts("card.extras_location"))
    if ticket.supporters:
        extras.append(texts("card.supporters", count=ticket.supporters))
    deadline = due(texts, ticket.due_at, tz, now, ticket.urgent)
    active = ticket.status in ("open", "accepted", "answered")
    left = ticket.due_at - now
    if not active:
        remaining = Html("")
    elif left.total_seconds() >= 0:
        remaining = texts("card.left", time=duration(texts, left))
    else:
        remaining = texts("card.overdue", time=duration(texts, -left))
    # An anonymous reporter's name and contact details stay hidden from the cadres.
    body = mask_pii(ticket.text) if ticket.anonymous else ticket.text
    return fit(
        texts,
        body,
        lambda text: texts(
            "card.new",
            mark=texts("card.urgent_mark") if ticket.urgent else Html(""),
            title=texts("card.title_new" if ticket.status == "open" else "card.title"),
            number=ticket.number,
            status=status(texts, ticket.status),
            place=ticket.place_name,
            category=ticket.category_label,
            kind=ticket.kind_label,
            level=(
                texts("card.level", place=ticket.level_place_name)
                if ticket.level_place_name
                else Html("")
            ),
            source=texts(f"card.source_{ticket.source}"),
            name=texts("card.anonymous") if ticket.anonymous else ticket.resident_name,
            due=deadline,
            left=remaining,
            keywords="、".join(ticket.keywords) or texts("card.no_keywords"),
            handler=(
                texts("card.handler", name=ticket.handler_name) if ticket.handler_name else ""
            ),
            text=text,
            extras=Html("".join(extras)),
        ),
    )


def duration(texts: Texts, span: timedelta) -> Html:
    """A time span as people say it: days and hours, or hours and minutes."""
    minutes = int(span.total_seconds() // 60)
    days, hours = divmod(minutes // 60, 24)
    if days:
        return texts("format.days_hours", days=days, hours=hours)
    return texts("format.hours_minutes", hours=hours, minutes=minutes % 60)


def status(texts: Texts, value: str) -> Html:
    labels = texts.section("status")
    return labels[value] if value in labels else html_escape(value)


def my_list(texts: Texts, tickets: list[TicketView], tz: ZoneInfo, now: datetime) -> Html:
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
    return Html("\n".join(lines))


def detail(texts: Texts, item: TicketDetail, tz: ZoneInfo, now: datetime) -> Html:
    """One ticket for a resident: their own words, or masked ones for a supporter (the
    TicketDetail carries the text this reader may see)."""
    ticket = item.ticket
    actions = texts.section("action")
    shown = item.events[-TIMELINE_EVENTS:]
    lines = [
        texts(
            "private.timeline_line",
            at=when(texts, e.at, tz),
            action=actions.get(e.action, e.action),
        )
        for e in shown
    ]
    if len(item.events) > len(shown):
        lines.insert(0, texts("private.timeline_earlier", count=len(item.events) - len(shown)))
    deadline = due(texts, ticket.due_at, tz, now, ticket.urgent)
    return fit(
        texts,
        ticket.text,
        lambda text: texts(
            "private.ticket_detail",
            number=ticket.number,
            status=status(texts, ticket.status),
            category=ticket.category_label,
            kind=ticket.kind_label,
            place=ticket.place_name,
            created=when(texts, ticket.created_at, tz),
            due=deadline,
            text=text,
            timeline=Html("\n".join(lines)),
        ),
        cap=PREVIEW_UNITS,
    )
