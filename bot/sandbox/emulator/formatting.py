"""Text entities the way Telegram computes them: UTF-16 offsets, formatting parsers, auto-detection.

Telegram parses `parse_mode` text on the server and stores plain text plus entities, so the
emulator does the same: a message the bot sends comes back stripped of markup, and markup
Telegram would reject is rejected here with Telegram's wording.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """Markup Telegram refuses; the message is the part after "can't parse entities: "."""


def _byte_offset(source: str, pos: int) -> int:
    """Telegram reports markup errors at UTF-8 byte offsets."""
    return len(source[:pos].encode())


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units (emoji count twice)."""
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of `text` an entity covers."""
    units = text.encode("utf-16-le")[2 * offset : 2 * (offset + length)]
    return units.decode("utf-16-le")


# --- entities Telegram detects by itself in text a user types --------------------------------

_AUTO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # URLs are ASCII; trailing punctuation belongs to the sentence, not the link.
    ("url", re.compile(r"(?<![\w@/])https?://[\w\-.~:/?#\[\]@!$&'()*+,;=%]*[\w\-~/#=&%]", re.A)),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d_]\w*")),
    ("email", re.compile(r"(?<![\w.@])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
)


def auto_entities(text: str) -> list[Entity]:
    """The entities a Telegram client attaches to plain text: commands, mentions, links, tags."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]


# --- parse_mode=HTML ---------------------------------------------------------------------------

_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*(/?)>"
)
_ATTR = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_CHAR_REF = re.compile(r"&(?:#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot|apos|nbsp);")

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


@dataclass
class _Open:
    tag: str
    start: int  # index into the output text, in str positions
    entity: Entity | None
    byte_offset: int


@dataclass
class _Output:
    parts: list[str] = field(default_factory=list)
    length: int = 0

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.length += len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


def _html_entity(tag: str, attrs: dict[str, str], byte_offset: int) -> Entity | None:
    if tag in _SIMPLE_TAGS:
        return {"type": _SIMPLE_TAGS[tag]}
    if tag == "span":
        if attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset}'
            )
        return {"type": "spoiler"}
    if tag == "a":
        href = attrs.get("href", "")
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            return {"type": "text_mention", "user": _mentioned(int(user.group(1)))}
        return {"type": "text_link", "url": href} if href else None
    if tag == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if tag == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset}')


def _mentioned(user_id: int) -> Entity:
    # Telegram sends the whole User; clients (python-telegram-bot) need is_bot and first_name.
    # The emulator's formatting knows no names, so the name is left empty.
    return {"id": user_id, "is_bot": False, "first_name": ""}


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Telegram's HTML style: the supported tags, balanced, `&lt;`-style escapes."""
    out = _Output()
    stack: list[_Open] = []
    spans: list[tuple[int, int, Entity]] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char == "&":
            ref = _CHAR_REF.match(source, pos)
            if ref:
                out.add(html.unescape(ref.group(0)))
                pos = ref.end()
                continue
            out.add(char)
            pos += 1
            continue
        if char != "<":
            nxt = min(
                (i for i in (source.find("<", pos), source.find("&", pos)) if i >= 0),
                default=len(source),
            )
            out.add(source[pos:nxt])
            pos = nxt
            continue
        byte_offset = _byte_offset(source, pos)
        tag_match = _TAG.match(source, pos)
        if tag_match is None:
            raise EntityParseError(
                f'Unsupported start tag "{source[pos + 1 : pos + 8].split(">")[0]}" '
                f"at byte offset {byte_offset}"
            )
        closing, name, raw_attrs, _ = tag_match.groups()
        name = name.lower()
        if closing:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset}")
            top = stack.pop()
            if top.tag != name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_offset}, expected "</{top.tag}>", '
                    f'found "</{name}>"'
                )
            if top.entity is not None and out.length > top.start:
                spans.append((top.start, out.length, top.entity))
        else:
            attrs = {
                a.group(1).lower(): html.unescape(
                    next((g for g in a.groups()[1:] if g is not None), "")
                )
                for a in _ATTR.finditer(raw_attrs)
            }
            entity = _html_entity(name, attrs, byte_offset)
            if name == "code" and stack and stack[-1].tag == "pre" and stack[-1].entity:
                # <pre><code class="language-x"> is one pre entity with a language.
                language = attrs.get("class", "").removeprefix("language-")
                if language:
                    stack[-1].entity["language"] = language
                entity = None
            stack.append(_Open(name, out.length, entity, byte_offset))
        pos = tag_match.end()
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return _finish(out.text(), spans)


def _finish(text: str, spans: list[tuple[int, int, Entity]]) -> tuple[str, list[Entity]]:
    # Telegram trims surrounding whitespace of the message and shifts entities accordingly.
    stripped_left = len(text) - len(text.lstrip())
    body = text.strip()
    entities: list[Entity] = []
    for start, end, entity in sorted(spans, key=lambda s: (s[0], -s[1])):
        start = max(start - stripped_left, 0)
        end = min(end - stripped_left, len(body))
        if end <= start:
            continue
        offset = utf16_len(body[:start])
        entities.append({**entity, "offset": offset, "length": utf16_len(body[start:end])})
    return body, entities


# --- parse_mode=MarkdownV2 ------------------------------------------------------------------

_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_V2_MARKERS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)
_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Telegram's MarkdownV2: every reserved character outside an entity must be escaped."""
    out = _Output()
    stack: list[_Open] = []
    spans: list[tuple[int, int, Entity]] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char == "\\":
            if pos + 1 < len(source) and ord(source[pos + 1]) < 128:
                out.add(source[pos + 1])
                pos += 2
                continue
            out.add(char)
            pos += 1
            continue
        if char == "`":
            pos = _v2_code(source, pos, out, spans)
            continue
        marker = next(((m, kind) for m, kind in _V2_MARKERS if source.startswith(m, pos)), None)
        if marker is not None:
            text_marker, kind = marker
            if stack and stack[-1].tag == text_marker:
                top = stack.pop()
                if out.length > top.start:
                    spans.append((top.start, out.length, {"type": kind}))
            else:
                stack.append(
                    _Open(text_marker, out.length, {"type": kind}, _byte_offset(source, pos))
                )
            pos += len(text_marker)
            continue
        if char == "[":
            stack.append(_Open("[", out.length, {"type": "text_link"}, _byte_offset(source, pos)))
            pos += 1
            continue
        if char == "]" and stack and stack[-1].tag == "[":
            top = stack.pop()
            link = re.compile(r"\(((?:[^)\\]|\\.)*)\)").match(source, pos + 1)
            if link is None:
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {top.byte_offset}"
                )
            url = re.sub(r"\\(.)", r"\1", link.group(1))
            user = re.fullmatch(r"tg://user\?id=(\d+)", url)
            entity: Entity = (
                {"type": "text_mention", "user": _mentioned(int(user.group(1)))}
                if user
                else {"type": "text_link", "url": url}
            )
            if out.length > top.start:
                spans.append((top.start, out.length, entity))
            pos = link.end()
            continue
        if char == ">" and (pos == 0 or source[pos - 1] == "\n"):
            end = source.find("\n", pos)
            end = len(source) if end < 0 else end
            quote_text, quote_entities = parse_markdown_v2(source[pos + 1 : end])
            start = out.length
            out.add(quote_text)
            spans.extend(
                (start + e["offset"], start + e["offset"] + e["length"], _strip_pos(e))
                for e in quote_entities
            )
            if quote_text:
                spans.append((start, out.length, {"type": "blockquote"}))
            pos = end
            continue
        if char in _V2_RESERVED:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(char)
        pos += 1
    if stack:
        top = stack[-1]
        name = _V2_NAMES.get(str(top.entity["type"]) if top.entity else "", "")
        raise EntityParseError(f"Can't find end of {name} entity at byte offset {top.byte_offset}")
    return _finish(out.text(), spans)


def _strip_pos(entity: Entity) -> Entity:
    return {k: v for k, v in entity.items() if k not in ("offset", "length")}


def _v2_code(source: str, pos: int, out: _Output, spans: list[tuple[int, int, Entity]]) -> int:
    fence = "```" if source.startswith("```", pos) else "`"
    end = pos + len(fence)
    while True:
        end = source.find(fence, end)
        if end < 0:
            kind = "Pre" if fence == "```" else "Code"
            raise EntityParseError(
                f"Can't find end of {kind} entity at byte offset {_byte_offset(source, pos)}"
            )
        if source[end - 1] != "\\":
            break
        end += 1
    body = source[pos + len(fence) : end]
    entity: Entity = {"type": "code"}
    if fence == "```":
        entity = {"type": "pre"}
        first, newline, rest = body.partition("\n")
        if newline and first and re.fullmatch(r"[\w+#-]+", first):
            entity["language"] = first
            body = rest
    body = re.sub(r"\\([`\\])", r"\1", body)
    start = out.length
    out.add(body)
    if body:
        spans.append((start, out.length, entity))
    return end + len(fence)


# --- legacy parse_mode=Markdown -----------------------------------------------------------------

_LEGACY = re.compile(
    r"```(?:([\w+#-]+)\n)?(.*?)```|`([^`]*)`|\*([^*]*)\*|_([^_]*)_|\[([^\]]*)\]\(([^)]*)\)", re.S
)


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Telegram's legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out = _Output()
    spans: list[tuple[int, int, Entity]] = []
    pos = 0
    for match in _LEGACY.finditer(source):
        out.add(source[pos : match.start()])
        language, pre, code, bold, italic, link_text, url = match.groups()
        start = out.length
        if pre is not None:
            out.add(pre)
            entity: Entity = {"type": "pre", **({"language": language} if language else {})}
        elif code is not None:
            out.add(code)
            entity = {"type": "code"}
        elif bold is not None:
            out.add(bold)
            entity = {"type": "bold"}
        elif italic is not None:
            out.add(italic)
            entity = {"type": "italic"}
        else:
            out.add(link_text)
            entity = {"type": "text_link", "url": url}
        if out.length > start:
            spans.append((start, out.length, entity))
        pos = match.end()
    rest = source[pos:]
    for marker in ("*", "_", "`", "["):
        if marker in rest:
            byte_offset = _byte_offset(source, pos + rest.index(marker))
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {byte_offset}"
            )
    out.add(rest)
    return _finish(out.text(), spans)


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Plain text plus entities for `text` sent with `parse_mode` (None: text as given)."""
    if not parse_mode:
        return text.strip(), []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise LookupError(parse_mode)
