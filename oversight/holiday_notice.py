"""Adding a year to the calendar from the State Council's notice (国务院办公厅关于20XX年部分节假日安排的通知).

The admin pastes or forwards the notice (chat `/calendar`) or gives its text file
(`lianxi calendar import`). `parse_notice` reads its numbered lines, e.g.

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。

into holidays (ranges and single days of 放假 / 放假调休 / 补休; weekends inside a range included,
as the notice counts them in 共N天) and make-up working days (上班, always a weekend day). The
weekday notes in brackets (周日 / 星期日) and the day counts (共9天, 放假1天) are cross-checked
against the dates. Anything it cannot read is named by its line with the reason, all at once, and
nothing is stored (`NoticeParseError`). `format_preview` shows the parsed year back (the list and a
month grid) for the admin to confirm; only then `store_notice` stores it.

Own code, not a library: no package reads these notices; their wording is stable enough (the same
sentence shapes since 2008, with 星期X or, since 2025, 周X and lunar dates in the brackets) that a
small strict reader, which refuses what it does not recognise, is safer than a lenient one.
"""

from __future__ import annotations

import calendar as _pycal
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from models import Problem, ProblemCategory, ProblemState, utcnow
from oversight import workdays
from oversight.audit import audit
from oversight.dates import local_day
from oversight.errors import InvalidInputError

MAX_NOTICE_CHARS = 20000
FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
WEEKDAYS_ZH = ("一", "二", "三", "四", "五", "六", "日")
HOW_TO_ADD = "添加方法：管理员在机器人中发送 /calendar，再粘贴或转发国务院办公厅关于{year}年部分节假日安排的通知全文，核对后确认保存。"

_NUMERALS = "一二三四五六七八九十"
_ITEM_START = re.compile(rf"(?:^|(?<=[。.]))([{_NUMERALS}]{{1,3}})、")
_ITEM = re.compile(rf"^([{_NUMERALS}]{{1,3}})、([^:]{{1,20}}):(.*)$")
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(\([^()]*\))?")
_WEEKDAY_NOTE = re.compile(r"(?:星期|周)([一二三四五六日天])")
_COUNT = re.compile(r"(?:共|放假)(\d{1,2})天")
_YEAR = (
    re.compile(r"关于(\d{4})年(?:元旦、春节等)?部分节假日安排"),
    re.compile(r"现将(\d{4})年(?:元旦|春节)"),
)
_DOC_NO = re.compile(r"国办发明电[〔\[(]?(\d{4})[〕\])]?(\d{1,3})号")


class NoticeParseError(InvalidInputError):
    """The notice could not be read; `problems` names each line and its reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"{i}. {p}" for i, p in enumerate(self.problems, 1))
        super().__init__(f"未能读取这份通知，没有保存任何数据。请核对以下内容：\n{lines}")


@dataclass(frozen=True)
class NoticeItem:
    """One numbered line of the notice: a festival (or two, merged) and its days."""

    line_no: int
    festival: str
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]


@dataclass(frozen=True)
class ParsedNotice:
    """A notice read: its year, title (with its document number when given) and lines."""

    year: int
    source: str
    items: tuple[NoticeItem, ...]
    notes: tuple[str, ...] = ()  # sentences with a date the calendar does not count (鼓励…休息)
    text: str = field(default="", repr=False)

    @property
    def holidays(self) -> dict[date, str]:
        return {d: i.festival for i in self.items for d in i.holidays}

    @property
    def workdays(self) -> dict[date, str]:
        return {d: i.festival for i in self.items for d in i.workdays}


# --- Reading ------------------------------------------------------------------------------


def _normal(text: str) -> str:
    """Half-width punctuation and digits, no spaces: （→( ：→: ，→, and so on (、 and 。 stay)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _short(line: str, limit: int = 36) -> str:
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _md_full(day: date, year: int) -> str:
    return f"{day.year}年{_md(day)}" if day.year != year else _md(day)


def _split_outside_brackets(text: str, seps: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch in seps and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p]


class _LineError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _find_year(flat: str) -> int | None:
    for pattern in _YEAR:
        m = pattern.search(flat)
        if m:
            return int(m.group(1))
    return None


def _dates_of(clause: str, *, year: int, month: int | None) -> tuple[list[date], int | None]:
    """The dates a clause names, ranges (A至B) expanded; checks month, order and weekday notes.

    Returns the dates and the month the next date without one inherits.
    """
    out: list[date] = []
    pos = 0
    pending_range: date | None = None
    for m in _DATE.finditer(clause):
        between = clause[pos : m.start()]
        pos = m.end()
        y_text, m_text, d_text, note = m.groups()
        explicit_year = int(y_text) if y_text else None
        if m_text:
            month = int(m_text)
        elif month is None:
            raise _LineError(f"“{m.group(0)}”缺少月份")
        assert month is not None
        y = explicit_year or (pending_range.year if pending_range else year)
        try:
            day = date(y, month, int(d_text))
        except ValueError as exc:
            raise _LineError(f"日期“{m.group(0)}”不存在") from exc
        if (
            pending_range is not None
            and explicit_year is None
            and day < pending_range
            and day.month < pending_range.month
        ):
            day = day.replace(year=day.year + 1)  # 12月31日至1月2日
        if note:
            wd = _WEEKDAY_NOTE.search(note)
            if wd:
                said = "日" if wd.group(1) == "天" else wd.group(1)
                actual = WEEKDAYS_ZH[day.weekday()]
                if said != actual:
                    raise _LineError(f"{_md_full(day, year)}是周{actual}，括号里写的是周{said}")
        if pending_range is not None and "至" in between:
            start = pending_range
            if day < start:
                raise _LineError(f"日期范围倒置：{_md_full(start, year)}至{_md_full(day, year)}")
            if (day - start).days > 31:
                raise _LineError(f"日期范围过长：{_md_full(start, year)}至{_md_full(day, year)}")
            out.extend(start + timedelta(days=k) for k in range(1, (day - start).days + 1))
        else:
            out.append(day)
        pending_range = day
    return out, month


def _adjacent_weekend(day: date, year: int) -> list[date]:
    """The weekend a single holiday joins (与周末连休): after a Friday, before a Monday."""
    if day.weekday() == 4:
        return [day + timedelta(days=1), day + timedelta(days=2)]
    if day.weekday() == 0:
        return [day - timedelta(days=2), day - timedelta(days=1)]
    raise _LineError(f"{_md_full(day, year)}是周{WEEKDAYS_ZH[day.weekday()]}，不能“与周末连休”")


def _read_item(line_no: int, festival: str, body: str, year: int) -> tuple[NoticeItem, list[str]]:
    holidays: list[date] = []
    work: list[date] = []
    notes: list[str] = []
    for sentence in (s for s in body.split("。") if s):
        if sentence.startswith("鼓励"):
            if _DATE.search(sentence):
                notes.append(sentence)
            continue
        month: int | None = None
        counted: list[date] = []
        count_said: int | None = None
        for clause in _split_outside_brackets(sentence, ",;"):
            count = _COUNT.search(re.sub(r"\([^()]*\)", "", clause))
            if count:
                count_said = int(count.group(1))
            dates, month = _dates_of(clause, year=year, month=month)
            if not dates:
                if "与周末连休" in clause and counted:
                    weekend = _adjacent_weekend(counted[-1], year)
                    holidays.extend(weekend)
                    counted.extend(weekend)
                continue
            if "上班" in clause:
                for d in dates:
                    if d.weekday() < 5:
                        raise _LineError(
                            f"{_md_full(d, year)}是周{WEEKDAYS_ZH[d.weekday()]}，本就是工作日，不是调休上班日"
                        )
                work.extend(dates)
            elif "放假" in clause or "补休" in clause:
                holidays.extend(dates)
                counted.extend(dates)
            else:
                raise _LineError(f"“{_short(clause, 24)}”没有写明这些日期是放假还是上班")
        if count_said is not None and counted and count_said != len(counted):
            first, last = min(counted), max(counted)
            raise _LineError(
                f"写的是共{count_said}天，但{_md_full(first, year)}至{_md_full(last, year)}是{len(counted)}天"
            )
    if not holidays:
        raise _LineError("没有找到放假日期")
    for d in (*holidays, *work):
        if not date(year - 1, 12, 1) <= d <= date(year, 12, 31):
            raise _LineError(f"{_md_full(d, year)}不在{year}年的安排范围内")
    both = set(holidays) & set(work)
    if both:
        d = min(both)
        raise _LineError(f"{_md_full(d, year)}既写了放假又写了上班")
    return NoticeItem(line_no=line_no, festival=festival, holidays=tuple(holidays), workdays=tuple(work)), notes


def parse_notice(text: str) -> ParsedNotice:
    """Read a notice's text into a year of holidays and make-up days; NoticeParseError names every bad line."""
    if not text or not text.strip():
        raise NoticeParseError(["内容为空：请粘贴通知全文。"])
    if len(text) > MAX_NOTICE_CHARS:
        raise NoticeParseError([f"内容过长（{len(text)}字，上限{MAX_NOTICE_CHARS}字）：请只粘贴通知本身。"])
    raw_lines = text.splitlines()
    normal_lines = [_normal(line) for line in raw_lines]
    flat = "".join(normal_lines)
    year = _find_year(flat)
    if year is None:
        raise NoticeParseError(
            [
                "没有找到年份：通知的标题“国务院办公厅关于20XX年部分节假日安排的通知”或首段“现将20XX年……”须在粘贴的内容中。"
            ]
        )
    doc = _DOC_NO.search(flat)
    source = f"国务院办公厅关于{year}年部分节假日安排的通知"
    if doc:
        source += f"（国办发明电〔{doc.group(1)}〕{doc.group(2)}号）"

    problems: list[str] = []
    items: list[NoticeItem] = []
    notes: list[str] = []
    seen: dict[date, int] = {}
    for line_no, (raw, line) in enumerate(zip(raw_lines, normal_lines, strict=True), 1):
        starts = [m.start() for m in _ITEM_START.finditer(line)]
        if not starts:
            continue
        for a, b in zip(starts, [*starts[1:], len(line)], strict=True):
            piece = line[a:b]
            where = f"第{line_no}行“{_short(raw)}”"
            m = _ITEM.match(piece)
            if m is None:
                problems.append(f"{where}：不是“二、春节：……放假……上班”这样的条目")
                continue
            names = [n for n in re.split(r"[、和]", m.group(2)) if n]
            unknown = [n for n in names if n not in FESTIVALS]
            if unknown:
                problems.append(f"{where}：无法识别的节日“{'、'.join(unknown)}”")
                continue
            try:
                item, item_notes = _read_item(line_no, "、".join(names), m.group(3), year)
            except _LineError as exc:
                problems.append(f"{where}：{exc.reason}")
                continue
            for d in (*item.holidays, *item.workdays):
                if d in seen:
                    problems.append(f"{where}：{_md_full(d, year)}在第{seen[d]}行已出现")
                    break
            else:
                seen.update(dict.fromkeys((*item.holidays, *item.workdays), line_no))
            items.append(item)
            notes.extend(item_notes)
    if not items and not problems:
        problems.append("没有找到“一、元旦：……”这样的放假安排条目：请粘贴通知全文。")
    named = {n for i in items for n in i.festival.split("、")}
    missing = [f for f in FESTIVALS if f not in named]
    if items and missing and not problems:
        problems.append(f"通知中缺少：{'、'.join(missing)}。请粘贴通知全文。")
    if problems:
        raise NoticeParseError(problems)
    return ParsedNotice(year=year, source=source, items=tuple(items), notes=tuple(notes), text=text)


# --- Showing it back -----------------------------------------------------------------------


def _ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and d - out[-1][1] == timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _day_text(day: date, year: int) -> str:
    return f"{_md_full(day, year)}（周{WEEKDAYS_ZH[day.weekday()]}）"


def describe_days(holidays: Sequence[date], work: Sequence[date], year: int) -> str:
    """放假 ranges and 上班 days in the notice's own words: 2月15日（周日）至2月23日（周一）放假，共9天；2月14日（周六）上班。"""
    parts = []
    for first, last in _ranges(holidays):
        if first == last:
            parts.append(f"{_day_text(first, year)}放假，共1天")
        else:
            parts.append(f"{_day_text(first, year)}至{_day_text(last, year)}放假，共{(last - first).days + 1}天")
    text = "；".join(parts)
    if work:
        text += "；" + "、".join(_day_text(d, year) for d in sorted(work)) + "上班"
    return text + "。"


def month_grid(year: int, month: int, holidays: set[date], work: set[date]) -> str:
    """One month as a grid, Monday first: 休 a day off, 班 a make-up working day."""
    lines = [f"{year}年{month}月", " ".join(f"{w:>1}" for w in WEEKDAYS_ZH)]
    for week in _pycal.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for d in week:
            if d.month != month:
                cells.append("  ")
            elif d in holidays:
                cells.append("休")
            elif d in work:
                cells.append("班")
            else:
                cells.append(f"{d.day:>2}")
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


def grids_of(year: int, holidays: set[date], work: set[date]) -> list[str]:
    """The grids of the months that hold a holiday or a make-up day."""
    months = sorted({(d.year, d.month) for d in holidays | work})
    return [month_grid(y, m, holidays, work) for y, m in months]


def format_preview(parsed: ParsedNotice, *, replacing: bool = False) -> tuple[str, str]:
    """The parsed year shown back: (the list, the month grids). `replacing`: the year has data already."""
    hol, work = parsed.holidays, parsed.workdays
    head = f"{parsed.year}年节假日安排（{parsed.source}）：放假{len(hol)}天，调休上班{len(work)}天。"
    lines = [head]
    for n, item in enumerate(parsed.items):
        lines.append(
            f"{_NUMERALS[n] if n < 10 else n + 1}、{item.festival}：{describe_days(item.holidays, item.workdays, parsed.year)}"
        )
    for note in parsed.notes:
        lines.append(f"未计入（非放假安排）：{note}")
    if replacing:
        lines.append(f"注意：{parsed.year}年已有数据，确认后将以本通知替换。")
    grids = "\n\n".join(grids_of(parsed.year, set(hol), set(work)))
    return "\n".join(lines), "月历（休＝放假，班＝调休上班）：\n" + grids


# --- Storing it ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreResult:
    """What storing a year did: whether it replaced data, and the deadlines it moved."""

    year: int
    replaced: bool
    moved: tuple[tuple[int, date, date], ...]  # (problem id, old due date, new due date)


def store_notice(*, session: Session, parsed: ParsedNotice, actor: str, now: datetime | None = None) -> StoreResult:
    """Store a confirmed year, audited; re-date the open problems whose deadline was counted on the old data.

    A problem's deadline is `limit_days` working days after the day it was raised and is never moved by
    hand-overs (oversight.problems); so a deadline that still equals that count on the old data is
    recounted on the new one, each change audited. One set by other means is left alone.
    """
    now = now or utcnow()
    replaced = workdays.year_data(parsed.year) is not None
    lo, hi = date(parsed.year - 1, 12, 1), date(parsed.year, 12, 31)
    rows = session.exec(
        select(Problem, ProblemCategory.limit_days)
        .join(ProblemCategory, col(ProblemCategory.id) == Problem.category_id)
        .where(col(Problem.state).in_(ProblemState.OPEN_STATES), col(Problem.due_on).is_not(None))
        .where(col(Problem.due_on) >= lo)
        .order_by(col(Problem.id))
    ).all()
    candidates = []
    for problem, limit in rows:
        raised = local_day(problem.created_at)
        if raised <= hi and problem.due_on == workdays.add_workdays(raised, limit):
            candidates.append((problem, raised, limit))
    workdays.store_year(
        session=session,
        year=parsed.year,
        holidays=parsed.holidays,
        workdays=parsed.workdays,
        source=parsed.source,
        notice_text=parsed.text,
        actor=actor,
        now=now,
    )
    moved = []
    for problem, raised, limit in candidates:
        new_due = workdays.add_workdays(raised, limit)
        if new_due != problem.due_on:
            old = problem.due_on
            assert old is not None
            problem.due_on = new_due
            session.add(problem)
            audit(
                session=session,
                actor=actor,
                action="problem.due_recounted",
                object_type="problem",
                object_id=problem.id,
                detail={"from": old.isoformat(), "to": new_due.isoformat(), "calendar_year": parsed.year},
                at=now,
            )
            moved.append((problem.id or 0, old, new_due))
    return StoreResult(year=parsed.year, replaced=replaced, moved=tuple(moved))


def missing_years(today: date, *, notice_from: tuple[int, int] = (11, 15)) -> list[int]:
    """Years an admin should add now: this year if it has no data, and next year from `notice_from` (month, day) on."""
    known = workdays.known_years()
    out = [today.year] if today.year not in known else []
    if today >= date(today.year, *notice_from) and today.year + 1 not in known:
        out.append(today.year + 1)
    return out
