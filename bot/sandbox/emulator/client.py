"""`EmulatorClient`: the control API of a running emulator (`fengqiao emulator`), from Python.

For local tests and benchmarks only, like the control API itself (see `control.py`).

    async with EmulatorClient("http://127.0.0.1:8081") as emu:
        await emu.user(1001, "张三")
        dm = await emu.private_chat(1001)
        mark = (await emu.state()).calls
        await emu.send_text(1001, dm["id"], "村口垃圾三天没人收了")
        reply = await emu.wait_for("sendMessage", lambda c: c.params["chat_id"] == dm["id"],
                                   since=mark)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp

from bot.sandbox.emulator.types import JSON


class ControlError(Exception):
    """The control API refused a request; `status` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


@dataclass(frozen=True)
class RemoteCall:
    """One Bot API call the bot made, as the emulator recorded it."""

    index: int
    method: str
    params: JSON
    ok: bool
    response: Any  # the `result` when ok, else the error body
    at: float

    @classmethod
    def from_json(cls, data: JSON) -> RemoteCall:
        return cls(
            data["index"],
            data["method"],
            data["params"],
            data["ok"],
            data["response"],
            data["time"],
        )


@dataclass(frozen=True)
class EmulatorState:
    last_update_id: int
    fetched_up_to: int
    pending: int  # updates not yet confirmed by a higher offset
    all_fetched: bool
    calls: int  # how many calls are recorded: a mark for `calls(since=...)`
    flood_refusals: list[tuple[str, int | None]]
    faults: list[JSON]
    token: str
    url: str


class EmulatorClient:
    """Drives a running emulator over its `/control/` API."""

    def __init__(self, url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self.url = url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> Self:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self, verb: str, path: str, body: JSON | None = None, query: dict[str, str] | None = None
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(
            verb, f"{self.url}/control/{path}", json=body, params=query
        ) as response:
            data = await response.json()
            if response.status != 200:
                error = data.get("error") if isinstance(data, dict) else data
                raise ControlError(response.status, str(error))
            return data

    # --- the world --------------------------------------------------------------------------

    async def state(self) -> EmulatorState:
        data = await self._request("GET", "state")
        return EmulatorState(
            last_update_id=data["last_update_id"],
            fetched_up_to=data["fetched_up_to"],
            pending=data["pending"],
            all_fetched=data["all_fetched"],
            calls=data["calls"],
            flood_refusals=[(m, c) for m, c in data["flood_refusals"]],
            faults=data["faults"],
            token=data["token"],
            url=data["url"],
        )

    async def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
    ) -> JSON:
        body: JSON = {"id": user_id, "first_name": first_name}
        body.update({k: v for k, v in (("username", username), ("last_name", last_name)) if v})
        result: JSON = await self._request("POST", "users", body)
        return result

    async def private_chat(self, user_id: int) -> JSON:
        result: JSON = await self._request("POST", "private_chats", {"user_id": user_id})
        return result

    async def group_chat(self, chat_id: int, title: str, username: str | None = None) -> JSON:
        body: JSON = {"id": chat_id, "title": title, "username": username}
        result: JSON = await self._request("POST", "groups", body)
        return result

    async def chats(self) -> list[JSON]:
        result: list[JSON] = await self._request("GET", "chats")
        return result

    async def messages(self, chat_id: int, *, from_bot: bool = False) -> list[JSON]:
        """What the chat shows now (current versions after edits; deleted ones gone)."""
        query = {"from_bot": "1"} if from_bot else None
        result: list[JSON] = await self._request("GET", f"chats/{chat_id}/messages", query=query)
        return result

    async def block(self, user_id: int, blocked: bool = True) -> None:
        await self._request("POST", "block", {"user_id": user_id, "blocked": blocked})

    # --- what users do ------------------------------------------------------------------------

    async def send_text(
        self, user_id: int, chat_id: int, text: str, *, reply_to: int | None = None
    ) -> JSON:
        """A user's message (replying to message id `reply_to` if given); returns it."""
        body: JSON = {"user_id": user_id, "chat_id": chat_id, "text": text}
        if reply_to is not None:
            body["reply_to_message_id"] = reply_to
        result: JSON = await self._request("POST", "send_text", body)
        return result

    async def press(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str | None = None,
        *,
        text: str | None = None,
    ) -> str:
        """Tap a button the message shows, by callback data or label; the callback query id."""
        body: JSON = {"user_id": user_id, "chat_id": chat_id, "message_id": message_id}
        body.update({k: v for k, v in (("data", data), ("text", text)) if v is not None})
        result = await self._request("POST", "press", body)
        return str(result["callback_query_id"])

    async def inject(self, kind: str, payload: JSON) -> int:
        result = await self._request("POST", "updates", {"kind": kind, "payload": payload})
        return int(result["update_id"])

    async def redeliver(self, update_id: int) -> bool:
        result = await self._request("POST", "redeliver", {"update_id": update_id})
        return bool(result["queued"])

    # --- what the bot did ----------------------------------------------------------------------

    async def calls(self, since: int = 0, method: str | None = None) -> list[RemoteCall]:
        query = {"since": str(since), **({"method": method} if method else {})}
        result = await self._request("GET", "calls", query=query)
        return [RemoteCall.from_json(c) for c in result["calls"]]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[RemoteCall], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline per wait reads best in tests
        poll: float = 0.02,
    ) -> RemoteCall:
        """The first `method` call from index `since` matching `predicate` (polls the server)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for call in await self.calls(since, method):
                if predicate is None or predicate(call):
                    return call
                since = call.index + 1
            if loop.time() >= deadline:
                raise TimeoutError(f"no matching {method} call within {timeout}s")
            await asyncio.sleep(poll)

    async def settle(self, quiet: float = 0.15, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched every update and then was quiet for `quiet` seconds."""
        try:
            await self._request("POST", "settle", {"quiet": quiet, "timeout": timeout})
        except ControlError as exc:
            if exc.status == 504:
                raise TimeoutError(str(exc)) from None
            raise

    # --- faults ----------------------------------------------------------------------------------

    async def fail(
        self,
        method: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        hang: float | None = None,
        match: JSON | None = None,
        description: str | None = None,
    ) -> int:
        """Arm a fault (see `BotApiEmulator.fail`; `match` stands in for a predicate: the
        params must contain these values). Returns the fault id for `cancel_fault`."""
        body: JSON = {"method": method, "times": times}
        for key, value in (
            ("status", status),
            ("retry_after", retry_after),
            ("hang", hang),
            ("match", match),
            ("description", description),
        ):
            if value is not None:
                body[key] = value
        result = await self._request("POST", "faults", body)
        return int(result["id"])

    async def faults(self) -> list[JSON]:
        result: list[JSON] = await self._request("GET", "faults")
        return result

    async def cancel_fault(self, fault_id: int) -> None:
        await self._request("DELETE", f"faults/{fault_id}")
