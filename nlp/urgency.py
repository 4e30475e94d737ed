"""Urgency: a present danger (fire, gas, violence, a person in danger) in a message.

Two layers, both driven by config/categories.toml:

* Triggers: a group's words and patterns raise an alarm on their own (着火了, 煤气泄漏, 救命),
  unless the words around them (clause before, sentence after) say it is hypothetical, past or
  a standing hazard (如果着火、去年起火、火灾隐患).
* Composition, per sentence: a group's hazard (煤气.{0,4}味, 酒瓶.{0,6}砸, 塘, 塌) raises an
  alarm when the same sentence also holds a harmed or stuck state (不醒, 血流, 在里面, 不见了)
  or an immediacy cue (正在, 刚才, 快来人, !!!). A severe state (一动不动, 叫不应, 口吐白沫)
  together with a person (人, 孩子, 我妈) raises an alarm of the severe group by itself.

Every alarm is then checked against the context of its sentence: a past, after-the-fact,
hypothetical or prevention cue (去年, 赔偿, 如果, 预防, 演练) cancels it, unless the sentence also
holds an immediacy cue; a group may add cancel cues of its own (秸秆 for fire). A few
after-the-fact cues (平台说不管, 申请补助) cancel across the whole message whatever else it says.
Such matters still get a ticket, just not an alarm.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import NamedTuple

from nlp.rules import UrgentGroup, UrgentRules

# re's own parser (private, untyped): used only to find a pattern's possible first characters,
# a speed-up. Should a later Python move it, the filter is simply off and results stay the same.
sre_parse: ModuleType | None
try:
    sre_parse = importlib.import_module("re._parser")
    sre_c = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - depends on the Python version
    sre_parse = None

# Text is NFKC-folded before it gets here, so only half-width punctuation remains.
_CLAUSE_MARKS = frozenset(",、;。.!?\n")
_SENTENCE_MARKS = frozenset(";。.!?\n")
_SENTENCE_SPLIT = re.compile(r"[;。.!?\n]")


@dataclass(frozen=True)
class Alarm:
    group: UrgentGroup
    trigger: str
    start: int = -1  # where the trigger is in the normalised text; -1 if unknown


class Span(NamedTuple):
    # A NamedTuple, not a frozen dataclass: one is made per located term on every message.
    start: int
    end: int
    term: str


class _Sentence:
    """Context of one sentence, computed lazily and at most once per detect() call."""

    __slots__ = ("_detector", "_immediate", "_text")

    def __init__(self, detector: UrgencyDetector, text: str) -> None:
        self._detector = detector
        self._text = text
        self._immediate: bool | None = None

    @property
    def text(self) -> str:
        return self._text

    @property
    def immediate(self) -> bool:
        if self._immediate is None:
            regex = self._detector.compose.immediacy
            self._immediate = regex is not None and regex.search(self._text) is not None
        return self._immediate

    def has(self, regex: re.Pattern[str] | None) -> bool:
        return regex is not None and regex.search(self._text) is not None


class UrgencyDetector:
    def __init__(self, rules: UrgentRules) -> None:
        self._rules = rules
        self._word_groups: dict[str, list[UrgentGroup]] = {}
        for group in rules.groups:
            for word in group.words:
                self._word_groups.setdefault(word, []).append(group)
        self._shields = frozenset(rules.shields)
        self.compose = rules.compose
        # One pass finds every group's hazards: each group's alternation is a named group.
        self._hazard_groups: dict[str, UrgentGroup] = {}
        parts: list[str] = []
        for index, group in enumerate(rules.groups):
            if group.hazards is not None:
                name = f"g{index}"
                self._hazard_groups[name] = group
                parts.append(f"(?P<{name}>{group.hazards.pattern})")
        self._hazards = FirstCharIndex(parts) if parts else None
        # Most messages match no trigger pattern at all: one search of them all rules that out.
        patterns = [p.pattern for g in rules.groups for p in g.patterns]
        self._any_pattern = gated("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        severe = rules.compose.severe
        self._severe = gated(severe.pattern) if severe is not None else None
        self._severe_group = next(
            (g for g in rules.groups if g.name == rules.compose.severe_group), None
        )

    @property
    def terms(self) -> frozenset[str]:
        """Every literal the detector needs located: trigger words and shields."""
        return frozenset(self._word_groups) | self._shields

    def detect(self, text: str, spans: Iterable[Span], every: bool = False) -> tuple[Alarm, ...]:
        """Alarms in text, given the located trigger and shield spans (any order, overlapping):
        the first of each group, or with every=True each one that stands (a letter then checks
        each against its own sentence, so a past mention does not hide a present one)."""
        candidates = self._triggers(text, spans)
        candidates.extend(self._composed(text))
        if not candidates:
            return ()
        compose = self.compose
        sentences: dict[int, _Sentence] = {}
        message_cancel: bool | None = None
        alarms: list[Alarm] = []
        seen: set[str] = set()
        for start, group, term in sorted(candidates, key=lambda c: c[0]):
            if not every and group.name in seen:
                continue
            begin = _sentence_start(text, start)
            sentence = sentences.get(begin)
            if sentence is None:
                sentence = sentences[begin] = _Sentence(self, _sentence_at(text, begin))
            if not sentence.immediate and (
                sentence.has(compose.cancel) or sentence.has(group.cancel)
            ):
                continue
            if message_cancel is None:
                message_cancel = _search(compose.cancel_message, text)
            if message_cancel:
                continue
            seen.add(group.name)
            alarms.append(Alarm(group, term, start))
        return tuple(alarms)

    def _triggers(self, text: str, spans: Iterable[Span]) -> list[tuple[int, UrgentGroup, str]]:
        """Trigger words and patterns that their own clause/sentence window does not negate."""
        triggers: list[tuple[Span, UrgentGroup]] = []
        shields: list[Span] = []
        for span in spans:
            if span.term in self._shields:
                shields.append(span)
            for group in self._word_groups.get(span.term, ()):
                triggers.append((span, group))
        if self._any_pattern is not None and self._any_pattern.search(text) is not None:
            for group in self._rules.groups:
                for pattern in group.patterns:
                    triggers.extend(
                        (Span(m.start(), m.end(), m.group(0)), group)
                        for m in pattern.finditer(text)
                    )
        found: list[tuple[int, UrgentGroup, str]] = []
        for span, group in triggers:
            if any(s.start < span.end and span.start < s.end for s in shields):
                continue
            if self._negated(text, span, group):
                continue
            found.append((span.start, group, span.term))
        return found

    def _composed(self, text: str) -> list[tuple[int, UrgentGroup, str]]:
        """Hazard + harm/stuck state or immediacy, and person + severe state, per sentence."""
        compose = self.compose
        found: list[tuple[int, UrgentGroup, str]] = []
        if self._hazards is not None:
            for match in self._hazard_matches(text):
                name = match.lastgroup
                if name is None:
                    continue
                group = self._hazard_groups[name]
                begin = _sentence_start(text, match.start())
                sentence = _sentence_at(text, begin)
                if group.needs_person and not _search(compose.persons, sentence):
                    continue
                # The state must be other words than the hazard itself (找不到 is not both).
                offset = match.start() - begin
                rest = sentence[:offset] + "|" + sentence[offset + len(match.group(0)) :]
                if (
                    _search(compose.harm, rest)
                    or _search(group.states, rest)
                    or _search(compose.immediacy, sentence)
                ):
                    found.append((match.start(), group, match.group(0)))
        if self._severe_group is not None and self._severe is not None:
            for match in self._severe.finditer(text):
                sentence = _sentence_at(text, _sentence_start(text, match.start()))
                if _search(compose.persons, sentence):
                    found.append((match.start(), self._severe_group, match.group(0)))
                    break
        return found

    def _hazard_matches(self, text: str) -> Iterator[re.Match[str]]:
        """Hazard matches at every start position, so one group's match does not hide
        another's overlapping it (石头滚下来砸 is violence-like, 砸塌 is collapse)."""
        assert self._hazards is not None
        return self._hazards.matches(text)

    def _negated(self, text: str, span: Span, group: UrgentGroup) -> bool:
        rules = self._rules
        start = max(0, span.start - rules.window_before)
        before = _tail_after_marks(text[start : span.start], _CLAUSE_MARKS)
        if _contains_any(before, rules.before) or _contains_any(before, group.before):
            return True
        after = _head_before_marks(text[span.end : span.end + rules.window_after], _SENTENCE_MARKS)
        return _contains_any(after, rules.after) or _contains_any(after, group.after)


class FirstCharIndex:
    """Regex parts indexed by the characters a match of each can start with: at a position, only
    the parts that can start with its character are tried, as one regex compiled when first
    needed (start-up stays fast). Python's re tries every branch of an alternation at every
    position; most positions here try none. When some part's first characters cannot be worked
    out, every position tries them all. Matches are the same as the alternation's. (For a yes/no
    search, `gated` is faster: the regex engine's own scan beats a loop in Python.)"""

    __slots__ = ("_all", "_compiled", "_keys", "_parts", "_seen")

    def __init__(self, parts: list[str]) -> None:
        self._parts = parts
        firsts = [_first_chars(part) for part in parts]
        self._keys: dict[str, tuple[int, ...]] | None = None
        self._all: re.Pattern[str] | None = None
        if all(first is not None for first in firsts):
            known = [first for first in firsts if first is not None]
            self._keys = {
                char: tuple(i for i, first in enumerate(known) if char in first)
                for char in frozenset().union(*known)
            }
        elif parts:
            self._all = re.compile("|".join(f"(?:{part})" for part in parts))
        self._compiled: dict[tuple[int, ...], re.Pattern[str]] = {}
        # One entry per distinct character seen: a few thousand at most for Chinese text.
        self._seen: dict[str, re.Pattern[str] | None] = {}

    def matches(self, text: str) -> Iterator[re.Match[str]]:
        """A match at every position where one starts (overlapping matches included)."""
        if self._keys is None:
            if self._all is not None:
                for start in range(len(text)):
                    match = self._all.match(text, start)
                    if match is not None:
                        yield match
            return
        seen, look_up = self._seen, self._look_up
        for start, char in enumerate(text):
            regex = seen[char] if char in seen else look_up(char)
            if regex is not None:
                match = regex.match(text, start)
                if match is not None:
                    yield match

    def _look_up(self, char: str) -> re.Pattern[str] | None:
        assert self._keys is not None
        key = self._keys.get(char)
        regex = None
        if key is not None:
            regex = self._compiled.get(key)
            if regex is None:
                parts = (f"(?:{self._parts[i]})" for i in key)
                regex = self._compiled[key] = re.compile("|".join(parts))
        self._seen[char] = regex
        return regex


def gated(source: str, first_of: str | None = None) -> re.Pattern[str]:
    """source compiled behind a lookahead for the characters a match of first_of (by default
    source itself) can start with. Python's re tries every branch of an alternation at every
    position; the one-character class rejects most positions at once. Matches are the same."""
    first = _first_chars(first_of if first_of is not None else source)
    if not first:
        return re.compile(source)
    chars = "".join(re.escape(c) for c in sorted(first))
    return re.compile(f"(?=[{chars}])(?:{source})")


def _first_chars(source: str) -> frozenset[str] | None:
    """Characters a match of source can start with; None if any character might."""
    if sre_parse is None:
        return None
    try:
        return _first_of(list(sre_parse.parse(source)))
    except Exception:
        return None


def _first_of(items: list[tuple[object, object]]) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is sre_c.LITERAL and isinstance(av, int):
            return frozenset(chars | {chr(av)})
        if op is sre_c.IN and isinstance(av, list):
            for sub_op, sub_av in av:
                if sub_op is not sre_c.LITERAL or not isinstance(sub_av, int):
                    return None
                chars.add(chr(sub_av))
            return frozenset(chars)
        if op is sre_c.BRANCH and isinstance(av, tuple):
            for branch in av[1]:
                found = _first_of(list(branch))
                if found is None:
                    return None
                chars |= found
            return frozenset(chars)
        if op is sre_c.SUBPATTERN and isinstance(av, tuple):
            found = _first_of(list(av[-1]))
            if found is None:
                return None
            return frozenset(chars | found)
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) and isinstance(av, tuple):
            found = _first_of(list(av[2]))
            if found is None:
                return None
            chars |= found
            if av[0] >= 1:
                return frozenset(chars)
            continue
        if op in (sre_c.ASSERT, sre_c.ASSERT_NOT, sre_c.AT):
            continue  # zero-width: the next item decides
        return None
    return None  # the pattern can match the empty string


def _search(regex: re.Pattern[str] | None, text: str) -> bool:
    return regex is not None and regex.search(text) is not None


def _sentence_start(text: str, position: int) -> int:
    for index in range(position - 1, -1, -1):
        if text[index] in _SENTENCE_MARKS:
            return index + 1
    return 0


def _sentence_at(text: str, start: int) -> str:
    match = _SENTENCE_SPLIT.search(text, start)
    return text[start : match.start()] if match else text[start:]


def _contains_any(text: str, words: tuple[str, ...]) -> bool:
    return bool(text) and any(word in text for word in words)


def _tail_after_marks(text: str, marks: frozenset[str]) -> str:
    for index in range(len(text) - 1, -1, -1):
        if text[index] in marks:
            return text[index + 1 :]
    return text


def _head_before_marks(text: str, marks: frozenset[str]) -> str:
    for index, char in enumerate(text):
        if char in marks:
            return text[:index]
    return text
