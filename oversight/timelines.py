"""Timelines as the plan documents write them: from when to when a task or target is due,
and the share of it the timeline expects done on a given day.

A timeline runs from its start (share 0) to its deadline (share 1), linear in between,
through any milestones an administrator sets (`milestones`: cumulative shares on dates).
The start is the task's own `start`, else its phase's start, else the plan's issue date;
the deadline is the task's or target's own. A task without a deadline (the seed gives
none) has no expected figure unless milestones are set; then the timeline is its
milestones, and after the last one the expected share stays there.

Pure: imports only the standard library and the plan-file schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from oversight.planfile import PlanSpec, ScheduleItem, TargetSpec, TaskSpec

__all__ = ["deadline_of", "expected_share", "points", "target_points", "task_points"]


def points(*, start: date | None, deadline: date | None, milestones: Iterable[ScheduleItem]) -> list[dict[str, Any]]:
    """The timeline as cumulative (day, share) points: start → milestones → deadline.

    Empty when there is neither a deadline nor a milestone (nothing is expected)."""
    marks = [{"by": m.by.isoformat(), "share": float(m.share)} for m in milestones]
    if deadline is None and not marks:
        return []
    out: list[dict[str, Any]] = []
    if start is not None:
        out.append({"by": start.isoformat(), "share": 0.0})
    out.extend(marks)
    if deadline is not None and not (marks and marks[-1]["by"] == deadline.isoformat()):
        out.append({"by": deadline.isoformat(), "share": 1.0})
    return out


def task_points(spec: PlanSpec, task: TaskSpec) -> list[dict[str, Any]]:
    return points(start=spec.task_start(task), deadline=task.deadline, milestones=task.milestones)


def target_points(spec: PlanSpec, target: TargetSpec) -> list[dict[str, Any]]:
    return points(start=target.start or spec.issued_on, deadline=target.deadline, milestones=target.milestones)


def deadline_of(schedule: Sequence[dict[str, Any]]) -> date | None:
    """The day a timeline expects the whole by: its last point, when that point's share is the
    whole (1.0: the deadline, which the plan file's check requires to be the whole); None when it
    never expects the whole (no timeline, or milestones short of it with no deadline)."""
    if not schedule:
        return None
    day, share = max((_day(p["by"]), float(p["share"])) for p in schedule)
    return day if abs(share - 1.0) <= 1e-9 else None


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def expected_share(schedule: Sequence[dict[str, Any]], on: date, start: date | None = None) -> float | None:
    """The share of a target expected by `on`: linear between the timeline's points.

    Before the first point the share rises linearly from 0 at `start` when one is given
    (a timeline from `points` carries its start as its first point); without a start it
    is a step (0 until the first point). After the last point it is the last share. None
    when there is no timeline.
    """
    if not schedule:
        return None
    marks = sorted((_day(p["by"]), float(p["share"])) for p in schedule)
    prev_day, prev_share = (start, 0.0) if start is not None else (None, 0.0)
    for day, share in marks:
        if on >= day:
            prev_day, prev_share = day, share
            continue
        if prev_day is None or on < prev_day:
            return prev_share  # step before the first point, or before the start
        span = (day - prev_day).days
        if span <= 0:
            return share
        return prev_share + (share - prev_share) * (on - prev_day).days / span
    return prev_share
