"""Masking personal data (phones, ID and bank card numbers, self-given names) in residents' text.

Masked text is what the public board, hot words and logs see; raw values never leave the
ticket itself, so nothing here logs a matched value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class PiiKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    ID_CARD = "id_card"
    BANK_CARD = "bank_card"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """Where one piece of personal data sits in the text (end exclusive)."""

    kind: PiiKind
    start: int
    end: int


# Words that, just before a long number, say what it is; looked up in a short window.
_ID_CONTEXT = ("身份证", "证件号", "身份号", "证号")
_CARD_CONTEXT = ("银行卡", "卡号", "账号", "帐号", "存折", "社保卡", "一卡通", "惠农卡")
_LANDLINE_CONTEXT = ("电话", "座机", "固话", "号码", "联系方式", "打")
_CONTEXT_WINDOW = 8

# Phone keyboards often type full-width digits; matching runs on a same-length ASCII copy.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－Ｘｘ", "0123456789+-Xx")
_ID_RE = re.compile(r"(?<![\dA-Za-z])\d{6}[ ]?\d{8}[ ]?\d{3}[\dXx](?![\dA-Za-z])")
_CARD_RE = re.compile(
    r"(?<![\d-])(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?|\d{6}[ -]\d{10,13})(?![\d-])"
)
_MOBILE_RE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![\d-])"
)
_LANDLINE_RE = re.compile(
    r"(?<![\d-])(\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[ -]?(\d{7,8})(?:(?:-|转)\d{1,5})?(?![\d-])"
)
# A local number without area code is only taken as a phone when a phone word precedes it.
_LOCAL_LANDLINE_RE = re.compile(r"(?<![\d-])[2-8]\d{2,3}[ -]?\d{4}(?![\d-])")

_NAME_TRIGGER_RE = re.compile(r"(我叫|本人叫|名字叫|姓名[::]?|联系人[::]?|我是|本人是)\s*")
# A name ends at any of these; checked only after its first two characters, so a name
# may contain one early (王有才) and still stop before 是/住/家 that follow it.
_NAME_STOPS = (
    "是", "住", "家", "在", "的", "今年", "今天", "现在", "现年", "想", "要", "来", "从",
    "和", "跟", "与", "有", "请", "问", "反映", "一", "已", "也", "就", "说", "联系",
    "电话", "手机", "身份证", "这", "那", "村", "组", "镇", "了", "啊", "呀", "吧", "哈",
    "男", "女", "老", "岁", "对", "给", "向", "去", "找", "被", "把", "因", "为", "之",
)  # fmt: skip
# After 我是 the words are usually a role, not a name: require a surname, refuse role words.
_COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧"
    "耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙"
    "鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫"
    "米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_NOT_NAME_ENDINGS = frozenset("民户员长师生工主人家属孩娃爷奶妈爸哥姐弟妹婆公叔姨村组镇庄屯湾")
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")
_NAME_MIN, _NAME_MAX = 2, 4


def find_pii(text: str) -> list[PiiSpan]:
    """All personal data in text, sorted by position and never overlapping."""
    text = text.translate(_FULL_WIDTH)
    candidates: list[PiiSpan] = []
    candidates += _find_long_numbers(text)
    candidates += [PiiSpan(PiiKind.MOBILE, m.start(), m.end()) for m in _MOBILE_RE.finditer(text)]
    candidates += [
        PiiSpan(PiiKind.LANDLINE, m.start(), m.end()) for m in _LANDLINE_RE.finditer(text)
    ]
    candidates += [
        PiiSpan(PiiKind.LANDLINE, m.start(), m.end())
        for m in _LOCAL_LANDLINE_RE.finditer(text)
        if _preceded_by(text, m.start(), _LANDLINE_CONTEXT)
    ]
    candidates += _find_names(text)
    # Longest first at each position, so a card number wins over a phone-like piece of it.
    candidates.sort(key=lambda s: (s.start, -(s.end - s.start)))
    spans: list[PiiSpan] = []
    for span in candidates:
        if not spans or span.start >= spans[-1].end:
            spans.append(span)
    return spans


def mask_pii(text: str) -> str:
    """text with every piece of personal data replaced by a readable masked form."""
    parts: list[str] = []
    pos = 0
    ascii_text = text.translate(_FULL_WIDTH)
    for span in find_pii(text):
        parts.append(text[pos : span.start])
        parts.append(_mask(span.kind, ascii_text[span.start : span.end]))
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def _mask(kind: PiiKind, value: str) -> str:
    if kind is PiiKind.NAME:
        return value[0] + "*" * (len(value) - 1)
    digits = "".join(ch for ch in value if ch.isdigit() or ch in "Xx")
    if kind is PiiKind.MOBILE:
        digits = digits[-11:]  # drop a +86 / 0086 prefix
        return f"{digits[:3]}****{digits[-4:]}"
    if kind is PiiKind.ID_CARD:
        return f"{digits[:3]}{'*' * 11}{digits[-4:]}"
    if kind is PiiKind.BANK_CARD:
        return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"
    with_area = _LANDLINE_RE.match(value)
    if with_area is None:
        return f"****{digits[-4:]}"
    return f"{with_area.group(1).strip('()（）')}-****{with_area.group(2)[-4:]}"


def _find_long_numbers(text: str) -> list[PiiSpan]:
    """ID and bank card numbers: both are long digit runs, told apart by their checksums."""
    spans: list[PiiSpan] = []
    for m in _ID_RE.finditer(text):
        digits = m.group().replace(" ", "")
        if id_checksum_ok(digits) or _preceded_by(text, m.start(), _ID_CONTEXT):
            spans.append(PiiSpan(PiiKind.ID_CARD, m.start(), m.end()))
    for m in _CARD_RE.finditer(text):
        if any(s.start <= m.start() < s.end for s in spans):
            continue
        digits = re.sub(r"[ -]", "", m.group())
        if luhn_ok(digits) or _preceded_by(text, m.start(), _CARD_CONTEXT + _ID_CONTEXT):
            spans.append(PiiSpan(PiiKind.BANK_CARD, m.start(), m.end()))
    return spans


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """True for an 18-character resident ID number whose last character matches GB 11643."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11] == number[17].upper()


def luhn_ok(number: str) -> bool:
    """True when a digit string passes the Luhn check used by bank card numbers."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _preceded_by(text: str, start: int, words: tuple[str, ...]) -> bool:
    window = text[max(0, start - _CONTEXT_WINDOW) : start]
    return any(word in window for word in words)


def _find_names(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for m in _NAME_TRIGGER_RE.finditer(text):
        strict = m.group(1) in ("我是", "本人是")
        start = m.end()
        end = _name_end(text, start)
        length = end - start
        if length > _NAME_MAX:
            if strict:
                continue
            # An explicitly given name running into more words: the common three characters.
            end = start + 3
        elif length < _NAME_MIN:
            continue
        name = text[start:end]
        if strict and (name[0] not in _COMMON_SURNAMES or name[-1] in _NOT_NAME_ENDINGS):
            continue
        spans.append(PiiSpan(PiiKind.NAME, start, end))
    return spans


def _name_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and _HAN_RE.match(text[end]):
        if end - start >= _NAME_MIN and text.startswith(_NAME_STOPS, end):
            break
        end += 1
    return end
