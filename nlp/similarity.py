"""Duplicate detection ("同一问题?"): cosine similarity of TF-IDF vectors over open tickets.

A ticket's features are its jieba content words and the two-character pieces of its
longer words, so the same matter written differently (村口垃圾没人收 / 村口的垃圾堆没人
清运) still overlaps.
An inverted index keeps a check against thousands of open tickets to a few milliseconds.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Collection

from nlp.segment import Segmenter
from nlp.textfeatures import content_words, han_bigrams, load_stopwords, normalise

log = logging.getLogger(__name__)

# Tuned on pairs such as 村口垃圾三天没人收了 ~ 村口的垃圾堆好几天没人清运 (about 0.3)
# against 村口路灯坏了 (about 0.2); see tests/test_nlp_similarity.py. A false "same
# matter?" costs the resident one tap, a missed one a duplicate ticket, so it leans low.
DEFAULT_THRESHOLD = 0.25

# Character bigrams carry most of the weight: residents name the same thing with words
# jieba cuts differently (垃圾 / 垃圾堆, 没人收 / 没人清运); whole words sharpen the match.
_BIGRAM_WEIGHT = 1.0
_WORD_WEIGHT = 0.5
# IDF moves as tickets come and go; stored vectors are reweighted when the number of
# tickets has drifted this much since the last reweighting (always while it is small).
_REWEIGHT_DRIFT = 0.25
_ALWAYS_REWEIGHT_BELOW = 64


class DuplicateIndex:
    """Open tickets by key, searchable for the ones most like a new text."""

    def __init__(
        self,
        segmenter: Segmenter,
        *,
        stopwords: Collection[str] | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self._segmenter = segmenter
        self._stopwords = load_stopwords() if stopwords is None else stopwords
        self.threshold = threshold
        self._tf: dict[int, dict[str, float]] = {}
        self._vectors: dict[int, dict[str, float]] = {}
        self._postings: defaultdict[str, dict[int, float]] = defaultdict(dict)
        self._df: Counter[str] = Counter()
        self._weighted_at = 0

    def __len__(self) -> int:
        return len(self._tf)

    def add(self, key: int, text: str) -> None:
        """Index text under key, replacing what key had."""
        if key in self._tf:
            self.remove(key)
        tf = self._term_frequencies(text)
        self._tf[key] = tf
        self._df.update(tf.keys())
        if self._needs_reweighting():
            self._reweight()
        else:
            self._store(key, self._vector(tf))

    def remove(self, key: int) -> None:
        """Forget key; unknown keys are ignored (the ticket may have closed twice)."""
        tf = self._tf.pop(key, None)
        if tf is None:
            return
        for term in tf:
            self._df[term] -= 1
            if self._df[term] <= 0:
                del self._df[term]
        for term in self._vectors.pop(key):
            postings = self._postings[term]
            del postings[key]
            if not postings:
                del self._postings[term]
        if self._needs_reweighting():
            self._reweight()

    def most_similar(
        self, text: str, limit: int = 3, threshold: float | None = None
    ) -> list[tuple[int, float]]:
        """Up to limit (key, cosine) pairs at or above threshold, most similar first."""
        query = self._vector(self._term_frequencies(text))
        scores: defaultdict[int, float] = defaultdict(float)
        for term, weight in query.items():
            for key, doc_weight in self._postings.get(term, {}).items():
                scores[key] += weight * doc_weight
        floor = self.threshold if threshold is None else threshold
        best = heapq.nlargest(limit, scores.items(), key=lambda item: item[1])
        return [(key, round(score, 4)) for key, score in best if score >= floor]

    def _term_frequencies(self, text: str) -> dict[str, float]:
        words = content_words(text, self._segmenter, self._stopwords)
        # Sublinear tf: a word said three times is not three times the matter.
        tf = {t: _WORD_WEIGHT * (1 + math.log(n)) for t, n in Counter(words).items()}
        bigrams = (b for b in han_bigrams(normalise(text)) if b not in self._stopwords)
        for t, n in Counter(bigrams).items():
            tf[t] = tf.get(t, 0.0) + _BIGRAM_WEIGHT * (1 + math.log(n))
        return tf

    def _vector(self, tf: dict[str, float]) -> dict[str, float]:
        """L2-normalised TF-IDF weights under the current document frequencies."""
        n = len(self._tf)
        weights = {t: w * (math.log((1 + n) / (1 + self._df.get(t, 0))) + 1) for t, w in tf.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {t: w / norm for t, w in weights.items()} if norm else {}

    def _store(self, key: int, vector: dict[str, float]) -> None:
        self._vectors[key] = vector
        for term, weight in vector.items():
            self._postings[term][key] = weight

    def _needs_reweighting(self) -> bool:
        n = len(self._tf)
        if n < _ALWAYS_REWEIGHT_BELOW:
            return True
        return abs(n - self._weighted_at) > _REWEIGHT_DRIFT * self._weighted_at

    def _reweight(self) -> None:
        self._postings.clear()
        self._vectors.clear()
        for key, tf in self._tf.items():
            self._store(key, self._vector(tf))
        self._weighted_at = len(self._tf)
        log.debug("duplicate index reweighted at %d tickets", self._weighted_at)
