"""Hostile input: markup in names and words, huge emoji texts, probing ticket numbers, supporters
reading others' words, and an installed desk whose config lives outside the source tree."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import render
from bot.clock import FakeClock
from bot.dto import EventView, TicketDetail, TicketView
from bot.errors import TicketNotFound
from bot.lengths import MESSAGE_LIMIT, cut_utf16, utf16_len
from bot.sandbox.emulated import EmulatedDesk, emulated_desk
from bot.sandbox.emulator.formatting import parse_html
from bot.texts import Html, Texts
from tests.conftest import CONFIG, START
from tests.support import press, resident, to

ZONE = ZoneInfo("Asia/Shanghai")
EMOJI = "😀"
FAMILY = "👨\u200d👩\u200d👧"  # one emoji of five code points, eight UTF-16 units
MARKUP = "x<y & <b>A</b> \"q\" 'a' &amp;"


@pytest.fixture
def texts() -> Texts:
    return Texts.load(CONFIG)


@pytest.fixture
def running(limited: EmulatedDesk) -> Iterator[EmulatedDesk]:
    """The flows here run with Telegram's flood limits on both sides, as the desk meets them,
    and never draw a 429."""
    yield limited
    assert limited.emu.flood_refusals == []


def shown(html: str) -> str:
    """The text a Telegram client shows; raises like Telegram on markup it refuses."""
    return parse_html(html)[0]


def ticket_view(text: str, **changes: Any) -> TicketView:
    values: dict[str, Any] = {
        "id": 1,
        "number": "2026-000001",
        "status": "open",
        "category": "environment",
        "category_label": "环境卫生",
        "kind": "complaint",
        "kind_label": "投诉",
        "urgent": False,
        "complexity": "general",
        "place_id": "qingxi",
        "place_name": "青溪村",
        "source": "group",
        "text": text,
        "keywords": ("垃圾",),
        "confidence": 0.9,
        "created_at": START,
        "due_at": START + timedelta(days=3),
        "resident_name": "张三",
    }
    values.update(changes)
    return TicketView(**values)


# --- 1. HTML injection -------------------------------------------------------------------------


def test_texts_escape_values_but_not_html_or_templates(texts: Texts) -> None:
    ack = texts(
        "group.ack",
        name="A<b>",
        kind="投诉",
        number="2026-000001",
        category="x<y",
        due=Html("<b>明天</b>"),
    )
    assert isinstance(ack, Html)
    assert "A&lt;b&gt;" in ack and "x&lt;y" in ack and "<b>明天</b>" in ack
    assert "<code>2026-000001</code>" in ack, "the template itself stays HTML"
    assert "已收到 A<b> 的投诉" in shown(ack)
    # Format specs still apply to the values they are written for.
    assert texts("format.today", hour=7, minute=5) == "今天 07:05"
    assert all(isinstance(v, Html) for v in texts.section("status").values())


@pytest.mark.parametrize("name", ["A<b>", "x<y", "&", "<i>", "</b>", "a&amp;b"])
def test_every_renderer_survives_markup_in_every_value(texts: Texts, name: str) -> None:
    now, zone = START, ZONE
    view = ticket_view(
        f"{name} 说:{MARKUP}",
        resident_name=name,
        place_name=f"{name}村",
        category_label=name,
        kind_label=name,
        keywords=(name, "垃圾"),
    )
    card = shown(render.card(texts, view, zone, now))
    assert f"群众:{name}" in card and f"{name}村" in card and MARKUP in card
    detail = TicketDetail(view, (EventView(now, "resident", name, {}),), reporter=True)
    assert MARKUP in shown(render.detail(texts, detail, zone, now))
    assert name in shown(render.my_list(texts, [view], zone, now))
    assert shown(render.status(texts, name)) == name
    assert shown(texts("errors.bad_ticket_number", raw=name)).startswith(f"“{name}”")


async def test_markup_in_a_name_and_a_report_in_a_group(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    user = emu.user(5001, "A<b>")
    await emu.send_text(user, group, f"/ts 村口垃圾三天没人收了 {MARKUP}")
    await emu.settle()
    ack = emu.last_message(group)
    assert ack is not None and "已收到 A<b> 的投诉" in ack["text"]
    card = emu.last_message(running.admin_of("qingxi"))
    assert card is not None and "群众:A<b>" in card["text"] and MARKUP in card["text"]


async def test_markup_in_a_name_and_words_in_private(running: EmulatedDesk) -> None:
    emu = running.emu
    user = emu.user(5002, "x<y")
    chat = emu.private_chat(user)
    await emu.send_text(user, chat, "/start")
    greeting = await emu.wait_for("sendMessage", to(chat))
    assert greeting.ok and "您好,x<y!" in greeting.response["text"]
    await emu.settle()  # the village question follows the greeting
    mark = emu.mark()
    await emu.send_text(user, chat, "/ticket <b>")
    refusal = await emu.wait_for("sendMessage", to(chat), since=mark)
    assert refusal.ok and "“<b>”不是有效的工单号" in refusal.response["text"]
    user, chat = await resident(running, 5003, "</b>&")
    await emu.send_text(user, chat, f"村口垃圾没人收 {MARKUP}")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert draft.ok and MARKUP in draft.response["text"]
    await press(running, user, chat, draft, "✅ 提交")
    card = emu.last_message(running.admin_of("qingxi"))
    assert card is not None and MARKUP in card["text"] and "群众:</b>&" in card["text"]
    await emu.send_text(user, chat, "/ticket 2026-000001")
    detail = await emu.wait_for("sendMessage", to(chat))
    assert detail.ok and MARKUP in detail.response["text"]


# --- 2. Lengths in UTF-16 units ----------------------------------------------------------------


def test_utf16_len_counts_emoji_twice() -> None:
    assert utf16_len("路") == 1 and utf16_len(EMOJI) == 2 and utf16_len("a😀b") == 4


def test_cut_never_splits_a_character_or_an_emoji_sequence() -> None:
    assert cut_utf16("a" + EMOJI, 2) == "a", "not half a surrogate pair"
    assert cut_utf16("a" + EMOJI, 3) == "a" + EMOJI
    assert cut_utf16("a" + FAMILY, 4) == "a", "not the ZWJ sequence's first person alone"
    assert cut_utf16("a👍🏽", 3) == "a", "not the thumb without its skin tone"
    assert cut_utf16("e\u0301", 1) == "", "not the letter without its accent"
    assert cut_utf16("路" * 10, 0) == "" and cut_utf16("路" * 3, 5) == "路" * 3


def test_clip_marks_and_fits_the_budget(texts: Texts) -> None:
    assert render.clip(texts, "a<b", 10) == "a&lt;b"
    clipped = render.clip(texts, EMOJI * 3000, 1000)
    assert utf16_len(shown(clipped)) <= 1000
    assert shown(clipped).endswith("(全文 3000 字,已截断,完整内容已保存)")
    assert shown(clipped).startswith(EMOJI * 100)


@pytest.mark.parametrize("text", [EMOJI * 3000, "<" * 3000, "路" * 3000, FAMILY * 600])
def test_card_and_detail_fit_one_message(texts: Texts, text: str) -> None:
    zone = ZONE
    long_name = EMOJI * 64 + "<" * 64
    view = ticket_view(text, resident_name=long_name, supporters=999, latitude=1.0)
    card = shown(render.card(texts, view, zone, START))
    assert utf16_len(card) <= MESSAGE_LIMIT
    if utf16_len(text) > MESSAGE_LIMIT:
        assert "已截断" in card and utf16_len(card) > MESSAGE_LIMIT - 500, "as much as fits"
    else:
        assert text in card, "escaping does not count against the limit"
    events = tuple(EventView(START, "resident", "supporter_joined", {}) for _ in range(500))
    detail = shown(render.detail(texts, TicketDetail(view, events, reporter=True), zone, START))
    assert utf16_len(detail) <= MESSAGE_LIMIT and "已截断" in detail
    assert "更早的 470 条记录从略" in detail


async def test_a_3000_emoji_report_in_a_group_reaches_the_cadres(running: EmulatedDesk) -> None:
    emu, group = running.emu, running.group_of("qingxi")
    user = emu.user(5101, "赵六")
    await emu.send_text(user, group, "/ts " + EMOJI * 3000)
    await emu.settle()
    card = emu.last_message(running.admin_of("qingxi"))
    assert card is not None and "2026-000001" in card["text"]
    assert utf16_len(card["text"]) <= MESSAGE_LIMIT and "全文 3000 字" in card["text"]
    (ticket,) = await running.desk.tickets.all()
    assert ticket.text == EMOJI * 3000, "the full text stays in the database"
    assert (await running.desk.tickets.all())[0].admin_message_id == card["message_id"]


async def test_a_3000_emoji_report_in_private_reaches_the_cadres(running: EmulatedDesk) -> None:
    emu = running.emu
    user, chat = await resident(running, 5102, "钱七")
    await emu.send_text(user, chat, EMOJI * 3000)
    draft = await emu.wait_for("sendMessage", to(chat))
    assert draft.ok and "全文 3000 字" in draft.response["text"]
    await press(running, user, chat, draft, "✅ 提交")
    card = emu.last_message(running.admin_of("qingxi"))
    assert card is not None and "2026-000001" in card["text"] and "全文 3000 字" in card["text"]
    await emu.send_text(user, chat, "/ticket 2026-000001")
    detail = await emu.wait_for("sendMessage", to(chat))
    assert detail.ok and "全文 3000 字" in detail.response["text"]
    (ticket,) = await running.desk.tickets.all()
    assert ticket.text == EMOJI * 3000


# --- 3. /ticket probing ------------------------------------------------------------------------


async def test_someone_elses_ticket_reads_like_a_missing_one(running: EmulatedDesk) -> None:
    emu = running.emu
    owner, owner_chat = await resident(running, 5201, "张三")
    await emu.send_text(owner, owner_chat, "/ts 村里的路灯坏了好久")
    draft = await emu.wait_for("sendMessage", to(owner_chat))
    await press(running, owner, owner_chat, draft, "✅ 提交")
    prober = emu.user(5202, "王五")
    chat = emu.private_chat(prober)
    answers = []
    for number in ("2026-000001", "2026-000002"):
        await emu.send_text(prober, chat, f"/ticket {number}")
        reply = await emu.wait_for("sendMessage", to(chat))
        answers.append(str(reply.params["text"]).replace(number, "N"))
    assert answers[0] == answers[1] and "没有找到工单" in answers[0]
    await emu.send_text(prober, chat, "/ticket 12x")
    bad = await emu.wait_for("sendMessage", to(chat))
    assert "不是有效的工单号" in bad.params["text"], "a malformed number keeps its own text"
    for number in ("2026-000001", "2026-000002"):
        with pytest.raises(TicketNotFound):
            await running.desk.tickets.for_owner(prober.id, number)


# --- 4. Supporters see others' words masked ----------------------------------------------------

REPORT = "我叫王小明,电话13812345678,村口垃圾三天没人收了"


async def test_a_supporter_reads_the_ticket_masked(running: EmulatedDesk) -> None:
    emu = running.emu
    owner, owner_chat = await resident(running, 5301, "王小明")
    await emu.send_text(owner, owner_chat, REPORT)
    first = await emu.wait_for("sendMessage", to(owner_chat))
    await press(running, owner, owner_chat, first, "✅ 提交")
    supporter, chat = await resident(running, 5302, "李四")
    await emu.send_text(supporter, chat, "村口的垃圾堆好几天没人清运,臭死了")
    draft = await emu.wait_for("sendMessage", to(chat))
    await press(running, supporter, chat, draft, "🙋 我也遇到(2026-000001)")
    await emu.send_text(supporter, chat, "/ticket 2026-000001")
    detail = str((await emu.wait_for("sendMessage", to(chat))).params["text"])
    assert "138****5678" in detail and "王**" in detail and "村口垃圾" in detail
    assert "13812345678" not in detail and "王小明" not in detail
    assert "待受理" in detail and "有居民附议" in detail, "status and timeline are shown"
    item = await running.desk.tickets.for_owner(supporter.id, "2026-000001")
    assert not item.reporter and item.ticket.resident_name == ""
    await emu.send_text(owner, owner_chat, "/ticket 2026-000001")
    own = await emu.wait_for("sendMessage", to(owner_chat))
    assert REPORT in own.params["text"], "the reporter reads their own words as written"
    assert (await running.desk.tickets.for_owner(owner.id, "2026-000001")).reporter


# --- 5. Stopwords from the config folder -------------------------------------------------------


@pytest.fixture
async def installed(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[EmulatedDesk]:
    """A desk whose config folder is a copy elsewhere and whose source tree has no config/
    (as when installed from a wheel); the copy's stopwords drop the words two reports share."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    with (config / "stopwords.txt").open("a", encoding="utf-8") as fh:
        fh.write("\n村口\n垃圾\n没人\n天没\n")
    import nlp.similarity
    import nlp.textfeatures

    real = nlp.textfeatures.load_stopwords

    def source_tree_is_gone(config_dir: Path = nlp.textfeatures.DEFAULT_CONFIG_DIR) -> Any:
        if config_dir == nlp.textfeatures.DEFAULT_CONFIG_DIR:
            raise FileNotFoundError(config_dir / "stopwords.txt")
        return real(config_dir)

    monkeypatch.setattr(nlp.similarity, "load_stopwords", source_tree_is_gone)
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    async with emulated_desk(url, config, clock, poll_timeout=1) as world:
        yield world


async def test_duplicates_use_the_config_folders_stopwords(installed: EmulatedDesk) -> None:
    emu = installed.emu
    owner, owner_chat = await resident(installed, 5401, "张三")
    await emu.send_text(owner, owner_chat, "村口垃圾三天没人收了")
    first = await emu.wait_for("sendMessage", to(owner_chat))
    assert "请确认您的诉求" in first.params["text"], "the preview works without the source tree"
    await press(installed, owner, owner_chat, first, "✅ 提交")
    other, chat = await resident(installed, 5402, "李四")
    await emu.send_text(other, chat, "村口的垃圾堆好几天没人清运")
    draft = await emu.wait_for("sendMessage", to(chat))
    assert "请确认您的诉求" in draft.params["text"]
    assert "同一问题" not in draft.params["text"], "the shared words are this desk's stopwords"
