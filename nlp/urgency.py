"""Urgency: a present danger (fire, gas, violence, a person in danger) in a message.

A trigger word raises an alarm unless the words around it say it is hypothetical, past or a
standing hazard (如果着火、去年起火、火灾隐患): such matters still get a ticket, just not an alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nlp.rules import UrgentGroup, UrgentRules

# Text is NFKC-folded before it gets here, so only half-width punctuation remains.
_CLAUSE_MARKS = frozenset(",、;。.!?\n")
_SENTENCE_MARKS = frozenset(";。.!?\n")


@dataclass(frozen=True)
class Alarm:
    group: UrgentGroup
    trigger: str


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    term: str


class UrgencyDetector:
    def __init__(self, rules: UrgentRules) -> None:
        self._rules = rules
        self._word_groups: dict[str, list[UrgentGroup]] = {}
        for group in rules.groups:
            for word in group.words:
                self._word_groups.setdefault(word, []).append(group)
        self._shields = frozenset(rules.shields)

    @property
    def terms(self) -> frozenset[str]:
        """Every literal the detector needs located: trigger words and shields."""
        return frozenset(self._word_groups) | self._shields

    def detect(self, text: str, spans: Iterable[Span]) -> tuple[Alarm, ...]:
        """Alarms in text, given the located trigger and shield spans (any order, overlapping)."""
        triggers: list[tuple[Span, UrgentGroup]] = []
        shields: list[Span] = []
        for span in spans:
            if span.term in self._shields:
                shields.append(span)
            for group in self._word_groups.get(span.term, ()):
                triggers.append((span, group))
        for group in self._rules.groups:
            for pattern in group.patterns:
                triggers.extend(
                    (Span(m.start(), m.end(), m.group(0)), group) for m in pattern.finditer(text)
                )
        alarms: list[Alarm] = []
        seen: set[str] = set()
        for span, group in sorted(triggers, key=lambda t: t[0].start):
            if group.name in seen:
                continue
            if any(s.start < span.end and span.start < s.end for s in shields):
                continue
            if self._negated(text, span, group):
                continue
            seen.add(group.name)
            alarms.append(Alarm(group, span.term))
        return tuple(alarms)

    def _negated(self, text: str, span: Span, group: UrgentGroup) -> bool:
        rules = self._rules
        start = max(0, span.start - rules.window_before)
        before = _tail_after_marks(text[start : span.start], _CLAUSE_MARKS)
        if _contains_any(before, rules.before) or _contains_any(before, group.before):
            return True
        after = _head_before_marks(text[span.end : span.end + rules.window_after], _SENTENCE_MARKS)
        return _contains_any(after, rules.after) or _contains_any(after, group.after)


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
