"""/start, /whoami, /help, /cancel, and the admin's /invite, /members, /revoke, /bindgroup."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session
from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot import texts as t
from bot.common import plan_of, role_label
from bot.engine import Turn, action, button, command, grid
from models import Member, Unit, row_id
from oversight.access import COMMAND_LABELS, allowed, commands_for
from oversight.audit import actor_of, audit
from oversight.chatstate import clear_flow
from oversight.dates import cn_datetime
from oversight.errors import InvalidInputError
from oversight.members import (
    ROLE_LABELS,
    bind_group,
    create_invite,
    member_label,
    member_list,
    parse_role,
    redeem_invite,
    require_unit,
    revocable_member,
    revoke_by_admin,
    revoke_choices,
    unit_name,
)
from oversight.sentences import person_at_unit

logger = logging.getLogger(__name__)
CODE_MAX = 64


async def set_menu(bot: Bot, user_id: int, role: str | None) -> None:
    """Show the member the commands of their role (setMyCommands for their chat)."""
    commands = [BotCommand(c, COMMAND_LABELS[c][:256]) for c in commands_for(role)]
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(user_id))
    except TelegramError as exc:  # the menu is a convenience; never block joining on it
        logger.warning("could not set the menu for user %s: %s", user_id, exc)


async def set_default_menu(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The menu unregistered users see: /start and /help."""
    commands = [BotCommand(c, COMMAND_LABELS[c]) for c in ("start", "help", "whoami")]
    try:
        await app.bot.set_my_commands(commands)
    except TelegramError as exc:
        logger.warning("could not set the default menu: %s", exc)


def _plan_name(turn: Turn[None]) -> str:
    plan = plan_of(turn.session, turn.member_or_none)
    return (plan.short_name or plan.name) if plan else "—"


@command("start")
def start(turn: Turn[None]) -> None:
    """/start CODE binds the user to a unit and role; /start alone explains how."""
    code, member = turn.text[:CODE_MAX], turn.member_or_none
    if not turn.private:
        turn.say(t.START_IN_PRIVATE)
    elif code:
        joined = redeem_invite(session=turn.session, telegram_user_id=turn.user_id, name=turn.user_name, code=code)
        unit, role = unit_name(turn.session, joined.unit_id), joined.role
        turn.after(lambda bot: set_menu(bot, turn.user_id, role))
        turn.say(t.JOINED.format(unit=unit, role=role_label(role)))
    elif member is not None:
        turn.say(t.ALREADY_JOINED.format(unit=unit_name(turn.session, member.unit_id), role=role_label(member.role)))
    else:
        audit(session=turn.session, actor=actor_of(telegram_user_id=turn.user_id), action="start.unregistered")
        turn.say(t.WELCOME_UNREGISTERED)


@command("cancel", bare=True)
def cancel(turn: Turn[None]) -> None:
    """/cancel ends whatever conversation the user has open."""
    had = clear_flow(session=turn.session, chat_id=turn.chat_id, user_id=turn.user_id)
    if not had and not turn.private:
        had = clear_flow(session=turn.session, chat_id=turn.user_id, user_id=turn.user_id)
    turn.say(t.CANCELLED if had else t.NOTHING_TO_CANCEL)


@command("whoami", read=True, bare=True)
def whoami(turn: Turn[None]) -> None:
    member = turn.member_or_none
    if member is None:
        turn.say(t.WHOAMI_UNREGISTERED)
        return
    text = t.WHOAMI.format(
        name=member.name or "—",
        unit=unit_name(turn.session, member.unit_id),
        role=role_label(member.role),
        plan=_plan_name(turn),
    )
    turn.say(text)


@command("help", read=True, bare=True)
def help_command(turn: Turn[None]) -> None:
    role = turn.member_or_none.role if turn.member_or_none else None
    header = t.HELP_HEADER.format(role=role_label(role)) if role else t.HELP_UNREGISTERED
    lines = [header] + [f"/{c} — {COMMAND_LABELS[c]}" for c in commands_for(role)]
    if allowed("report", role):
        lines += ["", t.HELP_REPORT_FORMS]
    if role is not None:
        lines += ["", t.HELP_PLAIN_WORDS]
    turn.say("\n".join(lines))


@command("invite")
def invite(turn: Turn[None]) -> None:
    """/invite 单位 角色 [天数]: a single-use code for someone to join."""
    words, usage = turn.args, t.INVITE_USAGE.format(roles="、".join(ROLE_LABELS.values()))
    if len(words) < 2:
        turn.say(usage)
        return
    days = 7
    if len(words) >= 3:
        if not words[-1].isdigit():
            raise InvalidInputError(t.DAYS_NOT_A_NUMBER + usage)
        days, words = int(words[-1]), words[:-1]
    admin, role = turn.member, parse_role(words[-1])
    unit = require_unit(session=turn.session, plan_id=admin.plan_id, text=" ".join(words[:-1]))
    inv, code = create_invite(
        session=turn.session,
        plan_id=admin.plan_id,
        unit_id=row_id(unit),
        role=role,
        days=days,
        created_by=actor_of(admin.id),
    )
    expires = cn_datetime(inv.expires_at)
    turn.say(t.INVITE_CREATED.format(unit=unit.name, role=ROLE_LABELS[role], expires=expires, code=code))


@command("members", read=True, bare=True)
def members(turn: Turn[None]) -> None:
    turn.say(member_list(session=turn.session, plan_id=turn.member.plan_id).message())


def _member_label(session: Session, member: Member, unit: Unit) -> str:
    """旗林草局的张三（部门联络员）: a member as /revoke names them (never by a record number)."""
    return t.REVOKE_MEMBER.format(
        who=person_at_unit(unit.name, member_label(session=session, member=member, unit=unit)),
        role=ROLE_LABELS.get(member.role, member.role),
    )


@command("revoke")
def revoke(turn: Turn[None]) -> None:
    """/revoke [姓名或单位]: the members to pick from, as buttons (by name, never by number)."""
    found = revoke_choices(session=turn.session, admin=turn.member, words=" ".join(turn.args))
    picks = (button(label, "member.revoke", mid=mid) for mid, label in found.choices)
    turn.say(found.say.message(), grid(picks, 2) if found.choices else None)


@action("member.revoke", command="revoke")
def revoke_pick(turn: Turn[None], *, mid: int) -> None:
    """The member picked: asked to confirm, naming them in full."""
    member, unit = revocable_member(session=turn.session, admin=turn.member, member_id=mid)
    turn.say(
        t.REVOKE_CONFIRM.format(member=_member_label(turn.session, member, unit)),
        [[button(t.REVOKE_BTN_CONFIRM, "member.revoke_confirm", mid=mid)]],
    )


@action("member.revoke_confirm", command="revoke")
def revoke_confirm(turn: Turn[None], *, mid: int) -> None:
    """Revoked: their buttons and commands stop at once, their menu is reset."""
    member, unit = revocable_member(session=turn.session, admin=turn.member, member_id=mid)
    label = _member_label(turn.session, member, unit)
    revoked = revoke_by_admin(session=turn.session, admin=turn.member, member_id=mid, now=turn.now)
    tg = revoked.telegram_user_id
    if tg:
        turn.after(lambda bot: set_menu(bot, tg, None))
    done = t.REVOKED.format(member=label)
    turn.end(done)
    turn.say(done)


@command("bindgroup", bare=True)
def bindgroup(turn: Turn[None]) -> None:
    if turn.private:
        turn.say(t.BINDGROUP_NOT_GROUP)
        return
    bind_group(session=turn.session, actor=turn.member, chat_id=turn.chat_id, title=turn.chat_title, now=turn.now)
    turn.say(t.BINDGROUP_DONE.format(plan=_plan_name(turn)))
