"""/calendar: admins add a year of holidays from the State Council's notice, or look at a year.

A declared flow (bot/engine.py): /calendar opens it at "notice"; the pasted or forwarded notice is
read (oversight.holiday_notice) and shown back — the list, then the month grids in a fixed-width
block — and the flow waits at "confirm" for 确认保存 (a corrected notice may still be pasted
there); only then is the year stored. A notice that cannot be read is answered with every bad
line named (the domain error) and the flow stays where it was. /calendar 2026 shows a year.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from telegram import Bot

from bot import texts as t
from bot.engine import Flow, Job, Step, Turn, button, command
from oversight import workdays
from oversight.audit import actor_of
from oversight.dates import cn_date
from oversight.errors import InvalidStateError
from oversight.holiday_notice import (
    HOW_TO_ADD,
    MAX_NOTICE_CHARS,
    describe_days,
    format_preview,
    grids_of,
    parse_notice,
    store_notice,
)


@dataclass
class CalendarState:
    text: str = ""  # the notice as pasted, read again when it is confirmed
    year: int = 0


def _status() -> str:
    first, last = workdays.covered_years()
    stored = sorted(y for y in workdays.known_years() if (d := workdays.year_data(y)) is not None and d.stored)
    return t.CALENDAR_STATUS.format(
        first=first,
        last=last,
        stored=t.CALENDAR_STORED_YEARS.format(years="、".join(f"{y}年" for y in stored)) if stored else "",
        missing=t.CALENDAR_MISSING_FROM.format(year=workdays.first_estimated_year()),
    )


def _send(chat_id: int, listing: str, grids: str) -> Job:
    """The listing, then the grids in a fixed-width block (they align only there). Our own text,
    made of dates only, escaped: nothing a user typed becomes markup."""

    async def job(bot: Bot) -> None:
        await bot.send_message(chat_id, listing)
        await bot.send_message(chat_id, f"<pre>{html.escape(grids)}</pre>", parse_mode="HTML")

    return job


def _year_view(year: int) -> tuple[str, str] | None:
    data = workdays.year_data(year)
    if data is None:
        return None
    by_name: dict[str, tuple[list[Any], list[Any]]] = {}
    for d in data.holidays:
        by_name.setdefault(data.names.get(d, "节假日"), ([], []))[0].append(d)
    for d in data.workdays:
        by_name.setdefault(data.names.get(d, "节假日"), ([], []))[1].append(d)
    lines = [t.CALENDAR_YEAR_HEAD.format(year=year, source=data.source)]
    for name, (hol, work) in sorted(by_name.items(), key=lambda kv: min(kv[1][0] or kv[1][1])):
        if hol:
            lines.append(t.CALENDAR_YEAR_LINE.format(name=name, days=describe_days(hol, work, year)))
    grids = t.CALENDAR_GRIDS_HEAD + "\n" + "\n\n".join(grids_of(year, set(data.holidays), set(data.workdays)))
    return "\n".join(lines), grids


@command("calendar")
def calendar(turn: Turn[None]) -> None:
    """The calendar's years and how to add one (opens the flow), or one year: /calendar 2026."""
    arg = "".join(turn.args).strip()
    if arg.isdigit() and len(arg) == 4:
        view = _year_view(int(arg))
        if view is None:
            turn.say(t.CALENDAR_NO_YEAR.format(year=arg, how=HOW_TO_ADD.format(year=arg)))
        else:
            turn.after(_send(turn.user_id, *view))
        return
    turn.start(CALENDAR, CalendarState(), "notice")
    turn.say(_status() + "\n\n" + t.CALENDAR_ASK_NOTICE.format(year=workdays.first_estimated_year()))


def take_notice(turn: Turn[CalendarState], text: str) -> None:
    """The pasted or forwarded notice: read it and show it back for confirmation."""
    parsed = parse_notice(text[: MAX_NOTICE_CHARS + 1])
    turn.state.text, turn.state.year = text, parsed.year
    turn.goto("confirm")
    listing, grids = format_preview(parsed, replacing=workdays.year_data(parsed.year) is not None)
    turn.after(_send(turn.user_id, listing, grids))
    turn.say(
        t.CALENDAR_CONFIRM_ASK,
        buttons=[[button(t.CALENDAR_BTN_CONFIRM, "confirm"), button(t.CALENDAR_BTN_CANCEL, "cancel")]],
    )


def confirm(turn: Turn[CalendarState]) -> None:
    """Store the year just checked, audited as this admin."""
    if not turn.state.text:
        raise InvalidStateError(t.CALENDAR_STALE)
    parsed = parse_notice(turn.state.text)
    result = store_notice(session=turn.session, parsed=parsed, actor=actor_of(turn.member.id), now=turn.now)
    turn.end()
    verb = t.CALENDAR_VERB_REPLACED if result.replaced else t.CALENDAR_VERB_NEW
    reply = t.CALENDAR_SAVED.format(verb=verb, year=parsed.year)
    if result.moved:
        lines = "\n".join(
            t.CALENDAR_MOVED_LINE.format(id=pid, old=cn_date(old), new=cn_date(new)) for pid, old, new in result.moved
        )
        reply += "\n" + t.CALENDAR_MOVED.format(lines=lines)
    turn.say(reply)


def cancel(turn: Turn[CalendarState]) -> None:
    turn.end()
    turn.say(t.CALENDAR_CANCELLED)


CALENDAR = Flow(
    "calendar",
    CalendarState,
    command="calendar",
    steps={
        "notice": Step(text=take_notice),
        "confirm": Step(buttons={"confirm": confirm, "cancel": cancel}, text=take_notice),
    },
)
