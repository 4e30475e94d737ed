"""Residents in a private chat with the bot: drafts, submitting, their place and their tickets.

Each handler turns the update into one call on the desk; the desk writes what to answer into
the outbox in the same transaction as the change.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import buttons, render
from handlers import staff
from handlers.context import (
    KIND_COMMANDS,
    command_body,
    command_name,
    desk_of,
    origin_of,
    person_of,
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet, open a deep-linked ticket or invitation, and ask for the village when unknown."""
    desk, message, user = desk_of(context), update.effective_message, update.effective_user
    assert message is not None and user is not None
    if staff.is_invitation(context.args):
        await staff.redeem(update, context)
        return
    origin = origin_of(update)
    if context.args and context.args[0].startswith("t") and context.args[0][1:].isdigit():
        item = await desk.tickets.for_owner(user.id, context.args[0][1:])
        text = render.detail(desk.texts, item, desk.settings.tz, desk.clock.now())
        await desk.inbox.reply(origin, desk.messages.say(origin, text))
        return
    await desk.intake.greet(person_of(user), origin, desk.texts("desk_name"))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to use the desk."""
    await _answer(update, context, "private.help")


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply about a ticket goes to its cadres; any other text starts or extends a draft."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    if await _about_ticket(update, context, message.text):
        return
    await desk_of(context).intake.write(person_of(user), origin_of(update), message.text)


async def _about_ticket(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, photos: tuple[str, ...] = ()
) -> bool:
    """Relay a reply to one of the bot's messages about the resident's ticket."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    replied = message.reply_to_message
    if replied is None:
        return False
    return await desk_of(context).cadres.from_resident(
        person_of(user), origin_of(update), replied.message_id, text, photos
    )


async def kind_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ts /jy /zx /qz with text: a draft of that kind."""
    desk, message, user = desk_of(context), update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    name, body = command_name(message.text), command_body(message.text)
    if not body:
        await _answer(
            update, context, "private.kind_needs_text", example=desk.texts(f"examples.{name}")
        )
        return
    await desk.intake.write(person_of(user), origin_of(update), body, kind_hint=KIND_COMMANDS[name])


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo joins the draft; alone, the bot asks for a sentence."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.photo
    if await _about_ticket(update, context, message.caption or "", (message.photo[-1].file_id,)):
        return
    await desk_of(context).intake.add_photo(
        person_of(user), origin_of(update), message.photo[-1].file_id, message.caption
    )


async def location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location joins the draft."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.location is not None
    await desk_of(context).intake.add_location(
        person_of(user), origin_of(update), message.location.latitude, message.location.longitude
    )


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice notes and the like: ask for words instead."""
    await _answer(update, context, "private.unsupported")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the desk does not know."""
    await _answer(update, context, "private.unknown_command")


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edits do not change what was submitted; say so rather than stay silent."""
    await _answer(update, context, "private.edited")


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data no handler knows (an old keyboard, or forged data)."""
    assert update.callback_query is not None
    await update.callback_query.answer(desk_of(context).texts("errors.stale_button"))


async def my_tickets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/my: the resident's tickets with status and deadline."""
    desk, user = desk_of(context), update.effective_user
    assert user is not None
    tickets = await desk.tickets.of_resident(user.id)
    if not tickets:
        await _answer(update, context, "private.my_empty")
        return
    origin = origin_of(update)
    text = render.my_list(desk.texts, tickets, desk.settings.tz, desk.clock.now())
    await desk.inbox.reply(origin, desk.messages.say(origin, text))


async def ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ticket NUMBER: one ticket's timeline, for its owner and supporters only."""
    desk, user = desk_of(context), update.effective_user
    assert user is not None
    if not context.args:
        await _answer(update, context, "private.ticket_usage")
        return
    item = await desk.tickets.for_owner(user.id, "".join(context.args))
    origin = origin_of(update)
    text = render.detail(desk.texts, item, desk.settings.tz, desk.clock.now())
    await desk.inbox.reply(origin, desk.messages.say(origin, text))


async def place(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/place: show and change the remembered village."""
    user = update.effective_user
    assert user is not None
    await desk_of(context).intake.show_place(person_of(user), origin_of(update))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: drop the draft."""
    user = update.effective_user
    assert user is not None
    await desk_of(context).intake.cancel(person_of(user), origin_of(update))


async def place_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A village chosen from the keyboard; a waiting draft continues."""
    query = update.callback_query
    assert query is not None and query.data is not None and isinstance(query.message, Message)
    village_id = query.data.removeprefix(buttons.SET_PLACE)
    await desk_of(context).intake.set_place(
        person_of(query.from_user), origin_of(update, query.message), village_id
    )
    await query.answer()


async def draft_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Submit, re-categorise, join, or cancel the draft shown in this message."""
    desk, query = desk_of(context), update.callback_query
    assert query is not None and query.data is not None and isinstance(query.message, Message)
    pressed = buttons.parse_draft_data(query.data)
    if pressed is None:
        await query.answer(desk.texts("errors.stale_button"))
        return
    person, intake = person_of(query.from_user), desk.intake
    origin = origin_of(update, query.message)
    if pressed.action in (buttons.SUBMIT, buttons.ANONYMOUS):
        await intake.submit(
            person, origin, pressed.ref, anonymous=pressed.action == buttons.ANONYMOUS
        )
    elif pressed.action == buttons.FAQ_HUMAN:
        await intake.submit(person, origin, pressed.ref, keep_message=True)
    elif pressed.action == buttons.FAQ_SOLVED:
        await intake.faq_solved(person, origin, pressed.ref)
    elif pressed.action == buttons.CANCEL:
        await intake.cancel(person, origin, pressed.ref)
    elif pressed.action == buttons.JOIN and pressed.arg is not None and pressed.arg.isdigit():
        await intake.join(person, origin, pressed.ref, int(pressed.arg))
    elif pressed.action == buttons.ADD and pressed.arg is not None and pressed.arg.isdigit():
        await intake.add_to(person, origin, pressed.ref, int(pressed.arg))
    elif pressed.action == buttons.SET_CATEGORY and pressed.arg is not None:
        await intake.change_category(person, origin, pressed.ref, pressed.arg)
    elif pressed.action in (buttons.CATEGORIES, buttons.BACK):
        await intake.show_categories(
            person, origin, pressed.ref, choose=pressed.action == buttons.CATEGORIES
        )
    else:
        await query.answer(desk.texts("errors.stale_button"))
        return
    await query.answer()


async def _answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, **values: object
) -> None:
    """A catalogue text in answer to the update."""
    desk, origin = desk_of(context), origin_of(update)
    await desk.inbox.reply(origin, desk.messages.reply(origin, key, **values))
