"""Figures over many tickets for cadres and the public; personal data never leaves masked."""

from __future__ import annotations

import re
from datetime import datetime

from bot.desk import Desk
from nlp.hotwords import rank_hotwords
from nlp.textfeatures import load_stopwords

# 青溪村 is also called 青溪: cut the short form out too, so no piece of a place name ranks.
PLACE_SUFFIX = re.compile(r"(村|社区|镇|乡|街道|县|区|市|网格|第.网格)$")


async def hot_words(
    desk: Desk, since: datetime, place_id: str | None = None, top: int = 20
) -> list[tuple[str, float]]:
    """The hot-word ranking (热词排行) of the tickets created since a moment."""
    tickets = await desk.tickets.all(since=since)
    if place_id is not None:
        tickets = [t for t in tickets if t.place_id == place_id]
    names = {p.name for p in desk.places}
    names |= {short for n in names if len(short := PLACE_SUFFIX.sub("", n)) >= 2}
    return rank_hotwords(
        (t.text for t in tickets),
        desk.classifier.segmenter,
        top_k=top,
        boost_words=desk.classifier.user_words,
        mask_words=names,
        stopwords=load_stopwords(desk.settings.config_dir),
    )
