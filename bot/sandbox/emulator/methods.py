"""The Bot API methods the emulator serves, with Telegram's validation and error texts.

Each method takes the decoded request parameters and returns the `result` a real server would,
or raises `ApiError`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.emulator.formatting import (
    Entity,
    EntityParseError,
    auto_entities,
    parse_formatted,
    utf16_len,
)
from bot.sandbox.emulator.types import JSON, Chat, UploadedFile, bad_request
from bot.sandbox.emulator.world import World

Method = Callable[[World, JSON], Any | Awaitable[Any]]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


# --- shared pieces ------------------------------------------------------------------------------


def _int(p: JSON, key: str, default: int | None = None) -> int | None:
    value = p.get(key, default)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {key} specified") from None


def _formatted(
    p: JSON, text_key: str, entities_key: str, limit: int, *, required: bool
) -> tuple[str, list[Entity]]:
    """Text after Telegram's server-side parsing, or the matching 400."""
    raw = p.get(text_key)
    text = "" if raw is None else str(raw)
    explicit = p.get(entities_key)
    if isinstance(explicit, list):
        entities: list[Entity] = explicit
    else:
        try:
            text, entities = parse_formatted(text, p.get("parse_mode"))
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        except LookupError:
            raise bad_request(f"unsupported parse_mode {p.get('parse_mode')}") from None
    if required and not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > limit:
        raise bad_request("message is too long" if required else "message caption is too long")
    return text, _with_auto_entities(text, entities)


def _with_auto_entities(text: str, entities: list[Entity]) -> list[Entity]:
    # Telegram detects links, mentions and commands itself where no explicit entity covers them.
    covered = [(e["offset"], e["offset"] + e["length"]) for e in entities]
    detected = [
        e
        for e in auto_entities(text)
        if not any(
            e["offset"] < end and start < e["offset"] + e["length"] for start, end in covered
        )
    ]
    return sorted([*entities, *detected], key=lambda e: (e["offset"], -e["length"]))


def _text_content(text: str, entities: list[Entity], key: str = "text") -> JSON:
    content: JSON = {key: text} if text else {}
    if entities:
        content[f"{key}_entities" if key == "caption" else "entities"] = entities
    return content


def _inline_keyboard(markup: JSON) -> JSON:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("BUTTON_TEXT_INVALID")
            if not any(action in button for action in _BUTTON_ACTIONS):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not re.match(r"(https?|tg)://\S+$", str(url)):
                raise bad_request("BUTTON_URL_INVALID")
    return {"inline_keyboard": rows}


def _markup(p: JSON, *, inline_only: bool = False) -> tuple[JSON | None, JSON | None]:
    """(inline keyboard to attach to the message, reply-keyboard change for the chat)."""
    markup = p.get("reply_markup")
    if markup is None:
        return None, None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return _inline_keyboard(markup), None
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if any(not (b if isinstance(b, str) else b.get("text")) for row in rows for b in row):
            raise bad_request("keyboard button text must be non-empty")
        return None, markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return None, markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _apply_keyboard(world: World, chat: Chat, change: JSON | None) -> None:
    if change is None:
        return
    if "keyboard" in change:
        world.reply_keyboards[chat.id] = change
    elif change.get("remove_keyboard"):
        world.reply_keyboards.pop(chat.id, None)


def _reply_to(world: World, chat: Chat, p: JSON) -> JSON | None:
    params = p.get("reply_parameters")
    if isinstance(params, dict):
        target_chat = params.get("chat_id", chat.id)
        message_id = _int(params, "message_id")
        allow_missing = bool(params.get("allow_sending_without_reply"))
    elif p.get("reply_to_message_id") is not None:
        target_chat, message_id = chat.id, _int(p, "reply_to_message_id")
        allow_missing = bool(p.get("allow_sending_without_reply"))
    else:
        return None
    source = world.chat(target_chat)
    reply = world.reply_snapshot(source.id, message_id or 0)
    if reply is None and not allow_missing:
        raise bad_request("message to be replied not found")
    return reply if source.id == chat.id else None


def _send(world: World, chat: Chat, p: JSON, content: JSON) -> JSON:
    inline, keyboard = _markup(p)
    reply = _reply_to(world, chat, p)
    if reply is not None:
        content["reply_to_message"] = reply
    if inline is not None:
        content["reply_markup"] = inline
    if p.get("protect_content"):
        content["has_protected_content"] = True
    message = world.store(chat, world.bot, content)
    _apply_keyboard(world, chat, keyboard)
    return message


def _own_message(world: World, p: JSON, missing: str) -> JSON:
    if p.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = world.chat(p.get("chat_id"))
    message = world.find(chat.id, p.get("message_id"))
    if message is None:
        raise bad_request(missing)
    if message["from"]["id"] != world.bot.id:
        raise bad_request("message can't be edited")
    return message


def _edited(world: World, old: JSON, changes: JSON, inline: JSON | None) -> JSON:
    new = {k: v for k, v in old.items() if k not in ("reply_markup", "edit_date", *changes)}
    new.update({k: v for k, v in changes.items() if v})
    if inline is not None:
        new["reply_markup"] = inline
    keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
    if all(new.get(k) == old.get(k) for k in keys):
        raise bad_request(NOT_MODIFIED)
    new["edit_date"] = int(world.now())
    world.replace(new)
    return new


# --- methods --------------------------------------------------------------------------------------


def get_me(world: World, p: JSON) -> JSON:
    return {
        **world.bot.to_dict(),
        "can_join_groups": True,
        "can_read_all_group_messages": not world.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(world: World, p: JSON) -> list[JSON]:
    limit = min(max(_int(p, "limit", 100) or 100, 1), 100)
    timeout = float(p.get("timeout") or 0)
    allowed = p.get("allowed_updates")
    return await world.get_updates(
        _int(p, "offset", 0) or 0,
        limit,
        timeout,
        list(allowed) if isinstance(allowed, list) else None,
    )


def set_webhook(world: World, p: JSON) -> bool:
    url = str(p.get("url") or "")
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    world.webhook = {"url": url} if url else {}
    if p.get("drop_pending_updates"):
        world.drop_pending()
    return True


def delete_webhook(world: World, p: JSON) -> bool:
    world.webhook = {}
    if p.get("drop_pending_updates"):
        world.drop_pending()
    return True


def get_webhook_info(world: World, p: JSON) -> JSON:
    return {
        "url": world.webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(world.pending),
    }


def set_my_commands(world: World, p: JSON) -> bool:
    commands = p.get("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description") or "")) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = World.commands_key(p.get("scope"), p.get("language_code"))
    world.commands[key] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


def get_my_commands(world: World, p: JSON) -> list[JSON]:
    return world.commands.get(World.commands_key(p.get("scope"), p.get("language_code")), [])


def delete_my_commands(world: World, p: JSON) -> bool:
    world.commands.pop(World.commands_key(p.get("scope"), p.get("language_code")), None)
    return True


def send_message(world: World, p: JSON) -> JSON:
    chat = world.writable_chat(p.get("chat_id"))
    text, entities = _formatted(p, "text", "entities", MESSAGE_LIMIT, required=True)
    return _send(world, chat, p, _text_content(text, entities))


def send_photo(world: World, p: JSON) -> JSON:
    chat = world.writable_chat(p.get("chat_id"))
    photo = p.get("photo")
    if isinstance(photo, UploadedFile):
        file_id = world.add_file(photo.data, "photos", "jpg").file_id
    elif isinstance(photo, str) and photo in world.files:
        file_id = photo
    elif isinstance(photo, str) and re.match(r"https?://\S+$", photo):
        file_id = world.add_file(b"", "photos", "jpg").file_id
    else:
        raise bad_request("wrong file identifier/HTTP URL specified")
    caption, entities = _formatted(p, "caption", "caption_entities", CAPTION_LIMIT, required=False)
    content = {"photo": photo_sizes(world, file_id), **_text_content(caption, entities, "caption")}
    return _send(world, chat, p, content)


def photo_sizes(world: World, file_id: str) -> list[JSON]:
    stored = world.files[file_id]
    return [
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(stored.data),
        }
        for width, height in ((90, 68), (1280, 960))
    ]


def send_location(world: World, p: JSON) -> JSON:
    chat = world.writable_chat(p.get("chat_id"))
    try:
        latitude, longitude = float(p["latitude"]), float(p["longitude"])
    except (KeyError, TypeError, ValueError):
        raise bad_request("wrong latitude or longitude specified") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong latitude or longitude specified")
    location: JSON = {"latitude": latitude, "longitude": longitude}
    if p.get("live_period"):
        location["live_period"] = int(p["live_period"])
    return _send(world, chat, p, {"location": location})


def _stored_file(world: World, value: Any, folder: str, suffix: str) -> str:
    """The file_id of an upload, a known file_id or an HTTP URL, as Telegram accepts them."""
    if isinstance(value, UploadedFile):
        return world.add_file(value.data, folder, suffix).file_id
    if isinstance(value, str) and value in world.files:
        return value
    if isinstance(value, str) and re.match(r"https?://\S+$", value):
        return world.add_file(b"", folder, suffix).file_id
    raise bad_request("wrong file identifier/HTTP URL specified")


def _document(world: World, value: Any) -> JSON:
    file_id = _stored_file(world, value, "documents", "bin")
    stored = world.files[file_id]
    document: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if isinstance(value, UploadedFile):
        document.update(file_name=value.filename, mime_type=value.content_type)
    return document


def send_document(world: World, p: JSON) -> JSON:
    chat = world.writable_chat(p.get("chat_id"))
    document = _document(world, p.get("document"))
    caption, entities = _formatted(p, "caption", "caption_entities", CAPTION_LIMIT, required=False)
    return _send(
        world, chat, p, {"document": document, **_text_content(caption, entities, "caption")}
    )


def send_media_group(world: World, p: JSON) -> list[JSON]:
    """An album: 2-10 photos or documents, each stored as its own message sharing a group id."""
    chat = world.writable_chat(p.get("chat_id"))
    media = p.get("media")
    if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
        raise bad_request("can't parse media JSON object")
    if not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the group")
    contents: list[JSON] = []
    for item in media:
        source = item.get("media")
        if isinstance(source, str) and source.startswith("attach://"):
            source = p.get(source.removeprefix("attach://"))
        if item.get("type") == "photo":
            content: JSON = {
                "photo": photo_sizes(world, _stored_file(world, source, "photos", "jpg"))
            }
        elif item.get("type") == "document":
            content = {"document": _document(world, source)}
        else:
            raise bad_request("unsupported media type in the group")
        caption, entities = _formatted(
            item, "caption", "caption_entities", CAPTION_LIMIT, required=False
        )
        contents.append({**content, **_text_content(caption, entities, "caption")})
    group_id = str(next(world.media_group_ids))
    # Only the first message of an album carries the reply; none has a keyboard.
    plain = {k: v for k, v in p.items() if k != "reply_markup"}
    return [
        _send(world, chat, plain if n == 0 else {}, {**content, "media_group_id": group_id})
        for n, content in enumerate(contents)
    ]


# What a forward or copy carries over from the original message.
_COPIED = (
    "text",
    "entities",
    "photo",
    "document",
    "location",
    "sticker",
    "voice",
    "contact",
    "caption",
    "caption_entities",
)


def _source(world: World, p: JSON, missing: str) -> JSON:
    source_chat = world.chat(p.get("from_chat_id"))
    message = world.find(source_chat.id, p.get("message_id"))
    if message is None:
        raise bad_request(missing)
    return message


def forward_message(world: World, p: JSON) -> JSON:
    chat = world.writable_chat(p.get("chat_id"))
    original = _source(world, p, "message to forward not found")
    content = {k: original[k] for k in _COPIED if k in original}
    content["forward_origin"] = {
        "type": "user",
        "sender_user": original["from"],
        "date": original["date"],
    }
    return world.store(chat, world.bot, content)


def copy_message(world: World, p: JSON) -> JSON:
    chat = world.writable_chat(p.get("chat_id"))
    original = _source(world, p, "message to copy not found")
    content = {k: original[k] for k in _COPIED if k in original}
    # A new caption replaces a media message's own; text messages have none to replace.
    if "caption" in p and "text" not in original:
        caption, entities = _formatted(
            p, "caption", "caption_entities", CAPTION_LIMIT, required=False
        )
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(_text_content(caption, entities, "caption"))
    return {"message_id": _send(world, chat, p, content)["message_id"]}


def send_chat_action(world: World, p: JSON) -> bool:
    chat = world.writable_chat(p.get("chat_id"))
    action = p.get("action")
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    world.chat_actions[chat.id] = str(action)
    return True


def edit_message_text(world: World, p: JSON) -> JSON:
    old = _own_message(world, p, "message to edit not found")
    if "text" not in old:
        raise bad_request("there is no text in the message to edit")
    text, entities = _formatted(p, "text", "entities", MESSAGE_LIMIT, required=True)
    inline, _ = _markup(p, inline_only=True)
    return _edited(world, old, {"text": text, "entities": entities}, inline)


def edit_message_caption(world: World, p: JSON) -> JSON:
    old = _own_message(world, p, "message to edit not found")
    caption, entities = _formatted(p, "caption", "caption_entities", CAPTION_LIMIT, required=False)
    inline, _ = _markup(p, inline_only=True)
    return _edited(world, old, {"caption": caption, "caption_entities": entities}, inline)


def edit_message_reply_markup(world: World, p: JSON) -> JSON:
    old = _own_message(world, p, "message to edit not found")
    inline, _ = _markup(p, inline_only=True)
    return _edited(world, old, {}, inline)


def delete_message(world: World, p: JSON) -> bool:
    chat = world.chat(p.get("chat_id"))
    message = world.find(chat.id, p.get("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    del world.messages[chat.id][message["message_id"]]
    return True


def answer_callback_query(world: World, p: JSON) -> bool:
    query = world.callback_queries.get(str(p.get("callback_query_id")))
    if query is None or query.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    if len(str(p.get("text") or "")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {k: v for k, v in p.items() if k != "callback_query_id"}
    return True


def get_chat(world: World, p: JSON) -> JSON:
    chat = world.chat(p.get("chat_id"))
    info: JSON = {
        **chat.to_dict(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }
    pinned = world.pinned.get(chat.id)
    if pinned and (message := world.reply_snapshot(chat.id, pinned[-1])) is not None:
        info["pinned_message"] = message
    return info


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)


def get_chat_member(world: World, p: JSON) -> JSON:
    chat = world.chat(p.get("chat_id"))
    user_id = _int(p, "user_id")
    user = world.bot if user_id == world.bot.id else world.users.get(user_id or 0)
    if user is None:
        raise bad_request("PARTICIPANT_ID_INVALID")
    if chat.type == "private":
        status = "member"
    else:
        status = world.member_status.get((chat.id, user.id), "member")
    member: JSON = {"status": status, "user": user.to_dict()}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            {"can_be_edited": False, "is_anonymous": False, **dict.fromkeys(_ADMIN_RIGHTS, True)}
        )
    return member


def get_file(world: World, p: JSON) -> JSON:
    stored = world.files.get(str(p.get("file_id")))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


def pin_chat_message(world: World, p: JSON) -> bool:
    chat = world.chat(p.get("chat_id"))
    message = world.find(chat.id, p.get("message_id"))
    if message is None:
        raise bad_request("message to pin not found")
    pinned = world.pinned.setdefault(chat.id, [])
    if message["message_id"] in pinned:
        pinned.remove(message["message_id"])
    pinned.append(message["message_id"])
    return True


def unpin_chat_message(world: World, p: JSON) -> bool:
    chat = world.chat(p.get("chat_id"))
    pinned = world.pinned.get(chat.id, [])
    message_id = _int(p, "message_id")
    if message_id is None:
        if pinned:
            pinned.pop()
    elif message_id in pinned:
        pinned.remove(message_id)
    return True


def unpin_all_chat_messages(world: World, p: JSON) -> bool:
    world.pinned.pop(world.chat(p.get("chat_id")).id, None)
    return True


def ok(world: World, p: JSON) -> bool:
    return True


METHODS: dict[str, Method] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendLocation": send_location,
    "sendDocument": send_document,
    "sendMediaGroup": send_media_group,
    "forwardMessage": forward_message,
    "copyMessage": copy_message,
    "sendChatAction": send_chat_action,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getFile": get_file,
    "pinChatMessage": pin_chat_message,
    "unpinChatMessage": unpin_chat_message,
    "unpinAllChatMessages": unpin_all_chat_messages,
    "close": ok,
    "logOut": ok,
}
