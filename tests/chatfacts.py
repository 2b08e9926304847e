"""Checks every chat summary's facts must pass (/todo, /progress, the daily digest, the notice
draft's overview): the message is exactly its facts' texts, every id a fact cites names a row of
its table, and no line holds a program's data representation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

# Every table a chat fact's ids may name.
CHAT_TABLES = {
    "unit": "unit",
    "problem": "problem",
    "decision": "decision",
    "right": "right",
    "task": "task",
    "plan": "plan",
    "notice": "notice",
    "finding": "noticefinding",
    "item": "rectificationitem",
}
RAW = re.compile(r"\{'|\"kind\":|'kind'|\bNone\b|\bTrue\b|\bFalse\b|\[\[|\bnan\b")


def message_of(listed: Iterable[Mapping[str, Any]]) -> str:
    """The message the facts make: each section's texts one a line, a blank line between sections."""
    parts: dict[int, list[str]] = {}
    for fact in listed:
        parts.setdefault(int(fact["section"]), []).append(str(fact["text"]))
    return "\n\n".join("\n".join(lines) for _, lines in sorted(parts.items()))


def assert_chat_facts(session: Session, message: str, listed: list[dict[str, Any]]) -> None:
    """The message is its facts' texts, each fact cites rows that exist, and nothing reads as data."""
    assert message == message_of(listed), (message, [f["text"] for f in listed])
    for fact in listed:
        for noun, ids in fact["ids"].items():
            table = CHAT_TABLES[noun]
            found = {r[0] for r in session.connection().execute(text(f'SELECT id FROM "{table}"'))}
            assert ids and set(ids) <= found, (fact["kind"], noun, set(ids) - found)
    m = RAW.search(message)
    assert m is None, message[max(0, m.start() - 50) : m.end() + 50]


def kinds(listed: list[dict[str, Any]]) -> list[str]:
    return [f["kind"] for f in listed]


def cited(listed: list[dict[str, Any]], kind: str, noun: str) -> set[int]:
    """Every id of `noun` the facts of `kind` cite."""
    return {i for f in listed if f["kind"] == kind for i in f["ids"].get(noun, [])}
