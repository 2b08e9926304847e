"""Replay a quarter of the 乌拉特中旗 programme through the real bot over HTTP.

A fresh database, a simulated clock (models.base.set_clock) that steps through the
quarter, the project's local Bot API server in-process and the real Application polling
it. Every action is a simulated person's message, upload or button press; the driver
waits for the bot's reply before the next one. Only what the product has no chat command
for is done through domain functions, as the CLI would: the plan and its sample ledger,
the admin's first invite, zone leader assignments, the meeting's agreed matters.
Afterwards the quarter's jobs run as the worker would on the 5th working day after the
quarter, and the brief PDF, the notice draft and the ledger xlsx are written out.

Randomness comes from random.Random(seed) only, so the same seed gives the same files."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from demo import script as S
from demo.decisions import complete_decision
from demo.ledger import SAMPLE, load_sample_ledger
from demo.people import LEADERS, Person, roster
from demo.script import Blocker
from localbotapi.server import BotApiServer, SimUser
from models import Meeting, Member, Problem, Right, RightBatch, Task, Unit, Zone, make_engine, session_scope
from models.base import row_id, set_clock
from oversight.workdays import is_workday, nth_workday_after

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOKEN = "700000001:DEMO-local-sandbox-token"
PLAN_FILE = Path(__file__).resolve().parent.parent / "plans" / "urad-middle-banner.yaml"
REPLY_TIMEOUT = 15.0
PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
# On every page: a faint diagonal mark, and a plain line under the text block that stays whole
# in the PDF's text (示例数据 must be findable there).
SAMPLE_MARK = "{text}：演示生成，非真实工作数据"
_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


class DemoError(Exception):
    """The demo cannot run as asked; `message` says why in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Scale:
    """How much of the quarter to replay (the tests use a small one)."""

    contacts_per_unit: int | None = None  # None: everyone in demo.people
    report_weeks: int | None = None  # None: every week of the quarter
    leader_reports: int = 2  # times each zone leader looks at /todo
    blockers: tuple[int, ...] | None = None  # demo.script.BLOCKERS numbers; None: all of them
    moves: int | None = None  # how many of demo.script.MOVES; None: all
    # The worker's daily digest (督办 colours, 督办单) on every Nth working day at 08:00, as a
    # deployment runs it every working day: an item goes yellow when overdue before it goes red.
    digest_every: int = 1


FULL = Scale()
# Small: the hand-over chains (2: A→B→A ruled; 4: passed on three times; 31: declined and ruled back), a
# reopen (11), one left overdue (5), one resolved and confirmed (1).
SMALL = Scale(
    contacts_per_unit=1, report_weeks=2, leader_reports=1, blockers=(1, 2, 4, 5, 11, 31), moves=3, digest_every=5
)
SCALES = {"full": FULL, "small": SMALL}


@dataclass
class DemoResult:
    """What the demo wrote and how long it took."""

    out: Path
    db_path: Path
    brief_pdf: Path
    notice_path: Path
    review_pdf: Path
    ledger_xlsx: Path
    quarter: str
    minutes_pdf: Path | None = None  # the 会议纪要 the minutes job wrote and sent (None: not minuted)
    orders: list[Path] = field(default_factory=list)  # the 督办单 the daily digest's run issued and sent
    steps: int = 0
    problems: dict[int, int] = field(default_factory=dict)  # scenario number -> problem id
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


# --- Time -------------------------------------------------------------------------------


class SimClock:
    """The simulated now (aware UTC); it only moves forward."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def go(self, moment: datetime) -> None:
        self.now = max(self.now, moment)

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


def pick_right(
    *, session: Session, plan_id: int, task_id: int, zone_id: int | None, kind: str | None, index: int
) -> Right:
    """The right a scripted move (demo.script.MOVES) reports on: the `index`-th of the batch's rights in
    the zone (None: outside every zone) of `kind`. A zone's right the consolidation keeps (整合后保留 是)
    comes first, so index 0 in a zone is its survivor, whose report says 新采矿许可证已换发, and the others
    are the absorbed ones, by code. Ordered by code alone, zone 7's survivor was reported 已并入…注销 and
    the brief counted it as 整合减少 (audit 4, 1)."""
    stmt = (
        select(Right)
        .join(RightBatch, col(RightBatch.right_id) == col(Right.id))
        .where(RightBatch.task_id == task_id, Right.plan_id == plan_id)
    )
    stmt = stmt.where(col(Right.zone_id).is_(None) if zone_id is None else Right.zone_id == zone_id)
    if kind is not None:
        stmt = stmt.where(Right.kind == kind)
    survivor_first = case((col(Right.kept_in_zone).is_(True), 0), else_=1)
    rights = session.exec(stmt.order_by(survivor_first, col(Right.code))).all()
    return rights[index % len(rights)]


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI).astimezone(UTC)


def workday_on_or_after(day: date) -> date:
    while not is_workday(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Quarter:
    key: str
    first: date
    last: date

    @classmethod
    def parse(cls, key: str) -> Quarter:
        m = _QUARTER_RE.match(key.strip())
        if m is None:
            raise DemoError(f"季度“{key}”格式不正确，请写作 2026Q1。")
        year, q = int(m.group(1)), int(m.group(2))
        if not 2026 <= year <= 2030:
            raise DemoError(f"季度“{key}”不在实施方案的组织实施和巩固提升阶段（2026—2030年）内。")
        first = date(year, 3 * q - 2, 1)
        last = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
        return cls(key=key.strip(), first=first, last=last)

    def day(self, month: int, day: int) -> date:
        """Day `day` of the quarter's `month`-th month, moved to a working day within the quarter."""
        d = workday_on_or_after(date(self.first.year, self.first.month + month - 1, day))
        return min(d, self.last)

    def due(self, month: int, day: int) -> date:
        """A deadline: day `day` of the `month`-th month counted from the quarter's first month."""
        months = self.first.month - 1 + month - 1
        return date(self.first.year + months // 12, months % 12 + 1, day)

    @property
    def label(self) -> str:
        return f"{self.first.year}年第{'一二三四'[(self.first.month - 1) // 3]}季度"


# --- Talking to the bot ----------------------------------------------------------------

Predicate = str | Callable[[dict], bool]


def _text(message: dict) -> str:
    return message.get("text") or message.get("caption") or ""


def _says(part: str, message: dict) -> bool:
    return part in _text(message)


def _buttons(message: dict) -> list[dict]:
    return [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


class Driver:
    """Simulated people talking to the bot; every action waits for the bot's reply."""

    def __init__(self, server: BotApiServer, clock: SimClock) -> None:
        self.server, self.clock = server, clock
        self.users: dict[str, SimUser] = {}
        self.people: dict[str, Person] = {}
        self.actions = 0

    def add(self, person: Person) -> SimUser:
        user = self.server.user(person.tg, person.name)
        self.users[person.key], self.people[person.key] = user, person
        return user

    async def _wait(self, chat_id: int, expect: Predicate, mark: int, what: str) -> dict:
        try:
            return await self.server.wait_for(chat_id, expect, timeout=REPLY_TIMEOUT, after=mark)
        except TimeoutError as exc:
            answers = [a for a in self.server.callback_answers[-3:] if a]
            raise DemoError(f"演示在“{what}”一步没有等到机器人的答复（{exc}；按钮提示：{answers}）") from exc

    async def say(self, who: str, text: str, expect: Predicate) -> dict:
        self.clock.tick()
        self.actions += 1
        mark = self.server.mark()
        await self.users[who].send(text)
        return await self._wait(self.users[who].id, expect, mark, f"{self.people[who].name}：{text[:30]}")

    async def press(self, who: str, message: dict, label: str | int, expect: Predicate) -> dict:
        """Press the button whose text is `label` (or contains it; or the `label`-th button)."""
        buttons = _buttons(message)
        button: dict | None
        if isinstance(label, int):
            button = buttons[label]
        else:
            button = next((b for b in buttons if b["text"] == label), None) or next(
                (b for b in buttons if label in b["text"]), None
            )
            if button is None:
                raise DemoError(f"找不到按钮“{label}”（现有按钮：{[b['text'] for b in buttons]}）")
        self.clock.tick()
        self.actions += 1
        mark = self.server.mark()
        await self.users[who].press(message, button["callback_data"])
        return await self._wait(self.users[who].id, expect, mark, f"{self.people[who].name} 点击“{button['text']}”")

    async def upload(self, who: str, data: bytes, filename: str, expect: Predicate) -> dict:
        self.clock.tick()
        self.actions += 1
        mark = self.server.mark()
        await self.users[who].upload(data, filename=filename, mime_type="application/pdf")
        return await self._wait(self.users[who].id, expect, mark, f"{self.people[who].name} 上传 {filename}")


# --- The replay ----------------------------------------------------------------------------


@dataclass(order=True)
class Step:
    when: datetime
    order: int
    label: str = field(compare=False)
    run: Callable[[], Awaitable[None]] = field(compare=False)


class Replay:
    """Builds the quarter's timeline and plays it against the running bot."""

    def __init__(
        self,
        *,
        engine: Engine,
        plan_id: int,
        quarter: Quarter,
        seed: int,
        scale: Scale,
        driver: Driver,
        clock: SimClock,
    ) -> None:
        self.engine, self.plan_id, self.q, self.scale = engine, plan_id, quarter, scale
        self.rng = random.Random(f"replay:{seed}")
        self.d, self.clock = driver, clock
        self.people = roster(scale.contacts_per_unit)
        self.steps: list[Step] = []
        self.problems: dict[int, int] = {}
        self.owner: dict[int, str] = {}  # scenario -> current owner unit key
        self.decisions: list[int] = []
        self.meeting_id = 0
        self._zone_cycle: list[int] = []
        with session_scope(engine) as s:
            self.units = {u.key: u for u in s.exec(select(Unit).where(Unit.plan_id == plan_id)).all()}
            self.zones = {z.seq: z for z in s.exec(select(Zone).where(Zone.plan_id == plan_id)).all()}
            self.tasks = {t.key: t for t in s.exec(select(Task).where(Task.plan_id == plan_id)).all()}
        self.unit_key_of = {u.id: k for k, u in self.units.items()}

    # --- who

    def contacts(self, unit: str) -> list[str]:
        if unit == "office":
            return [p.key for p in self.people if p.unit == "office" and p.role == "office"]
        return [p.key for p in self.people if p.unit == unit and p.role == "contact"]

    def contact(self, unit: str, n: int = 0) -> str:
        keys = self.contacts(unit)
        return keys[n % len(keys)]

    # --- timeline

    def at(self, when: datetime, label: str, run: Callable[[], Awaitable[None]]) -> None:
        self.steps.append(Step(when, len(self.steps), label, run))

    def build(self) -> list[Step]:
        q = self.q
        self.at(local(q.day(1, 1), 9), "成员注册", self.join_everyone)
        meeting_day = q.day(*S.MEETING_DAY)
        notice_day = workday_on_or_after(meeting_day - timedelta(days=3))
        self.at(local(notice_day, 9, 30), "安排联席会议、下发议程", self.schedule_meeting)
        self.at(local(notice_day, 15), "成员单位确认参会", self.confirm_attendance)
        self.at(local(meeting_day, 15, 0), "召开联席会议", self.hold_meeting)
        for i, (_, _, _, done, _) in enumerate(S.DECISIONS):
            if done is not None:
                self.at(local(q.day(*done), 17, 30), "议定事项办结", partial(self.finish_decision, i))
        self._weekly_reports()
        self._leader_reads()
        for i, (m, d, unit, batch, pick, text) in enumerate(S.MOVES[: self.scale.moves]):
            self.at(
                local(q.day(m, d), 11, 0),
                f"报送完成：{self.tasks[batch].name}",
                partial(self.report_move, i, unit, batch, pick, text),
            )
        for b in S.BLOCKERS:
            if self.scale.blockers is not None and b.no not in self.scale.blockers:
                continue
            self.at(local(q.day(*b.day), 10, b.no % 50), f"反映问题（{b.no}）", partial(self.raise_blocker, b))
            for j, step in enumerate(b.steps):
                self.at(
                    local(q.day(step[0], step[1]), 14, (b.no + j) % 50),
                    f"问题办理（{b.no}）",
                    partial(self.act, b, step),
                )
        self.at(local(q.last if is_workday(q.last) else q.day(3, 31), 16, 30), "季末查看", self.quarter_end_reads)
        workdays = [d for w in self._weeks() for d in w]
        for day in workdays[:: self.scale.digest_every]:
            self.at(local(day, 8), "每日督办", partial(self.daily_digest, day))
        self.steps.sort()
        return self.steps

    def _weeks(self) -> list[list[date]]:
        weeks, monday = [], self.q.first - timedelta(days=self.q.first.weekday())
        while monday <= self.q.last:
            days = [monday + timedelta(days=i) for i in range(7)]
            work = [d for d in days if self.q.first <= d <= self.q.last and is_workday(d)]
            if work:
                weeks.append(work)
            monday += timedelta(days=7)
        return weeks

    def _weekly_reports(self) -> None:
        weeks = self._weeks()
        every = list(range(len(weeks)))
        chosen = every if self.scale.report_weeks is None else every[: self.scale.report_weeks]
        # Most units report every week that has a working day; a few skip weeks (the rules find them slow).
        skipped = {
            unit: set(self.rng.sample(chosen[1:-1] if len(chosen) > 3 else chosen, min(n, len(chosen))))
            for unit, n in sorted(S.SKIPPERS.items())
        }
        for w in chosen:
            for i, unit in enumerate(sorted(S.REPORT_TEXTS)):
                if w in skipped.get(unit, set()) or unit not in self.units:
                    continue
                day = self.rng.choice(weeks[w][-3:])
                when = local(day, 16, 3 * i)
                mod = S.ZONE_REPORTERS.get(unit)
                by_zone = mod is not None and w % mod[0] == mod[1]
                who = self.contact(unit, w)
                seq, text = self._report_text(unit, by_zone)
                self.at(
                    when,
                    f"周报：{self.units[unit].short}",
                    partial(self.weekly_report, who, text, seq),
                )

    def _report_text(self, unit: str, by_zone: bool) -> tuple[int | None, str]:
        templates = S.REPORT_TEXTS[unit]
        # A report filed on a zone names it; one filed without a zone names none: a text naming a zone
        # the report is not tagged with is counted for no zone (the brief's 本期进展 counts the tagged
        # ones), so the sample must not write one (audit 3, A2: 34 such reports).
        templates = [t for t in templates if ("{zone}" in t) == by_zone] or templates
        template = self.rng.choice(templates)
        if not self._zone_cycle:  # the zones in turn, so each is reported on during the quarter
            self._zone_cycle = sorted(self.zones)
            self.rng.shuffle(self._zone_cycle)
        seq = self._zone_cycle.pop() if by_zone else self.rng.randint(1, len(self.zones))
        # {zone}整合区 is the zone's name as the plan writes it: 图古日格地区金矿整合二区, not …整合二区整合区.
        text = "本周" + template.replace("{zone}整合区", "{zone}").format(
            zone=self.zones[seq].name, n=self.rng.randint(1, 4), m=self.rng.randint(2, 9)
        )
        return (seq if by_zone else None), text

    def _leader_reads(self) -> None:
        # Zone leaders cannot file reports through /report yet (bot.reports refuses a zone leader at the
        # batch step); they follow their zones with /todo and raise blockers (demo.script).
        weeks = self._weeks()[3:]
        for i, (key, _name, _title, _zones) in enumerate(LEADERS):
            for k in range(self.scale.leader_reports):
                day = self.rng.choice(self.rng.choice(weeks))
                self.at(local(day, 15, 10 + i + k), "包联领导查看待办", partial(self.leader_todo, key))

    async def play(self, settle: Callable[[], Awaitable[None]], progress: Callable[[Step], None] | None = None) -> None:
        for step in self.steps:
            await settle()  # every message of the previous step delivered before the next one starts
            self.clock.go(step.when)
            await step.run()
            if progress is not None:
                progress(step)

    # --- joining

    async def join_everyone(self) -> None:
        from oversight.members import create_invite

        admin = self.people[0]
        self.d.add(admin)
        with session_scope(self.engine) as s:  # the first invite comes from the CLI (lianxi invite create)
            _, code = create_invite(
                session=s, plan_id=self.plan_id, unit_id=row_id(self.units["office"]), role=admin.role, created_by="cli"
            )
        await self.d.say(admin.key, f"/start {code}", "注册成功")
        roles = {
            "office": "联席会议办公室",
            "convener": "召集人",
            "zone_leader": "包联领导",
            "supervisor": "联合督导组",
            "contact": "部门联络员",
        }
        for person in self.people[1:]:
            reply = await self.d.say(
                admin.key, f"/invite {self.units[person.unit].name} {roles[person.role]} 7", "邀请码"
            )
            code = _text(reply).split("\n")[1].strip()
            self.d.add(person)
            await self.d.say(person.key, f"/start {code}", "注册成功")
        from oversight.members import assign_zone_leader

        actor = f"member:{self._member_id(admin.key)}"
        with session_scope(self.engine) as s:  # 包片包干: no chat command assigns zones yet
            for key, _name, _title, zones in LEADERS:
                member = s.exec(select(Member).where(Member.telegram_user_id == self.d.users[key].id)).one()
                for seq in zones:
                    assign_zone_leader(
                        session=s, member_id=row_id(member), zone_id=row_id(self.zones[seq]), actor=actor
                    )

    def _member_id(self, key: str) -> int:
        with session_scope(self.engine) as s:
            return row_id(s.exec(select(Member).where(Member.telegram_user_id == self.d.users[key].id)).one())

    # --- the meeting

    async def schedule_meeting(self) -> None:
        """The office schedules the quarter's meeting in chat, adds its agenda and circulates it."""
        day = self.q.day(*S.MEETING_DAY)
        start = await self.d.say("office_a", "/meeting", lambda m: "请选择要安排的会议" in _text(m))
        await self.d.press("office_a", start, "安排季度例会", lambda m: "请发送会议日期和时间" in _text(m))
        card = await self.d.say("office_a", f"{day.month}月{day.day}日 15:00", lambda m: "议程" in _text(m))
        for item in S.AGENDA:
            await self.d.press("office_a", card, "添加议题", lambda m: "请发送要添加的议题" in _text(m))
            card = await self.d.say("office_a", item, partial(_says, item))
        ask = await self.d.press("office_a", card, "下发会议通知", lambda m: "确认下发" in _text(m))
        await self.d.press("office_a", ask, "确认下发", lambda m: "下发会议通知，共" in _text(m))

    async def confirm_attendance(self) -> None:
        """Each member unit's first contact names who attends (the contact), one unit is excused."""
        for person in [p for p in self.people if p.role == "contact" and p.key.endswith("0")]:
            chat = self.d.users[person.key].id
            notice = next((m for m in reversed(self.d.server.messages(chat)) if "【会议通知】" in _text(m)), None)
            if notice is None:
                continue
            if person.unit in S.EXCUSED:
                await self.d.press(person.key, notice, "请假", lambda m: "请假" in _text(m))
                continue
            await self.d.press(person.key, notice, "确认参会", lambda m: "参会人员姓名" in _text(m))
            await self.d.say(person.key, person.name, lambda m: "已报" in _text(m))

    async def hold_meeting(self) -> None:
        """The office marks the meeting held, records its agreed matters and has the 会议纪要 written."""
        from jobs.registry import RunContext, execute_run
        from oversight import convening as C
        from oversight.meetings import add_decision

        title = C.quarter_title(self.q.day(*S.MEETING_DAY))
        start = await self.d.say("office_a", "/meeting", lambda m: "请选择要安排的会议" in _text(m))
        card = await self.d.press("office_a", start, title, lambda m: "参会确认" in _text(m))
        await self.d.press("office_a", card, "会议已召开", lambda m: "请用 /decision 记录" in _text(m))
        with session_scope(self.engine) as s:
            office = s.exec(select(Member).where(Member.telegram_user_id == self.d.users["office_a"].id)).one()
            meeting = s.exec(select(Meeting).where(Meeting.plan_id == self.plan_id, Meeting.state == "held")).one()
            self.meeting_id = row_id(meeting)
            for unit, text, due, _done, major in S.DECISIONS:
                d = add_decision(
                    session=s,
                    meeting_id=self.meeting_id,
                    actor=office,
                    text=text,
                    owner_unit_id=row_id(self.units[unit]),
                    cooperating_unit_ids=[row_id(self.units[u]) for u in S.COOPERATING.get(unit, ())],
                    due_on=self.q.due(*due),
                    major=major,
                    now=self.clock.now,
                )
                self.decisions.append(row_id(d))
        start = await self.d.say("office_a", "/meeting", lambda m: "请选择要安排的会议" in _text(m))
        card = await self.d.press("office_a", start, title, lambda m: "议定事项" in _text(m))
        await self.d.press("office_a", card, "印发会议纪要", lambda m: "已开始印发会议纪要" in _text(m))
        ctx = RunContext(engine=self.engine, worker_id="demo-worker", clock=lambda: self.clock.now)
        run = execute_run(ctx=ctx, job=C.MINUTES_JOB, period=C.minutes_period(self.meeting_id))
        if run is None or run.state != "done":
            raise DemoError(f"会议纪要任务未完成：{run.error if run is not None else '未能认领'}")

    async def daily_digest(self, day: date) -> None:
        """The worker's 08:00 run (jobs.registry daily_digest): reminders, 督办 colours, 督办单."""
        from jobs.registry import RunContext, execute_run

        ctx = RunContext(engine=self.engine, worker_id="demo-worker", clock=lambda: self.clock.now)
        run = execute_run(ctx=ctx, job="daily_digest", period=day.isoformat())
        if run is None or run.state != "done":
            raise DemoError(f"每日督办任务未完成：{run.error if run is not None else '未能认领'}")

    async def finish_decision(self, i: int) -> None:
        actor = f"member:{self._member_id('office_a')}"
        with session_scope(self.engine) as s:
            complete_decision(session=s, decision_id=self.decisions[i], actor=actor, now=self.clock.now)

    # --- reports

    async def weekly_report(self, who: str, text: str, seq: int | None) -> None:
        if seq is None:
            await self.d.say(who, f"/report {text}", "已报送（")
            return
        zone = self.zones[seq]
        msg = await self.d.say(who, "/report", "请选择要报送进展的批次")
        msg = await self.d.press(who, msg, self.tasks["consolidate"].name, "请选择报送对象")
        msg = await self.d.press(who, msg, "整合区", "请选择整合区")
        msg = await self.d.press(who, msg, f"{zone.seq}. {zone.name}", "请输入本次进展内容")
        msg = await self.d.say(who, text, "如需附件")
        msg = await self.d.press(who, msg, "完成上传", "请确认报送内容")
        await self.d.press(who, msg, "确认提交", "已报送（")

    async def leader_todo(self, who: str) -> None:
        await self.d.say(who, "/todo", "待办")

    def _pick_right(self, batch: str, pick: tuple) -> Right:
        zone_seq, kind, index = pick
        with session_scope(self.engine) as s:
            zone_id = None if zone_seq is None else self.zones[zone_seq].id
            return pick_right(
                session=s,
                plan_id=self.plan_id,
                task_id=row_id(self.tasks[batch]),
                zone_id=zone_id,
                kind=kind,
                index=index,
            )

    async def report_move(self, i: int, unit: str, batch: str, pick: tuple, text: str) -> None:
        right = self._pick_right(batch, pick)
        who = self.contact(unit, i)
        msg = await self.d.say(who, "/report", "请选择要报送进展的批次")
        msg = await self.d.press(who, msg, self.tasks[batch].name, "请选择报送对象")
        msg = await self.d.press(who, msg, "按名称查找矿业权", "请输入矿业权名称或编号")
        msg = await self.d.say(who, right.code, "找到以下矿业权")
        msg = await self.d.press(who, msg, right.code, "当前状态")
        msg = await self.d.press(who, msg, "报送进展", "请输入本次进展内容")
        msg = await self.d.say(who, text.format(right=right.name), "是否已")
        msg = await self.d.press(who, msg, "是", "须上传佐证材料")
        msg = await self.d.upload(who, PDF_BYTES, f"{right.name}批复文件（{SAMPLE}）.pdf", "已收到附件")
        msg = await self.d.press(who, msg, "完成上传", "请确认报送内容")
        office = self.contacts("office")[0]
        mark = self.d.server.mark()
        done = await self.d.press(who, msg, "确认提交", "已报送（")
        if "确认后计入" in done["text"]:  # a claim: the office confirms it from its card
            card = await self.d.server.wait_for(
                self.d.users[office].id,
                lambda m: "【状态变更待确认】" in (m.get("text") or "") and right.code in m["text"],
                after=mark,
                timeout=REPLY_TIMEOUT,
            )
            await self.d.press(office, card, "确认", "已确认")

    # --- problems

    def _raiser(self, b: Blocker) -> str:
        return b.raiser if b.raiser in self.d.users else self.contact(b.raiser, b.no)

    async def raise_blocker(self, b: Blocker) -> None:
        who = self._raiser(b)
        text = b.text
        right = None
        if b.subject and b.subject[0] == "right":
            right = self._pick_right(b.subject[1], (None, None, b.subject[2]))
            text = text.format(right=right.name)
        await self.d.say(who, "/flag", "请描述问题")
        cats = await self.d.say(who, text, "请选择问题类别")
        with session_scope(self.engine) as s:
            from models import ProblemCategory

            category = s.exec(
                select(ProblemCategory).where(
                    ProblemCategory.plan_id == self.plan_id, ProblemCategory.key == b.category
                )
            ).one()
        from bot.texts import PROBLEM_GROUPS

        msg = await self.d.press(
            who, cats, PROBLEM_GROUPS[category.group], lambda m: "请选择具体类别" in _text(m) or "问题涉及" in _text(m)
        )
        if "问题涉及哪个矿业权或整合区" not in _text(msg):  # a group of several categories
            msg = await self.d.press(who, msg, category.name, "问题涉及哪个矿业权或整合区")
        if b.subject is None:
            msg = await self.d.press(who, msg, "不指定", "负责办理")
        elif b.subject[0] == "zone":
            zone = self.zones[b.subject[1]]
            msg = await self.d.press(who, msg, "选择整合区", "请选择整合区")
            msg = await self.d.press(who, msg, f"{zone.seq}. {zone.name}", "负责办理")
        else:
            assert right is not None
            msg = await self.d.press(who, msg, "按名称查找矿业权", "请输入矿业权名称或编号")
            msg = await self.d.say(who, right.code, "找到以下矿业权")
            msg = await self.d.press(who, msg, right.code, "负责办理")
        msg = await self.d.press(who, msg, "确认由", "如有相关材料")
        msg = await self.d.press(who, msg, "不附材料", "请确认要提出的问题")
        done = await self.d.press(who, msg, "确认提交", "号问题，已交办")
        number = re.search(r"已提交(\d+)号问题", _text(done))
        assert number is not None, _text(done)  # the press above waited for 已提交N号问题
        pid = int(number.group(1))
        self.problems[b.no] = pid
        with session_scope(self.engine) as s:
            problem = s.get(Problem, pid)
            assert problem is not None and problem.owner_unit_id is not None, pid
            self.owner[b.no] = self.unit_key_of[problem.owner_unit_id]

    async def _card(self, who: str, pid: int) -> dict:
        """The problem with this member's buttons, as /problem shows it."""
        return await self.d.say(who, f"/problem {pid}", lambda m: f"{pid}号问题【" in _text(m) and bool(_buttons(m)))

    async def act(self, b: Blocker, step: tuple) -> None:
        pid, action, args = self.problems[b.no], step[2], step[3:]
        if action in ("confirm", "reopen"):
            who = self._raiser(b)
        elif action == "rule":
            who = "office_a"
        else:
            who = self.contact(self.owner[b.no], b.no + len(action))
        card = await self._card(who, pid)
        if action == "accept":
            await self.d.press(who, card, "接收", f"已接收{pid}号问题")
        elif action == "confirm":
            await self.d.press(who, card, "确认关闭", f"{pid}号问题已确认关闭")
        elif action == "hand":
            to, reason = args
            msg = await self.d.press(who, card, "转交", "转交给哪个单位")
            msg = await self.d.press(who, msg, self.units[to].short, "理由")
            await self.d.say(who, reason, "已转交给")
            self.owner[b.no] = to
        elif action == "decline":
            await self.d.press(who, card, "退回", "号问题的理由")
            await self.d.say(who, args[0], "待联席会议办公室裁定")
        elif action == "rule":
            to, reason, *verdicts = args
            msg = await self.d.press(who, card, "裁定", "由哪个单位负责")
            msg = await self.d.press(who, msg, self.units[to].short, "理由")
            if verdicts:
                mark = self.d.server.mark()
                await self.d.say(who, reason, "已裁定")
                judge = await self.d.server.wait_for(
                    self.d.users[who].id, "如认为下列转交理由成立", after=mark, timeout=REPLY_TIMEOUT
                )
                for row, ok in enumerate(verdicts):
                    judge = await self._judge(who, judge, row, ok)
            else:
                await self.d.say(who, reason, "已裁定")
            self.owner[b.no] = to
        elif action == "resolve":
            await self.d.press(who, card, "办结", "办结说明")
            if b.no % 2 == 0:
                await self.d.upload(who, PDF_BYTES, f"问题{pid}办结材料（{SAMPLE}）.pdf", "已收到材料")
            await self.d.say(who, args[0], "已办结")
        elif action == "reopen":
            await self.d.press(who, card, "重新办理", "理由")
            await self.d.say(who, args[0], "已退回重新办理")
        else:  # pragma: no cover - a typo in demo.script
            raise DemoError(f"未知的问题操作“{action}”")

    async def _judge(self, who: str, message: dict, row: int, ok: bool) -> dict:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        button = rows[row][0 if ok else 1]
        self.clock.tick()
        mark = self.d.server.mark()
        await self.d.users[who].press(message, button["callback_data"])
        await self.d.server.wait_for(self.d.users[who].id, "已认定", after=mark, timeout=REPLY_TIMEOUT)
        return message

    # --- reading at the end of the quarter

    async def quarter_end_reads(self) -> None:
        await self.d.say("convener", "/progress", "任务进度")
        await self.d.say("office_a", "/todo", "逾期事项")
        if 2 in self.problems:
            await self.d.say("supervisor_a", f"/problem {self.problems[2]}", f"{self.problems[2]}号问题")


# --- Running it all ----------------------------------------------------------------------------


def prepare_database(*, out: Path) -> tuple[str, Path]:
    """A fresh SQLite file DIR/demo.db (any earlier one is replaced), migrated."""
    from models.migrate import upgrade

    db_path = out / "demo.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    upgrade(url)
    return url, db_path


def load_plan_and_ledger(*, engine: Engine, seed: int, now: datetime) -> tuple[int, Any]:
    """Load the 乌拉特中旗 plan and its sample ledger (as `lianxi plan load` and `lianxi ledger import` would)."""
    from oversight.planfile import parse_plan_file
    from oversight.plans import load_plan
    from oversight.sample import mark_sample

    with session_scope(engine) as s:
        plan_id = row_id(load_plan(session=s, spec=parse_plan_file(PLAN_FILE), actor="cli").plan)
        # Everything the worker makes from this plan during the replay is marked 示例数据 (data/briefs too).
        mark_sample(session=s, plan_id=plan_id, mark=SAMPLE_MARK.format(text=SAMPLE))
    with session_scope(engine) as s:
        ledger = load_sample_ledger(session=s, plan_id=plan_id, seed=seed, now=now)
    return plan_id, ledger


async def _drain(engine: Engine, app: Any, timeout: float = 30.0) -> None:
    """Wait until the outbox has nothing pending."""
    from models import OutboxMessage, OutboxState

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with session_scope(engine) as s:
            pending = s.exec(select(OutboxMessage.id).where(OutboxMessage.state == OutboxState.PENDING)).first()
        if pending is None:
            return
        delivery = app.bot_data.get("delivery")
        if delivery is not None:
            delivery.wake()
        await asyncio.sleep(0.02)
    logger.warning("outbox not drained within %.0fs", timeout)


def run_jobs(
    *, engine: Engine, plan_id: int, quarter: Quarter, now: datetime, out: Path, data_dir: Path
) -> tuple[Path, Path, Path, Path]:
    """The quarter's jobs as the worker runs them on the 5th working day: the notice draft and the
    brief (recorded, approved by the office, signed by the convener, then distributed); then the files into `out`, each a PDF
    with its Word copy beside it (brief, notice draft, review of the half so far) and the ledger."""
    from jobs.brief import build_brief
    from jobs.registry import RunContext, execute_run
    from jobs.render import render_document
    from jobs.review import review_layout
    from oversight.ledger import export_ledger

    # That morning's daily digest first, as the worker runs it (its default schedule is 08:00, the
    # quarter's jobs 09:00): 督办 colours, each 督办单 issued and sent. The brief, the notice draft
    # and the review made after it see those 督办单, as they would in a deployment.
    digest_at = now - timedelta(hours=1)
    morning = RunContext(engine=engine, worker_id="demo-worker", clock=lambda: digest_at)
    execute_run(ctx=morning, job="daily_digest", period=digest_at.astimezone(SHANGHAI).date().isoformat())
    ctx = RunContext(engine=engine, worker_id="demo-worker", clock=lambda: now)
    notice_run = execute_run(ctx=ctx, job="notice_draft", period=quarter.key)
    if notice_run is None or notice_run.state != "done":
        raise DemoError(f"通报草稿任务未完成：{notice_run.error if notice_run is not None else '未能认领'}")
    # The draft as `lianxi notices draft --out` writes it (jobs.notices.draft_document): one path.
    from jobs.notices import draft_document

    notice_path = out / f"通报草稿-{quarter.key}.pdf"
    with session_scope(engine) as s:
        doc = draft_document(session=s, plan_id=plan_id, period=quarter.key, now=now)
    render_document("notice", doc, out=notice_path, sample=SAMPLE_MARK.format(text=f"草稿·{SAMPLE}"))

    run = execute_run(ctx=ctx, job="brief", period=quarter.key)
    if run is None or run.state != "done":
        raise DemoError(f"简报任务未完成：{run.error if run is not None else '未能认领'}")
    # Its sign-off, as the office and the convener give it in chat: approved, signed, then distributed.
    from models import Brief, Role
    from oversight import briefs as signoff
    from oversight.members import members_with_role

    with session_scope(engine) as s:
        brief = s.exec(select(Brief).where(Brief.plan_id == plan_id, Brief.period == quarter.key)).one()
        office = members_with_role(session=s, plan_id=plan_id, roles=(Role.OFFICE,))
        conveners = members_with_role(session=s, plan_id=plan_id, roles=(Role.CONVENER,))
        if office and brief.state == signoff.BriefState.DRAFT:
            signoff.office_approve(session=s, brief_id=row_id(brief), actor=office[0], now=now)
        if conveners and brief.state == signoff.BriefState.OFFICE_APPROVED:
            signoff.sign_brief(session=s, brief_id=row_id(brief), actor=conveners[0], now=now)
        signed = brief.state == signoff.BriefState.SIGNED
        period = signoff.distribute_period(row_id(brief))
    if signed:
        execute_run(ctx=ctx, job="brief_distribute", period=period)
    # The same brief once more into `out` (nothing recorded or sent), marked 示例数据 on every page.
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(dir=out) as tmp, session_scope(engine) as s:
        built = build_brief(
            session=s,
            plan_id=plan_id,
            period=quarter.key,
            now=now,
            out_dir=Path(tmp),
            sample=SAMPLE_MARK.format(text=SAMPLE),
        )
        s.rollback()
        brief_path = out / f"简报-{quarter.key}.pdf"
        shutil.move(built.pdf_path, brief_path)
        shutil.move(built.docx_path, brief_path.with_suffix(".docx"))

    # The review of the half so far (工作问效), as a draft: computed, not recorded.
    from models import Plan
    from oversight.periods import half_of
    from oversight.review import build_review, review_document

    half = half_of(now)
    review_path = out / f"工作问效报告草稿-{half}.pdf"
    with session_scope(engine) as s:
        plan = s.get(Plan, plan_id)
        assert plan is not None
        review = build_review(session=s, plan_id=plan_id, period=half, now=now)
        doc = review_layout(
            review_document(session=s, plan_id=plan_id, review=review, now=now), plan=plan, period=half, issued=False
        )
        s.rollback()
    render_document("review", doc, out=review_path, sample=SAMPLE_MARK.format(text=f"草稿·{SAMPLE}"))

    ledger_path = out / f"台账-{quarter.key}.xlsx"
    with session_scope(engine) as s:
        export_ledger(ledger_path, session=s, plan_id=plan_id, now=now)  # marked: the plan is sample data
    return brief_path, notice_path, review_path, ledger_path


def copy_orders(engine: Engine, plan_id: int, out: Path) -> list[Path]:
    """Every 督办单 the worker issued and sent (PDF and Word), copied into the output."""
    import shutil

    from jobs.render import docx_path
    from oversight.supervision import orders_of

    copied: list[Path] = []
    with session_scope(engine) as s:
        orders = [(o.doc_no, o.pdf_path) for o in orders_of(session=s, plan_id=plan_id) if o.pdf_path]
    for doc_no, pdf in orders:
        source = Path(pdf)
        if not source.exists():
            continue
        target = out / f"督办单-{doc_no.replace('/', '-')}.pdf"
        shutil.copyfile(source, target)
        if docx_path(source).exists():
            shutil.copyfile(docx_path(source), docx_path(target))
        copied.append(target)
    return copied


async def replay_quarter(
    *,
    out: Path,
    seed: int = 2026,
    quarter: str = "2026Q1",
    scale: Scale = FULL,
    data_dir: Path | None = None,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> DemoResult:
    """The whole demo: fresh database, plan and sample ledger, the quarter through the bot, the jobs, the files."""
    from bot.app import build_application

    q = Quarter.parse(quarter)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(data_dir or out / "data")
    if data_dir.exists():
        shutil.rmtree(data_dir)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    url, db_path = prepare_database(out=out)
    engine = make_engine(url)
    baseline = local(q.first - timedelta(days=1), 17)
    clock = SimClock(baseline)
    set_clock(clock)
    try:
        plan_id, ledger = load_plan_and_ledger(engine=engine, seed=seed, now=baseline)
        timings["setup"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        async with BotApiServer(seed=seed) as server:
            app = build_application(
                engine=engine,
                token=TOKEN,
                base_url=server.api_base,
                base_file_url=server.file_base,
                rate_limiter=False,
                outbox_poll_seconds=1.0,
            )
            await app.initialize()
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1, drop_pending_updates=False)
            try:
                driver = Driver(server, clock)
                replay = Replay(
                    engine=engine, plan_id=plan_id, quarter=q, seed=seed, scale=scale, driver=driver, clock=clock
                )
                steps = replay.build()
                if on_start is not None:
                    on_start(len(steps))
                await replay.play(lambda: _drain(engine, app), on_step)
                await _drain(engine, app)
                timings["replay"] = time.perf_counter() - t1
                t2 = time.perf_counter()
                now = local(nth_workday_after(q.last, 5), 9)
                clock.go(now)
                brief_pdf, notice_path, review_pdf, ledger_xlsx = run_jobs(
                    engine=engine, plan_id=plan_id, quarter=q, now=now, out=out, data_dir=data_dir
                )
                await _drain(engine, app)
                timings["jobs"] = time.perf_counter() - t2
            finally:
                if app.updater.running:
                    await app.updater.stop()
                if app.running:
                    await app.stop()
                await app.shutdown()
        minutes_pdf = _copy_minutes(engine, replay.meeting_id, out / f"会议纪要-{q.key}.pdf")
        result = DemoResult(
            minutes_pdf=minutes_pdf,
            orders=copy_orders(engine, plan_id, out),
            out=out,
            db_path=db_path,
            brief_pdf=brief_pdf,
            notice_path=notice_path,
            review_pdf=review_pdf,
            ledger_xlsx=ledger_xlsx,
            quarter=q.key,
            steps=len(steps),
            problems=dict(replay.problems),
            timings=timings,
        )
        result.counts = _counts(engine, plan_id, ledger, driver)
        timings["total"] = time.perf_counter() - t0
        return result
    finally:
        set_clock(None)
        engine.dispose()


def _copy_minutes(engine: Engine, meeting_id: int, target: Path) -> Path | None:
    """The meeting's 会议纪要 as the job wrote and sent it (PDF and Word), copied into the output."""
    import shutil

    from jobs.render import docx_path

    with session_scope(engine) as s:
        meeting = s.get(Meeting, meeting_id) if meeting_id else None
        path = Path(meeting.minutes_path) if meeting is not None and meeting.minutes_path else None
    if path is None or not path.exists():
        return None
    shutil.copyfile(path, target)
    if docx_path(path).exists():
        shutil.copyfile(docx_path(path), docx_path(target))
    return target


def _counts(engine: Engine, plan_id: int, ledger: Any, driver: Driver) -> dict[str, int]:
    from sqlalchemy import func

    from models import Problem, Report, RightStatusEvent

    with session_scope(engine) as s:

        def n(model: Any, *where: Any) -> int:
            return int(s.exec(select(func.count()).select_from(model).where(*where)).one())

        return {
            "members": n(Member, Member.plan_id == plan_id),
            "rights_mining": ledger.count("mining"),
            "rights_exploration": ledger.count("exploration") + ledger.count("deep"),
            "proposed": ledger.count("proposed"),
            "reports": n(Report, Report.plan_id == plan_id),
            "status_moves": n(RightStatusEvent),
            "problems": n(Problem, Problem.plan_id == plan_id),
            "actions": driver.actions,
        }
