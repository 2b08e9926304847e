"""A deterministic quarter (2026Q1) of activity on the 乌拉特中旗 plan, for the brief and
other tests: members of every role, rights in six zones and three batches, weekly reports
with gaps, twenty problems through every step of the state machine (hand-overs, a decline
ruled back, a reopen), two meetings' decisions and a published notice with an explanation.

Written through the domain functions (file_report, raise/accept/hand over/… problems);
members, rights, meetings, decisions and notices straight into their tables (there is no
domain function for them yet). Activity just before and just after the quarter (December
2025, April 2026, and 2026-04-01 00:10 in Shanghai, which is still March 31 in UTC) is
there so that a query with the wrong boundaries or the current state instead of the state
at the period end gives a different answer.

Usage: plan_id = load_bundled_plan(engine); with session_scope(engine) as s: seed = seed_quarter(session=s, plan_id=plan_id)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models import (
    Attachment,
    Decision,
    Explanation,
    Meeting,
    Member,
    Notice,
    NoticeFinding,
    Plan,
    ProblemCategory,
    Right,
    RightBatch,
    RightKind,
    Role,
    Task,
    Unit,
    Zone,
    ZoneLeader,
)
from models.base import row_id
from oversight import problems as P
from oversight.reports import file_report

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = "2026Q1"
Q_START = date(2026, 1, 1)
Q_END = date(2026, 3, 31)

# Units with a contact (部门联络员), in this order; telegram ids 9200 + index.
CONTACT_UNITS = [
    "natres",
    "emergency",
    "forestry",
    "eco",
    "water",
    "ndrc",
    "market_reg",
    "finance",
    "miit",
    "police",
    "township",
]
# Units that file weekly progress reports, and how often they skip a week.
REPORTERS = ["natres", "emergency", "forestry", "eco", "water", "ndrc", "market_reg", "finance", "miit", "police"]


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI).astimezone(UTC)


def q(m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return at(2026, m, d, hh, mm)


@dataclass
class Seeded:
    plan_id: int
    units: dict[str, int] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    problems: dict[int, int] = field(default_factory=dict)  # scenario number → problem id
    rights: dict[str, int] = field(default_factory=dict)  # code → id
    recipients: list[int] = field(default_factory=list)  # telegram ids the brief goes to
    zone_ids: dict[int, int] = field(default_factory=dict)  # seq → id


def _member(
    session: Session, seed: Seeded, key: str, *, unit: str, role: str, tg: int, name: str, active: bool = True
) -> Member:
    m = Member(
        plan_id=seed.plan_id,
        telegram_user_id=tg,
        name=name,
        unit_id=seed.units[unit],
        role=role,
        active=active,
        joined_at=at(2025, 12, 1),
    )
    session.add(m)
    session.flush()
    seed.members[key] = m
    return m


def _rights(session: Session, seed: Seeded) -> None:
    tasks = {t.key: t.id for t in session.exec(select(Task).where(Task.plan_id == seed.plan_id)).all()}
    zones = session.exec(select(Zone).where(Zone.plan_id == seed.plan_id, col(Zone.seq) <= 6).order_by(Zone.seq)).all()
    natres = seed.units["natres"]
    for z in zones:
        seed.zone_ids[z.seq] = z.id
        kinds = [RightKind.MINING] * z.planned_mining + [RightKind.EXPLORATION] * z.planned_exploration
        for n, kind in enumerate(kinds, start=1):
            code = f"Z{z.seq:02d}-{n}"
            r = Right(
                plan_id=seed.plan_id,
                code=code,
                name=f"{z.name.removesuffix('整合区')}{n}号{'采矿权' if kind == RightKind.MINING else '探矿权'}",
                kind=kind,
                size_class="small" if kind == RightKind.MINING else "",  # a mine's production scale only
                mineral=(z.minerals or [""])[0],
                zone_id=z.id,
                unit_id=natres,
                status="baseline",
                # 整合后保留: each zone keeps its first mining right, as the demo's ledger has it.
                kept_in_zone=n == 1 if kind == RightKind.MINING else False,
                updated_at=at(2025, 12, 1),
            )
            session.add(r)
            session.flush()
            session.add(RightBatch(right_id=r.id, task_id=tasks["consolidate"]))
            seed.rights[code] = r.id
    for n in range(1, 5):
        r = Right(
            plan_id=seed.plan_id,
            code=f"C-{n}",
            name=f"待关闭小型矿山{n}号",
            kind=RightKind.MINING,
            unit_id=natres,
            updated_at=at(2025, 12, 1),
        )
        session.add(r)
        session.flush()
        session.add(RightBatch(right_id=r.id, task_id=tasks["close"]))
        seed.rights[r.code] = r.id
    for n in range(1, 4):
        r = Right(
            plan_id=seed.plan_id,
            code=f"R-{n}",
            name=f"停产矿山{n}号",
            kind=RightKind.MINING,
            unit_id=seed.units["emergency"],
            updated_at=at(2025, 12, 1),
        )
        session.add(r)
        session.flush()
        session.add(RightBatch(right_id=r.id, task_id=tasks["restart"]))
        seed.rights[r.code] = r.id
    # Production scale and green-mine levels (seed 000 一: large+medium ≥75 %, ≥3 green mines at
    # region level or above): a few of the quarter's mines carry them.
    for code, size, green in (("Z01-1", "large", "national"), ("R-1", "medium", ""), ("R-2", "large", "region")):
        right = session.get(Right, seed.rights[code])
        assert right is not None
        right.size_class, right.green_level = size, green
        session.add(right)
    session.flush()


def _reports(session: Session, seed: Seeded) -> None:
    tasks = {t.key: t.id for t in session.exec(select(Task).where(Task.plan_id == seed.plan_id)).all()}
    # Each reporter's task (one it takes part in).
    task_of = {
        "natres": "consolidate",
        "emergency": "restart",
        "forestry": "consolidate",
        "eco": "consolidate",
        "water": "consolidate",
        "ndrc": "consolidate",
        "market_reg": "close",
        "finance": "close",
        "miit": "restart",
        "police": "close",
    }
    monday = date(2025, 12, 29)
    week = 0
    while monday <= Q_END:
        for i, unit in enumerate(REPORTERS):
            if (week + i) % (i + 2) == 0:  # unit i skips every (i+2)-th week, out of phase
                continue
            day = monday + timedelta(days=i % 5)
            if day < Q_START:
                day = date(2026, 1, 2)
            if day > Q_END:
                continue
            zone = seed.zone_ids[1 + (week + i) % 6] if unit in ("natres", "forestry") else None
            file_report(
                session=session,
                actor=seed.members[unit],
                task_id=tasks[task_of[unit]],
                zone_id=zone,
                text=f"{unit}第{week + 1}周进展：按计划推进手续办理。",
                now=at(day.year, day.month, day.day, 9 + i % 8, 5 * i),
            )
        monday += timedelta(days=7)
        week += 1
    # Outside the quarter: December, April, and 00:10 on April 1 in Shanghai (16:10 UTC on March 31).
    file_report(
        session=session,
        actor=seed.members["natres"],
        task_id=tasks["consolidate"],
        text="去年底进展。",
        now=at(2025, 12, 30),
    )
    file_report(
        session=session,
        actor=seed.members["natres"],
        task_id=tasks["consolidate"],
        text="四月进展。",
        now=q(4, 1, 0, 10),
    )
    file_report(
        session=session,
        actor=seed.members["eco"],
        task_id=tasks["consolidate"],
        text="季度末最后一报。",
        now=q(3, 31, 23, 30),
    )

    # Completions (each a status move recorded with its report).
    def done(unit: str, task: str, code: str, when: datetime, status: str | None = None) -> None:
        # A done state needs its evidence (oversight.claims); the units here handle the paperwork
        # themselves (the duty map names them), so their report is its own confirmation.
        proof = Attachment(
            filename=f"{code}批复.pdf",
            mime_type="application/pdf",
            size=1,
            sha256=f"{code:0>64}"[-64:],
            path="seed.pdf",
        )
        session.add(proof)
        session.flush()
        file_report(
            session=session,
            actor=seed.members[unit],
            task_id=tasks[task],
            right_id=seed.rights[code],
            text=f"{code}办理完成。",
            quantity=0 if status else 1,
            move_to_status=status,
            attachment_ids=[] if status else [row_id(proof)],
            now=when,
        )

    for n, code in enumerate(["Z01-1", "Z01-2", "Z01-3"]):
        done("natres", "consolidate", code, q(2, 10 + n))  # zone 1 complete
    done("natres", "consolidate", "Z02-1", q(3, 5))
    done("natres", "consolidate", "Z03-1", q(1, 20))
    done("natres", "consolidate", "Z03-1", q(3, 12), status="in_progress")  # moved back: not done at the end
    done("natres", "consolidate", "Z04-1", q(4, 8))  # after the quarter
    done("natres", "close", "C-1", q(1, 28))
    done("natres", "close", "C-2", q(3, 20))
    done("emergency", "restart", "R-1", q(2, 26))
    done("natres", "consolidate", "Z05-1", at(2025, 12, 18))  # before the quarter: done, not done in it
    # Zone leaders.
    file_report(
        session=session,
        actor=seed.members["leader_a"],
        task_id=None,
        zone_id=seed.zone_ids[2],
        text="包联领导现场调研新乌苏整合区，协调林草手续。",
        now=q(1, 14, 15),
    )
    file_report(
        session=session,
        actor=seed.members["leader_a"],
        task_id=None,
        zone_id=seed.zone_ids[3],
        text="284地区整合区召开推进会。",
        now=q(2, 27, 15),
    )
    file_report(
        session=session,
        actor=seed.members["leader_b"],
        task_id=None,
        zone_id=seed.zone_ids[5],
        text="图古日格整合二区企业座谈。",
        now=q(3, 18, 15),
    )


# (number, raiser unit, category key, raised at, steps). Steps: (action, at, unit key or "").
SCENARIOS: list[tuple[int, str, str, datetime, list[tuple[str, datetime, str]]]] = [
    (1, "natres", "forest_grass", at(2025, 12, 15), [("accept", at(2025, 12, 20), "")]),
    (2, "natres", "eia", q(1, 5), [("accept", q(1, 7), ""), ("resolve", q(1, 20), ""), ("confirm", q(1, 22), "")]),
    (
        3,
        "emergency",
        "land_use",
        q(1, 8),
        [
            ("hand", q(1, 9), "township"),
            ("hand", q(1, 12), "natres"),
            ("decline", q(1, 13), ""),
            ("rule", q(1, 15), "natres"),
            ("resolve", q(2, 10), ""),
            ("confirm", q(2, 12), ""),
        ],
    ),
    (4, "natres", "safety_licence", q(1, 12), [("accept", q(1, 19), ""), ("resolve", q(3, 2), "")]),
    (5, "forestry", "water_permit", q(1, 15), [("accept", q(1, 16), "")]),
    (
        6,
        "natres",
        "project_approval",
        q(1, 20),
        [
            ("hand", q(1, 21), "miit"),
            ("hand", q(1, 23), "ndrc"),
            ("hand", q(1, 26), "miit"),
            ("accept", q(2, 5), ""),
            ("resolve", q(2, 20), ""),
            ("confirm", q(2, 21), ""),
        ],
    ),
    (
        7,
        "eco",
        "business_licence",
        q(2, 2),
        [
            ("accept", q(2, 3), ""),
            ("resolve", q(2, 6), ""),
            ("confirm", q(2, 9), ""),
            ("reopen", q(2, 16), ""),
            ("resolve", q(3, 5), ""),
            ("confirm", q(3, 6), ""),
        ],
    ),
    (8, "natres", "exit_compensation", q(2, 10), [("accept", q(2, 26), "")]),
    (
        9,
        "emergency",
        "funding",
        q(2, 15),
        [("accept", q(2, 16), ""), ("resolve", q(3, 20), ""), ("confirm", q(4, 2), "")],
    ),
    (10, "natres", "explosives", q(3, 2), [("accept", q(3, 3), "")]),
    (11, "water", "eia", q(3, 10), [("decline", q(3, 11), ""), ("rule", q(4, 3), "eco")]),
    (12, "natres", "land_dispute", q(3, 16), [("accept", q(3, 18), "")]),
    (13, "forestry", "land_use", q(3, 25), [("accept", q(3, 27), "")]),
    (14, "natres", "forest_grass", q(3, 31, 22), []),
    (15, "natres", "safety_licence", q(4, 1, 9), []),
    (
        16,
        "market_reg",
        "land_use",
        q(1, 6, 9),
        [("accept", q(1, 6, 16), ""), ("resolve", q(1, 30), ""), ("confirm", q(2, 1), "")],
    ),
    (
        17,
        "miit",
        "safety_licence",
        q(2, 20),
        [("accept", q(3, 4), ""), ("resolve", q(3, 25), ""), ("confirm", q(3, 26), "")],
    ),
    (
        18,
        "finance",
        "eia",
        q(1, 26),
        [("hand", q(1, 27), "forestry"), ("accept", q(2, 2), ""), ("resolve", q(4, 10), "")],
    ),
    (
        19,
        "emergency",
        "mining_licence",
        at(2025, 12, 1),
        [("accept", at(2025, 12, 2), ""), ("resolve", at(2025, 12, 20), ""), ("confirm", at(2025, 12, 22), "")],
    ),
    (
        20,
        "natres",
        "project_approval",
        at(2025, 12, 10),
        [
            ("accept", at(2025, 12, 11), ""),
            ("resolve", at(2025, 12, 28), ""),
            ("confirm", at(2025, 12, 29), ""),
            ("reopen", q(1, 6), ""),
            ("resolve", q(1, 16), ""),
            ("confirm", q(1, 19), ""),
        ],
    ),
]
PROBLEM_TEXT = {
    1: "常兴扎嘎乌苏铁矿整合涉及草原征占用，手续长期未批。",
    3: "整合区用地涉及牧户征地矛盾。",
    6: "整合项目立项主体不明确。",
    14: "季度末新发现林地占用问题。",
}


def _contact_of(seed: Seeded, unit_key: str) -> Member:
    if unit_key == "office":
        return seed.members["office_a"]
    return seed.members[unit_key]


def _problems(session: Session, seed: Seeded) -> None:
    cats = {
        c.key: c.id for c in session.exec(select(ProblemCategory).where(ProblemCategory.plan_id == seed.plan_id)).all()
    }
    owner_key = {v: k for k, v in seed.units.items()}
    for number, raiser, category, when, steps in SCENARIOS:
        zone = seed.zone_ids[1 + number % 6]
        problem = P.raise_problem(
            session=session,
            plan_id=seed.plan_id,
            actor=seed.members[raiser],
            text=PROBLEM_TEXT.get(number, f"问题情景{number}：手续办理受阻。"),
            category_id=cats[category],
            zone_id=zone,
            now=when,
        )
        pid = problem.id
        seed.problems[number] = pid
        for action, moment, unit in steps:
            p = session.get(P.Problem, pid)
            owner = _contact_of(seed, owner_key[p.owner_unit_id])
            kw = {"session": session, "problem_id": pid, "now": moment}
            if action == "accept":
                P.accept_problem(actor=owner, **kw)
            elif action == "hand":
                P.hand_over_problem(actor=owner, to_unit_id=seed.units[unit], reason="不属于本单位职责范围", **kw)
            elif action == "decline":
                P.decline_problem(actor=owner, reason="该事项应由其他部门办理", **kw)
            elif action == "rule":
                P.rule_problem(
                    actor=seed.members["office_a"], to_unit_id=seed.units[unit], reason="按职责分工裁定", **kw
                )
            elif action == "resolve":
                P.resolve_problem(actor=owner, evidence_text="已办理完毕，批复已下达。", **kw)
            elif action == "confirm":
                P.confirm_problem(actor=seed.members[raiser], **kw)
            elif action == "reopen":
                P.reopen_problem(actor=seed.members[raiser], reason="问题仍未解决，请继续办理", **kw)
            else:  # pragma: no cover - a typo in SCENARIOS
                raise ValueError(action)
    session.flush()


def _meetings(session: Session, seed: Seeded) -> None:
    u = seed.units
    old = Meeting(
        plan_id=seed.plan_id,
        kind="quarterly",
        period="2025Q3",
        held_on=date(2025, 10, 10),
        title="2025年第三季度联席会议",
        created_at=at(2025, 10, 10),
    )
    last = Meeting(
        plan_id=seed.plan_id,
        kind="quarterly",
        period="2025Q4",
        held_on=date(2026, 1, 9),
        title="2025年第四季度联席会议",
        created_at=q(1, 9),
    )
    later = Meeting(
        plan_id=seed.plan_id,
        kind="adhoc",
        period="",
        held_on=date(2026, 4, 10),
        title="临时联席会议",
        created_at=q(4, 10),
    )
    session.add_all([old, last, later])
    session.flush()
    session.add(
        Decision(
            plan_id=seed.plan_id,
            meeting_id=old.id,
            text="上季度事项",
            owner_unit_id=u["natres"],
            created_at=at(2025, 10, 10),
        )
    )
    session.add_all(
        [
            Decision(
                plan_id=seed.plan_id,
                meeting_id=last.id,
                text="自然资源局牵头完成常兴扎嘎乌苏整合区储量核实",
                owner_unit_id=u["natres"],
                due_on=date(2026, 2, 28),
                state="done",
                done_at=q(2, 20),
                created_at=q(1, 9),
            ),
            Decision(
                plan_id=seed.plan_id,
                meeting_id=last.id,
                text="林草局完成整合区草原征占用审批",
                owner_unit_id=u["forestry"],
                due_on=date(2026, 3, 15),
                created_at=q(1, 9),
            ),
            Decision(
                plan_id=seed.plan_id,
                meeting_id=last.id,
                text="应急管理局完成复工矿山安全条件核查",
                owner_unit_id=u["emergency"],
                due_on=date(2026, 3, 31),
                state="done",
                done_at=q(4, 5),
                created_at=q(1, 9),
            ),
            Decision(
                plan_id=seed.plan_id,
                meeting_id=last.id,
                text="旗政府办公室牵头制定小型矿山退出补偿政策",
                owner_unit_id=u["office"],
                major=True,
                due_on=date(2026, 6, 30),
                created_at=q(1, 9),
            ),
        ]
    )
    session.add(
        Decision(
            plan_id=seed.plan_id,
            meeting_id=later.id,
            text="临时会议事项",
            owner_unit_id=u["natres"],
            created_at=q(4, 10),
        )
    )
    session.flush()


def _notices(session: Session, seed: Seeded) -> None:
    published = Notice(
        plan_id=seed.plan_id,
        period=PERIOD,
        doc_no="乌中联办通〔2026〕1号",
        title="关于一季度非煤矿山资源整合工作推进情况的通报",
        state="published",
        published_at=q(4, 3),
        created_at=q(4, 2),
    )
    draft = Notice(plan_id=seed.plan_id, period=PERIOD, doc_no="", title="草稿通报", state="draft", created_at=q(4, 2))
    session.add_all([published, draft])
    session.flush()
    session.add(
        NoticeFinding(
            notice_id=published.id,
            unit_id=seed.units["miit"],
            rule="shifting",
            summary=f"{seed.problems[6]}号问题在旗工信局与旗发改委之间往返转交3次。",
        )
    )
    session.add(
        NoticeFinding(
            notice_id=published.id, unit_id=seed.units["police"], rule="slow", summary="撤销的发现", dropped=True
        )
    )
    session.add(
        Explanation(
            notice_id=published.id,
            unit_id=seed.units["miit"],
            member_id=seed.members["miit"].id,
            text="该项目属产能变化项目，应由发改委立项，已与发改委沟通一致。",
            created_at=q(4, 6),
        )
    )
    session.flush()


def seed_quarter(*, session: Session, plan_id: int) -> Seeded:
    """Seed 2026Q1 on a loaded 乌拉特中旗 plan; the caller commits."""
    seed = Seeded(plan_id=plan_id)
    plan = session.get(Plan, plan_id)
    assert plan is not None
    plan.tracking_since = date(2025, 12, 1)  # in use since the members joined, before the quarter
    seed.units = {u.key: u.id for u in session.exec(select(Unit).where(Unit.plan_id == plan_id)).all()}
    _member(session, seed, "convener", unit="banner_gov", role=Role.CONVENER, tg=9001, name="王副旗长")
    _member(session, seed, "office_a", unit="office", role=Role.OFFICE, tg=9101, name="办公室李")
    _member(session, seed, "office_b", unit="office", role=Role.OFFICE, tg=9102, name="办公室张")
    _member(session, seed, "office_gone", unit="office", role=Role.OFFICE, tg=9103, name="已调离", active=False)
    _member(session, seed, "supervisor", unit="office", role=Role.SUPERVISOR, tg=9301, name="督导组赵")
    _member(session, seed, "admin", unit="office", role=Role.ADMIN, tg=9401, name="管理员")
    for i, key in enumerate(CONTACT_UNITS):
        _member(session, seed, key, unit=key, role=Role.CONTACT, tg=9200 + i, name=f"{key}联络员")
    leader_a = _member(session, seed, "leader_a", unit="banner_gov", role=Role.ZONE_LEADER, tg=9501, name="包联领导甲")
    leader_b = _member(session, seed, "leader_b", unit="banner_gov", role=Role.ZONE_LEADER, tg=9502, name="包联领导乙")
    seed.recipients = [9001, 9101, 9102]
    _rights(session, seed)
    for seq in (1, 2, 3):
        session.add(ZoneLeader(zone_id=seed.zone_ids[seq], member_id=leader_a.id))
    for seq in (4, 5, 6):
        session.add(ZoneLeader(zone_id=seed.zone_ids[seq], member_id=leader_b.id))
    session.flush()
    _reports(session, seed)
    _problems(session, seed)
    _meetings(session, seed)
    _notices(session, seed)
    return seed
