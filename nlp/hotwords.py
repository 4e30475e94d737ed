"""Hot-word ranking (热词排行) over residents' messages: jieba TF-IDF with the desk's words.

Personal data is masked before anything is counted, place names and numbers never rank,
and category keywords are boosted so the ranking speaks the desk's language.
"""

from __future__ import annotations

import copy
import functools
import weakref
from collections.abc import Collection, Iterable

import jieba.analyse
import jieba.posseg

from nlp.pii import mask_pii
from nlp.segment import Segmenter
from nlp.textfeatures import is_number_word, is_wordlike, load_stopwords, normalise

# A category keyword counts this many times its TF-IDF weight.
BOOST = 2.0

_extractors: weakref.WeakKeyDictionary[Segmenter, jieba.analyse.TFIDF] = weakref.WeakKeyDictionary()


def rank_hotwords(
    texts: Iterable[str],
    segmenter: Segmenter,
    *,
    top_k: int = 20,
    boost_words: Iterable[str] = (),
    mask_words: Iterable[str] = (),
    stopwords: Collection[str] | None = None,
) -> list[tuple[str, float]]:
    """The top_k (word, weight) pairs across texts, heaviest first.

    mask_words (place names, people the desk knows) are cut out of the text before
    counting, so neither they nor pieces of them can rank.
    """
    # Longest first, so 幸福村 goes whole before 幸福 could leave 村 behind.
    cut_out = sorted({normalise(w) for w in mask_words if w.strip()}, key=len, reverse=True)
    masked = [t for t in (_cut_out(mask_pii(normalise(t)), cut_out) for t in texts) if t]
    if not masked or top_k <= 0:
        return []
    stop = load_stopwords() if stopwords is None else stopwords
    boost = {normalise(w) for w in boost_words}
    extractor = _extractor(segmenter)
    ranked: list[tuple[str, float]] = []
    for word, weight in extractor.extract_tags("\n".join(masked), topK=None, withWeight=True):
        if word in stop or is_number_word(word) or not is_wordlike(word):
            continue
        ranked.append((word, weight * BOOST if word in boost else weight))
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return [(word, round(weight, 4)) for word, weight in ranked[:top_k]]


def _cut_out(text: str, words: list[str]) -> str:
    for word in words:
        text = text.replace(word, " ")
    return text.strip()


@functools.cache
def _base_extractor() -> jieba.analyse.TFIDF:
    """jieba's TF-IDF with its IDF table, loaded once (about 0.2 s)."""
    return jieba.analyse.TFIDF()


def _extractor(segmenter: Segmenter) -> jieba.analyse.TFIDF:
    """A TF-IDF extractor cutting with the segmenter, so the desk's words stay whole."""
    extractor = _extractors.get(segmenter)
    if extractor is None:
        # A shallow copy shares the large IDF table; only the tokenizers differ.
        extractor = copy.copy(_base_extractor())
        extractor.tokenizer = segmenter.tokenizer
        extractor.postokenizer = jieba.posseg.POSTokenizer(segmenter.tokenizer)
        _extractors[segmenter] = extractor
    return extractor
