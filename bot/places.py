"""The place tree (county → township → village → grid) read from config/places.toml."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.tomlfile import read_toml

LEVELS = ("county", "township", "village", "grid")
# What a chat is to its place: the cadres' admin chat, or a village's residents' group.
ADMIN, GROUP = "admin", "group"
PURPOSES = (ADMIN, GROUP)
CHILD_KEYS = {"county": "townships", "township": "villages", "village": "grids"}


class PlacesError(Exception):
    """config/places.toml is missing or wrong; the message says where."""


class ChatInUse(PlacesError):
    """A chat can serve one place for one purpose only."""


@dataclass(frozen=True)
class PlaceInfo:
    """One node of the tree."""

    id: str
    name: str
    level: str
    parent_id: str | None
    admin_chat_id: int | None
    group_chat_id: int | None


class PlaceDirectory:
    """Look-ups over the place tree: by id, by chat, and up the escalation chain."""

    def __init__(self, places: list[PlaceInfo]) -> None:
        self._by_id: dict[str, PlaceInfo] = {}
        self._by_group: dict[int, PlaceInfo] = {}
        self._by_admin: dict[int, PlaceInfo] = {}
        for place in places:
            if place.id in self._by_id:
                raise PlacesError(f"places.toml: id {place.id!r} is used twice")
            self._by_id[place.id] = place
            for chat_id, index in (
                (place.group_chat_id, self._by_group),
                (place.admin_chat_id, self._by_admin),
            ):
                if chat_id is None:
                    continue
                if chat_id in self._by_group or chat_id in self._by_admin:
                    raise PlacesError(f"places.toml: chat {chat_id} is used twice")
                index[chat_id] = place

    @classmethod
    def load(cls, config_dir: Path) -> PlaceDirectory:
        path = config_dir / "places.toml"
        data = read_toml(path, PlacesError)
        if "county" not in data:
            raise PlacesError(f"{path}: the [county] table is missing")
        return cls(list(_walk(data["county"], "county", None, str(path))))

    def __iter__(self) -> Iterator[PlaceInfo]:
        return iter(self._by_id.values())

    def get(self, place_id: str) -> PlaceInfo | None:
        return self._by_id.get(place_id)

    def name(self, place_id: str) -> str:
        place = self._by_id.get(place_id)
        return place.name if place else place_id

    @property
    def villages(self) -> list[PlaceInfo]:
        return [p for p in self._by_id.values() if p.level == "village"]

    def village_of_group(self, chat_id: int) -> PlaceInfo | None:
        """The village whose residents' group this chat is."""
        return self._by_group.get(chat_id)

    def place_of_admin_chat(self, chat_id: int) -> PlaceInfo | None:
        return self._by_admin.get(chat_id)

    def check_bind(self, place_id: str, purpose: str, chat_id: int) -> PlaceInfo:
        """The place `bind` would change; raises if it cannot: an unknown place or purpose, a
        residents' group for a place that is not a village, a chat serving another place (or
        this place for the other purpose)."""
        place = self._by_id.get(place_id)
        if place is None:
            raise PlacesError(f"no place {place_id!r}")
        if purpose not in PURPOSES:
            raise PlacesError(f"a chat is bound as {' or '.join(PURPOSES)}, not {purpose!r}")
        if purpose == GROUP and place.level != "village":
            raise PlacesError(f"only a village has a residents' group, not {place_id!r}")
        current = place.admin_chat_id if purpose == ADMIN else place.group_chat_id
        if current != chat_id and (chat_id in self._by_admin or chat_id in self._by_group):
            raise ChatInUse(f"chat {chat_id} already serves another place")
        return place

    def bind(self, place_id: str, purpose: str, chat_id: int) -> PlaceInfo:
        """Make the chat the place's admin chat or residents' group (replacing its earlier one),
        keeping the look-ups by chat consistent. Raises as `check_bind` does."""
        place = self.check_bind(place_id, purpose, chat_id)
        index = self._by_admin if purpose == ADMIN else self._by_group
        old = place.admin_chat_id if purpose == ADMIN else place.group_chat_id
        if old is not None:
            index.pop(old, None)
        bound = (
            replace(place, admin_chat_id=chat_id)
            if purpose == ADMIN
            else replace(place, group_chat_id=chat_id)
        )
        self._by_id[place_id] = bound
        index[chat_id] = bound
        # The other index holds the same place under its other chat: keep it the same object.
        other, other_chat = (
            (self._by_group, bound.group_chat_id)
            if purpose == ADMIN
            else (self._by_admin, bound.admin_chat_id)
        )
        if other_chat is not None:
            other[other_chat] = bound
        return bound

    def chain(self, place_id: str) -> list[PlaceInfo]:
        """The place and its parents up to the county, nearest first."""
        chain: list[PlaceInfo] = []
        current = self._by_id.get(place_id)
        while current is not None:
            chain.append(current)
            current = self._by_id.get(current.parent_id) if current.parent_id else None
        return chain

    def admin_chat_for(self, place_id: str) -> int | None:
        """The nearest admin chat at or above the place (a grid reports to its village)."""
        for place in self.chain(place_id):
            if place.admin_chat_id is not None:
                return place.admin_chat_id
        return None

    def village_for(self, place_id: str) -> PlaceInfo | None:
        return next((p for p in self.chain(place_id) if p.level == "village"), None)

    def covers(self, jurisdiction_id: str, place_id: str) -> bool:
        """Whether `place_id` is the place `jurisdiction_id` or lies under it."""
        return any(p.id == jurisdiction_id for p in self.chain(place_id))

    def at_level(self, place_id: str, level: str) -> PlaceInfo | None:
        """The place's ancestor (or itself) at `level`: who handles a ticket there."""
        return next((p for p in self.chain(place_id) if p.level == level), None)

    def admin_chat_at(self, place_id: str, level: str) -> int | None:
        """The admin chat that handles a ticket of `place_id` escalated to `level`: the nearest
        one at or above that level."""
        chain = self.chain(place_id)
        start = next((i for i, p in enumerate(chain) if p.level == level), 0)
        return next((p.admin_chat_id for p in chain[start:] if p.admin_chat_id is not None), None)


def _walk(
    node: Mapping[str, Any], level: str, parent_id: str | None, where: str
) -> Iterator[PlaceInfo]:
    place_id, name = node.get("id"), node.get("name")
    if not isinstance(place_id, str) or not place_id:
        raise PlacesError(f"{where}: a {level} has no id")
    if not isinstance(name, str) or not name:
        raise PlacesError(f"{where}: {level} {place_id!r} has no name")
    chats: dict[str, int | None] = {}
    for key in ("admin_chat_id", "group_chat_id"):
        value = node.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise PlacesError(f"{where}: {place_id}.{key} must be a whole number")
        chats[key] = value
    yield PlaceInfo(
        place_id, name, level, parent_id, chats["admin_chat_id"], chats["group_chat_id"]
    )
    child_key = CHILD_KEYS.get(level)
    if child_key is None:
        return
    child_level = LEVELS[LEVELS.index(level) + 1]
    children = node.get(child_key, [])
    if not isinstance(children, list):
        raise PlacesError(f"{where}: {place_id}.{child_key} must be a list")
    for child in children:
        yield from _walk(child, child_level, place_id, where)
