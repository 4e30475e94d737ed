"""`fengqiao nlp classify|eval|hotwords|suggest`: try the classification rules, rank hot
words, propose keywords from cadres' corrections.

Also runs on its own: `python -m bot.cli.nlp [--config-dir DIR] classify|eval FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TextIO

from nlp.classifier import Classifier
from nlp.evaluate import ExamplesError, evaluate, format_report, load_examples
from nlp.pii import mask_pii
from nlp.rules import RulesError
from nlp.suggest import (
    DEFAULT_MIN_PRECISION,
    DEFAULT_MIN_SUPPORT,
    MOVE,
    REWEIGHT,
    Change,
    DryRun,
    Labelled,
    Proposal,
    SuggestError,
    dry_run,
    load_labelled,
    load_tiers,
    suggest,
)
from nlp.textfeatures import load_stopwords

log = logging.getLogger(__name__)


def add_commands(nlp_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    classify = nlp_sub.add_parser(
        "classify",
        help='classify JSON lines {"text": ...} from stdin, one JSON result per line',
    )
    classify.set_defaults(func=classify_command)
    evaluation = nlp_sub.add_parser("eval", help="measure the rules against a labelled JSONL file")
    evaluation.add_argument(
        "file", type=Path, help="labelled JSON lines: text, category, kind, urgent"
    )
    evaluation.set_defaults(func=eval_command)
    hot = nlp_sub.add_parser("hotwords", help="hot words of the tickets since DATE (masked)")
    hot.add_argument("--since", type=iso_date, required=True, help="YYYY-MM-DD, local time")
    hot.add_argument("--top", type=int, default=20, help="how many words (default 20)")
    hot.add_argument("--place", help="only the tickets of this village id")
    hot.add_argument("--json", action="store_true", help="one JSON object per line")
    hot.set_defaults(func=hotwords_command)
    proposer = nlp_sub.add_parser(
        "suggest",
        help="propose keywords for categories.toml from cadres' corrections (never edits it)",
    )
    proposer.add_argument(
        "--file",
        type=Path,
        help='labelled JSON lines {"text", "category"}; default: the corrections in the database',
    )
    proposer.add_argument(
        "--since", type=iso_date, help="only corrections made on or after YYYY-MM-DD"
    )
    proposer.add_argument(
        "--min-support",
        type=_positive_int,
        default=DEFAULT_MIN_SUPPORT,
        help=f"examples that must contain a word (default {DEFAULT_MIN_SUPPORT})",
    )
    proposer.add_argument(
        "--min-precision",
        type=_share,
        default=DEFAULT_MIN_PRECISION,
        help=f"share of them in the category (default {DEFAULT_MIN_PRECISION})",
    )
    proposer.add_argument(
        "--top", type=_positive_int, default=20, help="how many proposals (default 20)"
    )
    proposer.add_argument("--json", action="store_true", help="one JSON object per line")
    proposer.set_defaults(func=suggest_command)


def iso_date(value: str) -> date:
    """An argparse type for YYYY-MM-DD with a Chinese message when it is not one."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD: {value!r}") from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"应为正整数: {value!r}")
    return number


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 1.0:
        raise argparse.ArgumentTypeError(f"应为 0 到 1 之间的小数,如 0.8: {value!r}")
    return share


def hotwords_command(args: argparse.Namespace) -> int:
    """Rank the hot words of the stored tickets; reads the database named by the settings."""
    from bot.desk import open_desk
    from bot.reports import hot_words
    from bot.settings import load_settings

    settings = load_settings(config_dir=args.config_dir)

    async def ranking() -> list[tuple[str, float]]:
        desk = await open_desk(settings)
        try:
            since = datetime.combine(args.since, time(0), settings.tz)
            return await hot_words(desk, since, args.place, args.top)
        finally:
            await desk.close()

    for rank, (word, weight) in enumerate(asyncio.run(ranking()), start=1):
        if args.json:
            print(json.dumps({"rank": rank, "word": word, "weight": weight}, ensure_ascii=False))
        else:
            print(f"{rank:>3}. {word}\t{weight:.4f}")
    return 0


def classify_command(args: argparse.Namespace) -> int:
    classifier = _load(args)
    if classifier is None:
        return 2
    return classify_stream(classifier, sys.stdin, sys.stdout)


def classify_stream(classifier: Classifier, source: TextIO, sink: TextIO) -> int:
    """Classify each input line; a bad line gets an error line and the run continues."""
    kinds = {kind for kind, _ in classifier.kinds}
    failed = False
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        output: dict[str, object]
        try:
            text, kind_hint = _parse_line(line, kinds)
            output = classifier.classify(text, kind_hint=kind_hint).to_dict()
        except ValueError as exc:
            failed = True
            output = {"line": number, "error": str(exc)}
        sink.write(json.dumps(output, ensure_ascii=False) + "\n")
        sink.flush()
    return 1 if failed else 0


def eval_command(args: argparse.Namespace) -> int:
    classifier = _load(args)
    if classifier is None:
        return 2
    try:
        examples = load_examples(
            args.file,
            categories={c for c, _ in classifier.categories},
            kinds={k for k, _ in classifier.kinds},
        )
    except (OSError, ExamplesError) as exc:
        print(f"无法读取标注文件 (cannot read examples): {exc}", file=sys.stderr)
        return 2
    if not examples:
        print(f"标注文件是空的 (no examples): {args.file}", file=sys.stderr)
        return 2
    print(format_report(evaluate(classifier, examples), classifier), end="")
    return 0


# How much of a resident's text the report quotes (masked), so a table stays readable.
QUOTE_CHARS = 40
MAX_QUOTED = 20


def suggest_command(args: argparse.Namespace) -> int:
    """Propose keywords from labelled lines; prints them for a person, never edits the rules."""
    classifier = _load(args)
    if classifier is None:
        return 2
    categories = {c for c, _ in classifier.categories}
    if args.file is not None:
        if args.since is not None:
            print("--since 只用于数据库中的更正记录,读文件时忽略", file=sys.stderr)
        try:
            examples = load_labelled(args.file, categories)
        except OSError as exc:
            print(f"无法读取标注文件 (cannot read file): {args.file}: {exc}", file=sys.stderr)
            return 2
        except SuggestError as exc:
            print(f"标注文件有误 (bad file): {exc}", file=sys.stderr)
            return 2
        source = str(args.file)
    else:
        from bot.settings import SettingsError

        try:
            examples = _corrections(args, categories)
        except SettingsError as exc:
            print(f"设置有误 (bad settings): {exc}", file=sys.stderr)
            return 2
        source = "数据库中的类别更正记录"
    if not examples:
        print(
            f"没有可用的标注留言 (no labelled lines): {source}。"
            "干部在工单上更正类别后会留下记录;也可以用 --file 指定标注文件。",
            file=sys.stderr,
        )
        return 2
    proposals = suggest(
        examples,
        classifier,
        load_stopwords(Path(args.config_dir)),
        tiers=load_tiers(Path(args.config_dir)),
        min_support=args.min_support,
        min_precision=args.min_precision,
    )
    shown = proposals[: args.top]
    trial = dry_run(examples, classifier, shown)
    if args.json:
        for proposal in shown:
            print(json.dumps({"type": "proposal", **proposal.to_dict()}, ensure_ascii=False))
        print(json.dumps(_dry_run_json(trial), ensure_ascii=False))
    else:
        print(_suggest_report(source, examples, proposals, shown, trial, classifier), end="")
    return 0


def _corrections(args: argparse.Namespace, categories: set[str]) -> list[Labelled]:
    """The cadres' corrections as labelled lines: one per text, its latest category."""
    from bot.settings import load_settings
    from storage.corrections import corrections_since
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade

    settings = load_settings(config_dir=args.config_dir)
    since = datetime.combine(args.since, time(0), settings.tz) if args.since else None

    async def read() -> list[tuple[str, str, str]]:
        await upgrade(settings.database_url)
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                return await corrections_since(session, since)
        finally:
            await engine.dispose()

    latest: dict[str, str] = {}
    for text, _old, new in asyncio.run(read()):
        if new not in categories:
            # A village may have removed a category since the cadre chose it.
            log.warning("correction to unknown category %r skipped", new)
            continue
        if text.strip():
            latest.pop(text, None)  # re-insert: the dict keeps the latest order too
            latest[text] = new
    return [Labelled(text, category) for text, category in latest.items()]


_ACTIONS = {MOVE: "移入", REWEIGHT: "调档"}


def _suggest_report(
    source: str,
    examples: Sequence[Labelled],
    proposals: Sequence[Proposal],
    shown: Sequence[Proposal],
    trial: DryRun,
    classifier: Classifier,
) -> str:
    label = classifier.category_label
    lines = [
        f"标注留言 {len(examples)} 条(来源:{source}),现有规则分错 {trial.misclassified} 条。",
        f"达到门槛的建议 {len(proposals)} 条,显示前 {len(shown)} 条。",
    ]
    if shown:
        header = (
            _pad("#", 4)
            + _pad("类别", 20)
            + _pad("关键词", 12)
            + _pad("档位(分)", 16)
            + _pad("含该词", 8)
            + _pad("精确率", 8)
            + _pad("可改对", 8)
            + _pad("现有规则判为", 26)
            + "已在"
        )
        lines += ["", header]
        for rank, p in enumerate(shown, start=1):
            current = "、".join(f"{label(c)}{n}" for c, n in p.current)
            existing = "、".join(f"{label(c)}({w:g}分)" for c, w in p.existing) or "-"
            action = _ACTIONS.get(p.action)
            if action:
                existing += f" → {action}"
            lines.append(
                _pad(f"{rank}.", 4)
                + _pad(label(p.category), 20)
                + _pad(p.keyword, 12)
                + _pad(f"{p.tier}({p.weight:g})", 16)
                + _pad(f"{p.hits}/{p.support}", 8)
                + _pad(f"{p.precision:.0%}", 8)
                + _pad(str(p.fixes), 8)
                + _pad(current, 26)
                + existing
            )
    lines += [
        "",
        f"试算(只在内存中,未改任何文件):加上以上 {len(shown)} 条建议,"
        f"现有规则分错的 {trial.misclassified} 条中会改对 {len(trial.fixed)} 条"
        f"(would fix {len(trial.fixed)} of {trial.misclassified} misclassified examples);"
        f"原本分对、会被分错的 {len(trial.broken)} 条。"
        f"准确率 {trial.accuracy_before:.1%} → {trial.accuracy_after:.1%}。",
    ]
    for title, changes in (("会改对的留言", trial.fixed), ("会分错的留言", trial.broken)):
        if not changes:
            continue
        lines += ["", f"{title}:"]
        lines += [
            f"  - {_quote(c.text)}  应为 {label(c.expected)},"
            f"现判为 {label(c.before)},加建议后判为 {label(c.after)}"
            for c in changes[:MAX_QUOTED]
        ]
        if len(changes) > MAX_QUOTED:
            lines.append(f"  …… 另有 {len(changes) - MAX_QUOTED} 条")
    lines += [
        "",
        "如何采用:程序不会改规则,以上只是建议,请逐条判断后手工修改 config/categories.toml:",
        "  在该类别 [[categories]] 下的 [categories.keywords] 里,把关键词写进建议的档位列表,",
        '  例如 strong = [..., "关键词"];"移入"的词要先从原类别删去,"调档"的词从原档位挪到新档位。',
        "  改完运行 `fengqiao nlp eval 标注文件.jsonl` 检验效果,再重启机器人。",
    ]
    return "\n".join(lines) + "\n"


def _dry_run_json(trial: DryRun) -> dict[str, object]:
    def change(c: Change) -> dict[str, object]:
        # Masked: the corrections hold residents' own words, phone numbers included.
        text = mask_pii(c.text)
        return {"text": text, "expected": c.expected, "before": c.before, "after": c.after}

    return {
        "type": "dry_run",
        "total": trial.total,
        "misclassified": trial.misclassified,
        "would_fix": len(trial.fixed),
        "would_break": len(trial.broken),
        "accuracy_before": round(trial.accuracy_before, 4),
        "accuracy_after": round(trial.accuracy_after, 4),
        "fixed": [change(c) for c in trial.fixed],
        "broken": [change(c) for c in trial.broken],
    }


def _quote(text: str) -> str:
    """A resident's words, masked and cut short, on one line."""
    flat = " ".join(mask_pii(text).split())
    return f"「{flat[:QUOTE_CHARS]}…」" if len(flat) > QUOTE_CHARS else f"「{flat}」"


def _pad(text: str, width: int) -> str:
    """Left-justify to a terminal width where a Chinese character takes two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    # At least one space, so an over-long cell never runs into the next column.
    return text + " " * max(1, width - used)


def _parse_line(line: str, kinds: set[str]) -> tuple[str, str | None]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        raise ValueError('这一行不是有效的 JSON,应为 {"text": "留言内容"}') from None
    if not isinstance(data, dict):
        raise ValueError('这一行应为 JSON 对象,例如 {"text": "留言内容"}')
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError('缺少文字字段 "text",或它不是文字')
    kind_hint = data.get("kind_hint")
    if kind_hint is not None and kind_hint not in kinds:
        raise ValueError(f"kind_hint 应为 {sorted(kinds)} 之一")
    return text, kind_hint


def _load(args: argparse.Namespace) -> Classifier | None:
    try:
        return Classifier.from_config(Path(args.config_dir))
    except RulesError as exc:
        print(f"分类规则有误 (bad rules): {exc}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fengqiao nlp", description="枫桥服务台 分类规则工具")
    parser.add_argument("--config-dir", type=Path, default=Path("config"))
    add_commands(parser.add_subparsers(metavar="ACTION", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
