"""/start, /whoami, /help, and the admin's /invite, /members, /revoke, /bindgroup."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot import texts
from bot.common import answer_private, command, db, member_of, plan_of, reply, role_label
from config.settings import get_settings
from models import GroupBinding, Member, Unit, utcnow
from oversight.access import COMMAND_LABELS, commands_for
from oversight.audit import actor_of, audit
from oversight.chatstate import clear_flow
from oversight.errors import OversightError
from oversight.members import (
    ROLE_LABELS,
    create_invite,
    list_members,
    parse_role,
    redeem_invite,
    require_unit,
    revoke_member,
    unit_name,
)

logger = logging.getLogger(__name__)


async def set_menu(context: ContextTypes.DEFAULT_TYPE, user_id: int, role: str | None) -> None:
    """Show the member the commands of their role (setMyCommands for their chat)."""
    commands = [BotCommand(c, COMMAND_LABELS[c][:256]) for c in commands_for(role)]
    try:
        await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(user_id))
    except TelegramError as exc:  # the menu is a convenience; never block joining on it
        logger.warning("could not set the menu for user %s: %s", user_id, exc)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start CODE binds the user to a unit and role; /start alone explains how."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if chat.type != ChatType.PRIVATE:
        await reply(update, "请在与机器人的私聊中发送 /start 邀请码。")
        return
    code = " ".join(context.args or []).strip()
    with db(context) as session:
        member = member_of(session, update)
        if member is not None and not code:
            await reply(
                update,
                texts.ALREADY_JOINED.format(unit=unit_name(session, member.unit_id), role=role_label(member.role)),
            )
            return
    if not code:
        with db(context) as session:
            audit(session=session, actor=actor_of(telegram_user_id=user.id), action="start.unregistered")
        await reply(update, texts.WELCOME_UNREGISTERED)
        return
    if len(code) > 64:
        code = code[:64]
    name = " ".join(p for p in (user.first_name, user.last_name) if p)[:64]
    try:
        with db(context) as session:
            member = redeem_invite(session=session, telegram_user_id=user.id, name=name, code=code)
            unit, role = unit_name(session, member.unit_id), member.role
    except OversightError as exc:
        await reply(update, exc.message)
        return
    await set_menu(context, user.id, role)
    await reply(update, texts.JOINED.format(unit=unit, role=role_label(role)))


async def set_default_menu(app: Application) -> None:
    """The menu unregistered users see: /start and /help."""
    commands = [BotCommand(c, COMMAND_LABELS[c]) for c in ("start", "help", "whoami")]
    try:
        await app.bot.set_my_commands(commands)
    except TelegramError as exc:
        logger.warning("could not set the default menu: %s", exc)


@command("cancel")
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel ends whatever conversation the user has open."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    with db(context) as session:
        had = clear_flow(session=session, chat_id=chat.id, user_id=user.id)
        if not had and chat.type != ChatType.PRIVATE:
            had = clear_flow(session=session, chat_id=user.id, user_id=user.id)
    await answer_private(update, texts.CANCELLED if had else texts.NOTHING_TO_CANCEL)


@command("whoami")
async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    with db(context) as session:
        member = member_of(session, update)
        if member is None:
            text = texts.WHOAMI_UNREGISTERED
        else:
            plan = plan_of(session, member)
            text = texts.WHOAMI.format(
                name=member.name or "—",
                unit=unit_name(session, member.unit_id),
                role=role_label(member.role),
                member_id=member.id,
                plan=plan.short_name or plan.name if plan else "—",
            )
    await answer_private(update, text)


@command("help")
async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    with db(context) as session:
        member = member_of(session, update)
        role = member.role if member else None
    header = texts.HELP_HEADER.format(role=role_label(role)) if role else texts.HELP_UNREGISTERED
    lines = [header] + [f"/{c} — {COMMAND_LABELS[c]}" for c in commands_for(role)]
    await reply(update, "\n".join(lines))


@command("invite")
async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    roles = "、".join(ROLE_LABELS.values())
    if len(args) < 2:
        await answer_private(update, texts.INVITE_USAGE.format(roles=roles))
        return
    days = 7
    if len(args) >= 3:
        if not args[-1].isdigit():
            await answer_private(update, "天数须为数字。\n" + texts.INVITE_USAGE.format(roles=roles))
            return
        days = int(args[-1])
        args = args[:-1]
    unit_text, role_text = " ".join(args[:-1]), args[-1]
    try:
        with db(context) as session:
            admin = member_of(session, update)
            assert admin is not None
            role = parse_role(role_text)
            unit = require_unit(session=session, plan_id=admin.plan_id, text=unit_text)
            inv, code = create_invite(
                session=session,
                plan_id=admin.plan_id,
                unit_id=unit.id,
                role=role,
                days=days,
                created_by=actor_of(admin.id),
            )
            expires = inv.expires_at.astimezone(get_settings().tz).strftime("%Y年%m月%d日 %H:%M")
            text = texts.INVITE_CREATED.format(unit=unit.name, role=ROLE_LABELS[role], expires=expires, code=code)
    except OversightError as exc:
        await answer_private(update, exc.message)
        return
    await answer_private(update, text)


@command("members")
async def members(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    with db(context) as session:
        me = member_of(session, update)
        assert me is not None
        rows = list_members(session=session, plan_id=me.plan_id)
        if not rows:
            text = texts.MEMBERS_EMPTY
        else:
            lines = [texts.MEMBERS_HEADER.format(n=len(rows))]
            lines += [f"#{m.id} {m.name or '—'} · {u.name} · {ROLE_LABELS.get(m.role, m.role)}" for m, u in rows]
            text = "\n".join(lines)
    await answer_private(update, text)


@command("revoke")
async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        await answer_private(update, texts.REVOKE_USAGE)
        return
    target_id = int(args[0].lstrip("#"))
    try:
        with db(context) as session:
            admin = member_of(session, update)
            assert admin is not None
            target = session.get(Member, target_id)
            if target is None or target.plan_id != admin.plan_id:
                raise OversightError(f"找不到成员 {target_id}。")
            if target.id == admin.id:
                raise OversightError("不能撤销自己。")
            revoked = revoke_member(session=session, member_id=target_id, actor=actor_of(admin.id))
            name, tg = revoked.name, revoked.telegram_user_id
    except OversightError as exc:
        await answer_private(update, exc.message)
        return
    if tg:
        await set_menu(context, tg, None)
    await answer_private(update, texts.REVOKED.format(member_id=target_id, name=name or "—"))


@command("bindgroup")
async def bindgroup(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        await reply(update, texts.BINDGROUP_NOT_GROUP)
        return
    with db(context) as session:
        admin = member_of(session, update)
        assert admin is not None
        binding = session.get(GroupBinding, admin.plan_id) or GroupBinding(plan_id=admin.plan_id, chat_id=chat.id)
        binding.chat_id, binding.title, binding.bound_at = chat.id, (chat.title or "")[:200], utcnow()
        session.add(binding)
        audit(
            session=session,
            actor=actor_of(admin.id),
            action="group.bound",
            object_type="plan",
            object_id=admin.plan_id,
            detail={"chat_id": chat.id},
        )
        plan = plan_of(session, admin)
        text = texts.BINDGROUP_DONE.format(plan=plan.short_name or plan.name if plan else "")
    await reply(update, text)


__all__ = ["Unit", "bindgroup", "help_command", "invite", "members", "revoke", "set_menu", "start", "whoami"]
