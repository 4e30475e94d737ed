"""PII masking: what must be masked, how it reads, and what must be left alone."""

from __future__ import annotations

import pytest

from nlp.pii import PiiKind, PiiSpan, find_pii, id_checksum_ok, luhn_ok, mask_pii

VALID_ID = "110101199003071233"
VALID_ID_X = "11010519491231002X"
VALID_CARD_19 = "6222021234567890128"
VALID_CARD_16 = "6217001234567893"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # mobiles, in the ways people type them
        ("电话13812345678", "电话138****5678"),
        ("手机 138 1234 5678 谢谢", "手机 138****5678 谢谢"),
        ("手机138-1234-5678", "手机138****5678"),
        ("打+86 13912345678找我", "打139****5678找我"),
        ("+86-15900001111", "159****1111"),
        ("008618612345678", "186****5678"),
        ("电话１３８１２３４５６７８", "电话138****5678"),
        ("联系17712345678或19912345678", "联系177****5678或199****5678"),
        # landlines
        ("座机0571-88886666", "座机0571-****6666"),
        ("办公室010-12345678转8", "办公室010-****5678"),
        ("(020)87654321", "020-****4321"),
        ("电话057188886666", "电话0571-****6666"),
        ("电话88886666", "电话****6666"),
        ("座机 8888 6666", "座机 ****6666"),
        # ID numbers
        (f"身份证{VALID_ID}", "身份证110***********1233"),
        (f"我的证件是{VALID_ID_X}", "我的证件是110***********002X"),
        (f"号码{VALID_ID_X.lower()}", "号码110***********002x"),
        ("身份证号110101199003074321", "身份证号110***********4321"),
        ("证件号:123456789012345678", "证件号:123***********5678"),
        ("身份证 110101 19900307 1233", "身份证 110***********1233"),
        # bank cards
        (f"卡号{VALID_CARD_19}", "卡号6222***********0128"),
        (f"打到{VALID_CARD_16}上", "打到6217********7893上"),
        ("6222 0212 3456 7890 128", "6222***********0128"),
        ("银行卡号1234567890123456", "银行卡号1234********3456"),
        # names given by the resident
        ("我叫张三,住在3组", "我叫张*,住在3组"),
        ("我叫王有才家住东头", "我叫王**家住东头"),
        ("本人叫欧阳娜娜今年六十岁", "本人叫欧***今年六十岁"),
        ("我是李明,想问个事", "我是李*,想问个事"),
        ("我是张三丰住在桥头", "我是张**住在桥头"),
        ("姓名:赵六", "姓名:赵*"),
        ("联系人:王五 13912345678", "联系人:王* 139****5678"),
        ("我叫刘小红是村里的", "我叫刘**是村里的"),
    ],
)
def test_masks(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "补贴3000元还没到",
        "2026年11月3日反映的",
        "工单2026-000123还没回复",
        "住在幸福村3组18号",
        "门牌号12-3-502",
        "一共欠了15000元工资",
        "占地120平方米",
        "2026-11-03 15:30停电",
        "编号20261103000123",
        "12345678901",
        "订单1234567890123456",
        "流水号110101199003074321",
        "我是村民,想反映个事",
        "我是王村的",
        "我是外地人",
        "我是党员",
        "我是一个老人",
        "我是业主",
        "我是三组的",
        "我叫不",
        "体重65公斤,身高170",
        "温度零下5度",
        "面积0.5亩",
        "我是想问问低保",
    ],
)
def test_leaves_alone(text: str) -> None:
    assert mask_pii(text) == text
    assert find_pii(text) == []


def test_spans_carry_kind_and_position_only() -> None:
    text = f"我叫张三,电话13812345678,身份证{VALID_ID}"
    spans = find_pii(text)
    assert [s.kind for s in spans] == [PiiKind.NAME, PiiKind.MOBILE, PiiKind.ID_CARD]
    assert spans[1] == PiiSpan(PiiKind.MOBILE, 7, 18)
    assert text[spans[2].start : spans[2].end] == VALID_ID


def test_mask_is_idempotent() -> None:
    once = mask_pii(f"我叫张三,电话13812345678,卡号{VALID_CARD_19}")
    assert mask_pii(once) == once


@pytest.mark.parametrize(
    ("number", "ok"),
    [(VALID_ID, True), (VALID_ID_X, True), ("110101199003074321", False), ("1101", False)],
)
def test_id_checksum(number: str, ok: bool) -> None:
    assert id_checksum_ok(number) is ok


@pytest.mark.parametrize(
    ("number", "ok"),
    [(VALID_CARD_16, True), (VALID_CARD_19, True), ("1234567890123456", False), ("12a4", False)],
)
def test_luhn(number: str, ok: bool) -> None:
    assert luhn_ok(number) is ok
