"""Compositional urgency: co-occurrence, gap tolerance, cancel, immediacy override, blind bars."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlp.classifier import Classifier
from nlp.evaluate import evaluate, load_examples
from nlp.rules import UrgentCompose, UrgentGroup, UrgentRules
from nlp.urgency import FirstCharIndex, UrgencyDetector

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def classifier() -> Iterator[Classifier]:
    yield Classifier.from_config(ROOT / "config")


def _alt(*sources: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{s})" for s in sources))


def _group(name: str, hazards: str, **extra: object) -> UrgentGroup:
    return UrgentGroup(
        name=name,
        label=name,
        numbers=("120",),
        category="public_safety",
        words=(),
        patterns=(),
        before=(),
        after=(),
        hazards=_alt(hazards),
        **extra,  # type: ignore[arg-type]
    )


# A tiny vocabulary, so these tests pin the mechanism rather than the shipped word lists.
RULES = UrgentRules(
    kind="help",
    window_before=8,
    window_after=8,
    shields=(),
    before=(),
    after=(),
    groups=(
        _group("gas", "煤气.{0,3}味"),
        _group("water", "(塘|河).{0,6}掉", needs_person=True),
        _group("injury", "电线"),
    ),
    compose=UrgentCompose(
        persons=_alt("人", "他", "孩子"),
        harm=_alt("不醒", "叫.{0,2}不[应醒]", "在里面"),
        severe=_alt("一动不动"),
        severe_group="injury",
        immediacy=_alt("正在", "刚才", "快来人"),
        cancel=_alt("去年", "如果"),
        cancel_message=_alt("平台说不管"),
    ),
)


@pytest.fixture(scope="module")
def detector() -> UrgencyDetector:
    return UrgencyDetector(RULES)


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        # hazard alone is not enough; hazard + harm state in the same sentence is
        ("屋里有煤气味", ()),
        ("屋里有煤气味,我妈叫不醒", ("gas",)),
        # gap tolerance: an extra 的 (or two) inside the hazard and the state
        ("全是煤气的味道,婆婆叫也不应", ("gas",)),
        ("煤气管子的味很冲,人在里面", ("gas",)),
        ("煤气管子坏了好几天的味道,人在里面", ()),  # gap too long
        # hazard + immediacy
        ("刚才满屋煤气的味", ("gas",)),
        # hazard and state in different sentences do not compose
        ("屋里有煤气味。我妈叫不醒", ()),
        # needs_person: a water hazard without a person is not urgent
        ("塘边的石头掉了,在里面", ()),
        ("孩子在塘边玩掉下去了,人在里面", ("water",)),
        # a severe state with a person raises the severe group
        ("有人倒在路边一动不动", ("injury",)),
        ("路边一块石碑一动不动", ()),
        # the state must be other words than the hazard
        ("电线在里面", ("injury",)),
    ],
)
def test_composition(detector: UrgencyDetector, text: str, groups: tuple[str, ...]) -> None:
    assert tuple(a.group.name for a in detector.detect(text, ())) == groups


@pytest.mark.parametrize(
    ("name", "history"),
    [
        (
            "nlp_urgent_blind5a.jsonl",
            "blind at f8e87aa: 46/60 with 4 false alarms of 60 (7adf8f6: 47/60, 5); read: "
            "no longer blind",
        ),
        (
            "nlp_urgent_blind5b.jsonl",
            "blind at f8e87aa: 41/60 with 4 false alarms (7adf8f6: 40/60, 4); 42/60 after 5a's "
            "fixes alone; then read: no longer blind",
        ),
    ],
)
def test_short_urgency_sets_5(classifier: Classifier, name: str, history: str) -> None:
    """Short chat messages by writers who saw no rules: 60 present dangers said every which way
    (calmly, in dialect, as a panicked question) and 60 look-alikes (past, questions, jokes,
    pets, drills, a rescued person)."""
    examples = load_examples(DATA / name)
    assert len(examples) == 120
    result = evaluate(classifier, examples)
    assert result.urgent_found >= 59, history
    assert result.false_alarms == 0, history


@pytest.mark.parametrize(
    ("name", "found", "false_alarms", "history"),
    [
        (
            "nlp_urgent_blind6a.jsonl",
            50,
            0,
            "blind at 3ad9941: 38/50 with 1 false alarm (7adf8f6: 36/50, 3); read: no longer blind",
        ),
        (
            "nlp_urgent_blind6b.jsonl",
            33,
            2,
            "blind at 3ad9941: 30/50 with 2 false alarms (7adf8f6: 25/50, 2); 33/50 after 6a's "
            "fixes, still blind: fresh wording of a short emergency is still missed one time in "
            "three",
        ),
    ],
)
def test_short_urgency_sets_6(
    classifier: Classifier, name: str, found: int, false_alarms: int, history: str
) -> None:
    """Short messages by writers told to use situations a rule-writer might not think of (a
    coin in the throat, a harvester, bees, a roof blown off): 50 present dangers, 50 look-alikes.
    Floors at what the rules measure now."""
    examples = load_examples(DATA / name)
    assert len(examples) == 100
    result = evaluate(classifier, examples)
    assert result.urgent_found >= found, history
    assert result.false_alarms <= false_alarms, history


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("去年屋里有煤气味,我妈叫不醒", False),  # past
        ("如果有煤气味,人叫不醒怎么办", False),  # hypothetical
        ("去年出过事,刚才又有煤气味,我妈叫不醒", True),  # immediacy overrides cancel
        ("去年出过事。屋里有煤气味,我妈叫不醒", True),  # cancel is per sentence
        ("煤气味,人叫不醒。平台说不管", False),  # message-wide cancel
        ("刚才煤气味,人叫不醒,平台说不管", False),  # ... which immediacy does not override
    ],
)
def test_cancel_and_immediacy(detector: UrgencyDetector, text: str, urgent: bool) -> None:
    assert bool(detector.detect(text, ())) is urgent


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("俺家灶房里全是煤气的味道,婆婆头晕站不住了", {"119"}),
        ("村口有人喝多了拿酒瓶子砸人,血流了一地", {"110"}),
        ("两个孩子在塘边玩,现在只剩一只鞋在岸上,人不见了", {"120", "110"}),
        ("有个人倒在村道边一动不动,叫他也不应", {"120"}),
        ("后山石头滚下来砸塌了半间屋子,老王还在里面", {"119", "110"}),
        ("工地上有人碰到电线被电倒了,现在不醒人事", {"120"}),
    ],
)
def test_shipped_rules_compose(classifier: Classifier, text: str, numbers: set[str]) -> None:
    result = classifier.classify(text)
    assert result.urgent
    assert numbers <= set(result.emergency_numbers)


@pytest.mark.parametrize(
    "text",
    [
        "我是外卖骑手,送餐路上被车撞了,平台说不管",
        "去年冬天厨房煤气的味道很重,后来换了管子",
        "如果孩子掉进塘里怎么办,建议装护栏",
        "晚上有人烧秸秆,浓烟呛人",
        "一动不动地站了半天岗,累得不行",
    ],
)
def test_shipped_rules_cancel(classifier: Classifier, text: str) -> None:
    assert not classifier.classify(text).urgent


def test_urgent_blind3_bars(classifier: Classifier) -> None:
    """Written before the compositional work: baseline 13/44 with 6 false alarms; 41/44, 2 after
    it; 44/44 with none since its last misses were read (no longer blind)."""
    examples = load_examples(DATA / "nlp_urgent_blind3.jsonl")
    assert len(examples) >= 80
    assert sum(e.urgent for e in examples) >= 40
    result = evaluate(classifier, examples)
    assert result.urgent_found >= 44
    assert result.false_alarms == 0


def test_urgent_blind4_bars(classifier: Classifier) -> None:
    """Written after the compositional work: 18/26 with no false alarm while blind; 26/26 since
    its misses were read (no longer blind)."""
    examples = load_examples(DATA / "nlp_urgent_blind4.jsonl")
    assert len(examples) >= 50
    assert sum(e.urgent for e in examples) >= 25
    result = evaluate(classifier, examples)
    assert result.urgent_found >= 26
    assert result.false_alarms == 0


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("村口路灯坏了,有事打我电话13812345678", False),
        ("低保申请材料交了一个月了,有消息请打我手机", False),
        ("他喝了酒就打我,现在还在砸门", True),
        ("邻居又打我了,快来人", True),
    ],
)
def test_call_me_is_not_a_beating(classifier: Classifier, text: str, urgent: bool) -> None:
    assert classifier.classify(text).urgent is urgent


@pytest.mark.parametrize(
    "text",
    [
        "我身份证号110101199003071234,想问问低保怎么申请",
        "上个月电费扣了1190元,比平时多了好几倍",
    ],
)
def test_emergency_numbers_inside_longer_numbers_are_not_keywords(
    classifier: Classifier, text: str
) -> None:
    result = classifier.classify(text)
    assert not {"110", "119", "120"} & set(result.keywords), result.keywords
    assert not result.urgent


# A reservoir, pond dam or embankment in danger now (seepage growing, piping, muddy water boiling
# out, cracks widening, slumping, overtopping, a breach, a landslide-dammed river rising): these
# alarm, with the flood numbers.
DAM_DANGERS = [
    "村后山塘的坝体渗水越来越厉害,坝脚浑水往外冒,下游还住着十几户人家,快派人来看看",
    "水库大坝下面出现管涌了,水还在往外冒,请马上通知下游的人撤离",
    "河堤裂了一道大口子,裂缝还在扩大,雨还在下,堤下面就是村子",
    "塘坝坝顶开裂,土体松动往下滑,下游住户正在转移,请水利站赶紧来人",
    "暴雨下了一夜,村里的山塘水已经漫过坝顶了,塘坝随时会溃,下游有二十多户",
    "上游山体滑坡把河道堵死了,水位一直在涨,上游几户人家的房子快被淹了",
    "河堤决口了,洪水正往村里灌,我们家老人还在屋里",
    "大坝坝体渗水,浑水一股股往外冒,村里已经通知下游住户做好转移准备",
]


@pytest.mark.parametrize("text", DAM_DANGERS)
def test_dam_danger_alarms(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.urgent
    assert {"119", "110"} <= set(result.emergency_numbers)
    assert result.category == "public_safety"


# ... but a dam's repair works, an old unrepaired seepage, fishing, silt, resettlement, a road
# on a levee or a courtyard (院坝) are no alarm; nor is how long a matter has dragged on
# (到现在快一年了, 至今没人治理).
DAM_CALM = [
    "请问我们村的小水库除险加固工程什么时候开工,施工期间还能不能放水灌溉",
    "去年就发现山塘坝脚有点渗水,跟村里说过,一直没人来修",
    "村里的水库承包给外村人养鱼了,我们村民钓鱼都不让,承包权是怎么定的",
    "建议村里趁冬天水少把山塘的淤泥清一清,塘都快淤平了,蓄不了多少水",
    "我们是水库移民,后期扶持补助一年有多少钱,在哪里领",
    "河堤上有人偷偷挖沙,堤坝被挖得坑坑洼洼,建议水利部门管一管",
    "大坝上的路灯坏了好几个月了,晚上散步看不清路",
    "水库管理所收了钓鱼费却不给开票,这合理吗",
    "村道塌方到现在快一年了,只用沙袋垒了一下",
    "河堤上的路开裂了好久了,越来越严重,电动车都不好骑",
    "水库管理房漏水越来越厉害,也没人修",
    "后山塌方至今没人治理,大家担心再塌一次",
    "院坝裂了好几条缝,越来越宽",
    "跳坝坝舞的音响太吵了,天天到晚上十点",
]


@pytest.mark.parametrize("text", DAM_CALM)
def test_dam_matters_and_durations_do_not_alarm(classifier: Classifier, text: str) -> None:
    assert not classifier.classify(text).urgent


@pytest.mark.parametrize(
    "text",
    [
        "煤气味越来越重了,从早上到现在还在漏,我妈头晕",
        "孩子早上出去到现在还没回来,河边只找到一只鞋",
    ],
)
def test_still_going_since_this_morning_alarms(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).urgent


# A person collapsed and unresponsive now (120), in short messages and letters; and calm texts
# that mention fainting, breathing or "没有反应" about an office.
def _collapse_letter(title: str, body: str) -> str:
    head = "尊敬的领导:您好!我是本县某镇某村的村民,今年五十多岁,在家务农。"
    return f"{title}\n{head}{body}恳请领导予以关注。此致敬礼!"


@pytest.mark.parametrize(
    "text",
    [
        "我妈刚才突然倒在地上,叫她没有反应,呼吸很弱,怎么办",
        "发现她倒在地上,叫她没有反应,呼吸很弱",
        "快来人,隔壁大爷晕倒在门口,叫不醒",
        "孩子突然抽搐,脸色发紫,喘不上气",
        "路边有个人倒在地上没反应了",
        _collapse_letter(
            "关于我母亲倒在家中无人救治的求助",
            "我下班回家,发现我母亲倒在卫生间的地上,叫她没有反应,呼吸很弱。我打了120,说救护车都派出去了要等。恳请领导帮忙协调。",
        ),
        _collapse_letter(
            "独居老人晕倒在家",
            "我是社区网格员,入户走访时发现独居的张大爷晕倒在床边,叫不醒,脸色发紫,口吐白沫。他的子女都在外地。恳请社区医院派医生过来。",
        ),
        _collapse_letter(
            "请帮帮我们",
            "我女儿在家里突然抽搐,嘴唇发紫,叫她也没有反应。我们住在山上,路不好走,救护车上不来。恳请乡里派人帮忙把孩子送到医院。",
        ),
        _collapse_letter(
            "关于邻居老人突发疾病的紧急反映",
            "现在是晚上九点,我发现对门的李大爷倒在楼道里,没有反应,喘不上气,嘴唇发紫。他家里没有别人。恳请社区马上派人过来帮忙。",
        ),
    ],
)
def test_collapsed_and_unresponsive_alarms_120(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.urgent
    assert "120" in result.emergency_numbers


@pytest.mark.parametrize(
    "text",
    [
        "我妈上个月晕倒过一次,现在想问问慢性病怎么报销",
        "请问社区什么时候组织急救培训,想学心肺复苏",
        "我爸呼吸不好很多年了,想申请慢性病补助",
        "反映了三次都没有反应,到底有没有人管",
        "我反映了三次都没反应",
        "他们对我的投诉没反应",
        "给村委会打电话没人接,低保的事情一直没有答复",
        "下周三学校搞应急演练,模拟学生晕倒后怎么急救",
        "我向街道反映路灯坏了,到现在都没有反应",
        _collapse_letter(
            "关于镇卫生院服务态度的反映",
            "我母亲患有慢阻肺,这几年一直呼吸不好,上个月在家晕倒过一次,送到镇卫生院后,医生态度很差,让我们在走廊等了两个小时。我们向卫生院反映了三次都没有反应,打院长电话也没人接。恳请卫健局核查处理。",
        ),
        _collapse_letter(
            "建议组织村民学习急救知识",
            "我们村老人多,去年有位老人在家里突然晕倒,家人不知道怎么急救。建议镇卫生院定期到村里开展急救培训,教大家遇到有人倒在地上、没有呼吸时怎么做心肺复苏。",
        ),
        _collapse_letter(
            "关于小区消防演练扰民的反映",
            "上周六小区物业组织消防和急救演练,演练内容有模拟老人晕倒、口吐白沫等情况,喇叭从早上七点响到中午,严重影响休息。我们向物业反映了多次都没有反应,希望街道督促物业以后提前通知。",
        ),
    ],
)
def test_calm_fainting_and_no_response_do_not_alarm(classifier: Classifier, text: str) -> None:
    assert not classifier.classify(text).urgent


# A systematic pass over the present dangers a village desk sees: each class alarms on a
# present-tense report, short and as a letter that mentions an earlier date or report, and its
# calm look-alikes (past incident, question, fear, suggestion, chronic pollution) do not.
def L(title: str, body: str) -> str:
    return f"{title}\n尊敬的领导:\n您好!{body}\n此致\n敬礼!\n村民 王某"


PRESENT_DANGERS: dict[str, list[str]] = {
    "locked": [
        "我家孩子被锁在车里了,太阳这么晒,车门打不开",
        "电梯突然停了,我和孩子被困在电梯里,现在很闷",
        L(
            "关于小区电梯困人的紧急求助",
            "我们小区3号楼的电梯今年3月12日就出过故障,向物业反映过多次。现在有一位老人和一个孩子被困在电梯里,已经半个小时了,里面很闷,孩子一直在哭,物业电话打不通,恳请马上派人过来救援。",
        ),
        L(
            "关于孩子被锁在车内的紧急求助",
            "今天中午在镇上超市门口停车场,一辆轿车里锁着一个两三岁的孩子,现在车里温度很高,孩子满脸通红在哭,车主找不到。上个月也有人反映过停车场管理问题。恳请立即派人过来救援。",
        ),
    ],
    "missing": [
        "我妈有老年痴呆,下午出去到现在没回来,天快黑了,手机也联系不上",
        "两个孩子上山砍柴到现在没回来,天快黑了,求大家帮忙搜救",
        L(
            "关于村里老人走失的紧急求助",
            "我父亲今年八十岁,有老年痴呆。去年5月他也走丢过一次,后来在邻村找到。今天上午他一个人出门,现在天快黑了还没有回来,手机联系不上,我们全家正在山上找。恳请马上派人帮忙搜救。",
        ),
    ],
    "suicide": [
        "有个人站在楼顶边上要跳楼,快来人",
        "我邻居刚才喝了农药,嘴里都是味",
        L(
            "关于邻居情绪失控的紧急求助",
            "我们楼下的张某因为欠债,上个月就说过不想活了,当时社区也来劝过。此刻他正站在6楼楼顶边上,说要往下跳,家人在旁边劝不住。恳请马上派民警和消防过来。",
        ),
    ],
    "falling": [
        "街边的广告牌被风吹得晃得厉害,随时可能掉下来,下面全是行人",
        "工地的脚手架正在倾斜,下面还有人在走",
        L(
            "关于临街广告牌即将坠落的紧急反映",
            "我们在镇中心街,去年10月就反映过这块广告牌固定不牢。现在刮大风,广告牌已经倾斜,正在晃动,随时可能坠落,下方人行道上还有很多行人和学生经过。恳请立即派人过来封路处置。",
        ),
    ],
    "wire": [
        "村口的电线掉在地上了,还在冒火花,旁边有小孩",
        "刮大风把高压线刮断了,正在冒火花",
        L(
            "关于村口电线断落的紧急反映",
            "我村的电线老化问题去年8月就反映过。刚才一阵大风,村口的一根电线掉在地上,现在还在冒火花,旁边就是放学的路,有孩子在附近。恳请供电所马上派人过来断电抢修。",
        ),
    ],
    "animal": [
        "有条狗正在咬人,孩子被狗咬了还在追",
        "我爸刚才被毒蛇咬了,腿越来越肿",
        L(
            "关于村里恶狗伤人的紧急求助",
            "村里张家的狗上个月就咬伤过人,向村委会反映过。刚才这条狗又把放学的一个孩子咬了,孩子腿上都是血,狗现在还在路口追人。恳请马上派人过来处理。",
        ),
    ],
    "vehicle": [
        "村口一辆货车翻车了,司机压在下面出不来",
        "拖拉机翻了,人压在下面",
        L(
            "关于村道翻车事故的紧急求助",
            "这段村道去年就出过事故。刚才一辆拖拉机在村口下坡翻车了,开车的大叔被压在下面,现在还出不来,正在流血。恳请马上派救护车和消防过来。",
        ),
    ],
    "drown": [
        "有个小孩掉进河里了,快来人",
        L(
            "关于孩子落水的紧急求助",
            "村前这条河去年7月就淹死过人。刚才有个孩子在河边玩掉进河里了,现在人还在水里扑腾,大人正在下水救。恳请马上派人过来。",
        ),
    ],
    "fire": [
        "厨房的液化气管子着了,火窜到柜子上了",
        L(
            "关于村民房屋着火的紧急求助",
            "我们村王某家的房子是老木房,去年就反映过电线老化。现在他家着火了,火越烧越大,浓烟很大,屋里可能还有老人。恳请马上派消防过来。",
        ),
    ],
    "gas": [
        "楼道里煤气味很重,对门家敲不开",
        L(
            "关于楼道燃气泄漏的紧急求助",
            "我们楼的燃气管道去年检修过。此刻楼道里燃气味非常重,越来越浓,对门家里有老人但敲门没人应。恳请燃气公司和消防马上派人过来。",
        ),
    ],
    "collapse": [
        "隔壁的老房子塌了,人还在下面",
        L(
            "关于危房倒塌的紧急求助",
            "村东头李家的老房子去年就被鉴定为危房。刚才房子突然塌了,李大爷现在还被压在下面,我们正在挖。恳请马上派人过来救援。",
        ),
    ],
    "violence": [
        "有人拿着刀在村口追着砍人",
        L(
            "关于邻里冲突持刀伤人的紧急求助",
            "我家和邻居因宅基地纠纷,去年就调解过。现在邻居拿着菜刀堵在我家门口,说要砍死我们,孩子吓得躲在屋里。恳请马上派民警过来。",
        ),
    ],
    "poison": [
        "孩子误食了老鼠药,现在在吐",
        L(
            "关于孩子误食农药的紧急求助",
            "今年4月村里刚开过农药安全讲座。刚才我家孩子误喝了放在窗台上的农药,现在一直在吐,脸色发白。我们正在往镇卫生院赶,恳请马上派救护车过来接应。",
        ),
    ],
    # The title names the danger; the opening says now (clock time, 此刻) or the letter calls for
    # rescue further down, past a greeting and the writer's introduction.
    "title": [
        L(
            "【超市停车场一名幼儿被反锁在轿车内】",
            "我是城东区一名顾客。现在是下午两点二十分,超市门口停车场一辆银色轿车里有个三岁左右的孩子,车窗都关着,孩子哭得满脸通红,车主一直联系不上。上周我也在这里反映过停车场的管理问题。",
        ),
        L(
            "老屋倒塌,一位老人被压在下面",
            "我是河口镇柳湾村三组村民。这几天一直下雨,村里赵家的土坯老屋后半边塌了下来,赵奶奶当时在灶房里。村里十几个人正在用手扒,可大梁太重搬不动。恳请马上派救援队带设备过来,人还在下面啊!",
        ),
        L(
            "放羊的大爷进山没回来,天快黑了,求救",
            "我是石门乡岩口村村民。我大伯今年七十四岁,平时下午三点就赶羊回来了,现在都晚上七点了还没回来,羊自己回来了一半,人不见了。我们组里的人已经上山找了两个多钟头。恳请马上组织人上山搜救。",
        ),
        L(
            "母亲走失至今未归,今夜气温零下十几度",
            "我母亲今年八十一岁,有阿尔茨海默症。今天上午九点多她自己出了门,到现在已经快十个小时了还没有一点消息,她没带手机,也没吃药。我们已经报了警,恳请领导协调各方帮忙留意寻人。",
        ),
    ],
    "violence_now": [
        "隔壁男人正在殴打他老婆,惨叫声一直不停",
        L(
            "楼下邻居还在打老婆,已经快一个小时了",
            "我住在老单位宿舍三楼。楼下那家男的又喝醉了,此刻还在屋里打他老婆,孩子一直在哭喊,我们敲门没人开。去年也发生过几次,社区调解过。恳请马上派民警过来。",
        ),
    ],
    "falling_wind": [
        "学校门口的脚手架被大风吹得摇晃,马上就要放学了",
        L(
            "楼顶广告牌在大风中倾斜,随时可能坠落",
            "今天下午起了大风,商业街楼顶那块大广告牌的钢架已经断了一根,整块牌面正往马路一侧倾斜,随风剧烈晃动,不时有铁皮碎片掉到人行道上。恳请立即派人来封路处置。",
        ),
    ],
    "short_more": [
        "楼上有人往下扔砖头,已经砸破了一个人的头",
        "采石场放炮把一个工人埋住了半个身子",
        "我表弟在鱼塘里被水草缠住了,人一下子就沉了",
        "后山的土一下子滑下来,把修路的两个工人盖住了",
        "一辆三轮车翻进了水沟,开车的老头头朝下没动静",
        "村委会旁边的小饭馆着火了,浓烟往外冒,听说厨师没出来",
        "水一下子涨到腰那么深了,我家二楼困着四个人",
        "孩子喝了爸爸放在窗台上的白酒,现在浑身发红喘不上来",
    ],
    # Emergencies that hold the words of this round's cancel rules (一旦, 不堪设想, a smell, 被…拉
    # 上来, 有的人): each rule must leave them standing.
    "despite_cancels": [
        "厨房着火了,火越来越大,一旦烧到煤气罐后果不堪设想",
        "工厂毒气泄漏,有的人已经晕倒了",
        "孩子掉进臭水沟里了,沉下去了",
        "孩子掉进化粪池了,臭气熏天,人沉下去了",
        "他刚被拉上来,没有呼吸了",
    ],
    "medical": [
        "我爸突然倒在地上叫不醒",
        L(
            "关于老人突发疾病的紧急求助",
            "我母亲患高血压多年。刚才她在家里突然晕倒,现在叫不醒,呼吸很弱。恳请马上派救护车过来。",
        ),
    ],
}
CALM_LOOKALIKES = [
    "去年夏天有个孩子被锁在车里,大家停车要注意",
    "电梯老是坏,担心万一把人困在电梯里,请物业检修",
    "请问孩子走失了应该先报警还是先找村委会",
    "我家老人有老年痴呆,担心他走失,能不能办个防走失手环",
    "建议在河边装护栏,防止孩子溺水",
    "心理咨询热线是多少,想了解一下",
    "街上的广告牌有点歪,担心万一掉下来砸到人,建议检查一下",
    "工地塔吊晚上施工噪音很大,影响休息",
    "村口的电线很乱,存在安全隐患,建议整改",
    "村里流浪狗很多,担心咬到孩子,希望管一管",
    "请问被狗咬了打狂犬疫苗能报销吗",
    "3月5日村口一辆货车翻车了,司机已经出院,想问赔偿怎么处理",
    "请问农药怎么存放比较安全,怕孩子误食",
    "村边的河被污染了,河里有死鱼,水发黑发臭,越来越严重,希望环保部门来查",
    L(
        "关于村前河道污染的反映",
        "我们村前的小河这两年被上游养殖场污染,现在河水发黑发臭,经常有死鱼漂在水面上,越来越严重,夏天臭味让人没法开窗。多次反映没人管,恳请环保部门核查处理。",
    ),
    L(
        "关于池塘污染的反映",
        "村里的大池塘现在水发黑发臭,这几天死鱼越来越多,养鱼户损失很大。怀疑是附近工厂排污,恳请有关部门尽快来调查处理。",
    ),
    L(
        "关于小区电梯安全的建议",
        "我们小区电梯已经用了十五年,今年6月8日曾发生困人事件,当时困了半小时后被救出。担心以后再出问题,建议物业尽快更换电梯。",
    ),
    L(
        "关于加强防溺水宣传的建议",
        "每年夏天都有孩子到河边游泳,去年邻村就有孩子溺水。建议学校和村委会加强防溺水宣传,在河边设置警示牌和护栏。",
    ),
    "厨房的燃气灶打不着火,是不是没气了,找谁来修",
    "自来水里有股怪味,跟煤气味差不多,是不是水厂出问题了",
    "听说邻村昨天有个孩子掉河里了,大家看好自家孩子",
    "楼道里堆满杂物,一旦着火后果不堪设想",
    "有的孩子遇到挫折就想不开,建议学校配心理老师",
    "河边的井水现在谁也不敢喝了,河里全是死鱼",
    "上个月他爬上楼顶说要跳,被大家拉了回来,现在还是想不通",
    L(
        "村口桥头没有护栏,请尽快安装",
        "我们村口的小桥两边一直没有护栏,桥下是一条深沟。上个星期邻居家的大哥晚上骑电动车回家,连人带车翻到沟里,头破了缝了八针,现在还在医院住着。"
        "村里说这座桥归公路段管,公路段说是村里自己修的。恳请有关部门明确管理责任,尽快给桥装上护栏、立上警示牌。",
    ),
    L(
        "关于河道偷排污水的反映",
        "我们村边的小河这半年一直有人偷排,河里死鱼越来越多,臭气熏得人头晕恶心。我们沿河走了一段,发现在厂房后墙有一根管子往河里排浑水。现在村里人都不敢用河边的井水了,恳请环保部门查处。",
    ),
    L(
        "关于母亲赡养问题的求助",
        "我母亲前年中风,现在一个人住在老屋,半边身子不利索,吃饭靠邻居送。两个哥哥都不愿意接她。恳请司法所组织调解,把赡养费和轮流照顾写成协议。",
    ),
    L(
        "关于村里老人被骗的反映",
        "今年5月村里来了一伙人搞讲座卖保健品,我父亲当时就买了三千多元。现在发现这些东西都是假货,家里老人还天天吃。恳请市场监管部门查处。",
    ),
    L(
        "关于广告牌安全隐患的反映",
        "镇中心街有块广告牌固定螺丝生锈,有些倾斜,万一刮大风可能坠落,下方经常有行人经过。恳请城管部门尽快检查加固。",
    ),
]

# Letters whose title names a danger as their topic (a question, a past event, a standing
# hazard, a recurring incident, a figure of speech) while the body says 现在 about something
# else: none is an emergency.
_BACKGROUND = (
    "我们这里住户多,老人和孩子也多,这件事大家议论了很久,在业主群和村民群里说过不止一次,"
    "也向社区和村里反映过,一直没有一个明确的说法,所以写信给领导,希望能够重视。"
)
DANGER_TITLED_CALM = [
    L(
        "关于电梯困人事故赔偿的反映",
        "我是幸福小区业主。现在是晚上八点,我写这封信反映今年3月电梯困人的事:当时我母亲被困了四十分钟,事后物业一直不肯赔偿医药费。"
        + _BACKGROUND,
    ),
    L(
        "孩子被锁在车内的教训",
        "现在天气越来越热,去年邻村就有孩子被锁在车里出了事。建议多宣传,提醒家长下车时一定要带好孩子,商场停车场也要多巡查。"
        + _BACKGROUND,
    ),
    L(
        "燃气泄漏怎么办?",
        "现在天冷了,家家户户都用燃气取暖做饭。请问家里闻到燃气味应该先做什么?能不能请燃气公司到社区讲一讲安全知识?"
        + _BACKGROUND,
    ),
    L(
        "老人走失了怎么找",
        "我是社区网格员。现在社区里独居老人越来越多,不少有老年痴呆,走丢了家属很着急。建议给老人配防走失手环,也请问走失后应该先找谁。"
        + _BACKGROUND,
    ),
    L(
        "楼道堆放杂物存在火灾隐患",
        "现在我们单元楼道里堆满了纸箱和旧家具,还有人拉线给电动车充电,一旦着火后果不堪设想。恳请物业和消防部门督促清理。"
        + _BACKGROUND,
    ),
    L(
        "孩子溺水身亡,谁来担责",
        "今年7月我儿子在村后没有护栏的水塘溺水身亡,现在已经过去三个月了,村里和承包人互相推诿。恳请有关部门调查处理。"
        + _BACKGROUND,
    ),
    L(
        "这个路口半年出了五起车祸",
        "现在我们每天接送孩子都要经过这个路口,大货车开得飞快,半年里已经出了五起车祸,有人被撞伤。恳请交警部门设置红绿灯和减速带。"
        + _BACKGROUND,
    ),
    L(
        "救救我们的血汗钱",
        "我们是在工地干活的二十多个农民工,现在已经是腊月了,包工头拖欠工钱十多万元不给,电话也不接。恳请劳动监察部门帮我们讨回工钱。"
        + _BACKGROUND,
    ),
]


@pytest.mark.parametrize("text", DANGER_TITLED_CALM)
def test_letters_titled_with_a_danger_they_do_not_report_do_not_alarm(
    classifier: Classifier, text: str
) -> None:
    assert len(text) >= 150, "too short to be read as a letter"
    assert not classifier.classify(text).urgent


EMERGENCY_NUMBERS = {"110", "119", "120"}


@pytest.mark.parametrize("text", [t for texts in PRESENT_DANGERS.values() for t in texts])
def test_present_danger_classes_alarm(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.urgent
    assert set(result.emergency_numbers) & EMERGENCY_NUMBERS


@pytest.mark.parametrize("text", CALM_LOOKALIKES)
def test_danger_lookalikes_and_chronic_pollution_do_not_alarm(
    classifier: Classifier, text: str
) -> None:
    assert not classifier.classify(text).urgent


@pytest.mark.parametrize(
    "parts",
    [
        ["(?P<a>煤气.{0,4}味)", "(?P<b>(塘|河)边[^。]{0,4}玩)", "(?P<c>(?<=在)打人)"],
        # .x can start with any character: every position is tried against all parts.
        ["(?P<a>煤气.{0,4}味)", "(?P<b>.x)"],
    ],
)
def test_first_char_index_finds_what_the_alternation_finds(parts: list[str]) -> None:
    """The per-character index matches exactly where the plain alternation matches."""
    whole = re.compile("|".join(f"(?:{part})" for part in parts))
    index = FirstCharIndex(parts)
    for text in [
        "楼道里煤气的味道很重",
        "孩子在塘边一个人玩",
        "他在打人",
        "ax 煤气味 bx",
        "平安无事",
    ]:
        expected = [
            (m.start(), m.group(0), m.lastgroup)
            for i in range(len(text))
            if (m := whole.match(text, i))
        ]
        found = [(m.start(), m.group(0), m.lastgroup) for m in index.matches(text)]
        assert found == expected
