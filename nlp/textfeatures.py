"""Text features shared by FAQ retrieval, duplicate detection and hot words.

The stopword list lives in config/stopwords.txt so a village can edit it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Iterable
from pathlib import Path

from nlp.segment import Segmenter

STOPWORDS_FILE = "stopwords.txt"
# The repository's config folder, for callers that have no settings at hand (bench, tests).
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

_HAN_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
# A token counts as a word only if it has a letter or Han character (drops punctuation, digits).
_WORDLIKE_RE = re.compile(r"[^\W\d_]")


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


def han_bigrams(words: Iterable[str]) -> list[str]:
    """Overlapping two-character pieces of the Han text the content words spell.

    They catch the same thing cut differently by jieba (垃圾堆 / 垃圾, 清运 / 运走).
    """
    text = "".join(words)
    return [run[i : i + 2] for run in _HAN_RUN_RE.findall(text) for i in range(len(run) - 1)]
