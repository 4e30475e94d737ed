"""The `fengqiao` command: run, db upgrade, sandbox, nlp tools, ticket listings, staff and
places."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, time
from pathlib import Path

from bot.logs import setup_logging
from bot.settings import SettingsError, load_settings

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console command; errors end in one clear line, not a traceback."""
    parser = _parser()
    # The sandbox parses its own arguments (argparse's REMAINDER would refuse a leading --help).
    args, rest = parser.parse_known_args(argv)
    if rest and getattr(args, "func", None) is not _sandbox:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if rest:
        args.sandbox_args = [*args.sandbox_args, *rest]
    token = os.environ.get("FENGQIAO_BOT_TOKEN", "").strip()
    setup_logging(logging.DEBUG if args.verbose else logging.INFO, secrets=(token,))
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"fengqiao: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    from bot.cli.nlp import add_commands as add_nlp_commands
    from bot.cli.nlp import iso_date
    from bot.cli.staff import add_commands as add_staff_commands

    parser = argparse.ArgumentParser(prog="fengqiao", description="枫桥服务台 Fengqiao desk")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot with long polling")
    run.set_defaults(func=_run)

    db = sub.add_parser("db", help="database schema").add_subparsers(metavar="ACTION")
    db.add_parser("upgrade", help="apply the migrations").set_defaults(func=_db_upgrade)

    # No help of its own: `fengqiao sandbox --help` reaches the sandbox's parser, which lists
    # the sandbox commands.
    sandbox = sub.add_parser(
        "sandbox", help="try the bot in the terminal, no token needed", add_help=False
    )
    sandbox.add_argument("sandbox_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    sandbox.set_defaults(func=_sandbox)

    emulator = sub.add_parser(
        "emulator", help="serve the Bot API emulator with its control API (local testing only)"
    )
    emulator.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    emulator.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    emulator.add_argument(
        "--config-dir",
        type=Path,
        default=Path(os.environ.get("FENGQIAO_CONFIG_DIR", "config")),
        help="the folder with places.toml, whose chats the emulator creates",
    )
    emulator.add_argument("--limits", action="store_true", help="enforce Telegram's flood limits")
    emulator.add_argument("--token", default=None, help="the bot token the emulator accepts")
    emulator.set_defaults(func=_emulator)

    nlp = sub.add_parser("nlp", help="try the classification rules")
    nlp.add_argument(
        "--config-dir",
        type=Path,
        default=Path(os.environ.get("FENGQIAO_CONFIG_DIR", "config")),
        help="the folder with categories.toml (default: FENGQIAO_CONFIG_DIR or config)",
    )
    add_nlp_commands(nlp.add_subparsers(metavar="ACTION"))

    delivery = sub.add_parser("delivery", help="the inbox and the outbox").add_subparsers(
        metavar="ACTION"
    )
    delivery.add_parser(
        "status", help="how many updates wait to be handled and messages to be sent"
    ).set_defaults(func=_delivery_status)

    tickets = sub.add_parser("tickets", help="tickets for operators").add_subparsers(
        metavar="ACTION"
    )
    listing = tickets.add_parser("list", help="print the tickets")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--since", type=iso_date, help="only tickets created on or after DATE")
    listing.set_defaults(func=_tickets_list)
    add_staff_commands(sub)
    return parser


def _run(args: argparse.Namespace) -> int:
    from bot.app import serve

    settings = load_settings()
    settings.token()  # refuse to start without one, before anything heavy is loaded
    asyncio.run(serve(settings))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    settings = load_settings()
    asyncio.run(upgrade(settings.database_url))
    print("database is up to date")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.terminal import run_sandbox

    return run_sandbox(args.sandbox_args)


def _emulator(args: argparse.Namespace) -> int:
    from bot.places import PlacesError
    from bot.sandbox.emulator.standalone import DEFAULT_TOKEN, run

    try:
        return run(
            host=args.host,
            port=args.port,
            config_dir=args.config_dir,
            limits=args.limits,
            token=args.token or DEFAULT_TOKEN,
        )
    except PlacesError as exc:
        print(f"fengqiao: {exc}", file=sys.stderr)
        return 2


def _delivery_status(args: argparse.Namespace) -> int:
    from storage import queues
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade

    settings = load_settings()

    async def read() -> dict[str, dict[str, int]]:
        await upgrade(settings.database_url)
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                return await queues.counts(session)
        finally:
            await engine.dispose()

    found = asyncio.run(read())
    inbox, outbox = found["inbox"], found["outbox"]
    print(
        f"inbox:  {inbox.get('pending', 0)} waiting to be handled, "
        f"{inbox.get('failed', 0)} failed, {inbox.get('done', 0)} done (kept two days)"
    )
    print(
        f"outbox: {outbox.get('pending', 0)} waiting to be sent, "
        f"{outbox.get('failed', 0)} refused by Telegram, {outbox.get('sent', 0)} sent, "
        f"{outbox.get('superseded', 0)} replaced by a newer message"
    )
    return 0


def _tickets_list(args: argparse.Namespace) -> int:
    from bot.desk import open_desk

    settings = load_settings()

    async def listing() -> list[dict[str, object]]:
        desk = await open_desk(settings)
        try:
            since = datetime.combine(args.since, time(0), settings.tz) if args.since else None
            return [t.to_json() for t in await desk.tickets.all(since=since)]
        finally:
            await desk.close()

    rows = asyncio.run(listing())
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(
                f"{row['number']}  {row['status']:<8} {row['category']:<18} "
                f"{row['place']:<12} {row['created']}  due {row['due']}"
            )
    return 0
