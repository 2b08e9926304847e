"""Sample data (示例数据): a plan loaded by the demo or the sandbox carries a mark in the database,
and everything produced from it — the brief, a published notice, the review, in PDF and Word, and
the captions and summaries sent with them — is marked, wherever it is stored or delivered."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from models import Plan

SPEC_KEY = "sample_mark"
DEMO_MARK = "示例数据：演示生成，非真实工作数据"
SANDBOX_MARK = "示例数据：沙盒演示，非真实工作数据"
CHAT_PREFIX = "【示例数据】"
MARK_MAX = 40


def mark_sample(*, session: Session, plan_id: int, mark: str) -> None:
    """Record that the plan's data are sample data, with the words each page is marked with."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise ValueError(f"no plan {plan_id}")
    text = " ".join(mark.split())[:MARK_MAX]
    if "示例数据" not in text:
        raise ValueError("a sample mark says 示例数据")
    plan.spec = {**(plan.spec or {}), SPEC_KEY: text}
    session.add(plan)
    session.flush()


def with_sample_mark(plan: Plan, spec: dict[str, Any]) -> dict[str, Any]:
    """A plan's new spec keeping its sample mark (a reload or a milestone change keeps it marked)."""
    mark = sample_mark(plan)
    return {**spec, SPEC_KEY: mark} if mark else spec


def sample_mark(plan: Plan | None) -> str | None:
    """The plan's sample mark, or None for real data."""
    if plan is None:
        return None
    value = (plan.spec or {}).get(SPEC_KEY)
    return str(value) if value else None


def chat_marked(plan: Plan | None, text: str) -> str:
    """A chat text or caption from the plan, prefixed 【示例数据】 when its data are sample data."""
    return f"{CHAT_PREFIX}{text}" if sample_mark(plan) and not text.startswith(CHAT_PREFIX) else text
