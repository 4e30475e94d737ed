"""Duplicate check against 10,000 open tickets, FAQ matches and PII masking per second."""

from __future__ import annotations

import random
import statistics
import time

from nlp.faq import FaqIndex
from nlp.pii import mask_pii
from nlp.segment import Segmenter
from nlp.similarity import DuplicateIndex
from nlp.textfeatures import DEFAULT_CONFIG_DIR

OPEN_TICKETS = 10_000
QUERIES = 300
TARGET_MS = 20.0

PLACES = [
    "村口", "3组", "东头", "幸福路", "小学门口", "菜市场", "卫生室旁边", "河边", "桥头",
    "广场", "祠堂后面", "二组", "新村小区", "老街", "村委会门口", "养殖场附近",
]  # fmt: skip
PROBLEMS = [
    "垃圾好几天没人清运", "路灯不亮了", "路面有个大坑", "停水两天了", "晚上停电",
    "噪音太大睡不着", "污水横流臭得很", "有人烧秸秆", "电梯坏了没人修", "车辆乱停堵路",
    "狗咬人没人管", "网络信号很差", "围墙快倒了很危险", "下水道堵了", "工资被拖欠",
    "低保评选不公开", "卖过期食品", "河里有死鱼", "邻居占道堆杂物", "护栏被撞坏",
]  # fmt: skip
TAILS = ["", ",希望尽快处理", ",反映过好几次了", ",请村里管一管", ",老人小孩出门很不方便"]
FAQ_QUESTIONS = ["低保怎么申请", "身份证丢了怎么补", "医保在哪里交", "村口垃圾三天没人收了"]
PII_TEXT = "我叫张三,电话13812345678,身份证110101199003071233,住在3组18号,补贴3000元没到"


def synthetic_tickets(n: int, rng: random.Random) -> list[str]:
    return [f"{rng.choice(PLACES)}{rng.choice(PROBLEMS)}{rng.choice(TAILS)}" for _ in range(n)]


def main() -> None:
    rng = random.Random(7)
    segmenter = Segmenter()
    tickets = synthetic_tickets(OPEN_TICKETS, rng)

    index = DuplicateIndex(segmenter)
    start = time.perf_counter()
    for key, text in enumerate(tickets):
        index.add(key, text)
    build_s = time.perf_counter() - start

    latencies = []
    for text in synthetic_tickets(QUERIES, rng):
        t0 = time.perf_counter()
        index.most_similar(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    median = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    verdict = "ok" if p99 <= TARGET_MS else "OVER TARGET"
    print(f"duplicate index build: {OPEN_TICKETS} tickets in {build_s:.2f} s")
    print(
        f"duplicate check vs {OPEN_TICKETS}: median {median:.2f} ms, p99 {p99:.2f} ms "
        f"(target <= {TARGET_MS:.0f} ms: {verdict})"
    )

    faq = FaqIndex.from_config(DEFAULT_CONFIG_DIR, segmenter)
    rounds = 500
    t0 = time.perf_counter()
    for i in range(rounds):
        faq.match(FAQ_QUESTIONS[i % len(FAQ_QUESTIONS)])
    print(f"FAQ match: {rounds / (time.perf_counter() - t0):,.0f} per second")

    t0 = time.perf_counter()
    for _ in range(rounds):
        mask_pii(PII_TEXT)
    print(f"PII masking: {rounds / (time.perf_counter() - t0):,.0f} texts per second")


if __name__ == "__main__":
    main()
