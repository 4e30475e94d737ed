"""The place tree from config/places.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.places import PlaceDirectory, PlacesError

CONFIG = Path(__file__).resolve().parents[1] / "config"


def test_example_county_loads() -> None:
    places = PlaceDirectory.load(CONFIG)
    villages = places.villages
    assert [v.name for v in villages] == ["青溪村", "桃源村"]
    for village in villages:
        assert village.admin_chat_id is not None and village.group_chat_id is not None
        assert places.village_of_group(village.group_chat_id) == village
        assert places.place_of_admin_chat(village.admin_chat_id) == village


def test_chain_goes_up_to_the_county() -> None:
    places = PlaceDirectory.load(CONFIG)
    assert [p.level for p in places.chain("qingxi-1")] == ["grid", "village", "township", "county"]
    assert places.admin_chat_for("qingxi-1") == places.admin_chat_for("qingxi")
    assert places.village_for("qingxi-1") == places.get("qingxi")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("", "county"),
        ('[county]\nname = "县"', "no id"),
        ('[county]\nid = "c"', "no name"),
        ('[county]\nid = "c"\nname = "县"\nadmin_chat_id = "x"', "whole number"),
        (
            '[county]\nid = "c"\nname = "县"\n[[county.townships]]\nid = "c"\nname = "镇"',
            "used twice",
        ),
        (
            '[county]\nid = "c"\nname = "县"\nadmin_chat_id = 1\n'
            '[[county.townships]]\nid = "t"\nname = "镇"\nadmin_chat_id = 1',
            "chat 1 is used twice",
        ),
        ("[county", "places.toml"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "places.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(PlacesError, match=message):
        PlaceDirectory.load(tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlacesError, match="missing"):
        PlaceDirectory.load(tmp_path)
