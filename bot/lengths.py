"""Telegram's length limits, which count UTF-16 code units (an emoji outside the BMP is two)."""

from __future__ import annotations

import unicodedata

# Limits on the text left after Telegram parses the HTML markup.
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

_ZWJ = "\u200d"


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def cut_utf16(text: str, units: int) -> str:
    """The longest prefix of `text` within `units` UTF-16 code units, cut at a safe boundary.

    Python indexes code points, so a surrogate pair is never split; the cut also steps back
    so that a combining mark, a variation selector, a skin tone or a ZWJ sequence is not left
    without its base (a half emoji shows as a broken glyph).
    """
    if units <= 0:
        return ""
    if utf16_len(text) <= units:
        return text
    end, used = 0, 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > units:
            break
        used += size
        end += 1
    while 0 < end < len(text) and (_attaches(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    return text[:end]


def _attaches(ch: str) -> bool:
    """True for a character that belongs to the one before it."""
    code = ord(ch)
    return (
        ch == _ZWJ
        or unicodedata.category(ch).startswith("M")  # combining marks, variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters of flag sequences
    )
