"""jieba segmentation with the desk's own words kept whole."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from pathlib import Path

import jieba

log = logging.getLogger(__name__)

# jieba logs its dictionary loading at DEBUG through its own logger; keep it quiet.
jieba.setLogLevel(logging.WARNING)

# A high frequency makes jieba prefer our multi-character terms over splitting them.
USER_WORD_FREQ = 200_000


class Segmenter:
    """A private jieba tokenizer (not the global one) loaded from jieba's on-disk cache."""

    def __init__(self, user_words: Iterable[str] = (), cache_dir: Path | None = None) -> None:
        self._tokenizer = jieba.Tokenizer()
        # The cache makes the second and later starts load in a fraction of a second.
        self._tokenizer.tmp_dir = str(cache_dir or Path(tempfile.gettempdir()))
        self._tokenizer.initialize()
        for word in user_words:
            word = word.strip()
            if len(word) > 1:
                self._tokenizer.add_word(word, USER_WORD_FREQ)

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        """The underlying jieba tokenizer, for jieba.analyse and friends."""
        return self._tokenizer

    def cut(self, text: str) -> list[str]:
        """Split text into words, dropping blanks."""
        return [w for w in self._tokenizer.lcut(text, HMM=True) if w.strip()]
