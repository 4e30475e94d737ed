"""Text features shared by FAQ retrieval, duplicate detection and hot words.

The stopword list lives in config/stopwords.txt so a village can edit it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection
from pathlib import Path

from nlp.segment import Segmenter

STOPWORDS_FILE = "stopwords.txt"
# The repository's config folder, for callers that have no settings at hand (bench, tests).
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

_HAN_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
# A token counts as a word only if it has a letter or Han character (drops punctuation, digits).
_WORDLIKE_RE = re.compile(r"[^\W\d_]")
_NUMBER_WORD_RE = re.compile(
    r"第?[\d零〇一二两三四五六七八九十百千万亿几半多好]+[个多半]*"
    r"[天日周月年次回号点分秒岁元块角米亩斤层楼组户家人遍趟]?[多半]?[天月年]?"
)


@functools.cache
def load_stopwords(config_dir: Path = DEFAULT_CONFIG_DIR) -> frozenset[str]:
    """The stopwords in config_dir/stopwords.txt, one a line, # starting a comment."""
    lines = (config_dir / STOPWORDS_FILE).read_text(encoding="utf-8").splitlines()
    return frozenset(s for line in lines if (s := line.strip()) and not s.startswith("#"))


def normalise(text: str) -> str:
    """Full-width forms folded to ASCII and letters lower-cased, so variants compare equal."""
    return unicodedata.normalize("NFKC", text).lower()


def content_words(text: str, segmenter: Segmenter, stopwords: Collection[str]) -> list[str]:
    """The words of normalised text, without stopwords, punctuation and bare numbers."""
    return [
        w for w in segmenter.cut(normalise(text)) if w not in stopwords and _WORDLIKE_RE.search(w)
    ]


def han_bigrams(text: str) -> list[str]:
    """Overlapping two-character pieces of each run of Han characters in text.

    They tie together phrasings that jieba cuts apart (没人收 / 没人清运 share 没人).
    """
    return [run[i : i + 2] for run in _HAN_RUN_RE.findall(text) for i in range(len(run) - 1)]


def is_wordlike(word: str) -> bool:
    """True if word has a letter or Han character (not punctuation, digits or a mask)."""
    return _WORDLIKE_RE.search(word) is not None


def is_number_word(word: str) -> bool:
    """True for counts and spans of time (三天, 好几天, 一个多月, 第三次, 3组)."""
    return _NUMBER_WORD_RE.fullmatch(word) is not None
