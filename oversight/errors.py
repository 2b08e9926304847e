"""Domain errors: one base per area, each with a Chinese message a user can read."""

from __future__ import annotations


class OversightError(Exception):
    """Base of every domain error; `message` is shown to the user as is."""

    message: str = "操作失败。"

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class NotFoundError(OversightError):
    message = "找不到该记录。"


class PlanMissingError(NotFoundError):
    """A plan a job or command was given is not in the database (the CLI names a plan the admin
    typed itself, by its key, before any domain function is called)."""

    message = "找不到该计划。"


class PermissionDeniedError(OversightError):
    message = "您没有权限执行此操作。"


class InvalidInputError(OversightError):
    message = "输入有误。"


class InvalidStateError(OversightError):
    message = "该记录当前状态不允许此操作。"


class PlanError(OversightError):
    message = "计划有误。"


class PlanNotLoadedError(PlanError):
    message = "尚未加载任何计划，请先运行 lianxi plan load 计划文件。"


class MemberError(OversightError):
    message = "成员操作失败。"


class InviteInvalidError(MemberError):
    message = "邀请码无效或已过期，请向管理员索取新的邀请码。"


class InviteLockedError(MemberError):
    message = "邀请码输错次数过多，请一小时后再试。"


class AlreadyMemberError(MemberError):
    message = "您已经注册过了。"


class LedgerError(OversightError):
    message = "台账有误。"


class ProblemError(OversightError):
    message = "问题操作失败。"


class ScheduleError(OversightError):
    message = "计划任务设置有误。"
