"""Hot words: topics rank, personal data, places, numbers and stopwords never do."""

from __future__ import annotations

import pytest

from nlp.hotwords import rank_hotwords
from nlp.segment import Segmenter
from nlp.textfeatures import load_stopwords

TEXTS = [
    "幸福村3组垃圾清运不及时,垃圾堆了三天",
    "幸福村村口垃圾清运没人管,臭味很大",
    "桥头的路灯坏了好几天,晚上走路很危险",
    "我叫张三,电话13812345678,反映拖欠工资的问题",
    "工地老板拖欠工资三个月,一共15000元",
    "东方红村的垃圾清运车一周才来一次",
    "低保评选不公开,希望村里公示低保名单",
]
PLACES = ["幸福村", "东方红村", "桥头"]


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter(user_words=["垃圾清运", "拖欠工资"])


@pytest.fixture(scope="module")
def ranked(segmenter: Segmenter) -> list[tuple[str, float]]:
    return rank_hotwords(TEXTS, segmenter, top_k=50, mask_words=PLACES)


def test_topics_rank_first(ranked: list[tuple[str, float]]) -> None:
    words = [w for w, _ in ranked]
    assert words[0] == "垃圾清运"
    assert {"拖欠工资", "低保", "路灯"} <= set(words[:10])


def test_weights_descend(ranked: list[tuple[str, float]]) -> None:
    weights = [w for _, w in ranked]
    assert weights == sorted(weights, reverse=True)
    assert all(w > 0 for w in weights)


@pytest.mark.parametrize(
    "banned",
    ["张三", "张", "13812345678", "138", "5678", "15000", "幸福村", "幸福", "东方红", "桥头"],
)
def test_pii_and_places_never_rank(ranked: list[tuple[str, float]], banned: str) -> None:
    assert all(banned not in word for word, _ in ranked)


def test_numbers_and_stopwords_never_rank(ranked: list[tuple[str, float]]) -> None:
    stop = load_stopwords()
    for word, _ in ranked:
        assert word not in stop
        assert not any(ch.isdigit() for ch in word)
        assert word not in {"三天", "好几天", "三个月", "一周", "一次"}


def test_boost_lifts_category_words(segmenter: Segmenter) -> None:
    plain = dict(rank_hotwords(TEXTS, segmenter, top_k=50, mask_words=PLACES))
    boosted = rank_hotwords(TEXTS, segmenter, top_k=50, boost_words=["路灯"], mask_words=PLACES)
    assert dict(boosted)["路灯"] == pytest.approx(2 * plain["路灯"], abs=1e-3)
    assert [w for w, _ in boosted].index("路灯") < list(plain).index("路灯")


def test_user_words_stay_whole(segmenter: Segmenter) -> None:
    words = [w for w, _ in rank_hotwords(["拖欠工资", "拖欠工资了"], segmenter)]
    assert words == ["拖欠工资"]


@pytest.mark.parametrize(("texts", "top_k"), [([], 20), (["", "  "], 20), (TEXTS, 0)])
def test_nothing_to_rank(segmenter: Segmenter, texts: list[str], top_k: int) -> None:
    assert rank_hotwords(texts, segmenter, top_k=top_k) == []


def test_top_k_limits(segmenter: Segmenter) -> None:
    assert len(rank_hotwords(TEXTS, segmenter, top_k=3)) == 3


def test_accepts_any_iterable(segmenter: Segmenter) -> None:
    assert rank_hotwords(iter(TEXTS), segmenter, top_k=5) == rank_hotwords(
        TEXTS, segmenter, top_k=5
    )
