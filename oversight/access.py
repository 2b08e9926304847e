"""Who may use which command: one table, used for menus, /help and every check."""

from __future__ import annotations

from models import Role

EVERYONE = "*"  # registered or not
REGISTERED = tuple(Role.ALL)

# command -> roles allowed (EVERYONE: also unregistered users)
COMMAND_ROLES: dict[str, tuple[str, ...] | str] = {
    "start": EVERYONE,
    "help": EVERYONE,
    "whoami": EVERYONE,
    "cancel": EVERYONE,
    "report": (Role.CONTACT, Role.ZONE_LEADER),
    "ledger": (Role.CONTACT,),
    "flag": (Role.CONTACT, Role.ZONE_LEADER, Role.OFFICE),
    "todo": REGISTERED,
    "progress": REGISTERED,
    "problem": REGISTERED,
    "invite": (Role.ADMIN,),
    "members": (Role.ADMIN, Role.OFFICE),
    "revoke": (Role.ADMIN,),
    "bindgroup": (Role.ADMIN,),
    "schedule": (Role.ADMIN,),
    "calendar": (Role.ADMIN,),
    "meeting": (Role.OFFICE, Role.CONVENER, Role.ADMIN),
    "decision": (Role.OFFICE, Role.CONVENER, Role.ADMIN),
    "notices": (Role.CONVENER, Role.OFFICE, Role.ADMIN),
    "explain": (Role.CONTACT,),
    "briefs": (Role.OFFICE, Role.CONVENER),
    "rectify": (Role.CONTACT, Role.OFFICE, Role.ADMIN, Role.SUPERVISOR),
    "duban": REGISTERED,
}

COMMAND_LABELS: dict[str, str] = {
    "start": "注册：/start 邀请码",
    "help": "查看可用命令",
    "whoami": "我的身份",
    "cancel": "取消当前操作",
    "report": "报送工作进展",
    "ledger": "上报台账（xlsx＋盖章扫描件）",
    "flag": "反映问题（堵点）",
    "todo": "待办事项",
    "progress": "各批次任务进度",
    "problem": "查看问题全过程：/problem 问题号（如 /problem 12）",
    "invite": "生成邀请码：/invite 单位 角色",
    "members": "成员列表",
    "revoke": "撤销成员：按姓名或单位选择后确认",
    "bindgroup": "在群内发送，绑定联席会议群",
    "schedule": "定时任务设置",
    "calendar": "工作日历：添加或查看某年的节假日安排",
    "meeting": "安排联席会议：议程、参会确认、会议纪要",
    "decision": "记录会议议定事项",
    "notices": "通报草稿与审批",
    "explain": "对通报提交情况说明",
    "briefs": "简报审核与签发",
    "rectify": "整改台账：指定责任人、申请销号、核验与回头看",
    "duban": "督办事项（红、黄、蓝三色）与催办",
}

# Commands about one unit's business: in a group they are answered in private.
PRIVATE_COMMANDS = {
    "report",
    "ledger",
    "flag",
    "todo",
    "problem",
    "whoami",
    "invite",
    "members",
    "revoke",
    "schedule",
    "calendar",
    "meeting",
    "decision",
    "notices",
    "explain",
    "briefs",
    "rectify",
    "duban",
    "cancel",
}


def allowed(command: str, role: str | None) -> bool:
    """May a member with `role` (None: unregistered) use `command`?"""
    roles = COMMAND_ROLES.get(command)
    if roles is None:
        return False
    if roles == EVERYONE:
        return True
    return role is not None and role in roles


def commands_for(role: str | None) -> list[str]:
    """The commands to show a member with `role`, in menu order."""
    return [c for c in COMMAND_ROLES if allowed(c, role) and (role is None or c != "start")]
