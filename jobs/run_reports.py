"""Telling whoever pressed 立即运行 what came of the run: the document, or what failed and what to do.

Queued through the outbox in the transaction that records the run's end (done, or failed), so the
admin hears of a run exactly when it is recorded. Texts are here, one function per job's result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from models import ScheduledRun
from models.base import row_id
from oversight.briefs import built_facts
from oversight.digest import digest_run_facts
from oversight.errors import OversightError
from oversight.notices import drafted_facts
from oversight.outbox import enqueue_document, enqueue_text
from oversight.review import review_run_facts
from oversight.runs import MAX_ATTEMPTS, RETRY_AFTER
from oversight.schedules import (
    calendar_run_facts,
    mark_watchers_told,
    run_label,
    run_period_label,
    run_watchers,
    weekly_run_facts,
)

logger = logging.getLogger(__name__)

DONE_HEAD = "“{label}”（{period}）已运行完毕："
FAILED_RETRY = (
    "“{label}”（{period}）这次没有运行成功：{reason}\n"
    "系统将在约{minutes}分钟后自动重试（已试{attempts}次，最多{max}次），成功后会再告诉您。"
)
FAILED_FINAL = (
    "“{label}”（{period}）运行失败，已停止自动重试：{reason}\n"
    "请按上面的提示处理后，在 /schedule 中再点“立即运行”；如看不出原因，请把这条消息转给技术维护人员"
    "（系统运行日志中有详细记录）。"
)
INTERNAL_ERROR = "程序内部出错。"
NO_PLAN = "还没有加载任何计划，没有可生成的内容。请联系技术维护人员加载本年度工作计划。"

Documents = list[tuple[str, str]]  # (path, filename)


def _brief(session: Session, result: dict[str, Any]) -> tuple[str, Documents]:
    briefs = result.get("briefs") or []
    if not briefs:
        return NO_PLAN, []
    lines, docs = [], []
    for b in briefs:
        lines.append(built_facts(session=session, brief_id=b.get("brief_id"), created=bool(b.get("created"))).message())
        if b.get("pdf"):
            docs.append((str(b["pdf"]), f"工作简报第{b.get('issue_no')}期.pdf"))
    return "\n".join(lines), docs


def _notices(session: Session, result: dict[str, Any]) -> tuple[str, Documents]:
    notices = result.get("notices") or []
    if not notices:
        return NO_PLAN, []
    lines = [drafted_facts(session=session, notice_id=int(n["notice_id"])).message() for n in notices]
    return "\n".join(lines), []


def _review(session: Session, result: dict[str, Any]) -> tuple[str, Documents]:
    plans = result.get("plans") or []
    if not plans:
        return NO_PLAN, []
    lines, docs = [], []
    for p in plans:
        lines.append(review_run_facts(session=session, result=p).message())
        if p.get("pdf"):
            docs.append((str(p["pdf"]), "工作问效报告.pdf"))
    return "\n".join(lines), docs


def _weekly(session: Session, result: dict[str, Any]) -> tuple[str, Documents]:
    return weekly_run_facts(session=session, result=result).message(), []


def _digest(session: Session, result: dict[str, Any]) -> tuple[str, Documents]:
    return digest_run_facts(session=session, result=result).message(), []


def _calendar(session: Session, result: dict[str, Any]) -> tuple[str, Documents]:
    return calendar_run_facts(session=session, result=result).message(), []


REPORTS: dict[str, Callable[[Session, dict[str, Any]], tuple[str, Documents]]] = {
    "brief": _brief,
    "notice_draft": _notices,
    "review": _review,
    "weekly_reminder": _weekly,
    "daily_digest": _digest,
    "calendar_reminder": _calendar,
}


def report_done(*, session: Session, run: ScheduledRun, result: dict[str, Any], now: datetime) -> int:
    """Tell the run's watchers what it produced; returns the messages queued."""
    watchers = run_watchers(session=session, run_id=row_id(run))
    if not watchers:
        return 0
    report = REPORTS.get(run.job)
    body, docs = report(session, result) if report else ("已完成。", [])
    text = DONE_HEAD.format(label=run_label(run.job, run.period), period=run_period_label(run.period)) + body
    queued = 0
    for w in watchers:
        queued += enqueue_text(session=session, chat_id=w.chat_id, text=text, now=now) is not None
        for path, filename in docs:
            if Path(path).is_file():
                queued += (
                    enqueue_document(session=session, chat_id=w.chat_id, path=path, filename=filename, now=now)
                    is not None
                )
    mark_watchers_told(session=session, watchers=watchers, now=now)
    return queued


def report_failed(
    *,
    session: Session,
    run: ScheduledRun,
    error: BaseException,
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
    retry_after: timedelta = RETRY_AFTER,
) -> int:
    """Tell the run's watchers that it failed: what, and whether it is retried or what to do."""
    watchers = run_watchers(session=session, run_id=row_id(run))
    if not watchers:
        return 0
    reason = error.message if isinstance(error, OversightError) else INTERNAL_ERROR
    final = run.attempts >= max_attempts
    fmt = FAILED_FINAL if final else FAILED_RETRY
    text = fmt.format(
        label=run_label(run.job, run.period),
        period=run_period_label(run.period),
        reason=reason,
        minutes=max(1, int(retry_after.total_seconds() // 60)),
        attempts=run.attempts,
        max=max_attempts,
    )
    for w in watchers:
        enqueue_text(
            session=session, chat_id=w.chat_id, text=text, dedupe_key=f"runfail:{run.id}:{run.attempts}:{w.id}", now=now
        )
    if final:
        mark_watchers_told(session=session, watchers=watchers, now=now)
    return len(watchers)
