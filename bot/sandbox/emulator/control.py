"""The emulator's JSON control API, for driving it from another process (crash tests, benchmarks).

FOR LOCAL TESTING ONLY. It has no authentication: anyone who reaches the port can impersonate
users and read every call. `fengqiao emulator` binds 127.0.0.1 by default; keep it there.

Routes (bodies and answers are JSON; errors answer `{"error": "..."}` with 400 or 404):

    GET    /control/state                 last_update_id, fetched_up_to, pending, all_fetched,
                                          calls (count), flood_refusals, faults, token, url
    POST   /control/users                 {id, first_name, username?, last_name?} -> User
    POST   /control/private_chats         {user_id} -> Chat (the user pressed Start)
    POST   /control/groups                {id, title, username?} -> Chat
    GET    /control/chats                 -> [Chat]
    GET    /control/chats/{id}/messages   ?from_bot=1 for the bot's only -> [Message]
    POST   /control/block                 {user_id, blocked=true}
    POST   /control/send_text             {user_id, chat_id, text, reply_to_message_id?} -> Message
    POST   /control/press                 {user_id, chat_id, message_id, data? | text?}
                                          -> {callback_query_id}
    POST   /control/updates               {kind, payload} -> {update_id} (any other update)
    POST   /control/redeliver             {update_id} -> {queued}
    GET    /control/calls                 ?since=N&method=M -> {calls: [Call], next: N}
    POST   /control/faults                {method, times?, status?, retry_after?, hang?, match?,
                                          description?} -> Fault
    GET    /control/faults                -> [Fault] (still armed)
    DELETE /control/faults/{id}           withdraw what is left of it
    POST   /control/settle                {quiet?, timeout?} -> {} or 504 when it does not settle

A Call is {index, method, params, ok, response, time}; uploaded files in params show as
{filename, content_type, size}.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.emulator.types import JSON, Call, UploadedFile

if TYPE_CHECKING:
    from bot.sandbox.emulator.server import BotApiEmulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _default(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        return {
            "filename": value.filename,
            "content_type": value.content_type,
            "size": len(value.data),
        }
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


def _reply(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=_dumps)


def call_to_json(call: Call) -> JSON:
    return {
        "index": call.index,
        "method": call.method,
        "params": call.params,
        "ok": call.ok,
        "response": call.response,
        "time": call.at,
    }


async def _body(request: web.Request) -> JSON:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("the request body must be a JSON object")
    return body


def _guarded(handler: Handler) -> Handler:
    """Bad input answers a JSON error instead of aiohttp's HTML 500."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except LookupError as exc:
            # KeyError is a LookupError too, but a missing field is the caller's mistake.
            if isinstance(exc, KeyError):
                return _reply({"error": f"missing field {exc}"}, 400)
            return _reply({"error": str(exc)}, 404)
        except (ValueError, TypeError) as exc:
            return _reply({"error": str(exc)}, 400)

    return wrapped


def add_control_routes(app: web.Application, emu: BotApiEmulator) -> None:
    """Serve the control API for `emu` under /control/ on `app`."""

    async def state(request: web.Request) -> web.Response:
        return _reply(
            {
                "last_update_id": emu.last_update_id,
                "fetched_up_to": emu.fetched_up_to,
                "pending": emu.pending_count,
                "all_fetched": emu.all_fetched(),
                "calls": len(emu.calls),
                "flood_refusals": [list(r) for r in emu.flood_refusals],
                "faults": [f.to_dict() for f in emu.faults],
                "token": emu.token,
                "url": emu.url,
            }
        )

    async def users(request: web.Request) -> web.Response:
        body = await _body(request)
        user = emu.user(
            int(body["id"]),
            str(body["first_name"]),
            username=body.get("username"),
            last_name=body.get("last_name"),
        )
        return _reply(user.to_dict())

    async def private_chats(request: web.Request) -> web.Response:
        body = await _body(request)
        return _reply(emu.private_chat(emu.known_user(int(body["user_id"]))).to_dict())

    async def groups(request: web.Request) -> web.Response:
        body = await _body(request)
        chat = emu.group_chat(int(body["id"]), str(body["title"]), body.get("username"))
        return _reply(chat.to_dict())

    async def chats(request: web.Request) -> web.Response:
        return _reply([c.to_dict() for c in emu.chats()])

    async def messages(request: web.Request) -> web.Response:
        chat = emu.known_chat(int(request.match_info["chat_id"]))
        from_bot = request.query.get("from_bot", "") not in ("", "0", "false")
        return _reply(emu.sent_messages(chat) if from_bot else emu.messages(chat))

    async def block(request: web.Request) -> web.Response:
        body = await _body(request)
        emu.block(emu.known_user(int(body["user_id"])), bool(body.get("blocked", True)))
        return _reply({})

    async def send_text(request: web.Request) -> web.Response:
        body = await _body(request)
        user = emu.known_user(int(body["user_id"]))
        chat = emu.known_chat(int(body["chat_id"]))
        reply_id = body.get("reply_to_message_id")
        reply_to = None if reply_id is None else _message_ref(chat.id, int(reply_id))
        return _reply(await emu.send_text(user, chat, str(body["text"]), reply_to=reply_to))

    async def press(request: web.Request) -> web.Response:
        body = await _body(request)
        user = emu.known_user(int(body["user_id"]))
        message = _message_ref(int(body["chat_id"]), int(body["message_id"]))
        data, text = body.get("data"), body.get("text")
        if data is None and text is None:
            raise ValueError("say which button: data or text")
        query_id = await emu.press(user, message, data, text=text)
        return _reply({"callback_query_id": query_id})

    async def updates(request: web.Request) -> web.Response:
        body = await _body(request)
        payload = body["payload"]
        if not isinstance(payload, dict):
            raise ValueError("payload must be an object")
        return _reply({"update_id": emu.inject(str(body["kind"]), payload)})

    async def redeliver(request: web.Request) -> web.Response:
        body = await _body(request)
        return _reply({"queued": emu.redeliver(int(body["update_id"]))})

    async def calls(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        method = request.query.get("method")
        found = emu.calls_since(since, method)
        return _reply({"calls": [call_to_json(c) for c in found], "next": len(emu.calls)})

    async def add_fault(request: web.Request) -> web.Response:
        body = await _body(request)
        match = body.get("match")
        if match is not None and not isinstance(match, dict):
            raise ValueError("match must be an object")
        retry_after, hang = body.get("retry_after"), body.get("hang")
        fault = emu.fail(
            str(body["method"]),
            times=int(body.get("times", 1)),
            status=None if body.get("status") is None else int(body["status"]),
            retry_after=None if retry_after is None else int(retry_after),
            hang=None if hang is None else float(hang),
            match=match,
            description=body.get("description"),
        )
        return _reply(fault.to_dict())

    async def faults(request: web.Request) -> web.Response:
        return _reply([f.to_dict() for f in emu.faults])

    async def cancel_fault(request: web.Request) -> web.Response:
        fault_id = int(request.match_info["fault_id"])
        fault = next((f for f in emu.faults if f.id == fault_id), None)
        if fault is None:
            raise LookupError(f"no armed fault {fault_id}")
        fault.cancel()
        emu.faults.remove(fault)
        return _reply(fault.to_dict())

    async def settle(request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            await emu.settle(
                quiet=float(body.get("quiet", 0.15)), timeout=float(body.get("timeout", 5.0))
            )
        except TimeoutError as exc:
            return _reply({"error": str(exc)}, 504)
        return _reply({})

    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/control/state", state),
        ("POST", "/control/users", users),
        ("POST", "/control/private_chats", private_chats),
        ("POST", "/control/groups", groups),
        ("GET", "/control/chats", chats),
        ("GET", "/control/chats/{chat_id}/messages", messages),
        ("POST", "/control/block", block),
        ("POST", "/control/send_text", send_text),
        ("POST", "/control/press", press),
        ("POST", "/control/updates", updates),
        ("POST", "/control/redeliver", redeliver),
        ("GET", "/control/calls", calls),
        ("POST", "/control/faults", add_fault),
        ("GET", "/control/faults", faults),
        ("DELETE", "/control/faults/{fault_id}", cancel_fault),
        ("POST", "/control/settle", settle),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, path, _guarded(handler))


def _message_ref(chat_id: int, message_id: int) -> JSON:
    # What BotApiEmulator.press / send_text(reply_to=...) need to find a stored message.
    return {"chat": {"id": chat_id}, "message_id": message_id}
