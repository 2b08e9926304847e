"""Message text parsing: parse_mode handling and automatic entities, as Telegram does it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["EntityParseError", "auto_entities", "parse_text", "utf16_len"]


class EntityParseError(ValueError):
    """The text could not be parsed with the requested parse_mode."""


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# A /command starts the text or follows whitespace; Telegram allows letters, digits and "_"
# and an optional @botname suffix.
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")
# Bare domains only count with a common top-level domain, so "plan.xlsx" is not a link.
_URL_RE = re.compile(
    r"(?<![\w@/])(?:https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+"
    r"|(?:[A-Za-z0-9-]+\.)+(?:com|cn|net|org|gov|edu|io|info|me|app|dev|top|xyz|ru|jp|de|uk)\b)"
    r"(?::\d+)?(?:/[^\s]*)?"
)
_EMAIL_RE = re.compile(r"(?<![\w.])[\w.+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}")


def _offset(text: str, index: int) -> int:
    return utf16_len(text[:index])


def auto_entities(text: str) -> list[dict]:
    """Entities Telegram detects by itself in plain text: commands, mentions, hashtags, links."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], kind: str) -> None:
        start, end = match.span()
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            return
        taken.append((start, end))
        found.append((start, end, kind))

    for match in _COMMAND_RE.finditer(text):
        add(match, "bot_command")
    for match in _EMAIL_RE.finditer(text):
        add(match, "email")
    for match in _URL_RE.finditer(text):
        add(match, "url")
    for match in _MENTION_RE.finditer(text):
        add(match, "mention")
    for match in _HASHTAG_RE.finditer(text):
        add(match, "hashtag")
    found.sort()
    return [
        {"type": kind, "offset": _offset(text, start), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]


_HTML_TAGS = {
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
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlEntityParser(HTMLParser):
    """Telegram's HTML subset: strips tags, collects entities, rejects what Telegram rejects."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0  # UTF-16 units emitted so far
        self.stack: list[tuple[str, dict]] = []
        self.entities: list[dict] = []

    def _fail(self, message: str) -> None:
        raise EntityParseError(message)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in _HTML_TAGS:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self.length}')
        entity: dict = {"type": _HTML_TAGS[tag], "offset": self.length}
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            self._fail(f'Tag "span" must have class "tg-spoiler" at byte offset {self.length}')
        if tag == "a":
            href = attributes.get("href") or ""
            if href.startswith("tg://user?id="):
                entity = {
                    "type": "text_mention",
                    "offset": self.length,
                    "user": {"id": int(href.split("=", 1)[1] or 0), "is_bot": False, "first_name": ""},
                }
            else:
                entity["url"] = href
        if tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        if tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][1]["language"] = language
            entity = {}
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}/" at byte offset {self.length}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {self.length}")
        open_tag, entity = self.stack.pop()
        if open_tag != tag:
            self._fail(f'Can\'t find end tag corresponding to start tag "{open_tag}"')
        if entity and self.length > entity["offset"]:
            entity["length"] = self.length - entity["offset"]
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_len(data)

    def close(self) -> None:
        super().close()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')


def _parse_html(text: str) -> tuple[str, list[dict]]:
    # HTMLParser is lenient about a bare "<"; Telegram is not.
    for match in re.finditer(r"<(?![A-Za-z/])", text):
        raise EntityParseError(f"Unsupported start tag at byte offset {match.start()}")
    parser = _HtmlEntityParser()
    parser.feed(text)
    parser.close()
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = [("||", "spoiler"), ("__", "underline"), ("*", "bold"), ("_", "italic"), ("~", "strikethrough")]


def _parse_markdown_v2(text: str) -> tuple[str, list[dict]]:
    out: list[str] = []
    length = 0
    entities: list[dict] = []
    stack: list[tuple[str, int]] = []
    i = 0

    def emit(chunk: str) -> None:
        nonlocal length
        out.append(chunk)
        length += utf16_len(chunk)

    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                raise EntityParseError("Can't parse entities: unexpected end of text")
            emit(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise EntityParseError(f"Can't find end of Pre entity at byte offset {i}")
            body = text[i + 3 : end]
            language, _, rest = body.partition("\n") if "\n" in body else ("", "", body)
            start = length
            emit(rest.replace("\\`", "`").replace("\\\\", "\\"))
            entity = {"type": "pre", "offset": start, "length": length - start}
            if language:
                entity["language"] = language
            entities.append(entity)
            i = end + 3
            continue
        if char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of Code entity at byte offset {i}")
            start = length
            emit(text[i + 1 : end].replace("\\`", "`").replace("\\\\", "\\"))
            entities.append({"type": "code", "offset": start, "length": length - start})
            i = end + 1
            continue
        if char == "[":
            close = text.find("](", i)
            end = text.find(")", close + 2) if close >= 0 else -1
            if close < 0 or end < 0:
                raise EntityParseError("Character '[' is reserved and must be escaped with the preceding '\\'")
            label, _ = _parse_markdown_v2(text[i + 1 : close])
            start = length
            emit(label)
            entities.append(
                {
                    "type": "text_link",
                    "offset": start,
                    "length": length - start,
                    "url": text[close + 2 : end].replace("\\)", ")"),
                }
            )
            i = end + 1
            continue
        if char == ">" and (i == 0 or text[i - 1] == "\n"):
            # Blockquote lines: the marker is dropped, the text kept.
            i += 1
            continue
        for marker, kind in _MDV2_MARKERS:
            if text.startswith(marker, i):
                if stack and stack[-1][0] == marker:
                    _, start = stack.pop()
                    if length > start:
                        entities.append({"type": kind, "offset": start, "length": length - start})
                else:
                    stack.append((marker, length))
                i += len(marker)
                break
        else:
            if char in _MDV2_RESERVED:
                raise EntityParseError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
            emit(char)
            i += 1
    if stack:
        marker = stack[-1][0]
        raise EntityParseError(f"Can't find end of {dict(_MDV2_MARKERS)[marker].title()} entity")
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _parse_markdown(text: str) -> tuple[str, list[dict]]:
    out: list[str] = []
    length = 0
    entities: list[dict] = []
    i = 0
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < len(text):
        char = text[i]
        if char in kinds:
            end = text.find(char, i + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {len(text[:i].encode())}")
            chunk = text[i + 1 : end]
            entities.append({"type": kinds[char], "offset": length, "length": utf16_len(chunk)})
            out.append(chunk)
            length += utf16_len(chunk)
            i = end + 1
            continue
        out.append(char)
        length += utf16_len(char)
        i += 1
    return "".join(out), [e for e in entities if e["length"]]


def parse_text(text: str, parse_mode: str | None, entities: list[dict] | None = None) -> tuple[str, list[dict]]:
    """Plain text and entities for a text sent with a parse_mode (or explicit entities)."""
    mode = (parse_mode or "").lower()
    if entities:
        return text, list(entities)
    if mode == "html":
        plain, found = _parse_html(text)
    elif mode == "markdownv2":
        plain, found = _parse_markdown_v2(text)
    elif mode == "markdown":
        plain, found = _parse_markdown(text)
    else:
        plain, found = text, []
    auto = [
        e
        for e in auto_entities(plain)
        if not any(
            e["offset"] < f["offset"] + f["length"]
            and f["offset"] < e["offset"] + e["length"]
            and f["type"] in ("code", "pre", "text_link")
            for f in found
        )
    ]
    return plain, sorted(found + auto, key=lambda e: (e["offset"], -e["length"]))
