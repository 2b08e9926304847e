"""The role × action matrix: every command and every button the bot declares (bot/app.py's
DECLARED, read through the Dispatcher's own registry), pressed or sent by each of eight people,
through the real bot over HTTP, with the answer each must get written out in ONE table below.

A command or button registered without its row fails `test_every_declared_action_has_its_row`,
so nothing reaches users unreviewed. The expectations are written here by hand, not derived
from oversight.access, so a wrong entry there (or a domain check that lets the wrong unit
through) fails a cell.

Cells: each command × 8 people + the menu button naming it × 7 (a stranger is shown no menu)
+ every other button × 8; the test prints the count it checked and asserts it from the registry
(922 when it was written; 1,097 at 05:25 on 2 December 2026, in 92 s on SQLite with the 2-core
machine at load 10, 40 s at load 3).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from bot import texts as t
from bot.app import DECLARED
from bot.engine import FID, MENU_ACTION, STEP, Dispatcher
from bot.pacing import Pacer
from config.settings import get_settings
from models import (
    Attachment,
    Brief,
    Decision,
    Meeting,
    Member,
    Notice,
    NoticeFinding,
    Problem,
    ProblemCategory,
    ProblemEvent,
    ProblemState,
    RectificationItem,
    Report,
    Right,
    Role,
    row_id,
    session_scope,
    utcnow,
)
from oversight.chatstate import mint_token, set_flow
from oversight.dates import local_day
from oversight.members import require_unit
from oversight.schedules import ensure_default_schedules, pause_schedule
from tests.harness import running_bot
from tests.test_bot_reports import PDF_BYTES

# The eight people, in the order of every row's cells. "owner" is a contact of the unit the
# object belongs to (the problem's owner, the decision's lead unit, the notice's named unit, the
# rectification item's unit; for confirm/reopen, the raiser's unit); "other" a contact of
# another unit. "stranger" has no membership.
ROLES = ("owner", "other", "office", "convener", "zone", "supervisor", "admin", "stranger")
PEOPLE = {
    "owner": (8101, "林草联络员", "林草局", Role.CONTACT),
    "other": (8102, "水利联络员", "水利局", Role.CONTACT),
    "office": (8103, "办公室", "旗政府办公室", Role.OFFICE),
    "convener": (8104, "召集人", "旗人民政府", Role.CONVENER),
    "zone": (8105, "包联领导", "旗人民政府", Role.ZONE_LEADER),
    "supervisor": (8106, "督导组", "自然资源局", Role.SUPERVISOR),
    "admin": (8107, "管理员", "旗政府办公室", Role.ADMIN),
    "stranger": (8108, "路人", None, None),
}
THIRD_UNIT = "应急管理局"  # the other side of a problem (raiser, or owner for confirm/reopen)

# + : taken (a command: answered, not refused; a button: no alert, it acts or asks for what it
#     needs; a flow's button: its role check passes)
# - : refused (a command: the role refusal; a button: an alert, and nothing in the record changes)
# Columns:        owner other office convener zone supervisor admin stranger
MATRIX: dict[str, str] = {
    # --- commands ---
    "/start": "++++++++",
    "/help": "++++++++",
    "/whoami": "++++++++",
    "/cancel": "++++++++",
    "/report": "++--+---",
    "/ledger": "++------",
    "/flag": "+++-+---",
    "/todo": "+++++++-",
    "/progress": "+++++++-",
    "/problem": "+++++++-",
    "/invite": "------+-",
    "/members": "--+---+-",
    "/revoke": "------+-",
    "/bindgroup": "------+-",
    "/schedule": "------+-",
    "/calendar": "------+-",
    "/meeting": "--++--+-",
    "/decision": "--++--+-",
    "/notices": "--++--+-",
    "/explain": "++------",
    "/briefs": "--++----",
    "/rectify": "+++--++-",
    "/duban": "+++++++-",
    # --- buttons that stand on their own (cards, lists) ---
    "brief.note": "--+-----",
    "brief.approve": "--+-----",
    "brief.sign": "---+----",
    "brief.sign_confirm": "---+----",
    "brief.return": "---+----",
    "brief.not_now": "+++++++-",
    "decision.done": "+-------",
    "decision.accept": "--+---+-",
    "decision.return": "--+---+-",
    # the meeting notice's answers: any member unit's contact (the owner's and the other unit's)
    # /revoke's picker and its confirmation: the admin only, on a member of the plan
    "member.revoke": "------+-",
    "member.revoke_confirm": "------+-",
    "meeting.attend": "++------",
    "meeting.excuse": "++------",
    "notice.open": "--++--+-",
    "notice.page": "--++--+-",
    "notice.body": "--++--+-",
    "notice.preview": "--++----",
    "notice.edit": "--++----",
    "notice.drop": "--++----",
    "notice.restore": "--++----",
    "notice.approve": "---+----",
    "notice.approve_confirm": "---+----",
    "notice.abandon": "---+----",
    "notice.explain": "+-------",
    "problem.accept": "+-------",
    "problem.hand_over": "+-------",
    "problem.decline": "+-------",
    "problem.resolve": "+-------",
    "problem.rule": "--+---+-",
    "problem.judge": "--+---+-",
    "problem.confirm": "+-------",
    "problem.reopen": "+-------",
    "problem.file": "+-++-++-",
    "rect.pick": "+-------",
    "rect.person": "+-------",
    "rect.close": "+-------",
    "rect.accept": "--+---+-",
    "rect.return": "--+---+-",
    "rect.recheck_ok": "--+--++-",
    "rect.recheck_fail": "--+--++-",
    "sup.urge": "--+-----",
    "claim.confirm": "--+-----",
    "claim.reject": "--+-----",
    "schedule.edit": "------+-",
    "schedule.pause": "------+-",
    "schedule.resume": "------+-",
    "schedule.run": "------+-",
    # a menu button names a command: each command's own row applies (checked for every command)
    MENU_ACTION: "=",
    # --- buttons of a conversation's steps (the conversation forged open at that step) ---
    "calendar.confirm": "------+-",
    "calendar.cancel": "------+-",
    "decision.meeting": "--++--+-",
    "decision.new_meeting": "--++--+-",
    "decision.unit": "--++--+-",
    "decision.coop": "--++--+-",
    "decision.coop_done": "--++--+-",
    "decision.major": "--++--+-",
    "flag.abort": "+++-+---",
    "flag.back": "+++-+---",
    "flag.category": "+++-+---",
    "flag.edit": "+++-+---",
    "flag.files_done": "+++-+---",
    "flag.find_right": "+++-+---",
    "flag.group": "+++-+---",
    "flag.no_subject": "+++-+---",
    "flag.other_owner": "+++-+---",
    "flag.owner": "+++-+---",
    "flag.right": "+++-+---",
    "flag.submit": "+++-+---",
    "flag.zone": "+++-+---",
    "flag.zones": "+++-+---",
    "loosefile.yes": "++--+---",
    "meeting.kind": "--++--+-",
    "meeting.open": "--++--+-",
    "meeting.add": "--++--+-",
    "meeting.drop": "--++--+-",
    "meeting.circulate": "--++--+-",
    "meeting.confirm": "--++--+-",
    "meeting.held": "--++--+-",
    "meeting.minutes": "--++--+-",
    "meeting.move": "--++--+-",
    "meeting.cancel": "--++--+-",
    "loosefile.no": "++--+---",
    # the hand-over's unit picker (open for a real problem owned by the owner's unit): started
    # only by problem.hand_over / problem.rule, its pick acts through the same domain check
    "problem.unit": "+-------",
    "report.abort": "++--+---",
    "report.files_done": "++--+---",
    "report.finish": "++--+---",
    "report.measure": "++--+---",
    "report.milestone": "++--+---",
    "report.move": "++--+---",
    "report.none": "++--+---",
    "report.progress": "++--+---",
    "report.right": "++--+---",
    "report.search": "++--+---",
    "report.submit": "++--+---",
    "report.task": "++--+---",
    "report.zone": "++--+---",
    "report.zones": "++--+---",
}

# What a flow's forged step button is pressed with (the handler's required keyword arguments).
DUMMY_ARGS = {"key": "k", "yes": True}

# Tables whose rows a refused press or command must leave exactly as they were. The audit log,
# tokens, the inbox and processed updates record the attempt itself; the outbox is compared by
# its count (its rows change state as earlier answers are delivered).
WATCHED = (
    "member",
    "invitecode",
    "problem",
    "problemevent",
    "decision",
    "notice",
    "noticefinding",
    "explanation",
    "brief",
    "rectificationitem",
    "rectificationfollowup",
    "jobschedule",
    "scheduledrun",
    "report",
    "meeting",
    "meetingattendance",
    "attachment",
    "chatstate",
    "groupbinding",
)


def snapshot(engine) -> tuple:
    with engine.connect() as conn:
        rows = tuple(tuple(conn.execute(text(f'SELECT * FROM "{name}" ORDER BY 1')).all()) for name in WATCHED)
        outbox = conn.execute(text('SELECT COUNT(*) FROM "outboxmessage"')).scalar_one()
    return (*rows, outbox)


def is_role_refusal(reply: str) -> bool:
    head = t.NOT_ALLOWED.split("{", 1)[0]
    return reply == t.NOT_REGISTERED or reply == t.NOT_MEMBER or reply.startswith(head)


class World:
    """The plan's people and the objects the buttons act on, made directly in the database."""

    def __init__(self, engine, plan_id: int) -> None:
        self.engine, self.plan_id = engine, plan_id
        with session_scope(engine) as s:
            units = {
                n: row_id(require_unit(session=s, plan_id=plan_id, text=n)) for n in ("林草局", "水利局", THIRD_UNIT)
            }
            self.cat = s.exec(select(ProblemCategory).where(ProblemCategory.plan_id == plan_id)).first().id
            ensure_default_schedules(session=s)
        self.units = units
        self.members: dict[str, Member] = {}
        self.serial = itertools.count(1)

    def load_members(self) -> None:
        with session_scope(self.engine) as s:
            for key, (uid, *_rest) in PEOPLE.items():
                m = s.exec(select(Member).where(Member.telegram_user_id == uid)).first()
                if m is not None:
                    self.members[key] = m

    def uid(self, name: str) -> int:
        return self.units[name]

    # --- objects, each in the state its button acts on ---

    def problem(self, s: Session, state: str = ProblemState.ASSIGNED, *, raised_by_owner: bool = False) -> Problem:
        own, third = self.uid("林草局"), self.uid(THIRD_UNIT)
        p = Problem(
            plan_id=self.plan_id,
            text="用草审批未办理，影响项目推进",
            category_id=self.cat,
            raised_by_unit_id=own if raised_by_owner else third,
            owner_unit_id=third if raised_by_owner else own,
            state=state,
        )
        if state in (ProblemState.RESOLVED, ProblemState.CLOSED):
            p.resolved_at = utcnow()
        s.add(p)
        s.flush()
        s.add(
            ProblemEvent(problem_id=p.id, kind="raised", actor_unit_id=p.raised_by_unit_id, to_unit_id=p.owner_unit_id)
        )
        s.flush()
        return p

    def handover(self, s: Session) -> int:
        p = self.problem(s)
        ev = ProblemEvent(
            problem_id=p.id,
            kind="handed_over",
            actor_unit_id=self.uid(THIRD_UNIT),
            from_unit_id=self.uid(THIRD_UNIT),
            to_unit_id=self.uid("林草局"),
            reason="不属于本单位职责范围",
        )
        s.add(ev)
        s.flush()
        return ev.id

    def problem_file(self, s: Session) -> int:
        p = self.problem(s)
        ev = s.exec(select(ProblemEvent).where(ProblemEvent.problem_id == p.id)).one()
        a = Attachment(
            problem_event_id=ev.id,
            filename="说明.pdf",
            mime_type="application/pdf",
            size=len(PDF_BYTES),
            sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
            path="matrix.pdf",
        )
        (get_settings().DATA_DIR / "matrix.pdf").write_bytes(PDF_BYTES)
        s.add(a)
        s.flush()
        return a.id

    def decision(self, s: Session, state: str = "open") -> int:
        d = Decision(plan_id=self.plan_id, text="完成用草审批", owner_unit_id=self.uid("林草局"), state=state)
        if state == "submitted":
            d.evidence_text, d.submitted_at = "已完成审批，附批复文件", utcnow()
        s.add(d)
        s.flush()
        return d.id

    def notice(self, s: Session, *, published: bool = False, dropped: bool = False) -> tuple[int, int]:
        n = Notice(plan_id=self.plan_id, period="2026Q1", title="关于2026年第一季度工作推进情况的通报")
        if published:
            n.state, n.published_at, n.doc_no = "published", utcnow(), "乌中联〔2026〕1号"
        s.add(n)
        s.flush()
        f = NoticeFinding(
            notice_id=n.id, unit_id=self.uid("林草局"), rule="slow", summary="进展缓慢", dropped=dropped, drop_reason=""
        )
        if dropped:
            f.drop_reason = "情况已核实"
        s.add(f)
        s.flush()
        return n.id, f.id

    def brief(self, s: Session, state: str = "draft") -> int:
        period = f"T{s.exec(select(Brief.id)).all().__len__() + 1}"
        pdf = get_settings().DATA_DIR / "briefs" / f"{period}.pdf"
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.write_bytes(PDF_BYTES)
        b = Brief(plan_id=self.plan_id, period=period, issue_no=1, state=state, data={}, pdf_path=str(pdf))
        s.add(b)
        s.flush()
        return b.id

    def item(self, s: Session, stage: str = "open") -> int:
        from oversight.rectification import submit_closure
        from oversight.review import add_item, verify_closure

        it = add_item(
            session=s,
            plan_id=self.plan_id,
            period="2026H1",
            unit_id=self.uid("林草局"),
            source=f"matrix:{next(self.serial)}",
            item="按周报送工作进展",
            deadline=local_day(utcnow()) + timedelta(days=60),
            standard="连续8周按时报送",
            actor="test",
            now=utcnow(),
        )
        if stage in ("submitted", "closed"):
            owner = s.get(Member, self.members["owner"].id)
            submit_closure(
                session=s, item_id=it.id, actor=owner, text="已按要求整改完毕", attachment_ids=[], now=utcnow()
            )
        if stage == "closed":
            office = s.get(Member, self.members["office"].id)
            verify_closure(session=s, item_id=it.id, actor=office, ok=True, now=utcnow())
            item = s.get(RectificationItem, it.id)
            item.recheck_on = local_day(utcnow())
            s.add(item)
        s.flush()
        return it.id

    def args_for(self, action: str) -> dict[str, Any]:
        """Fresh objects for one press of `action`: its token's arguments."""
        with session_scope(self.engine) as s:
            return self.args_in(s, action)

    def args_in(self, s: Session, action: str) -> dict[str, Any]:
        group, _, name = action.partition(".")
        if group == "problem":
            if name == "judge":
                return {"eid": self.handover(s), "ok": True}
            if name == "file":
                return {"aid": self.problem_file(s)}
            state = {
                "resolve": ProblemState.ACCEPTED,
                "confirm": ProblemState.RESOLVED,
                "reopen": ProblemState.RESOLVED,
            }.get(name, ProblemState.ASSIGNED)
            return {"pid": self.problem(s, state, raised_by_owner=name in ("confirm", "reopen")).id}
        if group == "decision":
            return {"did": self.decision(s, "open" if name == "done" else "submitted")}
        if group == "notice":
            nid, fid = self.notice(s, published=name == "explain", dropped=name == "restore")
            if name in ("drop", "restore", "page"):
                return {"nid": nid, "finding": fid}
            if name == "edit":
                return {"nid": nid, "what": "title"}
            return {"nid": nid}
        if group == "brief":
            if name == "not_now":
                return {}
            state = "draft" if name in ("note", "approve") else "office_approved"
            return {"bid": self.brief(s, state), "rev": 0}
        if group == "rect":
            stage = {"accept": "submitted", "recheck_ok": "closed", "recheck_fail": "closed"}.get(name, "open")
            iid = self.item(s, stage)
            return {"iid": iid, "mid": self.members["owner"].id} if name == "person" else {"iid": iid}
        if group == "claim":  # a consolidation claimed by another unit, for the office to confirm
            from oversight.claims import open_claim

            right = Right(plan_id=self.plan_id, code=f"MX-{next(self.serial)}", name="矩阵矿", kind="mining")
            s.add(right)
            s.flush()
            owner = s.get(Member, self.members["owner"].id)
            report = Report(plan_id=self.plan_id, unit_id=owner.unit_id, member_id=owner.id, text="已完成整合")
            s.add(report)
            s.flush()
            claim = open_claim(
                session=s,
                report=report,
                right=right,
                task_id=None,
                actor=owner,
                to_status="consolidated",
                attachment_ids=[1],
                now=utcnow(),
            )
            return {"cid": claim.id}
        if group == "sup":  # 催办 of an overdue problem
            p = self.problem(s, ProblemState.ACCEPTED)
            p.due_on = local_day(utcnow()) - timedelta(days=20)
            s.add(p)
            s.flush()
            return {"kind": "problem", "iid": p.id}
        if group == "meeting":  # a circulated meeting, the day after tomorrow
            m = Meeting(
                plan_id=self.plan_id,
                held_on=local_day(utcnow()) + timedelta(days=2),
                title="2026年第四季度联席会议",
                state="circulated",
                starts_at=utcnow() + timedelta(days=2),
                circulated_at=utcnow(),
                agenda=[{"text": "听取工作进展汇报", "ref": ""}],
            )
            s.add(m)
            s.flush()
            return {"mid": m.id}
        if group == "member":  # a member of another unit, for the admin to revoke
            m = Member(
                plan_id=self.plan_id, name=f"待撤销{next(self.serial)}", unit_id=self.uid("水利局"), role=Role.CONTACT
            )
            s.add(m)
            s.flush()
            return {"mid": row_id(m)}
        if group == "schedule":
            if name == "resume":
                pause_schedule(session=s, job="daily_digest", actor="test")
            return {"job": "daily_digest"}
        raise AssertionError(f"no object for {action}")


async def _press(h, user, message_id: int, token: str) -> dict:
    query = await user.press(message_id, token, check=False)
    return await h.server.wait_for_answer(query["id"])


def is_whoami(message: dict) -> bool:
    text = str(message.get("text") or "")
    return (text.startswith("姓名：") and "\n所属计划：" in text) or text == t.WHOAMI_UNREGISTERED


async def _send(h, user, words: str) -> list[str]:
    """Everything the bot says in the chat to `words`: up to its answer to a /whoami sent after
    (one chat's updates are applied in order, replies before the next)."""
    mark = h.server.mark()
    await user.send(words)
    await user.send("/whoami")
    end = await h.server.wait_for(user.id, is_whoami, after=mark)
    said = [
        m for m in h.server.transcript(user.id, after=mark) if m["from_bot"] and m["message_id"] <= end["message_id"]
    ]
    said = said[:-1] if words != "/whoami" else said[:1]
    return [str(m.get("text") or m.get("caption") or "") for m in said]


def test_every_declared_action_has_its_row():
    """A command or button added to bot/app.py without its row here fails."""
    d = Dispatcher(DECLARED)
    declared = {f"/{name}" for name in d.commands} | set(d.targets)
    assert declared - MATRIX.keys() == set(), "declared without a row in MATRIX"
    assert MATRIX.keys() - declared == set(), "a row of MATRIX names nothing declared"
    assert all(v == "=" or (len(v) == len(ROLES) and set(v) <= {"+", "-"}) for v in MATRIX.values())


async def test_role_action_matrix(settings_env, engine, banner_plan_id):
    """Each row: the refused cells pressed (or sent) together, the record compared before and
    after them; then the taken cells, each on an object of its own."""
    started = time.monotonic()
    d = Dispatcher(DECLARED)
    world = World(engine, banner_plan_id)
    wrong: list[str] = []
    cells = 0
    # The bot's Pacer without its pace for the whole bot (28 a second, 29 in flight): each of the
    # ~350 command cells is answered twice (its reply, then the /whoami after), and those replies
    # would otherwise queue ~17 s behind each other on a server that enforces no limit (tests/test_pacing.py holds the Pacer to Telegram's); what each cell is
    # answered, and the record before and after the refused ones, do not depend on the pace.
    pacer = Pacer(rate=10_000.0, limit=10_000, private_gap=0.0)
    async with running_bot(engine, banner_plan_id, rate_limiter=pacer) as h:
        users = {}
        for key, (uid, name, unit, role) in PEOPLE.items():
            users[key] = h.server.user(uid, name) if role is None else await h.join(uid, name, unit, role)
        await h.join(8109, "应急联络员", THIRD_UNIT, Role.CONTACT)
        world.load_members()
        # One message of the bot's in each chat to press buttons on.
        anchor: dict[str, int] = {}
        for key, user in users.items():
            await user.send("/help")
            anchor[key] = (await h.server.wait_for(user.id, None))["message_id"]

        Ask = Callable[[str], Callable[[], Awaitable[tuple[bool, str]]]]

        async def row(label: str, expected: dict[str, str], ask: Ask) -> None:
            """One row: `ask(key)` makes the cell's object and token and returns the act that
            does the cell and says (taken?, what was answered). Refused cells together first,
            the record compared before and after them (their objects made before), then the rest."""
            nonlocal cells
            for sign in "-+":
                keys = [k for k in ROLES if expected.get(k) == sign]
                if not keys:
                    continue
                acts = [ask(k) for k in keys]
                before = snapshot(engine) if sign == "-" else None
                outcomes = await asyncio.gather(*(act() for act in acts))
                cells += len(keys)
                for key, (taken, said) in zip(keys, outcomes, strict=True):
                    if taken != (sign == "+"):
                        wrong.append(f"{label} as {key}: expected {sign}, got {said[:80]!r}")
                if before is not None and snapshot(engine) != before:
                    wrong.append(f"{label} as {', '.join(keys)}: refused, but the record changed")

        def cells_of(text: str, *, stranger: bool = True) -> dict[str, str]:
            return {k: v for k, v in zip(ROLES, text, strict=True) if stranger or k != "stranger"}

        # Commands, and the menu button naming each (a stranger is shown no menu).
        for name in sorted(d.commands):
            expected = MATRIX[f"/{name}"]

            def typed(key: str, name: str = name) -> Callable[[], Awaitable[tuple[bool, str]]]:
                async def act() -> tuple[bool, str]:
                    said = await _send(h, users[key], f"/{name}")
                    return bool(said) and not any(map(is_role_refusal, said)), " / ".join(said)

                return act

            def menu(key: str, name: str = name) -> Callable[[], Awaitable[tuple[bool, str]]]:
                with session_scope(engine) as s:
                    token = mint_token(session=s, action=MENU_ACTION, args={"name": name}, user_id=users[key].id)

                async def act() -> tuple[bool, str]:
                    answer = await _press(h, users[key], anchor[key], token)
                    return not answer.get("show_alert"), answer.get("text") or ""

                return act

            await row(f"/{name}", cells_of(expected), typed)
            await row(f"menu /{name}", cells_of(expected, stranger=False), menu)
        print(f"commands and menu buttons: {cells} cells in {time.monotonic() - started:.1f} s")

        # Buttons: a standalone one on an object made for it (refusals share one), a flow's with
        # the conversation forged open at the step that shows it.
        for action in sorted(set(d.targets) - {MENU_ACTION}):
            target, expected = d.targets[action], MATRIX[action]
            shared = world.args_for(action) if target.flow is None else {}

            def pressed(
                key: str, action: str = action, target: Any = target, shared: Any = shared
            ) -> Callable[[], Awaitable[tuple[bool, str]]]:
                user, sign = users[key], MATRIX[action][ROLES.index(key)]
                with session_scope(engine) as s:
                    if target.flow is None:
                        args = world.args_in(s, action) if sign == "+" else shared
                    else:
                        step = next(n for n, st in target.flow.steps.items() if target.button in st.buttons)
                        data: dict[str, Any] = {FID: "m"}
                        args = {n: DUMMY_ARGS.get(n, 1) for n in target.required}
                        if target.flow.name == "problem":  # the hand-over's unit picker, for a real problem
                            data |= {"action": "hand_over", **world.args_in(s, "problem.hand_over")}
                            args["uid"] = world.uid("水利局")
                        set_flow(
                            session=s, chat_id=user.id, user_id=user.id, flow=target.flow.name, step=step, data=data
                        )
                        args = {**args, FID: "m", STEP: step}
                    token = mint_token(session=s, action=action, args=args, user_id=user.id)

                async def act() -> tuple[bool, str]:
                    answer = await _press(h, user, anchor[key], token)
                    said = answer.get("text") or ""
                    if target.flow is None or target.command is None:  # refused with an alert
                        return not answer.get("show_alert"), said
                    if is_role_refusal(said) and not answer.get("show_alert"):
                        return True, "a role refusal without an alert"
                    return not is_role_refusal(said), said

                return act

            await row(action, cells_of(expected), pressed)
    elapsed = time.monotonic() - started
    print(f"role × action matrix: {cells} cells in {elapsed:.1f} s")
    assert not wrong, f"{len(wrong)} of {cells} cells wrong:\n" + "\n".join(wrong)
    assert cells == 8 * len(d.commands) + 7 * len(d.commands) + 8 * (len(d.targets) - 1)
