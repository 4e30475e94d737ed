"""The emulator's plain values: fake people and chats, recorded calls, uploaded files, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class User:
    """A fake Telegram user; `to_dict()` is the Bot API `User` object."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class Chat:
    """A chat the emulator knows; `to_dict()` is the Bot API `Chat` object."""

    id: int
    type: str  # "private", "group", "supergroup" or "channel"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded in a multipart request (what `Call.params` holds for it)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Call:
    """One request the bot made, as the server saw it.

    `params` are decoded: values the client JSON-encoded are objects again, uploads are
    `UploadedFile`. `response` is the `result` when `ok`, else the error body
    (`{"ok": False, "error_code": ..., "description": ...}`).
    """

    method: str
    params: JSON
    at: float
    response: Any
    ok: bool
    index: int

    @property
    def description(self) -> str | None:
        """The error description of a failed call."""
        return None if self.ok else str(self.response.get("description"))


class ApiError(Exception):
    """A Bot API error reply: HTTP status = `error_code`, body carries `description`."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")
