"""Classifier speed: start-up in a fresh process, then messages per second on one core.

Each figure is the median of ROUNDS rounds, each in a fresh process. With BENCH_CLASSIFY_BASE
set to a git revision (`BENCH_CLASSIFY_BASE=HEAD~3 python -m bench classify`), that revision's
nlp/ and config/ are timed in the same run, round for round alternating with the working tree,
and the ratios new/old are printed: a noisy machine slows both alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from nlp.classifier import Classifier

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"

ROUNDS = 5
SECONDS = 1.5  # per rate and round

# A fresh interpreter times import + rules + jieba start (jieba's own cache already on disk).
_READY_SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
from pathlib import Path
from nlp.classifier import Classifier
classifier = Classifier.from_config(Path({config!r}))
classifier.classify("楼下垃圾三天没人清运了")
print(time.perf_counter() - started)
"""

# One round in a fresh interpreter of a tree (the working tree or an exported revision).
_ROUND_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from nlp.classifier import Classifier
from bench.bench_classify import SHORT, petitions, _rate
classifier = Classifier.from_config(Path({config!r}))
long = petitions()
for text in (SHORT[0], long[0]):
    classifier.classify(text)
print(json.dumps([_rate(classifier, SHORT, {seconds}), _rate(classifier, long, {seconds})]))
"""

SHORT = [
    "村口的垃圾池好几天没人清理了,臭得路过的人都要捂着鼻子走,夏天苍蝇蚊子特别多,麻烦村里赶紧安排人拉走吧",
    "小区电梯又坏了,物业说配件没到要等一个礼拜,楼里的老人天天爬八楼实在受不了,请物业公司尽快派师傅来修好",
    "请问今年城乡居民医保什么时候开始缴费,在手机上怎么交,一个人一年要交多少钱,家里的老人有没有补贴呢",
    "建议在村小学校门口装个减速带再画一条斑马线,早上送孩子的车多,孩子们过马路实在是太危险了啊",
    "隔壁邻居把围墙往我家这边砌了半米,找他理论还骂人,两家现在都快打起来了,希望村里派人来调解一下",
]

PETITION = (
    "尊敬的镇政府领导:我们是青山镇柳湾村三组的村民,现就本组饮水和道路问题联名反映如下。"
    "一是本组四十六户村民至今仍饮用二十年前修建的小水池里的山泉水,水管老化,每逢冬季冻裂,"
    "经常停水十天半月,夏季雨后水质浑浊,烧开后有沉淀,老人小孩喝了闹肚子。二是进组的三公里"
    "村道是2012年修建的水泥路,近年来大货车拉石料频繁通行,路面坑洼开裂,下雨天积水没过脚踝,"
    "上月还有一位村民骑电动车摔伤住院。三是村口的垃圾池长期无人清运,蚊蝇滋生,气味难闻。"
    "我们曾多次向村委会反映,村干部答复说资金困难、需要上级支持,至今没有解决。为此恳请镇政府"
    "将本组纳入农村饮水安全巩固提升工程,接通集镇自来水管网;安排资金修复村道并限制超载车辆"
    "通行;督促保洁公司定期清运垃圾。以上请求,恳请领导研究解决,并给予答复。此致敬礼!"
    "柳湾村三组全体村民,2024年5月20日。联系人:张某,电话一三八某某某某某某某某。"
    "另附:村民签名名单一份、现场照片十二张、村委会会议记录复印件一份、卫生院水质检测单一份。"
    "我们全组村民对领导的关心支持表示衷心感谢。恳请领导在百忙之中抽出时间到我组实地查看,倾听群众呼声,切实解决我们的实际困难。"
)


def petitions() -> list[str]:
    return [PETITION[i:] + PETITION[:i] for i in range(0, 500, 100)]


def _run(script: str) -> str:
    # cwd is the bench's own tree, so `bench.bench_classify` imports from here; `root` goes
    # first on sys.path, so `nlp` comes from the tree being timed.
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _ready_seconds(root: Path) -> float:
    script = _READY_SCRIPT.format(root=str(root), config=str(root / "config"))
    # The first run writes jieba's dictionary cache if it is missing; time the second.
    _run(script)
    return float(_run(script))


def _round(root: Path) -> tuple[float, float]:
    script = _ROUND_SCRIPT.format(root=str(root), config=str(root / "config"), seconds=SECONDS)
    short, long = json.loads(_run(script))
    return float(short), float(long)


def _rate(classifier: Classifier, texts: list[str], seconds: float) -> float:
    count = 0
    started = time.perf_counter()
    while True:
        for text in texts:
            classifier.classify(text)
        count += len(texts)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return count / elapsed


def _export(revision: str, into: Path) -> None:
    """nlp/ and config/ of a git revision, as files under into."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "nlp", "config"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def _figures(root: Path) -> dict[str, float]:
    ready = statistics.median(_ready_seconds(root) for _ in range(3))
    rounds = [_round(root) for _ in range(ROUNDS)]
    return {
        "ready": ready,
        "short": statistics.median(r[0] for r in rounds),
        "long": statistics.median(r[1] for r in rounds),
    }


def main() -> None:
    short_len = sum(map(len, SHORT)) // len(SHORT)
    long_len = sum(map(len, petitions())) // len(petitions())
    base = os.environ.get("BENCH_CLASSIFY_BASE")
    if not base:
        new = _figures(ROOT)
        print(f"ready (fresh process, jieba cache warm): {new['ready']:.2f} s  (target <= 1.5 s)")
        print(f"classify ~{short_len} chars: {new['short']:,.0f} msg/s  (target >= 5,000)")
        print(f"classify ~{long_len} chars: {new['long']:,.0f} msg/s  (target >= 300)")
        print(f"(medians of {ROUNDS} rounds)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        old_root = Path(tmp)
        _export(base, old_root)
        ready = {
            "old": statistics.median(_ready_seconds(old_root) for _ in range(3)),
            "new": statistics.median(_ready_seconds(ROOT) for _ in range(3)),
        }
        rounds: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
        for _ in range(ROUNDS):  # alternate, so a slow spell of the machine hits both
            rounds["old"].append(_round(old_root))
            rounds["new"].append(_round(ROOT))
    print(f"medians of {ROUNDS} rounds; old = {base}, new = working tree")
    print(f"{'':28}{'old':>10}{'new':>10}{'new/old':>9}  target")
    rows = [
        ("ready (s)", ready["old"], ready["new"], "<= 1.5 s"),
        *(
            (
                f"classify ~{length} chars (msg/s)",
                statistics.median(r[i] for r in rounds["old"]),
                statistics.median(r[i] for r in rounds["new"]),
                target,
            )
            for i, length, target in ((0, short_len, ">= 5,000"), (1, long_len, ">= 300"))
        ),
    ]
    for name, old, new, target in rows:
        print(f"{name:28}{old:10,.2f}{new:10,.2f}{new / old:9.2f}  {target}")
    for i, name in ((0, "short"), (1, "long")):
        olds = ", ".join(f"{r[i]:,.0f}" for r in rounds["old"])
        news = ", ".join(f"{r[i]:,.0f}" for r in rounds["new"])
        print(f"  rounds {name}: old [{olds}]  new [{news}]")


if __name__ == "__main__":
    main()
