"""Load and validate config/categories.toml into typed, immutable rules."""

from __future__ import annotations

import logging
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RULES_FILE = "categories.toml"
COMPLEXITIES = ("simple", "complex")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class RulesError(ValueError):
    """categories.toml is missing, unreadable or has a bad value; the message names the key."""


def normalize(text: str) -> str:
    """Fold full-width forms and case so that keywords and messages compare alike."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    weight: float


@dataclass(frozen=True)
class CategoryRule:
    id: str
    label: str
    complexity: str
    keywords: Mapping[str, float]
    # Regexes for compound context (教师 … 工资 is pay, not schooling); the matched text is
    # shown on the card like a keyword.
    patterns: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class KindRule:
    id: str
    label: str
    cues: Mapping[str, float]
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True)
class UrgentGroup:
    name: str
    label: str
    numbers: tuple[str, ...]
    category: str
    words: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    before: tuple[str, ...]
    after: tuple[str, ...]
    # Composition (see nlp.urgency): hazards need a harmed/stuck state or immediacy in the same
    # sentence; states are harmed/stuck states that count for this group only.
    hazards: re.Pattern[str] | None = None
    states: re.Pattern[str] | None = None
    cancel: re.Pattern[str] | None = None
    needs_person: bool = False


@dataclass(frozen=True)
class UrgentCompose:
    """[urgent.compose]: each list is compiled into one alternation (None when empty)."""

    persons: re.Pattern[str] | None = None
    harm: re.Pattern[str] | None = None
    severe: re.Pattern[str] | None = None
    severe_group: str = ""
    immediacy: re.Pattern[str] | None = None
    cancel: re.Pattern[str] | None = None
    cancel_message: re.Pattern[str] | None = None


@dataclass(frozen=True)
class UrgentRules:
    kind: str
    window_before: int
    window_after: int
    shields: tuple[str, ...]
    before: tuple[str, ...]
    after: tuple[str, ...]
    groups: tuple[UrgentGroup, ...]
    compose: UrgentCompose = UrgentCompose()


@dataclass(frozen=True)
class Deadlines:
    simple_days: int
    complex_days: int
    urgent_hours: int


@dataclass(frozen=True)
class Scoring:
    min_score: float
    fallback_category: str
    confidence_prior: float
    repeat_weight: float
    max_repeats: int
    min_kind_score: float


@dataclass(frozen=True)
class LetterRules:
    """[letter]: how a long formal letter (尊敬的领导 … 此致) is read.

    Its title and its request sentences weigh more than its body; its kind cues in the body
    weigh less (a letter mentions many things); its alarms need explicit immediacy nearby:
    a `now` cue within `now_reach` sentences, or a weaker `present` cue (现在, 越来越浓) in the
    alarm's own sentence or the title. A cue whose clause tells of `then` (去年刚刚翻修过) is
    no cue; a present cue does not count in a `question` sentence or for an alarm whose own
    clause tells of then (需要常年吃药). A sentence `dated` in the past (7月23日晚上, 那天, 只好
    连夜送到医院) vouches for no alarm in it and lends no cue, up to a clause that `switch`es
    back to now (…,现在火已经烧到二楼); no cue elsewhere confirms an alarm there.
    """

    min_chars: int
    title_weight: float
    request_weight: float
    kind_body_weight: float
    kind_prior: str
    kind_prior_score: float
    alarm_bonus: float
    title_end: re.Pattern[str] | None = None
    request: re.Pattern[str] | None = None
    now: re.Pattern[str] | None = None
    declared: re.Pattern[str] | None = None
    declared_group: str = ""
    now_reach: int = 1
    # Sentences starting within opening_chars of the title open the letter: their now or
    # present cue vouches for a danger the title names.
    opening_chars: int = 0
    # A call for rescue now (恳请马上派救援队过来): anywhere in the letter, it vouches for the
    # danger its title names.
    rescue: re.Pattern[str] | None = None
    # A title that proposes, names a standing hazard or a past event: no weak present cue in
    # the letter vouches for an alarm (a question title works the same way).
    calm_title: re.Pattern[str] | None = None
    present: re.Pattern[str] | None = None
    then: re.Pattern[str] | None = None
    question: re.Pattern[str] | None = None
    alert: re.Pattern[str] | None = None
    dated: re.Pattern[str] | None = None
    switch: re.Pattern[str] | None = None
    # A grievance told in the letter (拖欠, 不作为, 至今未, 多次反映): each distinct one adds
    # grievance_score to kind_prior, at most grievance_max times.
    grievance: re.Pattern[str] | None = None
    grievance_score: float = 0.0
    grievance_max: int = 0
    # A title that states a problem (…坏了没人修, 违规收费, 三个月没发) adds
    # title_problem_score to kind_prior once: the letter complains, whatever its request says.
    title_problem: re.Pattern[str] | None = None
    title_problem_score: float = 0.0


@dataclass(frozen=True)
class Rules:
    deadlines: Deadlines
    scoring: Scoring
    default_kind: str
    kind_priority: tuple[str, ...]
    kinds: tuple[KindRule, ...]
    categories: tuple[CategoryRule, ...]
    urgent: UrgentRules
    letter: LetterRules | None = None

    def category(self, category_id: str) -> CategoryRule:
        for rule in self.categories:
            if rule.id == category_id:
                return rule
        raise KeyError(category_id)

    def kind(self, kind_id: str) -> KindRule:
        for rule in self.kinds:
            if rule.id == kind_id:
                return rule
        raise KeyError(kind_id)


def load_rules(config_dir: Path) -> Rules:
    """Read config_dir/categories.toml; raise RulesError naming the first bad key."""
    path = config_dir / RULES_FILE
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise RulesError(f"{path}: 找不到分类规则文件 (file not found)") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: TOML 格式错误 (syntax error): {exc}") from None
    try:
        rules = _parse(data)
    except RulesError as exc:
        raise RulesError(f"{path}: {exc}") from None
    log.debug("loaded %d categories from %s", len(rules.categories), path)
    return rules


def _parse(data: Mapping[str, object]) -> Rules:
    deadlines_t = _table(data, "deadlines")
    deadlines = Deadlines(
        simple_days=_int(deadlines_t, "deadlines.simple_days", minimum=1),
        complex_days=_int(deadlines_t, "deadlines.complex_days", minimum=1),
        urgent_hours=_int(deadlines_t, "deadlines.urgent_hours", minimum=1),
    )
    scoring_t = _table(data, "scoring")
    tiers_t = _table(scoring_t, "tiers", "scoring.tiers")
    tiers = {name: _number(tiers_t, f"scoring.tiers.{name}", positive=True) for name in tiers_t}
    if not tiers:
        raise RulesError("scoring.tiers: 至少需要一个档位 (at least one tier)")
    scoring = Scoring(
        min_score=_number(scoring_t, "scoring.min_score"),
        fallback_category=_str(scoring_t, "scoring.fallback_category"),
        confidence_prior=_number(scoring_t, "scoring.confidence_prior", positive=True),
        repeat_weight=_number(scoring_t, "scoring.repeat_weight"),
        max_repeats=_int(scoring_t, "scoring.max_repeats", minimum=1),
        min_kind_score=_number(scoring_t, "scoring.min_kind_score"),
    )

    kinds_t = _table(data, "kinds")
    kinds: list[KindRule] = []
    for kind_id, value in kinds_t.items():
        if kind_id in ("default", "priority"):
            continue
        key = f"kinds.{kind_id}"
        if not isinstance(value, dict):
            raise RulesError(f"{key}: 应为表 [kinds.{kind_id}] (expected a table)")
        _check_id(kind_id, key)
        cues_t = _table(value, "cues", f"{key}.cues")
        kinds.append(
            KindRule(
                id=kind_id,
                label=_str(value, f"{key}.label"),
                cues=_tiered(cues_t, f"{key}.cues", tiers, min_len=1, skip=("patterns",)),
                patterns=_patterns(cues_t, f"{key}.cues.patterns", tiers),
            )
        )
    kind_ids = [k.id for k in kinds]
    if not kinds:
        raise RulesError("kinds: 至少需要一种类型 (define at least one kind)")
    default_kind = _str(kinds_t, "kinds.default")
    _check_member(default_kind, kind_ids, "kinds.default")
    priority = _words(kinds_t, "kinds.priority", min_len=1)
    if sorted(priority) != sorted(kind_ids):
        raise RulesError(
            f"kinds.priority: 必须恰好列出所有类型 {kind_ids} (must list every kind once)"
        )

    categories = _categories(data, tiers)
    category_ids = [c.id for c in categories]
    _check_member(scoring.fallback_category, category_ids, "scoring.fallback_category")
    urgent = _urgent(_table(data, "urgent"), category_ids, kind_ids)
    letter = _letter(data, kind_ids, [g.name for g in urgent.groups])
    return Rules(
        deadlines=deadlines,
        scoring=scoring,
        default_kind=default_kind,
        kind_priority=priority,
        kinds=tuple(kinds),
        categories=categories,
        urgent=urgent,
        letter=letter,
    )


def _letter(
    data: Mapping[str, object], kind_ids: list[str], group_names: list[str]
) -> LetterRules | None:
    raw = data.get("letter")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RulesError("letter: 应为表 [letter] (expected a table)")
    kind_prior = _str(raw, "letter.kind_prior")
    _check_member(kind_prior, kind_ids, "letter.kind_prior")
    declared_group = ""
    if "declared" in raw:
        declared_group = _str(raw, "letter.declared_group")
        _check_member(declared_group, group_names, "letter.declared_group")
    return LetterRules(
        min_chars=_int(raw, "letter.min_chars", minimum=1),
        title_weight=_number(raw, "letter.title_weight", positive=True),
        request_weight=_number(raw, "letter.request_weight", positive=True),
        kind_body_weight=_number(raw, "letter.kind_body_weight"),
        kind_prior=kind_prior,
        kind_prior_score=_number(raw, "letter.kind_prior_score"),
        alarm_bonus=_number(raw, "letter.alarm_bonus"),
        title_end=_alternation(raw, "letter.title_end"),
        request=_alternation(raw, "letter.request"),
        now=_alternation(raw, "letter.now"),
        declared=_alternation(raw, "letter.declared"),
        declared_group=declared_group,
        now_reach=_int(raw, "letter.now_reach", minimum=0),
        opening_chars=(
            _int(raw, "letter.opening_chars", minimum=0) if "opening_chars" in raw else 0
        ),
        present=_alternation(raw, "letter.present"),
        rescue=_alternation(raw, "letter.rescue"),
        calm_title=_alternation(raw, "letter.calm_title"),
        then=_alternation(raw, "letter.then"),
        question=_alternation(raw, "letter.question"),
        alert=_alternation(raw, "letter.alert"),
        dated=_alternation(raw, "letter.dated"),
        switch=_clause_opening(_alternation(raw, "letter.switch")),
        grievance=_alternation(raw, "letter.grievance"),
        grievance_score=(
            _number(raw, "letter.grievance_score") if "grievance_score" in raw else 0.0
        ),
        grievance_max=(
            _int(raw, "letter.grievance_max", minimum=0) if "grievance_max" in raw else 0
        ),
        title_problem=_alternation(raw, "letter.title_problem"),
        title_problem_score=(
            _number(raw, "letter.title_problem_score") if "title_problem_score" in raw else 0.0
        ),
    )


def _clause_opening(pattern: re.Pattern[str] | None) -> re.Pattern[str] | None:
    """pattern where it opens a clause after the first one (after a comma or colon)."""
    if pattern is None:
        return None
    return re.compile(f"(?<=[,、;:])(?:{pattern.pattern})")


def _categories(data: Mapping[str, object], tiers: Mapping[str, float]) -> tuple[CategoryRule, ...]:
    raw = data.get("categories")
    if not isinstance(raw, list) or not raw:
        raise RulesError("categories: 缺少 [[categories]] 列表 (missing [[categories]])")
    rules: list[CategoryRule] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"categories[{index}]"
        if not isinstance(item, dict):
            raise RulesError(f"{where}: 应为表 (expected a table)")
        category_id = _str(item, f"{where}.id")
        _check_id(category_id, f"{where}.id")
        if category_id in seen:
            raise RulesError(f"{where}.id: 类别 {category_id!r} 重复 (duplicate id)")
        seen.add(category_id)
        where = f"categories.{category_id}"
        complexity = _str(item, f"{where}.complexity")
        _check_member(complexity, COMPLEXITIES, f"{where}.complexity")
        keywords_t = _table(item, "keywords", f"{where}.keywords")
        rules.append(
            CategoryRule(
                id=category_id,
                label=_str(item, f"{where}.label"),
                complexity=complexity,
                keywords=_tiered(
                    keywords_t, f"{where}.keywords", tiers, min_len=1, skip=("patterns",)
                ),
                patterns=_patterns(keywords_t, f"{where}.keywords.patterns", tiers),
            )
        )
    return tuple(rules)


def _urgent(
    table: Mapping[str, object], category_ids: list[str], kind_ids: list[str]
) -> UrgentRules:
    kind = _str(table, "urgent.kind")
    _check_member(kind, kind_ids, "urgent.kind")
    raw_groups = table.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        raise RulesError("urgent.groups: 缺少 [[urgent.groups]] (missing emergency groups)")
    groups: list[UrgentGroup] = []
    for index, item in enumerate(raw_groups):
        where = f"urgent.groups[{index}]"
        if not isinstance(item, dict):
            raise RulesError(f"{where}: 应为表 (expected a table)")
        name = _str(item, f"{where}.name")
        where = f"urgent.groups.{name}"
        category = _str(item, f"{where}.category")
        _check_member(category, category_ids, f"{where}.category")
        numbers = _words(item, f"{where}.numbers", min_len=1, fold=False)
        for number in numbers:
            if not number.isdigit():
                raise RulesError(f"{where}.numbers: {number!r} 不是电话号码 (not a phone number)")
        groups.append(
            UrgentGroup(
                name=name,
                label=_str(item, f"{where}.label"),
                numbers=numbers,
                category=category,
                # Single characters (火, 刀) are too ambiguous to raise an alarm on their own.
                words=_words(item, f"{where}.words", min_len=2, required="hazards" not in item),
                patterns=tuple(
                    _compile(p, f"{where}.patterns")
                    for p in _words(item, f"{where}.patterns", 1, required=False, fold=False)
                ),
                before=_words(item, f"{where}.before", min_len=1, required=False),
                after=_words(item, f"{where}.after", min_len=1, required=False),
                hazards=_alternation(item, f"{where}.hazards"),
                states=_alternation(item, f"{where}.states"),
                cancel=_alternation(item, f"{where}.cancel"),
                needs_person=_bool(item, f"{where}.needs_person"),
            )
        )
    compose = _compose(table, [g.name for g in groups])
    return UrgentRules(
        kind=kind,
        window_before=_int(table, "urgent.window_before", minimum=0),
        window_after=_int(table, "urgent.window_after", minimum=0),
        shields=_words(table, "urgent.shields", min_len=2, required=False),
        before=_words(table, "urgent.before", min_len=1, required=False),
        after=_words(table, "urgent.after", min_len=1, required=False),
        groups=tuple(groups),
        compose=compose,
    )


def _compose(table: Mapping[str, object], group_names: list[str]) -> UrgentCompose:
    raw = table.get("compose")
    if raw is None:
        return UrgentCompose()
    if not isinstance(raw, dict):
        raise RulesError("urgent.compose: 应为表 [urgent.compose] (expected a table)")
    severe_group = ""
    if "severe" in raw:
        severe_group = _str(raw, "urgent.compose.severe_group")
        _check_member(severe_group, group_names, "urgent.compose.severe_group")
    return UrgentCompose(
        persons=_alternation(raw, "urgent.compose.persons"),
        harm=_alternation(raw, "urgent.compose.harm"),
        severe=_alternation(raw, "urgent.compose.severe"),
        severe_group=severe_group,
        immediacy=_alternation(raw, "urgent.compose.immediacy"),
        cancel=_alternation(raw, "urgent.compose.cancel"),
        cancel_message=_alternation(raw, "urgent.compose.cancel_message"),
    )


def _bool(data: Mapping[str, object], key: str) -> bool:
    value = data.get(key.rsplit(".", 1)[-1], False)
    if not isinstance(value, bool):
        raise RulesError(f"{key}: 应为 true 或 false (expected a boolean)")
    return value


def _alternation(data: Mapping[str, object], key: str) -> re.Pattern[str] | None:
    """A list of words or regexes as one compiled alternation; None when absent or empty."""
    sources = _words(data, key, min_len=1, required=False, fold=False)
    for source in sources:
        _compile(source, key)  # names the bad entry, not the joined pattern
    if not sources:
        return None
    return _compile("|".join(f"(?:{s})" for s in sources), key)


def _table(data: Mapping[str, object], name: str, key: str | None = None) -> Mapping[str, object]:
    key = key or name
    value = data.get(name)
    if not isinstance(value, dict):
        raise RulesError(f"{key}: 缺少表 [{key}] 或类型不对 (missing table)")
    return value


def _str(data: Mapping[str, object], key: str) -> str:
    value = data.get(key.rsplit(".", 1)[-1])
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{key}: 应为非空文字 (expected a non-empty string)")
    return value.strip()


def _int(data: Mapping[str, object], key: str, minimum: int) -> int:
    value = data.get(key.rsplit(".", 1)[-1])
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RulesError(f"{key}: 应为不小于 {minimum} 的整数 (expected an integer >= {minimum})")
    return value


def _number(data: Mapping[str, object], key: str, positive: bool = False) -> float:
    value = data.get(key.rsplit(".", 1)[-1])
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise RulesError(f"{key}: 应为数字 (expected a number)")
    if value < 0 or (positive and value == 0):
        raise RulesError(f"{key}: 应为正数 (expected a positive number)")
    return float(value)


def _words(
    data: Mapping[str, object], key: str, min_len: int, required: bool = True, fold: bool = True
) -> tuple[str, ...]:
    value = data.get(key.rsplit(".", 1)[-1])
    if value is None and not required:
        return ()
    if not isinstance(value, list) or (required and not value):
        raise RulesError(f"{key}: 应为非空的文字列表 (expected a list of strings)")
    words: list[str] = []
    for item in value:
        if not isinstance(item, str) or len(item.strip()) < min_len:
            raise RulesError(f"{key}: {item!r} 应为至少 {min_len} 个字的文字 (too short)")
        words.append(normalize(item.strip()) if fold else item.strip())
    return tuple(words)


def _tiered(
    table: Mapping[str, object],
    key: str,
    tiers: Mapping[str, float],
    min_len: int,
    skip: tuple[str, ...] = (),
) -> dict[str, float]:
    """{tier: [words]} → {word: weight}; a word listed twice keeps its highest weight."""
    weights: dict[str, float] = {}
    for tier, _ in table.items():
        if tier in skip:
            continue
        if tier not in tiers:
            raise RulesError(f"{key}.{tier}: 未知档位,可用 {sorted(tiers)} (unknown tier)")
        for word in _words(table, f"{key}.{tier}", min_len=min_len):
            weights[word] = max(weights.get(word, 0.0), tiers[tier])
    if not weights:
        raise RulesError(f"{key}: 至少需要一个关键词 (at least one keyword)")
    return weights


def _patterns(
    table: Mapping[str, object], key: str, tiers: Mapping[str, float]
) -> tuple[Pattern, ...]:
    raw = table.get("patterns")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RulesError(f"{key}: 应为列表 (expected a list of {{regex, tier}})")
    patterns: list[Pattern] = []
    for index, item in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(item, dict):
            raise RulesError(f'{where}: 应写成 {{ regex = "...", tier = "strong" }}')
        tier = _str(item, f"{where}.tier")
        _check_member(tier, sorted(tiers), f"{where}.tier")
        patterns.append(Pattern(_compile(_str(item, f"{where}.regex"), where), tiers[tier]))
    return tuple(patterns)


def _compile(source: str, key: str) -> re.Pattern[str]:
    # Not folded: lower-casing would turn \S into \s. Messages are NFKC-folded, so patterns
    # use half-width punctuation.
    try:
        return re.compile(source)
    except re.error as exc:
        raise RulesError(f"{key}: 正则表达式 {source!r} 有误 (bad regex): {exc}") from None


def _check_id(value: str, key: str) -> None:
    if not _ID_RE.match(value):
        raise RulesError(f"{key}: {value!r} 只能用小写字母、数字和下划线 (use a-z, 0-9, _)")


def _check_member(value: str, allowed: list[str] | tuple[str, ...], key: str) -> None:
    if value not in allowed:
        raise RulesError(f"{key}: {value!r} 不在 {list(allowed)} 之中 (unknown value)")
