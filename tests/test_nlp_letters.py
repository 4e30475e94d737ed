"""Long formal letters (问政): title and request weighting, now-vs-then urgency, the bars."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nlp.classifier import Classification, Classifier
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


def read_signed(classifier: Classifier, text: str) -> Classification:
    """Classify `text` signed off like a letter (long enough to be read as one)."""
    text += SIGN
    assert len(text) >= 150, "too short to be read as a letter"
    return classifier.classify(text)


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


# Sign-off that brings a hand-written letter over [letter] min_chars.
SIGN = "此致敬礼!反映人:本村村民,联系电话一三八某某某某某某某某。"

# Letters written for this test (not taken from any labelled set) about a danger happening now,
# each said with a different cue: 现在 in the alarm's sentence or a 危险/紧急 head, 此时, 正在,
# 越涨越高, 人还在废墟下面, 今天上午, 已经一个多小时了, people evacuated, a call to send help now.
NOW_LETTERS = [
    (
        "危险!我们村后山现在烧起来了\n"
        "尊敬的镇领导:我是石桥村五组的村民。今天下午四点多,后山的松树林不知怎么起了火,"
        "风很大,火顺着山坡往村子这边烧,已经快到最上面那几户人家的柴房了。村里的青壮年都"
        "出去打工了,留在家里的多是老人和孩子,我们拿着水桶和扫把根本扑不过来。恳请镇里马"
        "上派消防车和扑火队过来!",
        ("119",),
    ),
    (
        "关于村口水库有孩子落水的紧急求助\n"
        "尊敬的领导:此时我正站在村口水库的堤坝上给您写这条留言。两个放学回家的孩子在水库"
        "边玩,其中一个脚下一滑掉进了水里,另一个跑回村里喊人,我们几个大人赶到时已经看不"
        "到孩子了,水面上只漂着一只鞋。恳请立即派救援队和打捞人员过来,孩子的父母都快急疯"
        "了,村里没有船,也没有人会深水游泳。",
        ("120",),
    ),
    (
        "恳请派出所立即出警制止\n"
        "尊敬的领导:我是幸福里小区3栋的业主。楼下302的男主人喝醉了酒,正在家里拿着菜"
        "刀追着砍他老婆,女人的哭喊声整栋楼都听得到,他们的孩子也在屋里。我们几个邻居不敢"
        "进去,已经打了110,但是到现在还没有看到民警。恳请领导督促派出所马上派民警过来"
        ",再拖下去要出人命了。",
        ("110",),
    ),
    (
        "关于镇中心小学旁民房倒塌压人的报告\n"
        "尊敬的镇领导:今天上午十点左右,镇中心小学东侧一栋准备拆除的老民房突然整体垮塌,"
        "两名拆房的工人没来得及跑出来,人还在废墟下面,我们能听到其中一个人在喊。施工队只"
        "有几个人,徒手挖不动,砖头和水泥板太重了。恳请领导协调消防和挖掘机到现场,我们村"
        "民也都在这里帮忙。",
        ("119",),
    ),
    (
        "紧急求助:我父亲现在倒在院子里叫不醒\n"
        "尊敬的领导:我叫李某,住在红星村七组。父亲今年七十三岁,有多年的心脏病,平时一直"
        "吃药。今天傍晚我在厨房做饭,出来时发现他侧身躺在鸡圈旁边,嘴唇发紫。村里的路这个"
        "月在修,救护车司机说车开不进来,要我们自己把人抬到镇上的公路边。我们家只有我和母"
        "亲两个女人,根本抬不动,恳请领导帮忙协调。",
        ("120",),
    ),
    (
        "关于河水漫进村子、老人被困的求助\n"
        "尊敬的领导:连下了两天暴雨,村前的河水越涨越高,已经漫进了村子,低洼处几户人家的"
        "水淹到了窗台。住在最里面的张大爷家只有老两口,腿脚不便,被困在二楼出不来,电话里"
        "说一楼的水还在往上涨。村干部说冲锋舟要从县里调,恳请领导尽快协调救援力量,把被困"
        "的老人接出来,谢谢。",
        ("119",),
    ),
    (
        "我家孩子放学没有回家,恳请帮忙寻找\n"
        "尊敬的领导:我是新民村的村民。我儿子今年八岁,在镇中心小学上二年级,下午四点半放"
        "学,走二十分钟就能到家。现在已经晚上七点多了,孩子还没回来,老师说他四点半就出了"
        "校门。我们把路上都找遍了,村后就是水库,天也快黑了。恳请领导帮忙联系派出所,组织"
        "人手帮我们一起找孩子。",
        ("110",),
    ),
    (
        "关于农贸市场一家饭店液化气泄漏的反映\n"
        "尊敬的领导:我是城南农贸市场的摊主。中午十二点左右,市场东门一家小饭店后厨的液化"
        "气罐阀门坏了,一直往外漏气,嘶嘶地响,整个东区都是液化气味。市场管理员已经把附近"
        "的摊主和顾客疏散到外面的马路上,饭店老板不敢进去关阀门。恳请立即派消防和燃气公司"
        "的人过来处理,市场里还有很多煤炉。",
        ("119",),
    ),
    (
        "电梯困人一个多小时,物业联系不上\n"
        "尊敬的领导:我住在锦绣花园5栋。我母亲和邻居家一个八岁的孩子被困在电梯里,卡在十"
        "二楼和十三楼之间,已经一个多小时了,里面又闷又热,孩子一直在哭,母亲说她胸口发闷"
        "。物业值班电话没人接,维保公司说要两个小时才能到。恳请领导赶紧派消防过来救人,我"
        "们实在等不起了。",
        ("119",),
    ),
    (
        "求求你们救救我弟弟\n"
        "尊敬的领导:我弟弟今年二十六岁,因为网贷欠了很多钱,今天晚上给我发了一段话,说对"
        "不起家里,不想活了。我给他打电话,他说他现在就坐在城东大桥的栏杆外面,我从家里赶"
        "过去还要四十分钟。我已经报了警,恳请领导帮忙协调城东派出所马上派民警到大桥上找人"
        ",他穿一件灰色外套。",
        ("110",),
    ),
]

# ... and letters that say 现在 (or 越来越, 今天) about no present danger: nowadays, still, for
# three months now, today's price, a question, a past or chronic matter. None may alarm.
CALM_LETTERS = [
    (
        "关于村口石桥护栏损坏迟迟不修的反映\n"
        "尊敬的领导:今年三月,一辆拉沙的货车撞坏了村口石桥的护栏,司机赔了钱就走了。现在"
        "已经三个月了,护栏还是断的,桥下就是河,晚上骑车过桥的人稍不注意就会掉进河里,村"
        "里的孩子上学天天从桥上过。我们多次找村委会,村里说要等镇里的资金。恳请领导督促有"
        "关部门尽快把护栏修好。"
    ),
    (
        "关于我村卫生室长期无医生坐诊的反映\n"
        "尊敬的领导:我村卫生室自从老村医去世后就一直关着门。村里大多是留守老人,有人半夜"
        "犯病、晕倒了,都只能打电话叫镇上的救护车,等一个多小时。现在村里还是没有医生,老"
        "人们量个血压都要跑十里路。恳请卫健部门给我村派一名村医,或者每周安排医生来坐诊两"
        "天。"
    ),
    (
        "咨询燃气泄漏上门抢修的收费标准\n"
        "尊敬的领导:我家住在县城东方小区,去年冬天厨房燃气泄漏,燃气公司来人抢修后收了三"
        "百元,说是上门费加材料费。请问燃气公司上门抢修现在的收费标准是多少?漏气抢修是否"
        "应该免费?我们想知道这方面有没有明文规定,希望相关部门给予答复。"
    ),
    (
        "关于燃气公司推卸责任的投诉\n"
        "尊敬的领导:前年冬天,我家隔壁一家三口因为热水器排烟管脱落煤气中毒,被送进县医院"
        "抢救。现在人都出院了,但是后遗症很重,燃气公司说是用户自己安装的问题,一分钱不肯"
        "承担。热水器是燃气公司的人上门装的。恳请领导督促有关部门调查清楚,给受害的一家人"
        "一个公道。"
    ),
    (
        "村后山体裂缝越来越大,恳请尽快治理\n"
        "尊敬的领导:我们村紧挨着后山,这几年山上的裂缝越来越大,每到下雨就往下掉石头,前"
        "年雨季还发生过一次小的山体滑坡,冲坏了一间牛棚。山下住着十几户人家,大家晚上都睡"
        "不踏实。我们向镇里反映过好几次,说已经上报了。恳请领导安排专家来看看,尽快治理或"
        "者给我们搬迁。"
    ),
    (
        "关于县120急救中心出车太慢的意见\n"
        "尊敬的领导:我是东山乡的村民。我们乡离县城四十多公里,乡卫生院没有救护车,现在村"
        "里老人犯了病,叫一次救护车要等一个多小时,很多病人都耽误了。我父亲去年脑梗就是因"
        "为救护车来得太晚落下了偏瘫。建议在乡卫生院设一个急救站点,配一辆救护车,让山里的"
        "群众也能得到及时救治。"
    ),
    (
        "液化气价格太高,送气服务不规范\n"
        "尊敬的领导:我县农村用的瓶装液化气只有一家公司在送,现在一罐要一百三十元,比邻县"
        "贵三十多元。送气工上门从来不检查,有的气罐锈得很厉害,阀门漏气也没人管。恳请市场"
        "监管部门查一查液化气的定价,督促送气公司规范服务,定期检测气罐。"
    ),
    (
        "请问家中老人突发疾病应该如何处理\n"
        "尊敬的领导:我父母都七十多岁了,我在外地打工,家里只有两位老人。请问现在如果老人"
        "在家突然晕倒或者心脏病发作,是先打120还是先找村医?村里能不能组织一些急救培训"
        "?希望相关部门答复,也建议给独居老人家里装一键呼救的设备。"
    ),
    (
        "关于夜市治安问题的建议\n"
        "尊敬的领导:县城新开的夜市很热闹,但管理跟不上。现在都到了夏天,每天晚上喝酒的人"
        "很多,酒后吵架打架的事时有发生,上个月还有人拿着酒瓶砸伤了一个摊主。建议公安部门"
        "在夜市设一个警务点,晚上十点以后加强巡逻,也建议限制夜市卖酒的时间。"
    ),
    (
        "关于乡卫生院慢性病药品短缺的反映\n"
        "尊敬的领导:我是柳河乡的村民,今年六十五岁,患高血压和糖尿病十多年,需要常年吃药"
        "。现在乡卫生院降压药经常断货,我们只能跑到县城去买,来回一趟要一天,有的老人吃不"
        "上药,血压高得头晕。恳请卫健部门督促乡卫生院保障常用药的供应。"
    ),
]


@pytest.mark.parametrize(("text", "numbers"), NOW_LETTERS, ids=[t[:8] for t, _ in NOW_LETTERS])
def test_letters_saying_now_alarm(
    classifier: Classifier, text: str, numbers: tuple[str, ...]
) -> None:
    result = read_signed(classifier, text)
    assert result.urgent
    assert set(numbers) <= set(result.emergency_numbers)


@pytest.mark.parametrize("text", CALM_LETTERS, ids=[t[:8] for t in CALM_LETTERS])
def test_letters_saying_now_about_no_danger_do_not_alarm(classifier: Classifier, text: str) -> None:
    assert not read_signed(classifier, text).urgent


# Letters written for the dated and habitual rules (not taken from any labelled set). A danger
# happening now, in a letter that also tells of dates past or of habits: 去年8月12日就着过一次火
# … 今天下午它又烧起来了,现在火已经烧到二楼; 每年冬天都要漏几次 … 今晚; 患高血压二十多年 … 现在
# 怎么叫都叫不醒; a date in the alarm's sentence that is today (今天是6月18日) or followed by a
# clause back to now (6月18日晚上…着火,现在火已经烧到三楼,楼道里全是浓烟).
DATED_NOW_LETTERS = [
    (
        "关于村口废品收购站又起火的紧急反映\n"
        "尊敬的领导:我是河湾村三组的村民。村口的废品收购站去年8月12日就着过一次火,当时"
        "烧了大半夜,我们多次要求把它搬走,一直没人管。今天下午它又烧起来了,现在火已经烧到"
        "旁边民房的二楼,浓烟很大,那户人家的老奶奶还没有出来。恳请马上派消防车过来!",
        ("119",),
    ),
    (
        "楼道里煤气味很浓,恳请燃气公司马上来人\n"
        "尊敬的领导:我住在东风小区4栋。这栋楼的燃气管道是老管子,每年冬天都要漏几次,我"
        "们每个月都给燃气公司打电话。今晚楼道里的煤气味特别浓,三楼的两位老人已经头晕想吐"
        ",现在我们都不敢开灯,也不敢按门铃。恳请马上派燃气公司和消防的人过来处理。",
        ("119",),
    ),
    (
        "紧急求助:孩子掉进村东头的鱼塘了\n"
        "尊敬的领导:上周三村里刚开过防溺水的会,大家都说要看好孩子。可就在刚才,邻居家七"
        "岁的孩子在鱼塘边捡球,一下子滑进了水里,到现在还没有找到,几个大人正在下水摸。塘"
        "很深,底下全是淤泥。恳请立即派救援队和打捞的人过来。",
        ("120",),
    ),
    (
        "又停电了,我父亲的制氧机停了,恳请马上抢修\n"
        "尊敬的供电公司领导:我们村从7月份以来已经停了十几次电,每次一停就是好几个小时,我"
        "们反映过很多次。现在又停电了,我父亲常年靠制氧机吸氧,机器一停,他现在喘不上气,"
        "嘴唇都紫了。恳请供电公司马上派人抢修,或者帮我们叫一辆救护车过来。",
        ("120",),
    ),
    (
        "我母亲倒在厨房叫不醒,救护车进不来\n"
        "尊敬的领导:我母亲今年七十岁,患高血压二十多年,常年吃药。今天晚上八点多她在厨房"
        "烧水,突然倒在地上,现在怎么叫都叫不醒,嘴也歪了。村里的路这个月在修,救护车司机"
        "说车开不进来。恳请领导马上协调,让救护车从后山那条路绕进来。",
        ("120",),
    ),
    (
        "挡土墙垮塌,王家老两口被埋\n"
        "尊敬的镇领导:6月3日我们就向镇里反映过村后挡土墙开裂的问题,镇里说等雨季过后再修"
        "。就在刚才,挡土墙整段垮了下来,把墙下王家的房子压塌了一半,王家老两口还被埋在里"
        "面,我们能听到老太太在喊。恳请马上派挖掘机和救援队过来!",
        ("119",),
    ),
    (
        "恳请派出所马上出警\n"
        "尊敬的领导:我是柳树村的村民。上个月邻居刘某就打过他老婆一次,派出所来调解了事。"
        "这会儿他又喝醉了酒,拿着菜刀在院子里追着他老婆砍,他老婆的胳膊已经在流血,两个孩"
        "子吓得躲在我家。恳请领导督促派出所马上派民警过来,晚了要出人命。",
        ("110",),
    ),
    (
        "河水漫进村子,三户人家被困在房顶\n"
        "尊敬的领导:往年一到汛期河水就涨,每年我们都要转移一两次,大家都习惯了。这次不一"
        "样,从昨天夜里开始下暴雨,现在河水已经漫进村子,有三户人家被困在房顶上,老人孩子一直在喊"
        "救命。村里没有船。恳请立即派冲锋舟过来救人。",
        ("119",),
    ),
    (
        "今天是6月18日,我们楼下饭店着火了\n"
        "尊敬的领导:我住在解放路28号。楼下那家饭店的油烟管道去年就被消防检查出问题,一直"
        "没有整改。今天是6月18日,晚上七点多,饭店后厨突然着火,现在火已经顺着管道烧到三"
        "楼,楼道里全是浓烟,四楼还有人没下来。恳请马上派消防车过来!",
        ("119",),
    ),
    (
        "关于我们楼下饭店着火的反映\n"
        "尊敬的领导:我住在解放路28号三楼。楼下那家饭店的油烟管道去年就被消防检查出问题,一"
        "直没有整改。6月18日晚上七点多,饭店后厨突然着火,现在火已经顺着管道烧到三楼,楼道"
        "里全是浓烟,四楼还有人没下来。恳请马上派消防车过来!",
        ("119",),
    ),
]

# ... and calm letters of the two kinds the final blind sets found, in different categories:
# an incident on a past date or told as handled (8月5日晚上 … 正在用制氧机 … 只好连夜送到卫生院;
# 那天晚上 … 被困; 当晚就有人去了医院), and a chronic illness told in the present (现在我每个月光
# 买药和氧气; 现在长期吃靶向药 … 经常呼吸困难; 现在他每个月还会发作一两次). None may alarm, whatever
# 现在 or 正在 says elsewhere in the letter.
DATED_OR_CHRONIC_LETTERS = [
    (
        "关于我村频繁停电影响病人用氧的投诉\n"
        "尊敬的供电公司领导:今年夏天我们村停电特别多。8月5日晚上停电的时候,我母亲正在用"
        "制氧机吸氧,机器一停,她憋得喘不上气,我们只好连夜把她送到镇卫生院。现在村里的线路"
        "还是老样子,恳请供电部门尽快改造线路,减少停电。",
        "water_power",
    ),
    (
        "村道施工沙堆无警示,致人摔伤\n"
        "尊敬的领导:5月8日晚上,我骑电动车回家,在村道上撞上了施工队堆在路中间的沙堆,连"
        "人带车摔进沟里,头破血流,当场昏了过去,是路过的村民把我送到医院的。现在那段路上还"
        "是没有警示标志和路灯,恳请交通部门督促施工队设置警示标志,尽快完工。",
        "roads_traffic",
    ),
    (
        "邻居因宅基地边界打伤我父亲\n"
        "尊敬的领导:上周六下午,邻居因为宅基地边界和我父亲吵起来,拿铁锹把我父亲的头打破了"
        ",血流了一地,我们报了警,连夜送到卫生院缝了八针。现在派出所调解了两次都没有结果,"
        "邻居还在原来的地方砌墙。恳请领导督促有关部门依法处理。",
        "neighbor_dispute",
    ),
    (
        "小区电梯困人后仍带病运行\n"
        "尊敬的领导:我住在阳光花园3栋。那天晚上电梯突然停在十一楼和十二楼之间,我母亲一个"
        "人被困在里面四十多分钟,闷得喘不上气,后来是消防员把门撬开的。现在电梯还在运行,物业说正在走维修基金的程序"
        ",也没人来修。恳请住建部门督促物业尽快维修电梯。",
        "property_mgmt",
    ),
    (
        "饭店喜宴食物中毒,老板拒不承担责任\n"
        "尊敬的领导:4月20日中午,我们在镇上一家饭店吃喜酒,当天晚上一桌十几个人上吐下泻,"
        "有两位老人昏迷,被连夜送到县医院抢救。现在饭店老板说不是他家的菜有问题,一分钱不"
        "肯出。恳请市场监管部门调查清楚,依法处理这家饭店。",
        "market_food",
    ),
    (
        "化工厂夜间偷排废气,村民多人不适\n"
        "尊敬的领导:8月3日凌晨,村北的化工厂排出刺鼻的气体,村里好几个老人孩子被熏得头晕呕"
        "吐、喘不上气,当晚就有好几个人去了医院。现在工厂正在照常生产,白天不排,晚上偷排。恳请生"
        "态环境部门夜间突击检查,依法查处。",
        "environment",
    ),
    (
        "恳请帮助尘肺病农民工维护权益\n"
        "尊敬的领导:我叫张某,年轻时在外地矿山打了十几年风钻,2015年被确诊为尘肺病。现在我"
        "每个月光买药和氧气就要一千八百多,上两层楼就喘不上气,晚上也睡不好。当年的矿老板已经找不到了,我们"
        "几个工友的职业病待遇一直没有落实。恳请人社部门帮忙协调。",
        "labor_wages",
    ),
    (
        "癌症病人靶向药费用太高,恳请纳入医保\n"
        "尊敬的领导:我爱人2021年查出肺癌,做了手术和化疗,现在长期吃靶向药,一个月要八千多"
        "元,人瘦得只剩八十斤,经常呼吸困难。这个药还没有纳入我们这里的医保。恳请卫健和医"
        "保部门考虑把这类靶向药纳入报销范围。",
        "health_medical",
    ),
    (
        "我儿子因癫痫被学校劝退\n"
        "尊敬的领导:我儿子今年十岁,患有癫痫,一直在吃药控制。现在他每个月还会发作一两次,"
        "一发作就浑身抽搐、口吐白沫,几分钟就好,医生说不用住院。学校说怕担责任,让我们把孩子领回家。孩子"
        "也有受教育的权利,恳请教育部门督促学校让孩子复学。",
        "education",
    ),
    (
        "偏瘫母亲的护理补贴迟迟批不下来\n"
        "尊敬的领导:我母亲2017年中风后半边身子动不了,现在常年卧床,每天吃喝拉撒都要人照顾"
        ",我只能辞掉工作在家护理。去年我们就向民政所提交了残疾人护理补贴的材料,到现在也"
        "没有批下来。恳请民政部门查一查是哪个环节卡住了。",
        "social_assistance",
    ),
    (
        "我家老人常年靠制氧机,恳请解决村里电压不稳\n"
        "尊敬的领导:我父亲有慢阻肺,常年卧床,现在一直靠制氧机吸氧。我们村的电压一到晚上就"
        "不稳,这个月已经停了五次电,每次停电他就喘不上气,我们只能用手摇的氧气袋顶着。恳请"
        "供电部门给我们村换一台大一点的变压器。",
        "water_power",
    ),
]


@pytest.mark.parametrize(
    ("text", "numbers"), DATED_NOW_LETTERS, ids=[t[:8] for t, _ in DATED_NOW_LETTERS]
)
def test_letters_about_now_with_dates_and_habits_alarm(
    classifier: Classifier, text: str, numbers: tuple[str, ...]
) -> None:
    result = read_signed(classifier, text)
    assert result.urgent
    assert set(numbers) <= set(result.emergency_numbers)


def test_a_past_mention_does_not_hide_a_present_one(classifier: Classifier) -> None:
    """Each occurrence of an alarm is checked against its own sentence, not only the first."""
    text = letter(
        "恳请燃气公司彻底检修我们楼的管道",
        "我们这栋楼的燃气管道是二十年前装的。楼道里常年有一股煤气味,燃气公司来看过说没事。"
        "物业也说不归他们管。今天晚上楼道里的煤气味越来越浓,我们几户人家都不敢开灯。",
    )
    result = classifier.classify(text)
    assert result.urgent and "119" in result.emergency_numbers


def test_then_before_a_now_cue_is_no_now(classifier: Classifier) -> None:
    """去年刚刚翻修过 is no 刚刚; 需要常年吃药,现在量个血压 tells of no bleeding or poisoning."""
    text = letter(
        "恳请给我村卫生室派驻村医",
        "我村卫生室去年刚刚翻修过,却一直没有医生。村里很多老人有高血压,需要常年吃药,"
        "现在量个血压、拿点药都要跑到乡里。",
    )
    assert not classifier.classify(text).urgent


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
    Measured: category 0.961, kind 0.948, urgent 12/12, no false alarm (before: 0.724, 0.780,
    10/12, 8). The floors sit a little below, and at the issue's bars where those are higher."""
    examples = [e for path in PETITIONS for e in load_examples(path)]
    assert len(examples) == 232
    result = evaluate(classifier, examples)
    assert result.accuracy >= 0.95
    assert result.kind_accuracy >= 0.94
    assert result.urgent_recall == 1.0
    # <= 1 false alarm per 350 letters, scaled to this set: at most 0.66, so none.
    assert result.false_alarms * 350 <= len(examples)


# Letters written for the dam rules (not taken from any labelled set): a reservoir, pond dam,
# river embankment or landslide-dammed river in danger now, said with 仍在扩大, 雨还在下, 正在,
# 水位还在涨, 做好转移准备, 目前.
DAM_NOW_LETTERS = [
    "紧急反映:我村山塘大坝出现险情\n尊敬的领导:我是柳湾村二组的村民。今天上午村里的巡查员巡查发现,村后山塘坝体背水坡的渗水越来越严重,坝脚有浑水往外冒,坝顶的裂缝仍在扩大。雨还在下,塘里的水位还在上涨,村委会已经通知下游二十多户住户做好转移准备。村里只有几个老人,没有抢险的材料和人手。恳请水利局立即派专家和抢险队伍过来!",
    "关于红星水库大坝管涌的紧急求助\n尊敬的县领导:连续三天的暴雨让红星水库的水位涨到了警戒线以上。目前大坝下游坡脚出现了两处管涌,浑水一股一股往外冒,管涌口越来越大,看坝的老周说这样下去大坝可能会溃。水库下游有三个村一千多人,很多是留守老人和孩子。恳请县里马上派抢险队和水利专家过来,组织下游群众撤离!",
    "恳请立即处置河堤险情\n尊敬的镇领导:我们是河西村的村民。这几天河水暴涨,村东头那段河堤的土体松动,正在一块一块往河里滑,堤顶已经出现了一条十几米长的裂缝。现在河水离堤顶只有半米,雨还没有停,堤后面就是我们村一百多户人家。村干部带着几个人在用沙袋堵,根本堵不住。恳请镇里马上派人和机械过来抢险。",
    "山体滑坡堵塞河道形成堰塞湖\n尊敬的领导:今天凌晨下大雨,我们村上游的山体滑坡,把河道堵死了,形成了一个堰塞湖,现在水位还在不停地涨,已经淹到上游几户人家的院子。下游的人都很害怕,万一冲开就是一场大水。村里已经让下游的住户往山上转移。恳请县应急局立即派专业队伍过来排险!",
]

# ... and calm letters about dams: seepage seen last year and never fixed, a repair project, the
# resettlement subsidy, a silt clean-up suggestion.
DAM_CALM_LETTERS = [
    "关于我村山塘坝体渗水多年未修的反映\n尊敬的水利局领导:我们村后的山塘是七十年代修的,去年汛期村民就发现坝脚有渗水,当时向村委会反映过,村里说要报上去,到现在也没有人来看过。山塘下游有十几户人家,大家担心哪天下大暴雨出事。恳请水利部门把这口山塘列入除险加固计划,尽早维修。",
    "请问水库除险加固工程的进度\n尊敬的领导:听说我们镇的青龙水库今年列入了除险加固工程,施工队也进场了,但是工程一直没有公示,村民不知道什么时候完工,也不知道施工期间灌溉用水怎么安排。请问这个工程的工期、预算和施工期间的放水安排是怎样的?希望能公开。",
    "水库移民后期扶持资金发放不到位\n尊敬的领导:我们是八十年代修建东风水库时搬迁出来的移民,按照政策每人每年有六百元的后期扶持资金。这几年我们组有十几个人的扶持资金一直没有到账,去问镇里,说是名单有问题,让我们等。恳请有关部门核查名单,把钱发到位。",
    "建议清理村里山塘的淤泥\n尊敬的领导:我是青石村四组的村民,家里种了六亩水稻。我村有三口山塘,多年没有清淤,塘底的淤泥越积越厚,蓄水量只有原来的一半,一到天旱就不够灌溉,塘边的杂草也很多。建议村里趁今年冬天枯水期组织清淤,淤泥还可以拉去肥田,一举两得。希望领导考虑。",
]


@pytest.mark.parametrize("text", DAM_NOW_LETTERS, ids=[t[:8] for t in DAM_NOW_LETTERS])
def test_letters_about_a_dam_in_danger_alarm(classifier: Classifier, text: str) -> None:
    result = read_signed(classifier, text)
    assert result.urgent
    assert {"119", "110"} <= set(result.emergency_numbers)


@pytest.mark.parametrize("text", DAM_CALM_LETTERS, ids=[t[:8] for t in DAM_CALM_LETTERS])
def test_calm_dam_letters_do_not_alarm(classifier: Classifier, text: str) -> None:
    assert not read_signed(classifier, text).urgent


# Letters that tell how long a danger has been left (到现在快一年了, 到现在还没修, 至今) and what
# people fear (担心再塌一次, 万一, 隐患) tell of no event now, in any category ...
DURATION_LETTERS = [
    (
        "关于县道山体塌方一年未治理的反映\n尊敬的交通局领导:去年7月连续暴雨,我们村通往镇上的县道K12处发生山体塌方,堵了半个多月。到现在快一年了,塌方的地方只是用沙袋垒了一下,上面的山坡还挂着松动的石头,这是危及过往车辆和行人生命的大隐患。每天有校车从这里经过,大家担心雨季一来再塌一次。恳请交通部门尽快治理。",
        "roads_traffic",
    ),
    (
        "小区电梯困人事件后至今未修\n尊敬的领导:今年三月,我们小区5栋的电梯把一位老人困在里面一个多小时。事后物业说会更换主板,可至今电梯还是时好时坏,上下楼经常突然一顿。楼里住着很多老人,万一再困人出点事谁负责?恳请住建部门督促物业彻底维修电梯。",
        "property_mgmt",
    ),
    (
        "我家后墙被邻居挖地基挖裂至今无人过问\n尊敬的领导:邻居去年秋天盖房挖地基,把我家后墙挖出了好几道裂缝,村里调解过一次。到现在还没修,裂缝越来越宽,下雨天墙往里渗水。我家老母亲就睡在那间屋里,我很担心哪天墙塌下来砸到人。恳请镇里督促邻居赔偿维修。",
        "neighbor_dispute",
    ),
    (
        "村口电线杆被撞歪至今没有扶正\n尊敬的供电所领导:去年冬天一辆货车把村口的电线杆撞歪了,到现在还斜着,电线也耷拉下来,离地面不到两米。村里的孩子每天从这里走路上学,万一电线断了掉下来,后果不堪设想。这是一个大隐患,恳请供电部门尽快派人扶正电杆、理顺电线。",
        "water_power",
    ),
    (
        "化工厂去年泄漏事故后仍未整改\n尊敬的环保局领导:去年8月村北的化工厂发生过一次氯气泄漏,好几个村民被熏得头晕呕吐,送到了医院。到现在快一年了,工厂的储罐和管道还是老样子,晚上依然能闻到刺鼻的气味。周边村民都担心再出一次事。恳请环保部门督促工厂整改。",
        "environment",
    ),
    (
        "学校围墙倒塌后一直只拉了警戒线\n尊敬的教育局领导:我村小学的围墙在去年暑假的一场暴雨中倒塌了一段,所幸当时放假没有伤到人。到现在快一年了,学校只在那里拉了一道警戒线,孩子们课间还在旁边玩,剩下的墙也歪了。家长们都担心再塌一次会砸伤孩子。恳请教育部门尽快拨款重修围墙。",
        "education",
    ),
    (
        "液化气站离居民楼太近,恳请搬迁\n尊敬的领导:我们小区旁边的液化气站前年发生过一次液化气泄漏,当时整条街都疏散了。至今这个气站还在原地营业,储罐离居民楼不到三十米,一旦爆炸后果不堪设想。这是悬在我们头上的隐患,大家都害怕万一再漏气。恳请应急管理部门核查这个气站是否合规,督促搬迁。",
        "water_power",
    ),
    (
        "卫生院救护车坏了一年多还没修好\n尊敬的卫健局领导:我们镇卫生院唯一的一辆救护车去年出了车祸后就一直停在院子里,到现在还没修好。上个月村里一位老人突发脑梗,等县里的救护车等了一个多小时。镇上几万人没有一辆能用的救护车,这是危及生命的大问题。恳请卫健部门尽快给卫生院配一辆救护车。",
        "health_medical",
    ),
    (
        "危房改造一直没落实,老人住在裂缝房里\n尊敬的领导:我家的土坯房是七十年代盖的,前年一场大雨后后墙就裂开了,房梁也有点歪。我们申报了危房改造,到现在两年了还没批下来,八十岁的老父亲还住在里面。每次下雨我们都提心吊胆,生怕房子塌了。恳请住建部门尽快落实危房改造。",
        "land_housing",
    ),
]


THEN_LETTERS = DATED_OR_CHRONIC_LETTERS + DURATION_LETTERS


@pytest.mark.parametrize(("text", "category"), THEN_LETTERS, ids=[t[:8] for t, _ in THEN_LETTERS])
def test_dated_chronic_how_long_and_fearful_letters_do_not_alarm(
    classifier: Classifier, text: str, category: str
) -> None:
    result = read_signed(classifier, text)
    assert not result.urgent
    assert result.category == category


# ... while 到现在 about a danger still going on (到现在人还没找到,水还在涨) still alarms.
UNTIL_NOW_LETTERS = [
    "紧急求助:山洪冲走我父亲\n尊敬的领导:我是下河村一组的村民,我们村沿着一条山沟而建,前后住着四十多户人家。今天凌晨三点多,山洪冲进了我们村,我父亲出去看田里的水,被洪水冲走了,到现在人还没找到,水还在涨。村里几个人沿着河找了一上午,什么也没有。恳请县里马上派救援队和冲锋舟过来搜救!",
    "关于我村房屋倒塌有人被埋的求助\n尊敬的领导:我是东岭村三组的村民,我们组的老房子大多是几十年前的土坯房,住的多是老人。今天中午村西头一间老房子突然塌了,住在里面的王大爷被压在下面,我们用手刨了两个多小时,到现在人还压在废墟里,喊他已经不答应了。村里没有机械,恳请马上派消防和救护车过来。",
    "孩子去河边后一直没回来\n尊敬的派出所领导:我是后湾村五组的村民,夫妻俩平时在镇上打零工,孩子放学后自己在家。我儿子今年九岁,今天下午两点和同学去村后的河边玩,同学回来了,他到现在还没回来,天已经黑了,河边只找到他的一只拖鞋。我们全村人还在河边找。恳请派出所立即派人来帮忙寻找!",
]


@pytest.mark.parametrize("text", UNTIL_NOW_LETTERS, ids=[t[:8] for t in UNTIL_NOW_LETTERS])
def test_letters_about_a_danger_still_going_on_alarm(classifier: Classifier, text: str) -> None:
    assert read_signed(classifier, text).urgent


def test_until_now_still_is_no_now(classifier: Classifier) -> None:
    """到现在…还在 tells how long (a road landslide held back by sandbags), not what happens."""
    text = letter(
        "关于村道山体塌方一年未治理的反映",
        "去年7月连续暴雨,村道发生山体塌方,一辆面包车被落石砸中,司机受了伤。到现在快一年了,"
        "塌方的地方还在用沙袋挡着,这是危及生命的大隐患,大家担心再塌一次。",
    )
    assert not classifier.classify(text).urgent


# Letters written for the kind rules (not from any labelled set): a grievance whose request is
# put as a question, a plea for help or a suggestion is a complaint; a consultation asks for
# information; help is personal hardship asking for aid; a suggestion proposes a change.
def _kind_letter(title: str, body: str) -> str:
    text = f"{title}\n尊敬的领导:您好!{body}以上情况,盼复。此致敬礼!"
    assert len(text) >= 150, "too short to be read as a letter"
    return text


KIND_LETTERS = [
    # complaint
    (
        _kind_letter(
            "关于小区门口道路破损多次反映无人处理的问题",
            "我是城南街道和平小区的居民。小区门口那段路去年雨季就塌了一个大坑,电动车经过经常摔倒,我们向街道和城管多次反映,至今没有人来修,每次都说报上去了。老人孩子出门都要绕着走,严重影响出行。请问能否尽快安排人处理一下,能不能早点修好?",
        ),
        "complaint",
    ),
    (
        _kind_letter(
            "工地老板拖欠我们十几个工人半年工资",
            "我们是在县城某楼盘干活的木工,去年十月进场,说好干完结账,可是老板拖欠我们十几个人半年的工资,一共二十多万元。我们找了劳动监察大队,他们说会协调,到现在也没有结果,老板电话也不接了。我们都是农民工,家里等着钱过日子。恳请领导帮助我们解决,帮我们追回血汗钱。",
        ),
        "complaint",
    ),
    (
        _kind_letter(
            "关于夜市烧烤油烟噪音扰民的反映",
            "我家住在滨河路二号楼,楼下去年开了一排烧烤摊,每天晚上从六点营业到凌晨两点,油烟直接往楼上飘,窗户都不敢开,喝酒划拳的声音吵得老人孩子整夜睡不着。我们打过12345投诉,城管来了一次,第二天照旧。这种扰民问题已经持续一年多了。建议相关部门尽快处理,还我们一个安静的环境。",
        ),
        "complaint",
    ),
    (
        _kind_letter(
            "村里低保评定不公,有关系的人吃低保",
            "我是某镇某村的村民。我们村今年评低保,村干部的亲戚家里有小轿车、在县城有房子,照样吃低保;真正困难的几户孤寡老人反而没评上。村民们向村委会反映了好几次,村干部说是上面定的,推来推去。村务公开栏也从来不公示名单。是否可以派人核查处理,纠正这种不公平的做法?",
        ),
        "complaint",
    ),
    (
        _kind_letter(
            "物业收了维修基金电梯坏了三个月不修",
            "我是幸福家园小区七号楼的业主。我们楼的电梯从三月份坏到现在,物业说维修基金申请要走流程,一直没有人来修。楼里住着好几位八十多岁的老人,下不了楼,看病都要人背。业主们多次找物业,物业经理就是敷衍。请帮帮我们,恳请住建局督促物业尽快把电梯修好。",
        ),
        "complaint",
    ),
    (
        _kind_letter(
            "健身房关门跑路,预付卡的钱要不回来",
            "去年我在万达广场附近的一家健身房办了一张三千元的年卡,用了不到两个月,健身房就贴了一张装修通知,之后再也没开门,老板把会员都拉黑了。我们一百多名会员损失加起来有三十多万元。我们到市场监管局和派出所都反映过,至今没有答复。希望有关部门能够帮助我们追回损失,严肃查处这种跑路行为。",
        ),
        "complaint",
    ),
    # A title stating a problem: a complaint, however the request is put (希望, 请村里出面, 请问).
    (
        _kind_letter(
            "老旧小区一个月停水三次,事先没有任何通知",
            "我家住在城北铁路新村,这个月已经停了三次水,每次都是早上起来才发现,没有贴通知,也没有在群里说。家里有老人要吃药、孩子要上学,只能到亲戚家接水。希望供水公司以后停水提前通知,尽快把老化的管网换掉,别让我们老是提着桶到处接水。",
        ),
        "complaint",
    ),
    (
        _kind_letter(
            "邻居占路堆柴,老伴的轮椅推不过去",
            "我家和邻居共用一条入户小路,从去年秋天起邻居把柴火和旧砖一直堆到路中间,现在只剩不到一米宽。我去说过几次,他都不理,还说路是他家祖上的。我老伴坐轮椅,出门看病都成了难事。请村里出面协调一下,让他把柴火挪走,还我们一条能走的路。",
        ),
        "complaint",
    ),
    (
        _kind_letter(
            "征地补偿款两年没有到位",
            "2022年县里修园区征了我们组八十多亩地,协议写明补偿款一年内付清,到现在两年了只发了一半。我们去镇里问了好几次,都说在等上面拨款。请问剩下的补偿款到底什么时候能发?标准是不是按协议执行?家里老人等着这笔钱看病,组里几十户人家天天盼着,实在等不起了。",
        ),
        "complaint",
    ),
    # A title that asks, proposes or pleads keeps its kind even when it names a problem.
    (
        _kind_letter(
            "请问低保被取消后怎么申请复核",
            "我家今年8月低保突然停了,老伴常年卧床,全家就靠这点钱过日子,村里说是年审时大数据比对出家里有一辆车,可那辆车是已经分户的儿子的。想问一下:申请复核要准备哪些材料?是到镇民政所还是县民政局办?多长时间能有结果?复核期间原来的低保金能不能先照常发放?",
        ),
        "consultation",
    ),
    (
        _kind_letter(
            "建议在村小门口的公路上设置减速带",
            "村小门口就是县道,上学放学的时候大货车开得很快,孩子们过马路很危险。建议交通部门在学校门口前后各设一道减速带,再画上斑马线、立个警示牌,上下学时段安排护学岗,对全村的孩子都是好事,也能提醒过往车辆慢行,减少事故发生,家长们也能放心一些。",
        ),
        "suggestion",
    ),
    # consultation
    (
        _kind_letter(
            "请问农村危房改造的申请条件和流程",
            "我是某乡某村的村民,家里的土坯房是八十年代盖的,墙上有裂缝,下雨天屋里漏水。听说国家有农村危房改造的政策,我想了解一下:申请危房改造需要什么条件?要准备哪些材料?是找村委会还是直接到乡里办?补助标准是多少?大概多长时间能批下来?希望领导能给一个答复,谢谢。",
        ),
        "consultation",
    ),
    (
        _kind_letter(
            "咨询退休人员异地就医备案怎么办理",
            "我今年刚从县里一家企业退休,女儿在广州工作,我打算去广州帮她带孩子,可能要住好几年。我想咨询一下:医保异地就医备案怎么办理?是在手机上办还是要到医保局窗口?备案以后在广州看门诊能不能直接报销,报销比例和在本地一样吗?如果回老家看病还需要取消备案吗?请领导给予解答。",
        ),
        "consultation",
    ),
    (
        _kind_letter(
            "想了解孩子上小学的入学政策",
            "我们一家是外地来的务工人员,在本市已经住了三年,交了两年社保,租的房子在开发区。孩子今年满六周岁,要上小学了。请问随迁子女入学需要什么材料?居住证要办满多长时间?是按租房地址划片还是统一安排?报名时间是什么时候,在哪里报名?希望教育局能答复。",
        ),
        "consultation",
    ),
    (
        _kind_letter(
            "请问个体户办理营业执照需要多少钱",
            "我打算在镇上开一家小吃店,店面已经租好了,面积四十平方米。想问一下:个体工商户营业执照在哪里办?要不要先办食品经营许可证?需要准备哪些材料?办下来要多少钱,大概多久能拿到?听说现在可以网上办理,具体流程是怎样的?麻烦领导告知,谢谢。",
        ),
        "consultation",
    ),
    (
        _kind_letter(
            "咨询独生子女父母奖励扶助政策",
            "我和爱人都是农村户口,只有一个女儿,今年我满六十周岁了。听村里人说农村独生子女父母到了六十岁每个月有奖励扶助金。我想问一下这个政策具体是怎样的?每个月发多少钱?需要本人去哪个部门申请,要带户口本和独生子女证吗?女儿已经出嫁,户口迁走了,还符合条件吗?",
        ),
        "consultation",
    ),
    (
        _kind_letter(
            "关于公积金提取还贷的政策咨询",
            "我在县城买了一套商品房,办的是商业贷款,每个月还贷三千多元。我单位给我交了五年住房公积金,账户里有四万多元。请问公积金能不能用来偿还商业贷款?是每年提取一次还是可以按月提取?需要提供哪些证明材料?在哪个窗口办理?配偶的公积金是否也可以一起提取?",
        ),
        "consultation",
    ),
    # help
    (
        _kind_letter(
            "因病致贫,恳请给予救助",
            "我叫张某,今年四十二岁。去年我丈夫查出尿毒症,每周要透析三次,家里的积蓄全花光了,还借了亲戚十几万元。我要在医院照顾他,没法出去打工,两个孩子一个上初中一个上小学,现在家里生活无着,连孩子的学费都交不起。恳请领导帮帮我们,给予临时救助,帮我们渡过难关。",
        ),
        "help",
    ),
    (
        _kind_letter(
            "独居老人无人照料,请求帮助",
            "我是某村的五保老人,今年七十九岁,老伴前年去世了,没有儿女。上个月我在家里摔了一跤,腿脚不方便,现在做饭、挑水都很困难,一日三餐经常吃不上。村里的邻居偶尔送点吃的,但也不能天天照顾。我想请领导帮忙,看能不能把我送到镇上的敬老院,或者安排人照顾我的生活。",
        ),
        "help",
    ),
    (
        _kind_letter(
            "孩子白血病看病没钱,恳请社会帮助",
            "我是某县某乡的农民,女儿今年八岁,三个月前确诊急性白血病,在省儿童医院治疗,医生说后续化疗和骨髓移植要四十多万元。我和她妈妈都在家种地,一年收入不到三万元,已经卖了家里的牛,借遍了亲戚,实在拿不出钱了。恳请政府和社会各界帮帮我们,救救我的孩子。",
        ),
        "help",
    ),
    (
        _kind_letter(
            "残疾人家庭生活困难,请求补助",
            "我是一名肢体二级残疾人,双腿不能走路,靠轮椅出行。我妻子患有精神疾病,不能劳动,儿子在读高中。家里没有收入来源,每个月只靠我的残疾人补贴生活,房子是漏雨的老房子。今年冬天特别冷,家里连买煤的钱都没有。恳请民政部门帮助我们,给予生活补助。",
        ),
        "help",
    ),
    (
        _kind_letter(
            "火灾后一家人无处安身,请求救助",
            "我家在某村三组,上个月家里老房子因为电线老化失火,房子和里面的粮食、衣服、家具全烧没了,所幸人没事。现在我们一家五口借住在亲戚家的柴房里,老人年纪大了,天气越来越冷,孩子上学的书本也烧了。我们实在没有能力重建房子,恳请乡政府帮帮我们,给予救助,帮我们解决住的地方。",
        ),
        "help",
    ),
    (
        _kind_letter(
            "丈夫外出务工失联,母子生活困难求助",
            "我丈夫去年外出务工,半年前开始联系不上,报了警也没有消息。我一个人带着两个年幼的孩子,大的五岁,小的两岁,还要照顾瘫痪在床的婆婆,没法出去工作。家里已经揭不开锅了,孩子生病也没钱看。恳请领导帮帮我们母子,看能不能给我们办理低保或者临时救助。",
        ),
        "help",
    ),
    # suggestion
    (
        _kind_letter(
            "建议在学校门口增设红绿灯和斑马线",
            "我是实验小学一名学生的家长。学校大门正对着人民路,每天上学放学时段车流量很大,孩子们过马路只能在车流中穿行,家长们都很担心。现在路口既没有红绿灯,也没有斑马线。建议交警部门在学校门口增设红绿灯和斑马线,上下学时段安排交警或志愿者疏导交通。",
        ),
        "suggestion",
    ),
    (
        _kind_letter(
            "建议开通城区到工业园区的公交线路",
            "我在城东工业园区上班,园区里有十几家企业、四千多名职工,大部分住在城区。目前城区没有直达园区的公交车,大家只能骑电动车或者拼车,冬天下雨特别不方便。建议公交公司开通一条从汽车站到工业园区的公交线路,早晚上下班高峰时段加密班次,方便职工通勤。",
        ),
        "suggestion",
    ),
    (
        _kind_letter(
            "关于在村里建设老年活动中心的建议",
            "我们村六十岁以上的老人有三百多人,子女大多在外打工,老人们白天没地方去,只能在村口晒太阳。村委会旁边有一块闲置的空地。提个建议:能否利用这块地建一个老年活动中心,配上棋牌桌、电视和健身器材,再定期组织一些文艺活动,让老人们有个说说话、打发时间的地方。",
        ),
        "suggestion",
    ),
    (
        _kind_letter(
            "建议公园增设无障碍通道和母婴室",
            "人民公园是我们市民休闲的好去处,每到周末人很多。我推着轮椅带老父亲去公园,发现很多地方只有台阶,没有坡道;带孩子的年轻妈妈也找不到地方喂奶换尿布。建议在公园主要入口和景点增设无障碍坡道,在游客服务中心旁边设置母婴室,让公园更方便老人和孩子。",
        ),
        "suggestion",
    ),
    (
        _kind_letter(
            "建议在农贸市场设置农民自产自销区",
            "我是郊区的菜农,自己种的蔬菜想拿到城里卖,可是农贸市场的摊位都被菜贩子租了,我们只能在市场外面路边摆,既影响交通又不卫生。建议在农贸市场内划出一块农民自产自销区,免收或少收摊位费,按时段轮流使用,这样既方便市民买到新鲜菜,也能增加农民收入。",
        ),
        "suggestion",
    ),
    (
        _kind_letter(
            "关于推广垃圾分类积分兑换的建议",
            "我们小区去年开始搞垃圾分类,但是很多居民不习惯,分类效果不好。我在外地亲戚的小区看到,他们用垃圾分类积分兑换日用品,大家积极性很高。建议街道在各个小区推广垃圾分类积分兑换制度,定期组织志愿者在投放点指导,对做得好的楼栋进行表扬,逐步养成分类习惯。",
        ),
        "suggestion",
    ),
]


@pytest.mark.parametrize(("text", "kind"), KIND_LETTERS)
def test_letter_kind_weighs_grievance_information_and_proposal(
    classifier: Classifier, text: str, kind: str
) -> None:
    assert classifier.classify(text).kind == kind


@dataclass(frozen=True)
class BlindSet:
    """Letters written after a tuning round by people who never saw the rules, and floors at
    what the rules measure on them now. `history` says what they measured when still blind and
    whether a later round was told (in general terms, never the files) what they found."""

    files: tuple[str, ...]
    count: int
    category: float
    kind: float
    recall: float
    false_alarms: int
    history: str


BLIND_SETS = [
    BlindSet(
        ("nlp_petitions_blind_a.jsonl", "nlp_petitions_blind_b.jsonl"),
        128,
        0.96,
        0.96,
        1.0,
        0,
        "after round 1; blind: category 0.953, kind 0.945, urgent 5/6 (a gas smell 现在 on the "
        "stairs under a 紧急 title missed), 1 false alarm (a clinic letter: 去年刚刚翻修过 taken "
        "for 刚刚, 血压 read as blood); round 2 fixed both kinds generally: no longer blind",
    ),
    BlindSet(
        ("nlp_petitions_blind_c1.jsonl", "nlp_petitions_blind_c2.jsonl"),
        135,
        0.94,
        0.94,
        1.0,
        0,
        "after round 2; blind: category 0.933, kind 0.889, urgent 8/8, 2 false alarms (现在我每个"
        "月吃药、吸氧; an oxygen machine stopped on a past date); round 3 told: no longer blind",
    ),
    BlindSet(
        ("nlp_petitions_blind_d1.jsonl", "nlp_petitions_blind_d2.jsonl"),
        131,
        0.92,
        0.88,
        1.0,
        0,
        "after round 3; blind: category 0.893, kind 0.832, urgent 9/10 (a dam seeping and "
        "cracking now missed), 1 false alarm (到现在快一年了); round 4 told: no longer blind",
    ),
    BlindSet(
        ("nlp_petitions_blind_e1.jsonl", "nlp_petitions_blind_e2.jsonl"),
        134,
        0.88,
        0.84,
        1.0,
        0,
        "after round 4; blind: category 0.858, kind 0.746 (complaints read as consultations, "
        "help, suggestions), urgent 9/10 (a collapsed, unresponsive old woman missed), no false "
        "alarm; round 5 told: no longer blind",
    ),
    BlindSet(
        ("nlp_petitions_blind_f1.jsonl", "nlp_petitions_blind_f2.jsonl"),
        134,
        0.92,
        0.95,
        1.0,
        0,
        "after round 5; blind: category 0.888, kind 0.791, urgent 7/10 (a toddler locked in a "
        "hot car, a billboard about to fall, an old herder lost at nightfall missed), 1 false "
        "alarm (a polluted river getting worse: 发现在 read as 现在); round 7 read its misses: no "
        "longer blind",
    ),
    BlindSet(
        ("nlp_petitions_hard_a.jsonl", "nlp_petitions_hard_b.jsonl"),
        240,
        0.87,
        0.95,
        1.0,
        0,
        "hard sets, calm letters full of emergency words; blind when first measured (a at "
        "474ee2f: 0.775, 0.875, 13/15, no false alarm; b: 0.842, 0.917, 13/15, 1 false alarm); "
        "round 7 tuned on them",
    ),
    BlindSet(
        ("nlp_petitions_hard_c.jsonl",),
        140,
        0.69,
        0.80,
        1.0,
        0,
        "hard set, titles that name a danger (questions, policy, past events, standing hazards, "
        "figures of speech); blind when first measured at 528ddd3: 0.693, 0.779, 16/20, 4 false "
        "alarms of 120; round 7 tuned on it. Category is low: hazard letters split between "
        "public_safety and their matter, and the labels are honestly ambiguous",
    ),
    BlindSet(
        (
            "nlp_petitions_blind_i1.jsonl",
            "nlp_petitions_blind_i2.jsonl",
            "nlp_petitions_blind_i3.jsonl",
        ),
        330,
        0.92,
        0.92,
        1.0,
        0,
        "after round 7, 330 letters in 问政 board style by three writers who saw no rules; blind "
        "when first measured at f8e87aa: category 0.921, kind 0.921, urgent 12/12, 1 false alarm "
        "of 318 (a motorbike crash last month, the rider 现在还在家躺着 read as now); only that "
        "one miss was read and fixed (还在家/医院 is afterwards), the rest never read",
    ),
    BlindSet(
        ("nlp_petitions_blind_g1.jsonl", "nlp_petitions_blind_g2.jsonl"),
        132,
        0.85,
        0.91,
        1.0,
        0,
        "after round 7, the final blind measure (written after the tuning by writers who saw no "
        "rules, never tuned on, its misses never read): category 0.856, kind 0.917, urgent 10/10, "
        "no false alarm",
    ),
]


@pytest.mark.parametrize("blind", BLIND_SETS, ids=lambda b: b.files[0].split("_", 2)[-1][:-6])
def test_blind_petitions(classifier: Classifier, blind: BlindSet) -> None:
    examples = [e for name in blind.files for e in load_examples(DATA / name)]
    assert len(examples) == blind.count
    result = evaluate(classifier, examples)
    assert result.accuracy >= blind.category, blind.history
    assert result.kind_accuracy >= blind.kind, blind.history
    assert result.urgent_recall >= blind.recall, blind.history
    assert result.false_alarms <= blind.false_alarms, blind.history
