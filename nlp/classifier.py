"""Rule-based classification of a resident's message: category, kind, urgency, deadline.

Every word, weight, label and day count comes from config/categories.toml (see nlp.rules).
Multi-character terms are found by one dictionary scan of the text; overlapping category
terms are resolved longest-first so that a specific term (燃气泄漏) beats a generic one (燃气).
Single-character keywords count only as whole jieba tokens, so 火 does not fire inside 火车.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from nlp.rules import LetterRules, Rules, load_rules, normalize
from nlp.segment import Segmenter
from nlp.urgency import Alarm, Span, UrgencyDetector, gated

log = logging.getLogger(__name__)

URGENT = "urgent"
# Enough for a cadre to see why; long petitions may match dozens of terms.
MAX_KEYWORDS = 10
# Clause boundaries in NFKC-folded text; jieba never joins words across them anyway.
_CLAUSE_SPLIT = re.compile(r"[,.;:!?、。\s]+")
_CLAUSE = re.compile(r"[^,.;:!?、。\s]+")
# Sentences of a letter: the request weighting and the now-vs-then check work on these.
_SENTENCE = re.compile(r"[^;。.!?\n]+")
_CLAUSE_MARKS = frozenset(",、;:。.!?\n")


@dataclass(frozen=True)
class Classification:
    category: str
    category_label: str
    kind: str
    kind_label: str
    urgent: bool
    complexity: str
    deadline_days: int
    deadline_hours: int | None
    keywords: tuple[str, ...]
    confidence: float
    emergency_numbers: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["keywords"] = list(self.keywords)
        data["emergency_numbers"] = list(self.emergency_numbers)
        return data


@dataclass(frozen=True)
class _Entry:
    """What one literal term means to each part of the classifier."""

    categories: tuple[tuple[int, float], ...] = ()
    kinds: tuple[tuple[int, float], ...] = ()
    urgent: bool = False


class _Hit(NamedTuple):
    # A NamedTuple, not a frozen dataclass: a long petition creates hundreds per call.
    start: int
    end: int
    term: str
    entry: _Entry


class _Layout:
    """Where a long letter's title and request sentences are, and what each part weighs.

    A short message has no layout: every word weighs the same, as it always did.
    """

    __slots__ = ("category_factors", "kind_factors", "sentences", "starts", "title_end")

    def __init__(self, text: str, rules: LetterRules) -> None:
        title_end = 0
        if rules.title_end is not None:
            match = rules.title_end.search(text, 0, 120)
            if match is not None:
                title_end = match.start() if match.group(0) == "尊敬的" else match.end()
        self.title_end = title_end
        starts = [0]
        category = [rules.title_weight if title_end else 1.0]
        kind = [rules.title_weight if title_end else rules.kind_body_weight]
        self.sentences: list[tuple[int, int]] = []
        for match in _SENTENCE.finditer(text):
            start, end = match.span()
            if end <= title_end:
                continue
            start = max(start, title_end)
            self.sentences.append((start, end))
            request = rules.request is not None and rules.request.search(text, start, end)
            starts.append(start)
            category.append(rules.request_weight if request else 1.0)
            kind.append(rules.request_weight if request else rules.kind_body_weight)
        self.starts = starts
        self.category_factors = category
        self.kind_factors = kind

    def category_factor(self, position: int) -> float:
        return self.category_factors[bisect_right(self.starts, position) - 1]

    def kind_factor(self, position: int) -> float:
        return self.kind_factors[bisect_right(self.starts, position) - 1]

    def sentence_index(self, position: int) -> int:
        """Index into self.sentences of the sentence holding position (-1 for the title)."""
        return bisect_right(self.starts, position) - 2


class Classifier:
    def __init__(self, rules: Rules, segmenter: Segmenter) -> None:
        self._rules = rules
        self._segmenter = segmenter
        self._category_ids = [c.id for c in rules.categories]
        self._category_index = {c: i for i, c in enumerate(self._category_ids)}
        self._kind_ids = [k.id for k in rules.kinds]
        self._kind_rank = {k: rank for rank, k in enumerate(rules.kind_priority)}
        self._fallback = self._category_index[rules.scoring.fallback_category]
        self._urgency = UrgencyDetector(rules.urgent)

        categories: dict[str, list[tuple[int, float]]] = {}
        tokens: dict[str, list[tuple[int, float]]] = {}
        for index, rule in enumerate(rules.categories):
            for word, weight in rule.keywords.items():
                target = tokens if len(word) == 1 else categories
                target.setdefault(word, []).append((index, weight))
        kinds: dict[str, list[tuple[int, float]]] = {}
        for index, kind in enumerate(rules.kinds):
            for word, weight in kind.cues.items():
                kinds.setdefault(word, []).append((index, weight))
        urgent_terms = self._urgency.terms

        self._entries: dict[str, _Entry] = {
            term: _Entry(
                categories=tuple(categories.get(term, ())),
                kinds=tuple(kinds.get(term, ())),
                urgent=term in urgent_terms,
            )
            for term in {*categories, *kinds, *urgent_terms}
        }
        # _scan looks terms up by their first two characters: most positions of a message start
        # no term, and one look-up of the pair rules out every length at once.
        lengths: dict[str, set[int]] = {}
        for term in self._entries:
            if len(term) > 1:
                lengths.setdefault(term[:2], set()).add(len(term))
        self._lengths = {pair: tuple(sorted(ls, reverse=True)) for pair, ls in lengths.items()}
        self._single_terms = {t: e for t, e in self._entries.items() if len(t) == 1}
        self._token_weights = {word: tuple(ws) for word, ws in tokens.items()}
        self._token_chars = frozenset(self._token_weights)
        self._user_words = _user_words(rules)
        self._letter = rules.letter
        self._category_patterns = [
            (index, pattern)
            for index, rule in enumerate(rules.categories)
            for pattern in rule.patterns
        ]
        # Most messages match no context pattern: one gated search rules them all out.
        sources = [pattern.regex.pattern for _, pattern in self._category_patterns]
        self._any_category_pattern = (
            gated("|".join(f"(?:{source})" for source in sources)) if sources else None
        )
        self._declared_group = next(
            (
                g
                for g in rules.urgent.groups
                if rules.letter is not None and g.name == rules.letter.declared_group
            ),
            None,
        )

    @classmethod
    def from_config(cls, config_dir: Path, segmenter: Segmenter | None = None) -> Classifier:
        rules = load_rules(config_dir)
        if segmenter is None:
            segmenter = Segmenter(_user_words(rules))
        return cls(rules, segmenter)

    @property
    def rules(self) -> Rules:
        return self._rules

    @property
    def categories(self) -> list[tuple[str, str]]:
        return [(c.id, c.label) for c in self._rules.categories]

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return [(k.id, k.label) for k in self._rules.kinds]

    @property
    def user_words(self) -> list[str]:
        return list(self._user_words)

    @property
    def segmenter(self) -> Segmenter:
        return self._segmenter

    def category_label(self, category: str) -> str:
        index = self._category_index.get(category)
        if index is None:
            # An old ticket may carry a category a village has since removed.
            log.warning("unknown category %r", category)
            return category
        return self._rules.categories[index].label

    def kind_label(self, kind: str) -> str:
        for rule in self._rules.kinds:
            if rule.id == kind:
                return rule.label
        log.warning("unknown kind %r", kind)
        return kind

    def classify(self, text: str, kind_hint: str | None = None) -> Classification:
        if kind_hint is not None and kind_hint not in self._kind_ids:
            raise ValueError(f"unknown kind hint {kind_hint!r}; expected one of {self._kind_ids}")
        norm = normalize(text).strip()
        if not norm:
            return self._result(self._fallback, kind_hint or self._rules.default_kind, (), (), 0.0)
        hits = self._scan(norm)
        letter = self._letter
        layout = (
            _Layout(norm, letter) if letter is not None and len(norm) >= letter.min_chars else None
        )
        alarms = self._urgency.detect(
            norm,
            (Span(h.start, h.end, h.term) for h in hits if h.entry.urgent),
            every=layout is not None,
        )
        if layout is not None:
            alarms = self._letter_alarms(norm, layout, alarms)
        scores, evidence = self._category_scores(norm, hits, layout)
        category, confidence = self._pick_category(scores, alarms, layout)
        kind = kind_hint or (
            self._rules.urgent.kind if alarms else self._pick_kind(norm, hits, layout)
        )
        support = evidence.get(category, {})
        ranked = sorted(support, key=lambda term: -support[term])
        triggers = [a.trigger for a in alarms]
        keywords = tuple(dict.fromkeys([*triggers, *ranked]))[:MAX_KEYWORDS]
        return self._result(category, kind, alarms, keywords, confidence)

    def with_category(self, result: Classification, category: str) -> Classification:
        index = self._category_index.get(category)
        if index is None:
            raise ValueError(f"unknown category {category!r}")
        rule = self._rules.categories[index]
        complexity, days, hours = self._deadline(rule.complexity, result.urgent)
        # The resident chose the category, so there is nothing left to be unsure about.
        return dataclasses.replace(
            result,
            category=rule.id,
            category_label=rule.label,
            complexity=complexity,
            deadline_days=days,
            deadline_hours=hours,
            confidence=1.0,
        )

    def _scan(self, text: str) -> list[_Hit]:
        """Every occurrence of every known term, overlapping, by start then longest first."""
        hits: list[_Hit] = []
        lengths, entries, singles = self._lengths, self._entries, self._single_terms
        append = hits.append
        size = len(text)
        for start in range(size):
            found = lengths.get(text[start : start + 2])
            if found is not None:
                for length in found:
                    if start + length > size:
                        continue  # the slice would be shorter: a shorter term, not this length
                    term = text[start : start + length]
                    entry = entries.get(term)
                    if entry is not None and not _inside_number(text, start, start + length):
                        append(_Hit(start, start + length, term, entry))
            if singles:
                char = text[start]
                entry = singles.get(char)
                if entry is not None:
                    append(_Hit(start, start + 1, char, entry))
        return hits

    def _category_scores(
        self, text: str, hits: list[_Hit], layout: _Layout | None = None
    ) -> tuple[list[float], dict[int, dict[str, float]]]:
        counts: Counter[str] = Counter()
        # Where a term weighs most: a letter's title or request beats its body.
        places: dict[str, float] = {}
        weights: dict[str, tuple[tuple[int, float], ...]] = {}
        for hit in _longest_first(hits, len(text), lambda e: bool(e.categories)):
            counts[hit.term] += 1
            if layout is not None:
                factor = layout.category_factor(hit.start)
                if factor > places.get(hit.term, 0.0):
                    places[hit.term] = factor
        for term in counts:
            weights[term] = self._entries[term].categories
        if not self._token_chars.isdisjoint(text):
            # jieba is the slowest step: cut only the clauses that hold a single-char keyword.
            for clause in _CLAUSE.finditer(text):
                piece = clause.group(0)
                if self._token_chars.isdisjoint(piece):
                    continue
                for token in self._segmenter.cut(piece):
                    if token in self._token_weights:
                        counts[token] += 1
                        weights[token] = self._token_weights[token]
                        if layout is not None:
                            factor = layout.category_factor(clause.start())
                            if factor > places.get(token, 0.0):
                                places[token] = factor
        any_pattern = self._any_category_pattern
        patterns = self._category_patterns if any_pattern and any_pattern.search(text) else ()
        for index, pattern in patterns:
            for match in pattern.regex.finditer(text):
                term = match.group(0)
                counts[term] += 1
                weights[term] = ((index, pattern.weight),)
                if layout is not None:
                    factor = layout.category_factor(match.start())
                    if factor > places.get(term, 0.0):
                        places[term] = factor
        scoring = self._rules.scoring
        scores = [0.0] * len(self._category_ids)
        evidence: dict[int, dict[str, float]] = {}
        for term, count in counts.items():
            factor = 1.0 + scoring.repeat_weight * (min(count, scoring.max_repeats) - 1)
            factor *= places.get(term, 1.0)
            for index, weight in weights[term]:
                scores[index] += weight * factor
                evidence.setdefault(index, {})[term] = weight * factor
        return scores, evidence

    def _pick_category(
        self, scores: list[float], alarms: tuple[Alarm, ...], layout: _Layout | None = None
    ) -> tuple[int, float]:
        scoring = self._rules.scoring
        if alarms and layout is not None and self._letter is not None:
            # A letter names its matter: a stuck lift is property management even when urgent.
            scores = list(scores)
            scores[self._category_index[alarms[0].group.category]] += self._letter.alarm_bonus
            best = max(range(len(scores)), key=scores.__getitem__)
        elif alarms:
            best = self._category_index[alarms[0].group.category]
        else:
            # max() keeps the first of equal scores: taxonomy order breaks ties.
            best = max(range(len(scores)), key=scores.__getitem__)
            if scores[best] < scoring.min_score:
                return self._fallback, 0.0
        second = max((s for i, s in enumerate(scores) if i != best), default=0.0)
        top = scores[best]
        confidence = top / (top + second + scoring.confidence_prior) if top > 0 else 0.0
        return best, round(confidence, 3)

    def _pick_kind(self, text: str, hits: list[_Hit], layout: _Layout | None = None) -> str:
        scoring = self._rules.scoring
        counts: Counter[str] = Counter()
        places: dict[str, float] = {}
        for hit in _longest_first(hits, len(text), lambda e: bool(e.kinds)):
            counts[hit.term] += 1
            if layout is not None:
                factor = layout.kind_factor(hit.start)
                if factor > places.get(hit.term, 0.0):
                    places[hit.term] = factor
        scores = [0.0] * len(self._kind_ids)
        # Kinds the title itself names (请问…, 关于…的建议, 求助): a letter's own word for it.
        titled: set[int] = set()
        title_end = layout.title_end if layout is not None else 0
        for term, count in counts.items():
            factor = 1.0 + scoring.repeat_weight * (min(count, scoring.max_repeats) - 1)
            factor *= places.get(term, 1.0)
            for index, weight in self._entries[term].kinds:
                scores[index] += weight * factor
        if title_end:
            titled.update(
                index for hit in hits if hit.end <= title_end for index, _ in hit.entry.kinds
            )
        for index, kind in enumerate(self._rules.kinds):
            for pattern in kind.patterns:
                if layout is None:
                    if pattern.regex.search(text):
                        scores[index] += pattern.weight
                    continue
                starts = [m.start() for m in pattern.regex.finditer(text)]
                best = max((layout.kind_factor(start) for start in starts), default=0.0)
                scores[index] += pattern.weight * best
                if any(start < title_end for start in starts):
                    titled.add(index)
        letter = self._letter
        if layout is not None and letter is not None:
            prior = self._kind_ids.index(letter.kind_prior)
            scores[prior] += letter.kind_prior_score
            if letter.grievance is not None and letter.grievance_score:
                # A letter telling of a grievance is a complaint, however its request is put
                # (能否尽快解决, 恳请帮助解决, 建议尽快处理): each distinct grievance counts.
                told = {m.group(0) for m in letter.grievance.finditer(text)}
                scores[prior] += letter.grievance_score * min(len(told), letter.grievance_max)
            # A title that states a problem and does not itself ask, propose or plead: the
            # letter complains, however its request is worded (希望, 请村里出面, 请问何时发放).
            if (
                letter.title_problem is not None
                and title_end
                and not titled - {prior}
                and letter.title_problem.search(text, 0, title_end)
            ):
                scores[prior] += letter.title_problem_score
        best = min(
            range(len(scores)), key=lambda i: (-scores[i], self._kind_rank[self._kind_ids[i]])
        )
        if scores[best] < scoring.min_kind_score:
            return self._rules.default_kind
        return self._kind_ids[best]

    def _letter_alarms(
        self, text: str, layout: _Layout, alarms: tuple[Alarm, ...]
    ) -> tuple[Alarm, ...]:
        """A letter tells of months past, of dangers that keep happening, of policy: its alarms
        stand only with explicit immediacy. A `now` cue (此刻, 就在刚才) counts within now_reach
        sentences; a weaker `present` cue (现在, 越来越浓, 已经让家人先下楼) in the alarm's own
        sentence, or in the title (which reaches the first sentence after it); a head that
        declares an emergency (紧急, 危险) and says now confirms every alarm. A cue after a
        `then` word in its clause (去年刚刚) is none. A sentence `dated` in the past (7月23日
        晚上, 那天, 只好连夜送到医院) is then up to a clause that switches back to now: nothing
        vouches for an alarm there and its cues (正在用制氧机) vouch for nothing. alarms holds
        every standing occurrence; the result keeps the first of each group. A letter that
        declares itself an emergency (紧急求助) and says "now" gets an alarm even without one."""
        letter = self._letter
        assert letter is not None
        if letter.now is None and letter.present is None:
            return ()
        if not alarms and (
            letter.declared is None
            or self._declared_group is None
            or letter.declared.search(text, 0, max(layout.title_end, 60)) is None
        ):
            return ()
        sentences = layout.sentences
        title_end = layout.title_end
        # Where each sentence starts telling of now: past its dated part, if it has one.
        lives = [self._live(text, start, end) for start, end in sentences]
        marked = [
            self._says(letter.now, text, live, end)
            for live, (_, end) in zip(lives, sentences, strict=True)
        ]
        # The head: the title, or the first line when the title stops at its first "!".
        head_end = _head_end(text, title_end)
        head_live = self._live(text, 0, head_end) if head_end > 0 else 0
        title_now = title_end > head_live and self._says(letter.now, text, head_live, title_end)
        head_present = head_end > head_live and self._says_present(text, head_live, head_end)
        alert = (
            letter.alert is not None
            and head_end > 0
            and letter.alert.search(text, 0, head_end) is not None
            and (head_present or self._says(letter.now, text, head_live, head_end))
        )
        # The head's weak cue reaches the sentences in the head and the first one after it.
        head_reach = layout.sentence_index(head_end + 1) if head_end > 0 else -1
        reach = letter.now_reach
        # A title that asks (燃气泄漏怎么办?), proposes, names a standing hazard (随时会倒) or a
        # past event (去年…事故赔偿) frames the letter as calm: only a now cue, a call for rescue
        # or an alert says a danger is happening, no weak present cue (现在, 今天下午).
        calm = head_end > 0 and any(
            cue is not None and cue.search(text, 0, head_end) is not None
            for cue in (letter.question, letter.calm_title)
        )
        head_present = head_present and not calm
        kept: list[Alarm] = []
        groups: set[str] = set()
        for alarm in alarms:
            if alarm.group.name in groups:
                continue
            position = alarm.start if alarm.start >= 0 else text.find(alarm.trigger)
            index = layout.sentence_index(position) if position >= 0 else -1
            if index < 0:
                stands = position >= head_live and (
                    title_now
                    or alert
                    or self._opens_now(text, layout, lives, marked, calm)
                    or (head_present and not self._tells_then(text, head_live, head_end))
                )
            elif position < lives[index]:
                stands = False  # told of a past date: then, not now, whatever else says now
            else:
                near = marked[max(0, index - reach) : index + reach + 1]
                stands = any(near) or alert
                start, end = lives[index], sentences[index][1]
                if not stands and not calm and not self._tells_then(text, start, end):
                    stands = self._says_present(text, start, end) or (
                        head_present and index <= head_reach
                    )
            if stands:
                groups.add(alarm.group.name)
                kept.append(alarm)
        if kept or self._declared_group is None or letter.declared is None:
            return tuple(kept)
        head = text[: max(title_end, 60)]
        if letter.declared.search(head) and (title_now or any(marked)):
            match = letter.declared.search(head)
            assert match is not None
            return (Alarm(self._declared_group, match.group(0)),)
        return ()

    def _opens_now(
        self, text: str, layout: _Layout, lives: list[int], marked: list[bool], calm: bool
    ) -> bool:
        """The title sums the letter up: its danger is now when the letter opens by saying so
        (【幼儿被锁在车内】 … 现在是下午1点50分), a now or (unless the title is calm) present cue
        in a sentence starting within opening_chars of the title, past the greeting and the
        writer's introduction; or when it calls for rescue anywhere (恳请马上派救援队,
        人还在里面啊). Asked only for an alarm in the title, which few letters have."""
        letter = self._letter
        assert letter is not None
        sentences = layout.sentences
        if letter.rescue is not None and any(
            self._says(letter.rescue, text, live, end)
            for live, (_, end) in zip(lives, sentences, strict=True)
        ):
            return True
        return any(
            marked[index]
            or (
                not calm
                and not self._tells_then(text, lives[index], end)
                and self._says_present(text, lives[index], end)
            )
            for index, (start, end) in enumerate(sentences)
            if start < layout.title_end + letter.opening_chars
        )

    def _live(self, text: str, start: int, end: int) -> int:
        """Where text[start:end] starts telling of now: start; or, when it is dated in the
        past (7月23日晚上, 那天, 只好连夜送到医院), the first clause after its last dated
        marker that switches back to now (现在, 今天); end when none does."""
        letter = self._letter
        dated = letter.dated if letter is not None else None
        if dated is None:
            return start
        last = -1
        for match in dated.finditer(text, start, end):
            last = match.end()
        if last < 0:
            return start
        switch = letter.switch if letter is not None else None
        back = switch.search(text, last, end) if switch is not None else None
        return back.start() if back is not None else end

    def _says(self, cue: re.Pattern[str] | None, text: str, start: int, end: int) -> bool:
        """cue occurs in text[start:end] other than after a `then` word in its clause."""
        if cue is None:
            return False
        then = self._letter.then if self._letter is not None else None
        for match in cue.finditer(text, start, end):
            if then is None:
                return True
            clause = _clause_start(text, match.start(), start)
            if then.search(text, clause, match.start()) is None:
                return True
        return False

    def _says_present(self, text: str, start: int, end: int) -> bool:
        """A weak present cue in text[start:end], which must not be a question."""
        letter = self._letter
        if letter is None or letter.present is None:
            return False
        if letter.question is not None and letter.question.search(text, start, end):
            return False
        return self._says(letter.present, text, start, end)

    def _tells_then(self, text: str, start: int, end: int) -> bool:
        """text[start:end] tells of then (去年, 常年, 一到夏天): weak cues there cannot vouch."""
        then = self._letter.then if self._letter is not None else None
        return then is not None and then.search(text, start, end) is not None

    def _deadline(self, complexity: str, urgent: bool) -> tuple[str, int, int | None]:
        deadlines = self._rules.deadlines
        if urgent:
            return URGENT, 0, deadlines.urgent_hours
        days = deadlines.complex_days if complexity == "complex" else deadlines.simple_days
        return complexity, days, None

    def _result(
        self,
        category_index: int,
        kind: str,
        alarms: tuple[Alarm, ...],
        keywords: tuple[str, ...],
        confidence: float,
    ) -> Classification:
        rule = self._rules.categories[category_index]
        complexity, days, hours = self._deadline(rule.complexity, bool(alarms))
        numbers = tuple(dict.fromkeys(n for a in alarms for n in a.group.numbers))
        return Classification(
            category=rule.id,
            category_label=rule.label,
            kind=kind,
            kind_label=self.kind_label(kind),
            urgent=bool(alarms),
            complexity=complexity,
            deadline_days=days,
            deadline_hours=hours,
            keywords=keywords,
            confidence=confidence,
            emergency_numbers=numbers,
        )


def _inside_number(text: str, start: int, end: int) -> bool:
    """A numeric term (110, 119, 120) that is part of a longer number (an ID or phone number,
    an amount) is not that term."""
    if not text[start].isdigit():
        return False
    return (start > 0 and text[start - 1].isdigit()) or (end < len(text) and text[end].isdigit())


def _longest_first(
    hits: Iterable[_Hit], length: int, wanted: Callable[[_Entry], bool]
) -> list[_Hit]:
    """Non-overlapping hits, longer terms first: 燃气泄漏 hides the 燃气 inside it."""
    chosen: list[_Hit] = []
    taken = bytearray(length)
    for hit in sorted(
        (h for h in hits if wanted(h.entry)), key=lambda h: (h.start - h.end, h.start)
    ):
        if 1 not in taken[hit.start : hit.end]:
            taken[hit.start : hit.end] = b"\x01" * (hit.end - hit.start)
            chosen.append(hit)
    return chosen


def _clause_start(text: str, position: int, floor: int) -> int:
    for index in range(position - 1, floor - 1, -1):
        if text[index] in _CLAUSE_MARKS:
            return index + 1
    return floor


def _head_end(text: str, title_end: int) -> int:
    """Where a letter's head ends: its first line when that is short, else its title."""
    line = text.find("\n", 0, 80)
    return max(title_end, line) if line > 0 else title_end


def _user_words(rules: Rules) -> list[str]:
    words = {w for c in rules.categories for w in c.keywords}
    words.update(w for k in rules.kinds for w in k.cues)
    words.update(w for g in rules.urgent.groups for w in g.words)
    words.update(rules.urgent.shields)
    return sorted(w for w in words if len(w) > 1)
