"""Long formal letters (问政): title and request weighting, now-vs-then urgency, the bars."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nlp.classifier import Classifier
from nlp.evaluate import evaluate, load_examples

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
PETITIONS = (DATA / "nlp_petitions_a.jsonl", DATA / "nlp_petitions_b.jsonl")

# Padding that makes a message read as a letter: salutation, who is writing, sign-off.
HEAD = (
    "尊敬的领导:您好!我是本县某镇某村的村民,今年五十多岁,家里四口人,平时在家务农,"
    "今天写信向领导反映一件长期没有解决的事情,具体情况如下:"
)
TAIL = "以上情况属实,恳请领导在百忙之中予以关注,给群众一个答复。此致敬礼!某村村民,2024年6月。"


def letter(title: str, body: str) -> str:
    text = f"{title}\n{HEAD}{body}{TAIL}"
    assert len(text) >= 150, "too short to be read as a letter"
    return text


@pytest.fixture(scope="module")
def classifier() -> Iterator[Classifier]:
    yield Classifier.from_config(ROOT / "config")


# A letter that tells of then, of again-and-again, of policy or of an institution is no alarm.
@pytest.mark.parametrize(
    "text",
    [
        letter(
            "关于去年医疗事故处理结果的申诉",
            "去年八月我父亲在县医院做手术时大出血,抢救后转入重症监护室,医院至今不肯给说法。",
        ),
        letter(
            "夜市周边经常发生斗殴,恳请加强治安管理",
            "夜市每到周末就有人酒后打架,有人拿着酒瓶砸人,派出所来了又走,一直没有根治。",
        ),
        letter(
            "请问燃气泄漏报警器是否必须安装",
            "燃气公司上门说家里必须安装燃气泄漏报警器,否则不给通气,请问是否有相关政策规定。",
        ),
        letter(
            "关于120急救中心派车延误的投诉",
            "今年二月我母亲突发脑梗,我们拨打120后等了一个多小时救护车才到,耽误了治疗。",
        ),
        letter(
            "液化气价格比邻县高出三成",
            "我县瓶装液化气被一家公司垄断,一罐气比邻县贵三十元,送气还要另收钱,煤气罐也不检测。",
        ),
        letter(
            "养猪场粪污直排河道,臭气熏天",
            "养猪场长期把粪水排进河里,河里的鱼都死了,晚上臭得人喘不过气,老人孩子都闹肚子。",
        ),
    ],
)
def test_letters_about_then_do_not_alarm(classifier: Classifier, text: str) -> None:
    assert not classifier.classify(text).urgent


# ... but a letter that says now (此刻, 就在刚才, 正在) about a present danger stays urgent.
@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        (
            letter(
                "紧急求助:楼下正在冒烟",
                "本想反映楼下群租房的消防隐患,可就在刚才,楼下窗户开始往外冒黑烟,楼道里全是烟。",
            ),
            ("119",),
        ),
        (
            letter(
                "电梯困人,物业电话打不通",
                "此刻我父亲被困在电梯里已经半个小时,他有心脏病,刚才说喘不上气,物业没人接电话。",
            ),
            ("119", "110"),
        ),
        (
            letter(
                "紧急:路面刚刚塌陷,有人掉进坑里",
                "就在刚刚,路口的路面突然塌陷,一名骑车的人连人带车掉进坑里,现在人还在坑底。",
            ),
            None,
        ),
        (
            letter(
                "紧急求助:独居老人摔倒在家",
                "就在刚才我听到楼下独居的张奶奶在屋里喊救命,她说摔在卫生间起不来了,门从里面反锁。",
            ),
            ("120",),
        ),
    ],
)
def test_letters_about_now_stay_urgent(
    classifier: Classifier, text: str, numbers: tuple[str, ...] | None
) -> None:
    result = classifier.classify(text)
    assert result.urgent
    assert result.deadline_hours is not None
    if numbers is not None:
        assert set(numbers) <= set(result.emergency_numbers)


def test_short_messages_keep_their_alarms(classifier: Classifier) -> None:
    """The letter rules do not touch village messages: the same danger, short, still alarms."""
    assert classifier.classify("楼下着火了,火很大,快来人").urgent
    assert classifier.classify("有个孩子掉进河里了").urgent


# The matter is in the title and the request, not in what the body happens to mention.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            letter(
                "乡村教师生活补助半年未发放",
                "我们是几所乡镇学校的一线老师,这笔补助是县里承诺的,至今一分钱都没有发放。",
            ),
            "labor_wages",
        ),
        (
            letter(
                "某楼盘逾期交房一年半,开发商拒不给说法",
                "我们买的房子合同约定去年交房,开发商一拖再拖,小区物业也没人管,业主每月还着房贷。",
            ),
            "land_housing",
        ),
        (
            letter(
                "在外地缴存的公积金能否在老家买房贷款",
                "我在外地一家公司工作了八年,一直缴存住房公积金,想回老家县城买房,单位已经开了证明。",
            ),
            "land_housing",
        ),
        (
            letter(
                "县图书馆新馆建成两年仍未开放",
                "新图书馆位于城东新区,早就完工了,周末想带孩子去看书,却一直大门紧锁。",
            ),
            "other",
        ),
        (
            letter(
                "快递公司丢失包裹拒不赔偿",
                "我开了一家小茶叶店,通过快递公司寄出的一箱茶叶丢了,公司只肯按运费的三倍赔偿。",
            ),
            "market_food",
        ),
        (
            letter(
                "邻居饲养大型犬不拴绳",
                "邻居家养的大狗经常跑出来,已经咬伤过两个村民,派出所来了只是口头教育。",
            ),
            "neighbor_dispute",
        ),
    ],
)
def test_title_and_request_name_the_matter(
    classifier: Classifier, text: str, category: str
) -> None:
    result = classifier.classify(text)
    assert result.category == category
    assert result.keywords, "the card must show the matched words"


def test_title_outweighs_the_body(classifier: Classifier) -> None:
    body = "村里的路坑坑洼洼,学校门口的路灯也不亮,垃圾池也没人清运,"
    roads = classifier.classify(letter("关于村道路面坑洼的反映", body))
    waste = classifier.classify(letter("关于村口垃圾池无人清运的反映", body))
    assert (roads.category, waste.category) == ("roads_traffic", "environment")


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("恳请督促村里修复村道", "complaint"),
        ("请问农村低保怎么办理", "consultation"),
        ("建议在全县推行垃圾分类", "suggestion"),
    ],
)
def test_letter_kind_from_title(classifier: Classifier, title: str, kind: str) -> None:
    body = "这件事情关系到全村群众的切身利益,希望有关部门重视,我们也多次向村里反映过,"
    assert classifier.classify(letter(title, body)).kind == kind


def test_petition_bars(classifier: Classifier) -> None:
    """The hand-labelled petition sets (232 long letters), tuned on three quarters of each.
    Measured: category 0.961, kind 0.931, urgent 12/12, no false alarm (before: 0.724, 0.780,
    10/12, 8). The floors sit a little below, and at the issue's bars where those are higher."""
    examples = [e for path in PETITIONS for e in load_examples(path)]
    assert len(examples) == 232
    result = evaluate(classifier, examples)
    assert result.accuracy >= 0.94
    assert result.kind_accuracy >= 0.90
    assert result.urgent_recall == 1.0
    # <= 1 false alarm per 350 letters, scaled to this set: at most 0.66, so none.
    assert result.false_alarms * 350 <= len(examples)


BLIND = [
    ROOT / "tests" / "data" / "nlp_petitions_blind_a.jsonl",
    ROOT / "tests" / "data" / "nlp_petitions_blind_b.jsonl",
]


def test_blind_petitions(classifier: Classifier) -> None:
    """128 letters written after the tuning by people who never saw the rules, and never tuned
    on. Measured: category 0.953, kind 0.945, urgent 5/6, one false alarm. The floors are the
    measured values: the missed emergency (a gas smell "现在" on the stairs, in a letter that
    opens with 紧急) is a known gap left for the next work, not hidden by a looser assertion."""
    examples = [e for path in BLIND for e in load_examples(path)]
    assert len(examples) == 128
    result = evaluate(classifier, examples)
    assert result.accuracy >= 0.95
    assert result.kind_accuracy >= 0.94
    assert result.false_alarms <= 1
    assert result.urgent_recall >= 5 / 6
