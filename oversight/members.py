"""Members, their units and roles, and single-use invite codes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from models import AuditLog, GroupBinding, InviteCode, Member, Plan, Role, Unit, ZoneLeader, row_id, utcnow
from models.db import detached, table_of
from oversight.audit import actor_of, audit
from oversight.dates import cn_datetime
from oversight.errors import (
    AlreadyMemberError,
    InvalidInputError,
    InviteInvalidError,
    InviteLockedError,
    NotFoundError,
)
from oversight.facts import Chat
from oversight.measures import ZONE_LEADER_ASSIGNED
from oversight.planfile import unit_aliases
from oversight.sentences import MEMBER_PERSON, ORDINALS, ROLE_PERSONS, person_at_unit

ROLE_LABELS: dict[str, str] = {
    Role.CONTACT: "部门联络员",
    Role.OFFICE: "联席会议办公室",
    Role.CONVENER: "召集人",
    Role.ZONE_LEADER: "包联领导",
    Role.SUPERVISOR: "联合督导组",
    Role.ADMIN: "管理员",
}
# Chinese names an admin may type for a role.
ROLE_ALIASES: dict[str, str] = {
    **{label: key for key, label in ROLE_LABELS.items()},
    "联络员": Role.CONTACT,
    "办公室": Role.OFFICE,
    "督导组": Role.SUPERVISOR,
    "督导": Role.SUPERVISOR,
    **{key: key for key in Role.ALL},
}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 10
MAX_FAILURES = 5
LOCK_WINDOW = timedelta(hours=1)
MAX_INVITE_DAYS = 90


def parse_role(text: str) -> str:
    """The role key for a role name typed in English or Chinese."""
    key = ROLE_ALIASES.get(text.strip().lower()) or ROLE_ALIASES.get(text.strip())
    if key is None:
        choices = "、".join(f"{k}（{v}）" for k, v in ROLE_LABELS.items())
        raise InvalidInputError(f"未知角色“{text}”。可选角色：{choices}")
    return key


def hash_code(code: str) -> str:
    """The stored form of an invite code (normalised: case and spaces ignored)."""
    normal = "".join(code.split()).upper()
    return hashlib.sha256(normal.encode()).hexdigest()


def find_unit(*, session: Session, plan_id: int, text: str) -> Unit | None:
    """The unit named by its key, full name, short name, an alias the plan file gives it (the seed's
    属地各苏木镇政府) or a unique part of its name."""
    text = text.strip()
    if not text:
        return None
    units = session.exec(select(Unit).where(Unit.plan_id == plan_id)).all()
    plan = session.get(Plan, plan_id)
    aliases = unit_aliases(plan.spec if plan else None)
    for unit in units:
        if text in (unit.key, unit.name, unit.short, *aliases.get(unit.key, ())) or text.lower() == unit.key.lower():
            return unit
    partial = [u for u in units if text in u.name or (u.short and text in u.short)]
    return partial[0] if len(partial) == 1 else None


def require_unit(*, session: Session, plan_id: int, text: str) -> Unit:
    """Like find_unit, but a clear error when nothing or several match."""
    unit = find_unit(session=session, plan_id=plan_id, text=text)
    if unit is None:
        names = "、".join(u.short or u.name for u in session.exec(select(Unit).where(Unit.plan_id == plan_id)).all())
        raise NotFoundError(f"找不到单位“{text[:40]}”。本计划的单位有：{names}。")
    return unit


def create_invite(
    *,
    session: Session,
    plan_id: int,
    unit_id: int,
    role: str,
    days: int = 7,
    created_by: str,
    now: datetime | None = None,
) -> tuple[InviteCode, str]:
    """Create a single-use invite; returns the row and the plain code (shown once)."""
    if role not in Role.ALL:
        raise InvalidInputError(f"未知角色“{role}”。")
    if not 1 <= days <= MAX_INVITE_DAYS:
        raise InvalidInputError(f"有效天数须在1到{MAX_INVITE_DAYS}之间。")
    now = now or utcnow()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    invite = InviteCode(
        plan_id=plan_id,
        code_hash=hash_code(code),
        unit_id=unit_id,
        role=role,
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(invite)
    session.flush()
    audit(
        session=session,
        actor=created_by,
        action="invite.created",
        object_type="invite",
        object_id=invite.id,
        detail={"unit_id": unit_id, "role": role, "days": days},
    )
    return invite, code


def locked_until(*, session: Session, telegram_user_id: int, now: datetime | None = None) -> datetime | None:
    """When a user locked out for guessing codes may try again, or None if not locked."""
    now = now or utcnow()
    failures = session.exec(
        select(AuditLog.at)
        .where(AuditLog.actor == actor_of(telegram_user_id=telegram_user_id))
        .where(AuditLog.action == "invite.failed")
        .where(AuditLog.at > now - 2 * LOCK_WINDOW)
        .order_by(col(AuditLog.at).desc())
        .limit(MAX_FAILURES)
    ).all()
    if len(failures) < MAX_FAILURES:
        return None
    newest, fifth = failures[0], failures[-1]
    if newest - fifth > LOCK_WINDOW:
        return None
    until = newest + LOCK_WINDOW
    return until if until > now else None


def _refusal_of(session: Session, invite: InviteCode) -> str:
    """Why a real code no longer works (used, or expired), and whom to ask for a new one: the
    admin who made it, else the plan's admins (nothing about who used it)."""
    maker = None
    if invite.created_by.startswith("member:") and invite.created_by[7:].isdigit():
        maker = session.get(Member, int(invite.created_by[7:]))
    if maker is not None and maker.active and maker.name:
        who = f"{person_at_unit(unit_name(session, maker.unit_id), maker.name)}（生成此邀请码的管理员）"
    else:
        admins = session.exec(
            select(Member).where(Member.plan_id == invite.plan_id, Member.role == Role.ADMIN, col(Member.active))
        ).all()
        names = "、".join(m.name for m in admins if m.name)[:60]
        who = f"管理员（{names}）" if names else "联席会议办公室或管理员"
    if invite.used_at is not None:
        return f"此邀请码已经使用过（每个邀请码只能使用一次）。请向{who}索取新的邀请码。"
    return f"此邀请码已于 {cn_datetime(invite.expires_at)} 过期。请向{who}索取新的邀请码。"


def redeem_invite(
    *, session: Session, telegram_user_id: int, name: str, code: str, now: datetime | None = None
) -> Member:
    """Bind a Telegram user to the invite's unit and role; the code is used up."""
    now = now or utcnow()
    actor = actor_of(telegram_user_id=telegram_user_id)
    until = locked_until(session=session, telegram_user_id=telegram_user_id, now=now)
    if until is not None:
        audit(session=session, actor=actor, action="invite.locked", detail={}, at=now)
        session.commit()  # the refusal is kept even though the caller's transaction fails
        raise InviteLockedError()
    existing = member_for_user(session=session, telegram_user_id=telegram_user_id)
    invite = session.exec(select(InviteCode).where(InviteCode.code_hash == hash_code(code))).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        reason = "unknown" if invite is None else ("used" if invite.used_at else "expired")
        # Only an audit row is stored for a failed attempt (it also drives the lockout).
        refusal = InviteInvalidError() if invite is None else InviteInvalidError(_refusal_of(session, invite))
        audit(session=session, actor=actor, action="invite.failed", detail={"reason": reason}, at=now)
        session.commit()  # the failed attempt must survive: it drives the lockout
        raise refusal
    if existing is not None and existing.plan_id == invite.plan_id:
        raise AlreadyMemberError(
            f"您已注册为{unit_name(session, existing.unit_id)}的{ROLE_LABELS[existing.role]}。如需变更请联系管理员。"
        )
    member = Member(
        plan_id=invite.plan_id,
        telegram_user_id=telegram_user_id,
        name=name[:64],
        unit_id=invite.unit_id,
        role=invite.role,
        joined_at=now,
    )
    session.add(member)
    session.flush()
    invite.used_at = now
    invite.used_by_member_id = member.id
    session.add(invite)
    audit(
        session=session,
        actor=actor_of(member.id),
        action="member.joined",
        object_type="member",
        object_id=member.id,
        detail={
            "telegram_user_id": telegram_user_id,
            "unit_id": invite.unit_id,
            "role": invite.role,
            "invite_id": invite.id,
        },
    )
    if member.role == Role.CONTACT:  # a meeting notice that went out before they joined reaches them too
        from oversight.convening import catch_up_notices

        catch_up_notices(session=session, member=member, now=now)
    return member


def unit_name(session: Session, unit_id: int | None) -> str:
    """A unit's display name ("" when none)."""
    if unit_id is None:
        return ""
    unit = session.get(Unit, unit_id)
    return unit.name if unit else ""


# A member without a name is called by their unit and role (the words in oversight.sentences, whose
# person_at_unit knows such a label already says its unit): 旗林草局联络员, 旗政府办公室工作人员; several
# nameless members of one unit and role are told apart as 联络员甲, 联络员乙, … in the order they joined.


def member_label(*, session: Session, member: Member, unit: Unit | None = None) -> str:
    """How every document and message names a member: their name, or when they have none their
    unit's name, as documents name the unit (the plan file's name, never its short form), and role
    (旗林草局联络员), never a record number. When the unit has several nameless members of that role
    (revoked ones included: old records name them), each is told apart by the order they joined:
    旗林草局联络员甲, 旗林草局联络员乙, …, 旗林草局第11位联络员."""
    if member.name.strip():
        return member.name.strip()
    unit = unit if unit is not None and unit.id == member.unit_id else session.get(Unit, member.unit_id)
    base = f"{unit.name if unit else ''}{ROLE_PERSONS.get(member.role, MEMBER_PERSON)}"
    nameless = session.exec(
        select(Member.id)
        .where(Member.unit_id == member.unit_id, Member.role == member.role, func.trim(Member.name) == "")
        .order_by(col(Member.joined_at), col(Member.id))
    ).all()
    if len(nameless) < 2 or member.id not in nameless:
        return base
    i = nameless.index(member.id)
    if i < len(ORDINALS):
        return base + ORDINALS[i]
    return f"{unit.name if unit else ''}第{i + 1}位{ROLE_PERSONS.get(member.role, MEMBER_PERSON)}"


# Built once: a fixed statement keeps SQLAlchemy's compiled cache warm and costs no
# select() construction per update (this runs on every bot update).
_MEMBERS = table_of(Member)
_MEMBER_BY_USER = (
    core_select(_MEMBERS)
    .where(_MEMBERS.c.telegram_user_id == bindparam("telegram_user_id"))
    .where(_MEMBERS.c.active.is_(True))
    .order_by(_MEMBERS.c.id.desc())
    .limit(1)
)


def member_for_user(*, session: Session, telegram_user_id: int) -> Member | None:
    """The active member bound to a Telegram user, newest first (always read from the
    database, in the session's transaction: a revoke takes effect on the next update).
    Returned detached: a plain Core row made into a Member, without an ORM load."""
    row = session.connection().execute(_MEMBER_BY_USER, {"telegram_user_id": telegram_user_id}).first()
    if row is None:
        return None
    return detached(Member, row._mapping)


def revoke_member(*, session: Session, member_id: int, actor: str, now: datetime | None = None) -> Member:
    """Deactivate a member; their buttons and commands stop working at once."""
    member = session.get(Member, member_id)
    if member is None or not member.active:
        raise NotFoundError("该成员已被撤销或不存在。")
    member.active = False
    member.revoked_at = now or utcnow()
    session.add(member)
    audit(session=session, actor=actor, action="member.revoked", object_type="member", object_id=member_id)
    return member


def revocable_member(*, session: Session, admin: Member, member_id: int) -> tuple[Member, Unit]:
    """The active member of the admin's own plan (never the admin) that /revoke may revoke, with
    their unit: what the confirmation names."""
    target = session.get(Member, member_id)
    if target is None or target.plan_id != admin.plan_id or not target.active:
        raise NotFoundError("找不到该成员（可能已被撤销）。")
    if target.id == admin.id:
        raise InvalidInputError("不能撤销自己。")
    unit = session.get(Unit, target.unit_id)
    assert unit is not None
    return target, unit


def revoke_by_admin(*, session: Session, admin: Member, member_id: int, now: datetime | None = None) -> Member:
    """An admin revokes a member of their own plan (never themselves)."""
    revocable_member(session=session, admin=admin, member_id=member_id)
    return revoke_member(session=session, member_id=member_id, actor=actor_of(admin.id), now=now)


def bind_group(*, session: Session, actor: Member, chat_id: int, title: str, now: datetime) -> GroupBinding:
    """Make a group chat the plan's joint meeting group (public notices and brief summaries go there)."""
    binding = session.get(GroupBinding, actor.plan_id) or GroupBinding(plan_id=actor.plan_id, chat_id=chat_id)
    binding.chat_id, binding.title, binding.bound_at = chat_id, title[:200], now
    session.add(binding)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="group.bound",
        object_type="plan",
        object_id=actor.plan_id,
        detail={"chat_id": chat_id},
        at=now,
    )
    return binding


def list_members(*, session: Session, plan_id: int, include_inactive: bool = False) -> list[tuple[Member, Unit]]:
    """Members of a plan with their units, by unit then role."""
    query = select(Member, Unit).join(Unit, col(Unit.id) == col(Member.unit_id)).where(Member.plan_id == plan_id)
    if not include_inactive:
        query = query.where(col(Member.active).is_(True))
    return list(session.exec(query.order_by(col(Unit.id), col(Member.role), col(Member.id))).all())


# /members and /revoke's lines (oversight.facts.Chat): the head counts and cites the members
# listed; each member's line cites them and their unit; an empty list says so in words.
MEMBER_TEXTS: dict[str, str] = {
    "head": "成员列表（共{n}人）：",
    "member": "{i}. {label} · {unit} · {role}",
    "none": "还没有成员。用 /invite 单位 角色 生成邀请码。",
    "pick": "请选择要撤销的成员（共{n}人）：",
    "pick_one": "可撤销的在册成员只有1人，如需撤销请点击：",
    "pick_one_words": "姓名或单位包含“{words}”的在册成员只有1人，如需撤销请点击：",
    "narrow": "除您以外在册成员共{n}人，请在 /revoke 后写姓名或单位的一部分缩小范围，例如：/revoke 林草局",
    "narrow_words": "姓名或单位包含“{words}”的在册成员共{n}人，请写得更具体一些（如写全姓名或单位名称）。",
    "none_match": "没有姓名或单位包含“{words}”的在册成员。发送 /members 查看成员列表。",
    "nobody": "除您以外没有可撤销的在册成员。",
}
REVOKE_PICK_MAX = 30  # buttons in one picker; more members than this: narrow by name or unit


def member_list(*, session: Session, plan_id: int) -> Chat:
    """/members: the plan's active members by unit then role, one line each, under their count."""
    rows = list_members(session=session, plan_id=plan_id)
    say = Chat(MEMBER_TEXTS)
    if not rows:
        say.fact("none", n=0)
        return say
    say.fact("head", {"member": [row_id(m) for m, _ in rows]}, n=len(rows))
    for i, (m, u) in enumerate(rows, 1):
        say.fact(
            "member",
            {"member": [row_id(m)], "unit": [row_id(u)]},
            i=i,
            label=member_label(session=session, member=m, unit=u),
            unit=u.name,
            role=ROLE_LABELS.get(m.role, m.role),
        )
    return say


@dataclass
class RevokeChoice:
    """/revoke's answer: its line, and the members to pick from (id, button label) when few enough."""

    say: Chat
    choices: list[tuple[int, str]]


def revoke_choices(*, session: Session, admin: Member, words: str = "") -> RevokeChoice:
    """The active members of the admin's plan (never the admin) whose name or unit contains
    `words`, offered by name (never by record number); more than REVOKE_PICK_MAX: asked to narrow."""
    words = words.strip()
    rows = [(m, u) for m, u in list_members(session=session, plan_id=admin.plan_id) if m.id != admin.id]
    if words:
        rows = [(m, u) for m, u in rows if words in (m.name or "") or words in u.name or words in (u.short or "")]
    say = Chat(MEMBER_TEXTS)
    ids = {"member": [row_id(m) for m, _ in rows]}
    if not rows:
        say.fact("none_match" if words else "nobody", words=words, n=0)
        return RevokeChoice(say, [])
    if len(rows) > REVOKE_PICK_MAX:
        say.fact("narrow_words" if words else "narrow", ids, n=len(rows), words=words)
        return RevokeChoice(say, [])
    if len(rows) == 1:
        say.fact("pick_one_words" if words else "pick_one", ids, n=1, words=words)
    else:
        say.fact("pick", ids, n=len(rows), words=words)
    choices = [
        (
            row_id(m),
            f"{member_label(session=session, member=m, unit=u)}·{u.short or u.name}·{ROLE_LABELS.get(m.role, m.role)}",
        )
        for m, u in rows
    ]
    return RevokeChoice(say, choices)


def members_of_unit(*, session: Session, unit_id: int, roles: tuple[str, ...] = (Role.CONTACT,)) -> list[Member]:
    """Active members of a unit with one of `roles`."""
    return list(
        session.exec(
            select(Member)
            .where(Member.unit_id == unit_id)
            .where(col(Member.active).is_(True))
            .where(col(Member.role).in_(roles))
        ).all()
    )


def members_with_role(*, session: Session, plan_id: int, roles: tuple[str, ...]) -> list[Member]:
    """Active members of a plan having one of `roles`."""
    return list(
        session.exec(
            select(Member)
            .where(Member.plan_id == plan_id)
            .where(col(Member.active).is_(True))
            .where(col(Member.role).in_(roles))
            .order_by(col(Member.id))
        ).all()
    )


def assign_zone_leader(
    *, session: Session, member_id: int, zone_id: int, actor: str, now: datetime | None = None
) -> None:
    """Put a member in charge of a zone (包片包干); its audit row dates the charge, from which the
    leader answers for the zone's progress (measures.leader_accountable_from)."""
    if session.get(ZoneLeader, (zone_id, member_id)) is None:
        session.add(ZoneLeader(zone_id=zone_id, member_id=member_id))
        audit(
            session=session,
            actor=actor,
            action=ZONE_LEADER_ASSIGNED,
            object_type="zone",
            object_id=zone_id,
            detail={"member_id": member_id},
            at=now,
        )


def responsible_units(*, session: Session, plan_id: int) -> list[Unit]:
    """The units that can be given a piece of work (all but the government itself), by id."""
    return list(
        session.exec(
            select(Unit).where(Unit.plan_id == plan_id, Unit.kind != "government").order_by(col(Unit.id))
        ).all()
    )


def count_units(*, session: Session, plan_id: int) -> int:
    """How many units a plan has."""
    return session.exec(select(func.count()).select_from(Unit).where(Unit.plan_id == plan_id)).one()


def current_plan(*, session: Session, key: str | None = None) -> Plan | None:
    """The plan with `key`, or the one loaded last."""
    if key:
        return session.exec(select(Plan).where(Plan.key == key)).first()
    return session.exec(select(Plan).order_by(col(Plan.loaded_at).desc(), col(Plan.id).desc())).first()
