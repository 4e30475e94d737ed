"""Propose category keywords from labelled lines, for a person to review (never applied here).

The input is what cadres taught the desk: each correction of a ticket's category is a
(text, category) pair. A word is proposed for a category when it is frequent in that
category's examples and rare in the others', and the current rules do not already score it
there. Every proposal is measured against the same examples with the rules changed in memory
only; config/categories.toml is never written.

Candidates are real words, not arbitrary substrings: the segmenter's words of two or more
characters, and runs of two or three adjacent segments of 2–4 Han characters (垃圾 + 清运 →
垃圾清运), without stopwords, numbers, or person, place and organisation names. Support and
precision count every example whose text contains the word, because that is how the
classifier matches multi-character keywords.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import tomllib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba.posseg

from nlp.classifier import Classifier
from nlp.pii import mask_pii
from nlp.rules import RULES_FILE, CategoryRule, Rules, normalize
from nlp.textfeatures import is_number_word, is_wordlike

log = logging.getLogger(__name__)

DEFAULT_MIN_SUPPORT = 2
DEFAULT_MIN_PRECISION = 0.8
MAX_NGRAM_CHARS = 4
# Two or three segments: 路灯 + 不亮, 没 + 人 + 管; longer runs are phrases, not keywords.
MAX_NGRAM_SEGMENTS = 3
# jieba part-of-speech flags of words that name someone or somewhere, or count something:
# a village's name is frequent in its tickets but says nothing about the category.
_SKIP_FLAGS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz", "m", "mq", "x", "ad"})
# Only nouns, verbs, adjectives, idioms and the like carry a topic; pronouns (他家), prepositions
# (为了), adverbs (随便), directions (下面) and times (刚才) are frequent everywhere. "eng" keeps
# words like wifi.
_CONTENT_FLAG_HEADS = frozenset("nvalijbz")
_HAN_ONLY_RE = re.compile(r"[\u4e00-\u9fff]+")

ADD, REWEIGHT, MOVE = "add", "reweight", "move"


class SuggestError(ValueError):
    """The labelled lines cannot be used (an unknown category); the message says which."""


@dataclass(frozen=True)
class Labelled:
    text: str
    category: str


@dataclass(frozen=True)
class Proposal:
    """One keyword for a person to consider adding to a category of categories.toml."""

    category: str
    keyword: str
    tier: str  # the [scoring.tiers] name whose weight is proposed
    weight: float
    support: int  # examples whose text contains the keyword
    hits: int  # of those, labelled with `category`
    precision: float  # hits / support
    missed: int  # of the hits, how many the current rules put in another category
    fixes: int  # misclassified examples this proposal alone would put right
    breaks: int  # correctly classified examples this proposal alone would put wrong
    current: tuple[tuple[str, int], ...]  # the current rules' category for the support examples
    existing: tuple[tuple[str, float], ...]  # where the keyword already lives, with its weight
    action: str  # add | reweight (already in the category, lower) | move (from another)
    score: float

    def to_dict(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["current"] = dict(self.current)
        data["existing"] = dict(self.existing)
        return data


@dataclass(frozen=True)
class Change:
    """An example whose category the proposals would change."""

    text: str
    expected: str
    before: str
    after: str


@dataclass(frozen=True)
class DryRun:
    total: int
    misclassified: int  # by the current rules
    fixed: tuple[Change, ...]  # misclassified now, right with the proposals
    broken: tuple[Change, ...]  # right now, wrong with the proposals

    @property
    def accuracy_before(self) -> float:
        return (self.total - self.misclassified) / self.total if self.total else 0.0

    @property
    def accuracy_after(self) -> float:
        wrong = self.misclassified - len(self.fixed) + len(self.broken)
        return (self.total - wrong) / self.total if self.total else 0.0


def load_tiers(config_dir: Path) -> dict[str, float]:
    """[scoring.tiers] of config_dir/categories.toml ({name: weight}); the loaded Rules keep
    only the weights, but a proposal must name the tier a person writes the word under."""
    with (config_dir / RULES_FILE).open("rb") as handle:
        data = tomllib.load(handle)
    tiers = data.get("scoring", {}).get("tiers", {})
    return {str(name): float(weight) for name, weight in tiers.items()}


def suggest(
    examples: Sequence[Labelled],
    classifier: Classifier,
    stopwords: Collection[str],
    *,
    tiers: Mapping[str, float] | None = None,
    min_support: int = DEFAULT_MIN_SUPPORT,
    min_precision: float = DEFAULT_MIN_PRECISION,
) -> list[Proposal]:
    """Every proposal that passes the thresholds, best score first.

    Score = precision × hits + 2 × (fixes − breaks): each example of the category containing
    the word counts by the word's precision, each misclassified example the word alone would
    put right counts 2 more, and each correct one it would put wrong costs 2. Dropped: a
    proposal that breaks more than it fixes, and a move or reweighting of an existing keyword
    that fixes nothing (the rules were written for more than these examples).
    """
    rules = classifier.rules
    known = {c.id for c in rules.categories}
    for example in examples:
        if example.category not in known:
            raise SuggestError(f"未知类别 {example.category!r} (unknown category)")
    if min_support < 1:
        raise ValueError("min_support must be at least 1")
    tier_list = _tier_list(rules, tiers)
    texts = [normalize(e.text) for e in examples]
    labels = [e.category for e in examples]
    before = [classifier.classify(e.text).category for e in examples]

    candidates = _candidates(examples, classifier, stopwords)
    # The rules' own words are candidates too, whatever jieba makes of the text around them
    # (水泥厂 is one segment, yet the rules score the 水泥 in it): they are what a proposal
    # to move or reweight is about.
    candidates.update(k for c in rules.categories for k in c.keywords if len(k) >= 2)
    index = _BigramIndex(texts)
    proposals: list[Proposal] = []
    for word in sorted(candidates):
        docs = index.containing(word)
        if len(docs) < min_support:
            continue
        counts = Counter(labels[i] for i in docs)
        category, hits = counts.most_common(1)[0]
        precision = hits / len(docs)
        if precision < min_precision:
            continue
        tier, weight = _pick_tier(tier_list, precision, hits)
        existing = tuple((c.id, c.keywords[word]) for c in rules.categories if word in c.keywords)
        here = dict(existing).get(category)
        elsewhere = [c for c, _ in existing if c != category]
        if here is not None:
            weight = max(weight, here)
            tier = _tier_name(tier_list, weight)
        if here is not None and not elsewhere and here >= weight:
            continue  # already in the category at this weight or more: nothing to change
        if _covered(word, rules.category(category), weight):
            continue
        action = MOVE if elsewhere else REWEIGHT if here is not None else ADD
        change = _Change(category, word, weight)
        trial = _with_changes(classifier, [change])
        after = {i: trial.classify(examples[i].text).category for i in docs}
        fixes = sum(before[i] != labels[i] and after[i] == labels[i] for i in docs)
        breaks = sum(before[i] == labels[i] and after[i] != labels[i] for i in docs)
        if breaks > fixes or (action != ADD and not fixes):
            continue  # harmful, or a change to an existing keyword that changes no outcome
        missed = sum(labels[i] == category and before[i] != category for i in docs)
        current = Counter(before[i] for i in docs).most_common()
        proposals.append(
            Proposal(
                category=category,
                keyword=word,
                tier=tier,
                weight=weight,
                support=len(docs),
                hits=hits,
                precision=round(precision, 3),
                missed=missed,
                fixes=fixes,
                breaks=breaks,
                current=tuple(current),
                existing=existing,
                action=action,
                score=round(precision * hits + 2 * (fixes - breaks), 3),
            )
        )
    proposals = _drop_longer(proposals)
    proposals.sort(key=lambda p: (-p.score, -p.support, len(p.keyword), p.keyword))
    log.debug("%d proposals from %d examples", len(proposals), len(examples))
    return proposals


def dry_run(
    examples: Sequence[Labelled], classifier: Classifier, proposals: Iterable[Proposal]
) -> DryRun:
    """Classify every example with the current rules and with the proposals added in memory."""
    trial = _with_changes(classifier, [_Change(p.category, p.keyword, p.weight) for p in proposals])
    fixed: list[Change] = []
    broken: list[Change] = []
    misclassified = 0
    for example in examples:
        old = classifier.classify(example.text).category
        new = trial.classify(example.text).category
        misclassified += old != example.category
        change = Change(example.text, example.category, old, new)
        if old != example.category and new == example.category:
            fixed.append(change)
        elif old == example.category and new != example.category:
            broken.append(change)
    return DryRun(len(examples), misclassified, tuple(fixed), tuple(broken))


# --- candidates ----------------------------------------------------------------------------------


def _candidates(
    examples: Iterable[Labelled], classifier: Classifier, stopwords: Collection[str]
) -> set[str]:
    # The POS tagger cuts with the classifier's own tokenizer, so the desk's words stay whole.
    tokenizer = classifier.segmenter.tokenizer
    tagger = jieba.posseg.POSTokenizer(tokenizer)
    # jieba's HMM invents "words" across real ones (说能, 证上); only dictionary words count.
    dictionary: Mapping[str, int] = tokenizer.FREQ
    found: set[str] = set()
    for example in examples:
        # Masked first: a phone number or a name must never become a keyword.
        text = normalize(mask_pii(example.text))
        tokens = [(pair.word, pair.flag) for pair in tagger.lcut(text) if pair.word.strip()]
        usable = [
            flag not in _SKIP_FLAGS
            and (flag[:1] in _CONTENT_FLAG_HEADS or flag == "eng")
            and word not in stopwords
            and is_wordlike(word)
            and not is_number_word(word)
            and (len(word) == 1 or bool(dictionary.get(word)))
            for word, flag in tokens
        ]
        for start, (word, _) in enumerate(tokens):
            if usable[start] and len(word) >= 2:
                found.add(word)
            # Runs of adjacent segments: both ends must be content words, all of it Han.
            if not usable[start]:
                continue
            joined, longest = word, len(word)
            for end in range(start + 1, min(start + MAX_NGRAM_SEGMENTS, len(tokens))):
                joined += tokens[end][0]
                if len(joined) > MAX_NGRAM_CHARS or not _HAN_ONLY_RE.fullmatch(joined):
                    break
                if tokens[end][1] in _SKIP_FLAGS:
                    break
                longest = max(longest, len(tokens[end][0]))
                # 人 + 拿 is two characters, not a word: a run needs a real word inside.
                if usable[end] and longest >= 2:
                    found.add(joined)
    return found


class _BigramIndex:
    """Which examples contain a word: bigram postings narrow it down, `in` confirms."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._texts = texts
        self._postings: dict[str, set[int]] = {}
        for i, text in enumerate(texts):
            for j in range(len(text) - 1):
                self._postings.setdefault(text[j : j + 2], set()).add(i)

    def containing(self, word: str) -> list[int]:
        sets = [self._postings.get(word[j : j + 2], set()) for j in range(len(word) - 1)]
        if not sets:
            return [i for i, t in enumerate(self._texts) if word in t]
        docs = set.intersection(*sets)
        return sorted(i for i in docs if word in self._texts[i])


# --- weights -------------------------------------------------------------------------------------


def _tier_list(rules: Rules, tiers: Mapping[str, float] | None) -> list[tuple[str, float]]:
    """Tiers heaviest first; without names, the weights the rules use stand for themselves."""
    if tiers:
        return sorted(tiers.items(), key=lambda item: -item[1])
    weights = {w for c in rules.categories for w in c.keywords.values()}
    return [(f"{w:g}", w) for w in sorted(weights, reverse=True)]


def _pick_tier(tiers: list[tuple[str, float]], precision: float, hits: int) -> tuple[str, float]:
    """Heavier tiers need more evidence: the heaviest only for a word that never misled in 5+
    examples, the next for 95% precision over 3+; two examples earn at most the third. With
    the shipped tiers: decisive (5), strong (3), medium (2, from 85%), weak (1)."""
    if precision >= 1.0 and hits >= 5:
        rank = 0
    elif precision >= 0.95 and hits >= 3:
        rank = 1
    elif precision >= 0.85:
        rank = 2
    else:
        rank = 3
    return tiers[min(rank, len(tiers) - 1)]


def _tier_name(tiers: list[tuple[str, float]], weight: float) -> str:
    for name, value in tiers:
        if math.isclose(value, weight):
            return name
    return f"{weight:g}"


def _covered(word: str, rule: CategoryRule, weight: float) -> bool:
    """True if a shorter keyword of the category inside the word already scores as much:
    the classifier would then gain nothing from the longer one."""
    return any(
        len(k) >= 2 and k != word and k in word and w >= weight for k, w in rule.keywords.items()
    )


def _drop_longer(proposals: list[Proposal]) -> list[Proposal]:
    """Drop 垃圾没人清运 when 没人清运 is proposed for the same category at least as heavily:
    the shorter word occurs wherever the longer one does."""
    by_category: dict[str, list[Proposal]] = {}
    for p in proposals:
        by_category.setdefault(p.category, []).append(p)
    kept: list[Proposal] = []
    for p in proposals:
        if not any(
            q.keyword != p.keyword and q.keyword in p.keyword and q.weight >= p.weight
            for q in by_category[p.category]
        ):
            kept.append(p)
    return kept


# --- rules changed in memory ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    category: str
    keyword: str
    weight: float


def _with_changes(classifier: Classifier, changes: Sequence[_Change]) -> Classifier:
    """A classifier whose rules have the keywords set as proposed; a keyword moved to another
    category leaves its old ones. Nothing is written."""
    target: dict[str, tuple[str, float]] = {c.keyword: (c.category, c.weight) for c in changes}
    categories: list[CategoryRule] = []
    for rule in classifier.rules.categories:
        keywords = {k: w for k, w in rule.keywords.items() if k not in target}
        for keyword, (category, weight) in target.items():
            if category == rule.id:
                keywords[keyword] = weight
        categories.append(dataclasses.replace(rule, keywords=keywords))
    rules = dataclasses.replace(classifier.rules, categories=tuple(categories))
    # Only words of two or more characters are proposed, and those match by substring scan,
    # so the existing segmenter (and its jieba dictionary) serves the trial unchanged.
    return Classifier(rules, classifier.segmenter)


def load_labelled(path: Path, categories: Collection[str]) -> list[Labelled]:
    """JSON lines with "text" and "category" (other keys, such as an eval file's "kind", are
    ignored); blank lines are skipped, anything else malformed is a SuggestError naming the
    line. OSError (a missing file) is left to the caller."""
    examples: list[Labelled] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                raise SuggestError(f"{where}: 不是有效的 JSON (invalid JSON)") from None
            if not isinstance(data, dict):
                raise SuggestError(f'{where}: 应为 {{"text": ..., "category": ...}} 形式的对象')
            text, category = data.get("text"), data.get("category")
            if not isinstance(text, str) or not isinstance(category, str):
                raise SuggestError(f"{where}: text 和 category 应为文字 (expected strings)")
            if category not in categories:
                raise SuggestError(f"{where}: 未知类别 {category!r} (unknown category)")
            if text.strip():
                examples.append(Labelled(text, category))
    return examples
