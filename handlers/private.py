"""Residents in a private chat with the bot: drafts, submitting, their place and their tickets."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import render
from bot.dto import DraftView, Person
from bot.intake import PlaceNeeded
from handlers import keyboards
from handlers.cards import post_card, refresh_card
from handlers.context import KIND_COMMANDS, command_name, desk_of, person_of

log = logging.getLogger(__name__)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, open a deep-linked ticket, and ask for the village when it is unknown."""
    desk, message, user = desk_of(context), update.effective_message, update.effective_user
    assert message is not None and user is not None
    if context.args and context.args[0].startswith("t") and context.args[0][1:].isdigit():
        item = await desk.tickets.for_owner(user.id, context.args[0][1:])
        await message.reply_text(
            render.detail(desk.texts, item, desk.settings.tz, desk.clock.now())
        )
        return
    await message.reply_text(
        desk.texts("private.start", name=user.first_name, desk_name=desk.texts("desk_name"))
    )
    if await desk.intake.place_of(person_of(user)) is None:
        await _ask_place(message, context)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to use the desk."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(desk_of(context).texts("private.help"))


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text starts or extends the resident's draft."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    view = await desk_of(context).intake.write(person_of(user), message.chat_id, message.text)
    await _present(message, context, person_of(user), view)


async def kind_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ts /jy /zx /qz with text: a draft of that kind."""
    desk, message, user = desk_of(context), update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    name = command_name(message.text)
    body = " ".join(context.args or [])
    if not body.strip():
        await message.reply_text(
            desk.texts("private.kind_needs_text", example=desk.texts(f"examples.{name}"))
        )
        return
    view = await desk.intake.write(
        person_of(user), message.chat_id, body, kind_hint=KIND_COMMANDS[name]
    )
    await _present(message, context, person_of(user), view)


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo joins the draft; alone, the bot asks for a sentence."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.photo
    view = await desk_of(context).intake.add_photo(
        person_of(user), message.chat_id, message.photo[-1].file_id, message.caption
    )
    await _present(message, context, person_of(user), view, what="private.what_photo")


async def location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location joins the draft."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.location is not None
    view = await desk_of(context).intake.add_location(
        person_of(user), message.chat_id, message.location.latitude, message.location.longitude
    )
    await _present(message, context, person_of(user), view, what="private.what_location")


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice notes and the like: ask for words instead."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(desk_of(context).texts("private.unsupported"))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the desk does not know."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(desk_of(context).texts("private.unknown_command"))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data no handler knows (an old keyboard)."""
    assert update.callback_query is not None
    await update.callback_query.answer(desk_of(context).texts("errors.stale_button"))


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edits do not change what was submitted; say so rather than stay silent."""
    assert update.edited_message is not None
    await update.edited_message.reply_text(desk_of(context).texts("private.edited"))


async def my_tickets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/my: the resident's tickets with status and deadline."""
    desk, message, user = desk_of(context), update.effective_message, update.effective_user
    assert message is not None and user is not None
    tickets = await desk.tickets.of_resident(user.id)
    if not tickets:
        await message.reply_text(desk.texts("private.my_empty"))
        return
    await message.reply_text(
        render.my_list(desk.texts, tickets, desk.settings.tz, desk.clock.now())
    )


async def ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ticket NUMBER: one ticket's timeline, for its owner only."""
    desk, message, user = desk_of(context), update.effective_message, update.effective_user
    assert message is not None and user is not None
    if not context.args:
        await message.reply_text(desk.texts("private.ticket_usage"))
        return
    item = await desk.tickets.for_owner(user.id, "".join(context.args))
    await message.reply_text(render.detail(desk.texts, item, desk.settings.tz, desk.clock.now()))


async def place(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/place: show and change the remembered village."""
    desk, message, user = desk_of(context), update.effective_message, update.effective_user
    assert message is not None and user is not None
    current = await desk.intake.place_of(person_of(user))
    if current is None:
        await _ask_place(message, context)
        return
    await message.reply_text(
        desk.texts("private.place_current", place=desk.places.name(current)),
        reply_markup=keyboards.places(desk.places.villages),
    )


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: drop the draft."""
    desk, message, user = desk_of(context), update.effective_message, update.effective_user
    assert message is not None and user is not None
    dropped = await desk.intake.cancel(person_of(user))
    await message.reply_text(
        desk.texts("private.cancelled" if dropped else "private.nothing_to_cancel")
    )


async def place_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A village chosen from the keyboard; a waiting draft continues."""
    desk, query = desk_of(context), update.callback_query
    assert query is not None and query.data is not None and isinstance(query.message, Message)
    village_id = query.data.removeprefix(keyboards.SET_PLACE)
    person = person_of(query.from_user)
    view = await desk.intake.set_place(person, village_id)
    await query.answer()
    await query.edit_message_text(
        desk.texts("private.place_set", place=desk.places.name(village_id))
    )
    if view is not None:
        await _present(query.message, context, person, view, reply=False, resumed=True)


async def draft_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Submit, re-categorise or cancel the draft shown in this message."""
    desk, query = desk_of(context), update.callback_query
    assert query is not None and query.data is not None and isinstance(query.message, Message)
    pressed = keyboards.parse_draft_data(query.data)
    if pressed is None:
        await query.answer(desk.texts("errors.stale_button"))
        return
    person, intake = person_of(query.from_user), desk.intake
    if pressed.action == keyboards.SUBMIT:
        await _submit(query.message, context, person, pressed.ref)
    elif pressed.action == keyboards.FAQ_HUMAN:
        await _submit(query.message, context, person, pressed.ref, keep_message=True)
    elif pressed.action == keyboards.FAQ_SOLVED:
        await intake.cancel(person, pressed.ref)
        await query.edit_message_reply_markup(None)
        await query.message.chat.send_message(desk.texts("faq.solved"))
    elif pressed.action == keyboards.CANCEL:
        dropped = await intake.cancel(person, pressed.ref)
        await query.edit_message_text(
            desk.texts("private.cancelled" if dropped else "errors.no_draft")
        )
    elif pressed.action == keyboards.JOIN and pressed.arg is not None and pressed.arg.isdigit():
        ticket = await intake.join(person, pressed.ref, int(pressed.arg))
        await query.edit_message_text(
            desk.texts("private.joined", number=ticket.number, count=ticket.supporters + 1)
        )
        await refresh_card(context.bot, desk, ticket)
    elif pressed.action == keyboards.SET_CATEGORY and pressed.arg is not None:
        view = await intake.change_category(person, pressed.ref, pressed.arg)
        text = render.draft(desk.texts, view, desk.settings.tz, desk.clock.now())
        await query.edit_message_text(text, reply_markup=keyboards.draft(desk.texts, view))
    elif pressed.action in (keyboards.CATEGORIES, keyboards.BACK):
        shown = await intake.draft(person)
        if shown is None or (shown.id, shown.revision) != pressed.ref:
            await query.answer(desk.texts("errors.stale_button"))
            return
        markup = (
            keyboards.categories(desk.texts, shown, desk.classifier.categories)
            if pressed.action == keyboards.CATEGORIES
            else keyboards.draft(desk.texts, shown)
        )
        await query.edit_message_reply_markup(markup)
    else:
        await query.answer(desk.texts("errors.stale_button"))
        return
    await query.answer()


async def _present(
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    view: DraftView,
    what: str = "private.what_photo",
    reply: bool = True,
    resumed: bool = False,
) -> None:
    """Show a draft: the emergency notice first when urgent, a FAQ answer for a common
    question, else the place keyboard or the preview. `resumed`: continuing after the place
    was chosen, when the warning and the FAQ answer were already given."""
    desk = desk_of(context)
    send = message.reply_text if reply else message.chat.send_message
    if view.state != "ready" or view.classification is None:
        await send(desk.texts("private.draft_waiting_text", what=desk.texts(what)))
        return
    urgent = view.classification.urgent
    if urgent and not resumed:
        numbers = render.emergency_numbers(desk.texts, view.classification.emergency_numbers)
        await send(desk.texts("urgent.notice", numbers=numbers))
    if view.faq is not None and not resumed:
        await send(
            render.faq_answer(desk.texts, view.faq), reply_markup=keyboards.faq(desk.texts, view)
        )
    elif view.place_id is None:
        await _ask_place(message, context)
    elif urgent:
        # Lives may be at stake: the cadres get it now, without waiting for a confirmation.
        await _submit(message, context, person)
    else:
        await send(
            render.draft(desk.texts, view, desk.settings.tz, desk.clock.now()),
            reply_markup=keyboards.draft(desk.texts, view),
        )


async def _submit(
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    person: Person,
    draft_ref: tuple[int, int] | None = None,
    keep_message: bool = False,
) -> None:
    """Open the ticket, acknowledge it with its number, and post the cadres' card.

    From a preview's button (draft_ref given) the preview becomes the acknowledgement, unless
    `keep_message` (a FAQ answer stays readable and only loses its buttons).
    """
    desk = desk_of(context)
    try:
        ticket = await desk.intake.submit(person, draft_ref)
    except PlaceNeeded:
        await _ask_place(message, context)
        return
    ack = render.submitted(desk.texts, ticket, desk.settings.tz, desk.clock.now())
    if draft_ref is not None and not keep_message:
        await message.edit_text(ack)
    else:
        if keep_message:
            await message.edit_reply_markup(None)
        await message.chat.send_message(ack)
    await post_card(context.bot, desk, ticket)


async def _ask_place(message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
    desk = desk_of(context)
    await message.chat.send_message(
        desk.texts("private.ask_place"), reply_markup=keyboards.places(desk.places.villages)
    )
