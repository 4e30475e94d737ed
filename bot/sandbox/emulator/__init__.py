"""A Telegram Bot API emulator: the real python-telegram-bot Application runs against it over HTTP.

It imports nothing from `telegram`: like a real server it only speaks the Bot API's JSON.

    async with BotApiEmulator(token="123:TEST") as emu:
        app = ApplicationBuilder().token(emu.token).base_url(emu.base_url)
                                  .base_file_url(emu.base_file_url).build()
        ...start polling...
        resident = emu.user(1001, "张三")
        dm = emu.private_chat(resident)
        await emu.send_text(resident, dm, "村口垃圾三天没人收了")
        reply = await emu.wait_for("sendMessage", lambda c: c.params["chat_id"] == dm.id)
        await emu.press(resident, reply.response, "take:1")
        await emu.settle()
        assert emu.last_message(dm)["text"] == ...

Reliability: `BotApiEmulator(limits=FloodLimits())` enforces Telegram's flood limits (429 with
retry_after), `emu.fail(...)` injects 5xx/403/429 errors or held responses, and
`emu.redeliver(update_id)` hands an update out again. `fengqiao emulator` runs it as its own
process with a JSON control API (`control.py`, for local testing only), which
`EmulatorClient` drives.
"""

from bot.sandbox.emulator.client import ControlError, EmulatorClient, EmulatorState, RemoteCall
from bot.sandbox.emulator.faults import Fault
from bot.sandbox.emulator.limits import COUNTED_METHODS, FloodLimits
from bot.sandbox.emulator.server import BotApiEmulator, CallListener, CallPredicate
from bot.sandbox.emulator.types import ApiError, Call, Chat, UploadedFile, User

__all__ = [
    "COUNTED_METHODS",
    "ApiError",
    "BotApiEmulator",
    "Call",
    "CallListener",
    "CallPredicate",
    "Chat",
    "ControlError",
    "EmulatorClient",
    "EmulatorState",
    "Fault",
    "FloodLimits",
    "RemoteCall",
    "UploadedFile",
    "User",
]
