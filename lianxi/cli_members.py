"""`lianxi unit|invite|member|zone …`: the plan's units, invite codes, members and zone leaders."""

from __future__ import annotations

from typing import Annotated

import typer

from lianxi.chinese_help import ChineseTyper
from lianxi.common import cli_session, fail, new_app, require_plan

unit_app = new_app(name="unit", help="成员单位。")
invite_app = new_app(name="invite", help="邀请码。")
member_app = new_app(name="member", help="成员。")
zone_app = new_app(name="zone", help="整合区与包联领导（包片包干）。")
app = ChineseTyper()
for _group in (unit_app, invite_app, member_app, zone_app):
    app.add_typer(_group)

PlanOption = Annotated[
    str | None, typer.Option("--plan", help="计划代号（文件名，如 urad-middle-banner）；默认为最后加载的计划")
]
UNIT_KINDS = {
    "government": "政府",
    "office": "办公室",
    "department": "部门",
    "league": "盟市",
    "township": "苏木镇",
    "other": "其他",
}


@unit_app.command("list")
def unit_list(plan: PlanOption = None) -> None:
    """列出计划的全部单位。"""
    from rich.table import Table
    from sqlmodel import col, select

    from lianxi.common import out
    from models import Unit

    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        units = session.exec(select(Unit).where(Unit.plan_id == p.id).order_by(col(Unit.id))).all()
        table = Table(title=f"{p.short_name or p.name} 的单位", show_lines=False)
        for col_name in ("代号", "名称", "简称", "类别"):
            table.add_column(col_name)
        for u in units:
            table.add_row(u.key, u.name, u.short, UNIT_KINDS.get(u.kind, u.kind))
    out.print(table)


@invite_app.command("create")
def invite_create(
    unit: Annotated[str, typer.Option("--unit", help="单位名称、简称或代号")],
    role: Annotated[
        str, typer.Option("--role", help="角色：contact/office/convener/zone_leader/supervisor/admin 或中文名")
    ],
    days: Annotated[int, typer.Option("--days", help="有效天数")] = 7,
    plan: PlanOption = None,
) -> None:
    """生成一次性邀请码（过期作废），打印出来交给对方在机器人中发送 /start 邀请码。"""
    from config.settings import get_settings
    from lianxi.common import err
    from models.base import row_id
    from oversight.members import ROLE_LABELS, create_invite, parse_role, require_unit

    with cli_session() as session:
        p = require_plan(session, plan)
        role_key = parse_role(role)
        u = require_unit(session=session, plan_id=row_id(p), text=unit)
        invite, code = create_invite(
            session=session, plan_id=row_id(p), unit_id=row_id(u), role=role_key, days=days, created_by="cli"
        )
        expires = invite.expires_at.astimezone(get_settings().tz).strftime("%Y年%m月%d日 %H:%M")
        label = ROLE_LABELS[role_key]
        uname = u.name
    typer.echo(code)
    err.print(
        f"{uname} · {label} 的邀请码，{expires} 前有效，仅可使用一次。对方在机器人中发送：/start {code}",
        highlight=False,
    )


@member_app.command("list")
def member_list(
    plan: PlanOption = None,
    all_: Annotated[bool, typer.Option("--all", help="包括已撤销的成员")] = False,
) -> None:
    """列出成员及其单位和角色。"""
    from rich.table import Table

    from config.settings import get_settings
    from lianxi.common import out
    from models.base import row_id
    from oversight.members import ROLE_LABELS, list_members

    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        rows = list_members(session=session, plan_id=row_id(p), include_inactive=all_)
        table = Table(title=f"{p.short_name or p.name} 的成员")
        for col_name in ("编号", "姓名", "单位", "角色", "Telegram ID", "状态"):
            table.add_column(col_name)
        tz = get_settings().tz
        for m, u in rows:
            state = (
                "有效" if m.active else f"已撤销 {m.revoked_at.astimezone(tz):%Y-%m-%d}" if m.revoked_at else "已撤销"
            )
            table.add_row(
                str(m.id), m.name, u.name, ROLE_LABELS.get(m.role, m.role), str(m.telegram_user_id or ""), state
            )
    if not rows:
        out.print("还没有成员。用 lianxi invite create --unit 单位 --role 角色 生成邀请码。")
    else:
        out.print(table)


@member_app.command("revoke")
def member_revoke(member_id: Annotated[int, typer.Argument(help="成员编号", metavar="成员编号")]) -> None:
    """撤销成员：其命令和按钮立即失效。"""
    from lianxi.common import out
    from oversight.members import member_label, revoke_member

    with cli_session() as session:
        m = revoke_member(session=session, member_id=member_id, actor="cli")
        name = member_label(session=session, member=m)
    out.print(f"已撤销成员 {member_id}（{name}）。", highlight=False)


@zone_app.command("list")
def zone_list(plan: PlanOption = None) -> None:
    """列出整合区、其构成和包联领导。"""
    from rich.table import Table
    from sqlmodel import col, select

    from lianxi.common import out
    from models import Member, Zone, ZoneLeader
    from oversight.members import member_label

    with cli_session(read_only=True) as session:
        p = require_plan(session, plan)
        zones = session.exec(select(Zone).where(Zone.plan_id == p.id).order_by(col(Zone.seq))).all()
        table = Table(title=f"{p.short_name or p.name} 的整合区")
        for col_name in ("序号", "名称", "采矿权", "探矿权", "深部", "拟设", "包联领导"):
            table.add_column(col_name)
        for z in zones:
            leaders = session.exec(
                select(Member)
                .join(ZoneLeader, col(ZoneLeader.member_id) == col(Member.id))
                .where(ZoneLeader.zone_id == z.id)
            ).all()
            table.add_row(
                str(z.seq),
                z.name,
                str(z.planned_mining),
                str(z.planned_exploration),
                str(z.planned_deep),
                str(z.planned_proposed),
                "、".join(member_label(session=session, member=m) for m in leaders) or "—",
            )
    if not zones:
        out.print("本计划没有整合区。")
    else:
        out.print(table)


@zone_app.command("assign")
def zone_assign(
    zone: Annotated[int, typer.Option("--zone", help="整合区序号")],
    member: Annotated[int, typer.Option("--member", help="成员编号（lianxi member list 可查）")],
    plan: PlanOption = None,
) -> None:
    """指定包联领导负责一个整合区。"""
    from sqlmodel import select

    from lianxi.common import out
    from models import Member, Role, Zone
    from models.base import row_id
    from oversight.members import assign_zone_leader, member_label

    with cli_session() as session:
        p = require_plan(session, plan)
        z = session.exec(select(Zone).where(Zone.plan_id == p.id, Zone.seq == zone)).first()
        if z is None:
            fail(f"没有序号为 {zone} 的整合区。可用 lianxi zone list 查看。")
        m = session.get(Member, member)
        if m is None or m.plan_id != p.id or not m.active:
            fail(f"找不到有效成员 {member}。可用 lianxi member list 查看。")
        if m.role != Role.ZONE_LEADER:
            fail(
                f"成员 {member}（{member_label(session=session, member=m)}）不是包联领导，不能包联整合区。请先用 --role zone_leader 的邀请码注册。"
            )
        assign_zone_leader(session=session, member_id=row_id(m), zone_id=row_id(z), actor="cli")
        text = f"已指定{member_label(session=session, member=m)}包联{z.seq}号{z.name}。"
    out.print(text)
