"""Sample members for the sandbox, bound through real invite redemption so the audit
trail is the same as for real people."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import Member, Plan, Role, Unit, Zone, session_scope
from oversight.members import (
    ROLE_LABELS,
    assign_zone_leader,
    create_invite,
    current_plan,
    list_members,
    redeem_invite,
)
from oversight.plans import plan_spec

logger = logging.getLogger(__name__)

ACTOR = "sandbox"
SAMPLE_MARK = "（示例）"
# Fake Telegram user ids: sample people from here up, people who join on the page higher.
# Kept below 2**31: the id columns are 32-bit INTEGER on PostgreSQL (real ids are not).
SAMPLE_USER_BASE = 700_000_001
JOINER_USER_BASE = 800_000_001
ZONES_PER_LEADER = 3
MEMBER_UNIT_KINDS = ("department", "league", "township", "other")

# Surnames and given names for the sample contacts (one per member unit, in order).
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = [
    "建国",
    "海燕",
    "志强",
    "丽娟",
    "永明",
    "晓梅",
    "国栋",
    "秀兰",
    "立新",
    "文静",
    "卫东",
    "春华",
    "振华",
    "玉兰",
    "德胜",
    "红梅",
    "宏伟",
    "淑芬",
    "占军",
    "桂英",
    "利民",
    "雅琴",
    "学军",
    "慧敏",
]


@dataclass(frozen=True)
class Person:
    """One member of the plan as the page shows it."""

    user_id: int
    member_id: int
    name: str
    unit: str
    unit_short: str
    role: str
    role_label: str


def _sample_name(i: int) -> str:
    return f"{_SURNAMES[i % len(_SURNAMES)]}{_GIVEN[(i * 7) % len(_GIVEN)]}{SAMPLE_MARK}"


def _unit(session: Session, plan_id: int, key: str | None) -> Unit | None:
    if not key:
        return None
    return session.exec(select(Unit).where(Unit.plan_id == plan_id).where(Unit.key == key)).first()


def _first_of_kind(session: Session, plan_id: int, kind: str) -> Unit | None:
    return session.exec(
        select(Unit).where(Unit.plan_id == plan_id).where(Unit.kind == kind).order_by(col(Unit.id))
    ).first()


def _bind(session: Session, *, plan_id: int, unit: Unit, role: str, user_id: int, name: str) -> Member:
    """Create an invite and redeem it as the fake user, as /start CODE would."""
    assert unit.id is not None
    _, code = create_invite(session=session, plan_id=plan_id, unit_id=unit.id, role=role, days=1, created_by=ACTOR)
    return redeem_invite(session=session, telegram_user_id=user_id, name=name, code=code)


def ensure_sample_people(engine: Engine) -> bool:
    """Give the loaded plan sample members if it has none; True if they were created."""
    with session_scope(engine) as session:
        plan = current_plan(session=session)
        if plan is None or plan.id is None:
            return False
        if list_members(session=session, plan_id=plan.id, include_inactive=True):
            return False
        _create_people(session, plan)
    return True


def _create_people(session: Session, plan: Plan) -> None:
    assert plan.id is not None
    spec = plan_spec(plan)
    office = _first_of_kind(session, plan.id, "office")
    government = _first_of_kind(session, plan.id, "government") or office
    supervision = spec.meeting.supervision if spec.meeting else None
    supervisor_unit = (_unit(session, plan.id, supervision.lead_unit) if supervision else None) or office
    units = session.exec(select(Unit).where(Unit.plan_id == plan.id).order_by(col(Unit.id))).all()
    member_units = [u for u in units if u.kind in MEMBER_UNIT_KINDS]
    if office is None:
        office = member_units[0] if member_units else units[0]
    government = government or office
    supervisor_unit = supervisor_unit or office
    # Who comes first matters only for the order on the page.
    leaders = [
        (office, Role.ADMIN),
        (office, Role.OFFICE),
        (government, Role.CONVENER),
        (government, Role.ZONE_LEADER),
        (supervisor_unit, Role.SUPERVISOR),
    ]
    wanted = leaders + [(u, Role.CONTACT) for u in member_units]
    user_id = SAMPLE_USER_BASE
    for i, (unit, role) in enumerate(wanted):
        member = _bind(session, plan_id=plan.id, unit=unit, role=role, user_id=user_id, name=_sample_name(i))
        if role == Role.ZONE_LEADER:
            zones = session.exec(
                select(Zone).where(Zone.plan_id == plan.id).order_by(col(Zone.seq)).limit(ZONES_PER_LEADER)
            ).all()
            for zone in zones:
                assert zone.id is not None and member.id is not None
                assign_zone_leader(session=session, member_id=member.id, zone_id=zone.id, actor=ACTOR)
        user_id += 1
    logger.info("sandbox: %d sample members created for plan %s", len(wanted), plan.key)


def people(engine: Engine) -> list[Person]:
    """Active members of the loaded plan that have a Telegram user id, leaders first."""
    order = {
        role: i
        for i, role in enumerate(
            (Role.ADMIN, Role.OFFICE, Role.CONVENER, Role.ZONE_LEADER, Role.SUPERVISOR, Role.CONTACT)
        )
    }
    with session_scope(engine) as session:
        plan = current_plan(session=session)
        if plan is None or plan.id is None:
            return []
        rows = list_members(session=session, plan_id=plan.id)
        result = [
            Person(
                user_id=m.telegram_user_id,
                member_id=m.id or 0,
                name=m.name,
                unit=u.name,
                unit_short=u.short or u.name,
                role=m.role,
                role_label=ROLE_LABELS.get(m.role, m.role),
            )
            for m, u in rows
            if m.telegram_user_id is not None
        ]
    return sorted(result, key=lambda p: (order.get(p.role, 99), p.member_id))


def next_joiner_id(engine: Engine, taken: set[int]) -> int:
    """A fake Telegram user id no member and no simulated user has yet."""
    with session_scope(engine) as session:
        highest = session.exec(
            select(col(Member.telegram_user_id)).order_by(col(Member.telegram_user_id).desc())
        ).first()
    start = max(JOINER_USER_BASE, (highest or 0) + 1, max(taken, default=0) + 1)
    return start
