"""`fengqiao nlp classify|eval|hotwords`: try the classification rules, rank hot words.

Also runs on its own: `python -m bot.cli.nlp [--config-dir DIR] classify|eval FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import TextIO

from nlp.classifier import Classifier
from nlp.evaluate import ExamplesError, evaluate, format_report, load_examples
from nlp.rules import RulesError

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


def iso_date(value: str) -> date:
    """An argparse type for YYYY-MM-DD with a Chinese message when it is not one."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD: {value!r}") from None


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
