"""The desk's services wired together: one object the handlers, the CLI and tests share."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.answers import CommonAnswers
from bot.cadres import CadreService
from bot.clock import Clock, SystemClock
from bot.delivery.inbox import Inbox
from bot.delivery.outbox import Outbox
from bot.duplicates import DuplicateFinder
from bot.intake import IntakeService
from bot.messages import Messages
from bot.places import PlaceDirectory
from bot.routing import Routing
from bot.settings import Settings
from bot.staff import StaffService
from bot.texts import Texts
from bot.tickets import TicketService
from nlp.classifier import Classifier
from nlp.faq import FaqIndex
from nlp.textfeatures import load_stopwords
from storage import repo
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Place

log = logging.getLogger(__name__)


@dataclass
class Desk:
    """Everything a running desk needs, built once at start and closed at shutdown."""

    settings: Settings
    clock: Clock
    texts: Texts
    places: PlaceDirectory
    classifier: Classifier
    faq: FaqIndex
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    inbox: Inbox
    outbox: Outbox
    messages: Messages
    tickets: TicketService
    intake: IntakeService
    staff: StaffService
    cadres: CadreService

    async def close(self) -> None:
        """Let queued writes finish, then release the database."""
        await self.intake.close()
        await self.inbox.close()
        await self.engine.dispose()


def load_config(settings: Settings) -> tuple[Texts, PlaceDirectory, Classifier, FaqIndex]:
    """Read the editable files in the config folder; raises with the file's name on error."""
    config_dir = settings.config_dir
    classifier = Classifier.from_config(config_dir)
    faq = FaqIndex.from_config(config_dir, classifier.segmenter)
    return Texts.load(config_dir), PlaceDirectory.load(config_dir), classifier, faq


async def open_desk(
    settings: Settings, clock: Clock | None = None, *, migrate: bool = True
) -> Desk:
    """Load config, bring the database schema up to date, mirror the places, build services."""
    clock = clock or SystemClock()
    texts, places, classifier, faq = load_config(settings)
    if migrate:
        await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await repo.sync_places(
            session,
            (
                Place(
                    id=p.id,
                    name=p.name,
                    level=p.level,
                    parent_id=p.parent_id,
                    admin_chat_id=p.admin_chat_id,
                    group_chat_id=p.group_chat_id,
                )
                for p in places
            ),
        )
    tz = settings.tz
    outbox = Outbox(clock)
    inbox = Inbox(sessions, clock, outbox)
    messages = Messages(texts, clock, tz)
    tickets = TicketService(
        sessions, clock, places, classifier, tz, outbox, messages, Routing.load(settings.config_dir)
    )
    duplicates = DuplicateFinder(clock, classifier.segmenter, load_stopwords(settings.config_dir))
    intake = IntakeService(
        sessions,
        clock,
        places,
        classifier,
        tickets,
        faq,
        duplicates,
        tz,
        inbox,
        outbox,
        messages,
    )
    staff = StaffService(
        sessions, clock, places, inbox, outbox, messages, bot_username=settings.bot_username
    )
    # Chats linked with /bind win over config/places.toml.
    await staff.apply_bindings()
    cadres = CadreService(
        sessions,
        clock,
        places,
        classifier,
        tickets,
        staff,
        CommonAnswers.load(settings.config_dir),
        tz,
        inbox,
        outbox,
        messages,
    )
    log.info("desk open: %d places, database %s", len(list(places)), engine.url.render_as_string())
    return Desk(
        settings,
        clock,
        texts,
        places,
        classifier,
        faq,
        engine,
        sessions,
        inbox,
        outbox,
        messages,
        tickets,
        intake,
        staff,
        cadres,
    )
