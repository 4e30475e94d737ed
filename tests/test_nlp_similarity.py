"""Duplicate detection: the same matter in other words matches, another matter does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.segment import Segmenter
from nlp.similarity import DuplicateIndex

# Real-looking open tickets give the IDF something to stand on.
BACKGROUND = Path("/work/shared/nlp/dev.jsonl")
FALLBACK_BACKGROUND = [
    "隔壁邻居天天在楼道里堆杂物", "小区电梯经常坏", "路面坑洼电动车摔倒", "村里低保评选不公开",
    "河道里有人倒垃圾", "晚上广场舞噪音太大", "工地老板拖欠工资", "村卫生室没有医生",
    "学校门口交通拥堵", "停电一整天了", "菜市场卖注水肉", "养猪场臭味太大",
]  # fmt: skip
KEY = 1


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


@pytest.fixture(scope="module")
def background() -> list[str]:
    if BACKGROUND.exists():
        return [json.loads(line)["text"] for line in BACKGROUND.read_text("utf-8").splitlines()]
    return FALLBACK_BACKGROUND


@pytest.fixture
def index(segmenter: Segmenter, background: list[str]) -> DuplicateIndex:
    index = DuplicateIndex(segmenter)
    for i, text in enumerate(background, start=1000):
        index.add(i, text)
    return index


@pytest.mark.parametrize(
    ("new", "open_ticket"),
    [
        ("村口垃圾三天没人收了", "村口的垃圾堆好几天没人清运"),
        ("村口路灯坏了", "村口的路灯不亮了好几天"),
        ("三组停水了,到现在还没来水", "3组停水两天了还没来水"),
        ("小区电梯坏了一周物业不修", "电梯又坏了物业也不管"),
        ("老板拖欠工资三个月", "工地老板欠我们工资不给"),
        ("村口垃圾三天没人收了", "村口垃圾三天没人收了!!"),
    ],
)
def test_same_matter_matches(index: DuplicateIndex, new: str, open_ticket: str) -> None:
    index.add(KEY, open_ticket)
    assert KEY in dict(index.most_similar(new, limit=5))


@pytest.mark.parametrize(
    ("new", "open_ticket"),
    [
        ("村口垃圾三天没人收了", "村口路灯坏了"),
        ("3组的自来水停了两天", "3组的路面坑坑洼洼"),
        ("隔壁邻居半夜放音乐太吵", "隔壁邻居占了我家的地"),
        ("小区电梯坏了一周物业不修", "小区停车位太少"),
        ("河里有人倒垃圾", "村口垃圾三天没人收了"),
        ("楼上半夜跺脚太吵", "楼上漏水把我家天花板泡了"),
    ],
)
def test_other_matter_does_not(index: DuplicateIndex, new: str, open_ticket: str) -> None:
    index.add(KEY, open_ticket)
    assert KEY not in dict(index.most_similar(new, limit=500))


def test_scores_are_cosines_ranked(segmenter: Segmenter) -> None:
    index = DuplicateIndex(segmenter)
    index.add(1, "村口的垃圾堆好几天没人清运")
    index.add(2, "村口垃圾没人收")
    index.add(3, "路灯坏了")
    found = index.most_similar("村口垃圾没人收", limit=3, threshold=0.0)
    assert found[0] == (2, 1.0)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert all(0.0 <= s <= 1.0 for _, s in found)


def test_limit_and_threshold(index: DuplicateIndex) -> None:
    for key in range(1, 6):
        index.add(key, f"村口的垃圾堆好几天没人清运{'了' * key}")
    assert len(index.most_similar("村口垃圾没人清运", limit=2)) == 2
    assert index.most_similar("村口垃圾没人清运", threshold=1.01) == []


def test_add_remove_len(segmenter: Segmenter) -> None:
    index = DuplicateIndex(segmenter)
    index.add(1, "停水了")
    index.add(2, "停电了")
    index.add(1, "路灯坏了")  # replaces key 1
    assert len(index) == 2
    assert [k for k, _ in index.most_similar("路灯坏了")] == [1]
    index.remove(1)
    index.remove(1)  # removing twice is harmless
    assert len(index) == 1
    assert index.most_similar("路灯坏了") == []


@pytest.mark.parametrize("text", ["", "!!!", "的了吗"])
def test_empty_queries_find_nothing(index: DuplicateIndex, text: str) -> None:
    assert index.most_similar(text) == []


def test_stays_right_across_reweighting(segmenter: Segmenter) -> None:
    index = DuplicateIndex(segmenter)
    fillers = ["停电", "停水", "噪音", "路灯", "垃圾", "工资", "低保", "电梯", "网络", "漏水"]
    for i in range(300):
        index.add(i, f"{fillers[i % 10]}问题第{i}号")
    index.add(10_000, "村口的垃圾堆好几天没人清运")
    for i in range(200):
        index.remove(i)
    assert len(index) == 101
    assert index.most_similar("村口垃圾三天没人收了")[0][0] == 10_000
