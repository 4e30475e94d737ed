"""Instant answers to common consultations: BM25 over jieba words and Han bigrams.

Each entry of config/faq.toml is one document made of its question, phrasings and
keywords. A query's score is its BM25 score divided by the most the query could score
(every word matched at saturation), so it reads as "how much of what the resident asked
this entry covers" (0..1) and one threshold works for short and long questions alike.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.segment import Segmenter
from nlp.textfeatures import content_words, han_bigrams, load_stopwords

log = logging.getLogger(__name__)

FAQ_FILE = "faq.toml"
DEFAULT_THRESHOLD = 0.15
DEFAULT_STATEMENT_THRESHOLD = 0.3

# The FAQ answers questions. A message with none of these cues reads as a report
# (村口垃圾三天没人收了) and needs a much closer match to get an instant answer.
_QUESTION_CUE_RE = re.compile(
    r"[??]|怎么|怎样|如何|哪|什么|啥|吗|么|呢|能不能|能否|可不可以|可以|是否|有没有|要不要"
    r"|多少|多久|几时|谁|还是|请问|想问|咨询|想申请|想办|算不算"
)

# Standard BM25 constants; b is low because an entry's length says how many phrasings it
# has, not that it is less about its topic.
_K1 = 1.2
_B = 0.3
# Bigrams back up word matches (jieba cuts 办低保 and 低保申请 differently) but should
# not outvote them.
_BIGRAM_WEIGHT = 0.5
# Keywords name the topic outright, so they count as if written twice.
_KEYWORD_REPEAT = 2


@dataclass(frozen=True, slots=True)
class FaqEntry:
    id: str
    question: str
    phrasings: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str


@dataclass(frozen=True, slots=True)
class FaqMatch:
    entry_id: str
    question: str
    answer: str
    score: float


@dataclass(frozen=True, slots=True)
class FaqReport:
    """How an index does on labelled queries (rows with faq=None must not be answered)."""

    answerable: int
    correct: int
    unanswerable: int
    false_answers: int
    # (query, expected entry id or None, answered entry id or None) for every mistake.
    mistakes: tuple[tuple[str, str | None, str | None], ...]

    @property
    def top1_accuracy(self) -> float:
        return self.correct / self.answerable if self.answerable else 0.0

    @property
    def false_answer_rate(self) -> float:
        return self.false_answers / self.unanswerable if self.unanswerable else 0.0


class FaqConfigError(ValueError):
    """faq.toml is malformed; the message names the entry and field."""


class FaqIndex:
    def __init__(
        self,
        entries: Iterable[FaqEntry],
        segmenter: Segmenter,
        *,
        stopwords: frozenset[str] = frozenset(),
        threshold: float = DEFAULT_THRESHOLD,
        statement_threshold: float = DEFAULT_STATEMENT_THRESHOLD,
    ) -> None:
        self._entries = tuple(entries)
        self._segmenter = segmenter
        self._stopwords = stopwords
        self.threshold = threshold
        self.statement_threshold = statement_threshold
        self._docs: list[dict[str, float]] = []
        for entry in self._entries:
            texts = [entry.question, *entry.phrasings, *entry.keywords * _KEYWORD_REPEAT]
            doc: dict[str, float] = {}
            for text in texts:
                for t, w in self._features(text).items():
                    doc[t] = doc.get(t, 0.0) + w
            self._docs.append(doc)
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._avg_length = sum(self._lengths) / max(len(self._docs), 1)
        df = Counter(t for doc in self._docs for t in doc)
        n = len(self._docs)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        # A word no entry has counts like the rarest word: it pulls the score down, which
        # keeps complaints and off-topic questions from borrowing an answer.
        self._unseen_idf = math.log(1 + (n - 0.5) / 1.5)

    @classmethod
    def from_config(cls, config_dir: Path, segmenter: Segmenter) -> FaqIndex:
        """The index for config_dir/faq.toml, with config_dir/stopwords.txt."""
        with (config_dir / FAQ_FILE).open("rb") as fh:
            data = tomllib.load(fh)
        settings = data.get("settings", {})
        entries = [_parse_entry(raw, i) for i, raw in enumerate(data.get("entry", []))]
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            raise FaqConfigError(f"{FAQ_FILE}: duplicate entry ids")
        log.info("FAQ loaded: %d entries", len(entries))
        return cls(
            entries,
            segmenter,
            stopwords=load_stopwords(config_dir),
            threshold=float(settings.get("threshold", DEFAULT_THRESHOLD)),
            statement_threshold=float(
                settings.get("statement_threshold", DEFAULT_STATEMENT_THRESHOLD)
            ),
        )

    @property
    def entries(self) -> tuple[FaqEntry, ...]:
        return self._entries

    def match(self, text: str) -> FaqMatch | None:
        """The best entry for a question, or None when nothing reaches the threshold."""
        best = self.search(text, 1)
        if not best:
            return None
        is_question = _QUESTION_CUE_RE.search(text) is not None
        needed = self.threshold if is_question else self.statement_threshold
        return best[0] if best[0].score >= needed else None

    def search(self, text: str, k: int = 3) -> list[FaqMatch]:
        """The k best entries by score, whatever the threshold."""
        query = self._features(text)
        weights = {t: self._idf.get(t, self._unseen_idf) * w for t, w in query.items()}
        mass = sum(weights.values())
        if mass == 0:
            return []
        scored: list[tuple[float, int]] = []
        for i, doc in enumerate(self._docs):
            norm = _K1 * (1 - _B + _B * self._lengths[i] / self._avg_length)
            raw = sum(
                w * doc[t] * (_K1 + 1) / (doc[t] + norm) for t, w in weights.items() if t in doc
            )
            if raw > 0:
                # k1 + 1 is what a term can reach at most, so the score stays below 1.
                scored.append((raw / (mass * (_K1 + 1)), i))
        scored.sort(reverse=True)
        return [self._match(i, score) for score, i in scored[:k]]

    def _match(self, i: int, score: float) -> FaqMatch:
        entry = self._entries[i]
        return FaqMatch(entry.id, entry.question, entry.answer, round(score, 4))

    def _features(self, text: str) -> dict[str, float]:
        """Words at weight 1 each; bigrams of the words run together at a lower weight."""
        words = content_words(text, self._segmenter, self._stopwords)
        features: dict[str, float] = {}
        for w in words:
            features[w] = features.get(w, 0.0) + 1.0
        for b in han_bigrams("".join(words)):
            features[b] = features.get(b, 0.0) + _BIGRAM_WEIGHT
        return features


def evaluate_faq(index: FaqIndex, rows: Iterable[Mapping[str, Any]]) -> FaqReport:
    """Top-1 accuracy on rows with an expected entry, false answers on rows without one."""
    answerable = correct = unanswerable = false_answers = 0
    mistakes: list[tuple[str, str | None, str | None]] = []
    for row in rows:
        text, expected = str(row["text"]), row.get("faq")
        found = index.match(text)
        got = found.entry_id if found else None
        if expected is None:
            unanswerable += 1
            false_answers += got is not None
        else:
            answerable += 1
            correct += got == expected
        if got != expected:
            mistakes.append((text, expected, got))
    return FaqReport(answerable, correct, unanswerable, false_answers, tuple(mistakes))


def _parse_entry(raw: Mapping[str, Any], position: int) -> FaqEntry:
    where = f"{FAQ_FILE} entry {raw.get('id', position)!r}"
    for field in ("id", "question", "answer"):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise FaqConfigError(f"{where}: {field} must be a non-empty string")
    lists = {}
    for field in ("phrasings", "keywords"):
        value = raw.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FaqConfigError(f"{where}: {field} must be a list of strings")
        lists[field] = tuple(value)
    return FaqEntry(
        id=raw["id"].strip(),
        question=raw["question"].strip(),
        phrasings=lists["phrasings"],
        keywords=lists["keywords"],
        answer=raw["answer"].strip(),
    )
