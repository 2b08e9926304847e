"""The `lianxi` command line. Messages a user reads are Chinese; exit code 2 means
the input was refused and nothing was changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from config.settings import get_settings
from models import Plan, make_engine, session_scope
from oversight.errors import OversightError, PlanNotLoadedError

app = typer.Typer(
    help="lianxi 联席：矿业权整合联席会议的聊天机器人与报告工作进程。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="数据库迁移。", no_args_is_help=True)
plan_app = typer.Typer(help="计划（实施方案）的加载与查看。", no_args_is_help=True)
unit_app = typer.Typer(help="成员单位。", no_args_is_help=True)
invite_app = typer.Typer(help="邀请码。", no_args_is_help=True)
member_app = typer.Typer(help="成员。", no_args_is_help=True)
zone_app = typer.Typer(help="整合区与包联领导（包片包干）。", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(plan_app, name="plan")
app.add_typer(unit_app, name="unit")
app.add_typer(invite_app, name="invite")
app.add_typer(member_app, name="member")
app.add_typer(zone_app, name="zone")

out = Console()
err = Console(stderr=True)
EXIT_REFUSED = 2


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    """Print a Chinese error and exit with `code`."""
    err.print(f"[bold red]错误：[/bold red]{message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def setup_logging() -> None:
    """Plain logging to stderr at the configured level, the token redacted."""
    from config.logsetup import setup_logging as _setup

    settings = get_settings()
    _setup(settings.LOG_LEVEL, secrets=[settings.TELEGRAM_BOT_TOKEN])


def engine_for_cli(*, migrate: bool = True):  # type: ignore[no-untyped-def]
    """The settings' engine, with the schema brought up to date first."""
    url = get_settings().DATABASE_URL
    if migrate:
        from models.migrate import upgrade

        upgrade(url)
    return make_engine(url)


@contextmanager
def cli_session() -> Iterator[Session]:
    """A committed-on-success session; domain errors become a message and exit 2."""
    engine = engine_for_cli()
    try:
        with session_scope(engine) as session:
            from oversight.workdays import refresh

            refresh(session=session, max_age=0)  # the years an admin stored count in every command
            yield session
    except OversightError as exc:
        fail(exc.message)
    finally:
        engine.dispose()


def require_plan(session: Session, key: str | None) -> Plan:
    """The plan named by `key`, or the one loaded last; exit 2 if none."""
    from oversight.members import current_plan

    plan = current_plan(session=session, key=key)
    if plan is None:
        if key:
            fail(f"未找到计划“{key}”。已加载的计划可用 lianxi plan show 查看；加载用 lianxi plan load 文件。")
        raise PlanNotLoadedError()
    return plan


# --- db ---------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """将数据库结构升级到最新版本。"""
    from models.migrate import current, upgrade

    url = get_settings().DATABASE_URL
    upgrade(url)
    out.print(f"数据库已是最新结构（版本 {current(url)}）。")


# --- plan -------------------------------------------------------------------


@plan_app.command("load")
def plan_load(file: Annotated[Path, typer.Argument(help="计划文件（YAML）")]) -> None:
    """校验并加载计划文件；合计对不上时拒绝加载，数据库不变。"""
    from oversight.planfile import PlanFileError, parse_plan_file
    from oversight.plans import load_plan

    try:
        spec = parse_plan_file(file)
    except PlanFileError as exc:
        fail(f"计划文件 {file} 未通过校验，未做任何更改。\n{exc}")
    with cli_session() as session:
        result = load_plan(session=session, spec=spec, actor="cli")
        key = result.plan.key
    if not result.changed:
        out.print(f"计划“{spec.name}”（{key}）已加载且内容相同，未做更改。")
    elif result.created:
        out.print(
            f"已加载计划“{spec.name}”（{key}）：{len(spec.units)} 个单位，{len(spec.tasks)} 项任务，{len(spec.zones)} 个整合区。"
        )
    else:
        out.print(f"已更新计划“{spec.name}”（{key}）。")


@plan_app.command("show")
def plan_show(
    plan: Annotated[str | None, typer.Option("--plan", help="计划代号（文件名，如 inner-mongolia-2022）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """显示计划：基数、目标、各批次、整合区及合计。"""
    from oversight.planfile import plan_show_json, plan_show_text
    from oversight.plans import plan_spec

    with cli_session() as session:
        spec = plan_spec(require_plan(session, plan))
    if as_json:
        typer.echo(json.dumps(plan_show_json(spec), ensure_ascii=False, indent=2))
    else:
        typer.echo(plan_show_text(spec))


# --- units, invites, members ---------------------------------------------------


@unit_app.command("list")
def unit_list(plan: Annotated[str | None, typer.Option("--plan")] = None) -> None:
    """列出计划的全部单位。"""
    from sqlmodel import select

    from models import Unit

    with cli_session() as session:
        p = require_plan(session, plan)
        units = session.exec(select(Unit).where(Unit.plan_id == p.id).order_by(Unit.id)).all()
        table = Table(title=f"{p.short_name or p.name} 的单位", show_lines=False)
        for col_name in ("代号", "名称", "简称", "类别"):
            table.add_column(col_name)
        kinds = {
            "government": "政府",
            "office": "办公室",
            "department": "部门",
            "league": "盟市",
            "township": "苏木镇",
            "other": "其他",
        }
        for u in units:
            table.add_row(u.key, u.name, u.short, kinds.get(u.kind, u.kind))
    out.print(table)


@invite_app.command("create")
def invite_create(
    unit: Annotated[str, typer.Option("--unit", help="单位名称、简称或代号")],
    role: Annotated[
        str, typer.Option("--role", help="角色：contact/office/convener/zone_leader/supervisor/admin 或中文名")
    ],
    days: Annotated[int, typer.Option("--days", help="有效天数")] = 7,
    plan: Annotated[str | None, typer.Option("--plan")] = None,
) -> None:
    """生成一次性邀请码（过期作废），打印出来交给对方在机器人中发送 /start 邀请码。"""
    from oversight.members import ROLE_LABELS, create_invite, parse_role, require_unit

    with cli_session() as session:
        p = require_plan(session, plan)
        role_key = parse_role(role)
        u = require_unit(session=session, plan_id=p.id, text=unit)
        invite, code = create_invite(
            session=session, plan_id=p.id, unit_id=u.id, role=role_key, days=days, created_by="cli"
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
    plan: Annotated[str | None, typer.Option("--plan")] = None,
    all_: Annotated[bool, typer.Option("--all", help="包括已撤销的成员")] = False,
) -> None:
    """列出成员及其单位和角色。"""
    from oversight.members import ROLE_LABELS, list_members

    with cli_session() as session:
        p = require_plan(session, plan)
        rows = list_members(session=session, plan_id=p.id, include_inactive=all_)
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
def member_revoke(member_id: Annotated[int, typer.Argument(help="成员编号")]) -> None:
    """撤销成员：其命令和按钮立即失效。"""
    from oversight.members import revoke_member

    with cli_session() as session:
        m = revoke_member(session=session, member_id=member_id, actor="cli")
        name = m.name
    out.print(f"已撤销成员 {member_id}（{name}）。")


# --- zones -------------------------------------------------------------------


@zone_app.command("list")
def zone_list(plan: Annotated[str | None, typer.Option("--plan")] = None) -> None:
    """列出整合区、其构成和包联领导。"""
    from sqlmodel import select

    from models import Member, Zone, ZoneLeader

    with cli_session() as session:
        p = require_plan(session, plan)
        zones = session.exec(select(Zone).where(Zone.plan_id == p.id).order_by(Zone.seq)).all()
        table = Table(title=f"{p.short_name or p.name} 的整合区")
        for col_name in ("序号", "名称", "采矿权", "探矿权", "深部", "拟设", "包联领导"):
            table.add_column(col_name)
        for z in zones:
            leaders = session.exec(
                select(Member).join(ZoneLeader, ZoneLeader.member_id == Member.id).where(ZoneLeader.zone_id == z.id)
            ).all()
            table.add_row(
                str(z.seq),
                z.name,
                str(z.planned_mining),
                str(z.planned_exploration),
                str(z.planned_deep),
                str(z.planned_proposed),
                "、".join(f"{m.name}（#{m.id}）" for m in leaders) or "—",
            )
    if not zones:
        out.print("本计划没有整合区。")
    else:
        out.print(table)


@zone_app.command("assign")
def zone_assign(
    zone: Annotated[int, typer.Option("--zone", help="整合区序号")],
    member: Annotated[int, typer.Option("--member", help="成员编号（lianxi member list 可查）")],
    plan: Annotated[str | None, typer.Option("--plan")] = None,
) -> None:
    """指定包联领导负责一个整合区。"""
    from sqlmodel import select

    from models import Member, Role, Zone
    from oversight.members import assign_zone_leader

    with cli_session() as session:
        p = require_plan(session, plan)
        z = session.exec(select(Zone).where(Zone.plan_id == p.id, Zone.seq == zone)).first()
        if z is None:
            fail(f"没有序号为 {zone} 的整合区。可用 lianxi zone list 查看。")
        m = session.get(Member, member)
        if m is None or m.plan_id != p.id or not m.active:
            fail(f"找不到有效成员 {member}。可用 lianxi member list 查看。")
        if m.role != Role.ZONE_LEADER:
            fail(f"成员 {member}（{m.name}）不是包联领导，不能包联整合区。请先用 --role zone_leader 的邀请码注册。")
        assign_zone_leader(session=session, member_id=m.id, zone_id=z.id, actor="cli")
        text = f"已指定 {m.name}（#{m.id}）包联 {z.seq}. {z.name}。"
    out.print(text)


# --- bot ---------------------------------------------------------------------


@app.command("bot")
def bot_command() -> None:
    """运行 Telegram 机器人（默认长轮询；配置 TELEGRAM_WEBHOOK_URL 时用 webhook）。"""
    settings = get_settings()
    if not settings.has_real_token:
        fail(
            "未设置机器人令牌 TELEGRAM_BOT_TOKEN。\n"
            "请向 @BotFather 申请令牌，写入环境变量或 .env 文件：TELEGRAM_BOT_TOKEN=123456:ABC…\n"
            "没有令牌时可运行 lianxi sandbox，在本机浏览器中试用（本地模拟的 Telegram）。"
        )
    setup_logging()
    from bot.app import build_application

    engine = engine_for_cli()
    application = build_application(
        engine=engine,
        token=settings.TELEGRAM_BOT_TOKEN,
        base_url=settings.TELEGRAM_API_BASE_URL,
        base_file_url=settings.TELEGRAM_FILE_BASE_URL,
    )
    if settings.TELEGRAM_WEBHOOK_URL:
        application.run_webhook(
            listen=settings.TELEGRAM_WEBHOOK_LISTEN,
            port=settings.TELEGRAM_WEBHOOK_PORT,
            url_path="telegram",
            webhook_url=settings.TELEGRAM_WEBHOOK_URL,
            secret_token=settings.TELEGRAM_WEBHOOK_SECRET or None,
        )
    else:
        application.run_polling()


# --- sandbox and up --------------------------------------------------------------

from lianxi.cli_sandbox import sandbox_command, up_command  # noqa: E402

app.command("sandbox")(sandbox_command)
app.command("up")(up_command)


from lianxi.cli_ledger import ledger_app  # noqa: E402
from lianxi.cli_worker import schedule_app, worker_command  # noqa: E402

app.add_typer(ledger_app, name="ledger")
app.add_typer(schedule_app, name="schedule")
app.command("worker")(worker_command)


from lianxi.cli_brief import brief_command  # noqa: E402

app.command("brief")(brief_command)


from lianxi.cli_accountability import notices_app, review_command  # noqa: E402

app.add_typer(notices_app, name="notices")
app.command("review")(review_command)


from demo.cli import demo_command  # noqa: E402
from lianxi.cli_calendar import calendar_app  # noqa: E402

app.command("demo")(demo_command)
app.add_typer(calendar_app, name="calendar")


def main() -> None:  # pragma: no cover - console entry
    app()
