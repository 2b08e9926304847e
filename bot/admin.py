"""/schedule (admins set the worker's schedules in chat) and /meeting (临时加开)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot import texts as t
from bot.engine import Flow, Step, Turn, action, button, command
from oversight.audit import actor_of
from oversight.schedules import (
    WORDS_HELP,
    describe,
    ensure_default_schedules,
    list_schedules,
    pause_schedule,
    request_run_now,
    require_schedule,
    resume_schedule,
    run_label,
    run_period_label,
    set_schedule,
)


def _listed(session: Session, job: str) -> dict[str, Any]:
    """The job's row of the schedule listing (its Chinese name, next runs …)."""
    return next(
        (r for r in list_schedules(session=session) if r["job"] == job),
        {"name": job, "next_run_text": "", "next_runs_text": []},
    )


@command("schedule", bare=True)
def schedule(turn: Turn[None]) -> None:
    ensure_default_schedules(session=turn.session)
    lines, rows = [t.SCHEDULE_HEADER], []
    for r in list_schedules(session=turn.session):
        state = t.SCHEDULE_PAUSED_MARK if r["paused"] else t.SCHEDULE_NEXT.format(next=r["next_run_text"])
        lines.append(t.SCHEDULE_LINE.format(name=r["name"], description=r["description"], state=state, cron=r["cron"]))
        toggle = (
            button(t.SCHEDULE_BTN_RESUME, "schedule.resume", job=r["job"])
            if r["paused"]
            else button(t.SCHEDULE_BTN_PAUSE, "schedule.pause", job=r["job"])
        )
        rows.append(
            [
                button(t.SCHEDULE_BTN_EDIT.format(name=r["name"]), "schedule.edit", job=r["job"]),
                toggle,
                button(t.SCHEDULE_BTN_RUN, "schedule.run", job=r["job"]),
            ]
        )
    turn.say("\n".join(lines), rows)


@dataclass
class ScheduleState:
    """The job whose new schedule expression the admin is about to send."""

    job: str = ""


@action("schedule.edit", command="schedule")
def schedule_edit(turn: Turn[None], *, job: str) -> None:
    row = require_schedule(session=turn.session, job=job)
    turn.start(SCHEDULE, ScheduleState(job=row.job), "cron")
    name = _listed(turn.session, row.job)["name"]
    desc = describe(row.cron)
    turn.say(t.SCHEDULE_ASK_CRON.format(name=name, words_help=WORDS_HELP, cron=row.cron, desc=desc))


def take_cron(turn: Turn[ScheduleState], text: str) -> None:
    job = turn.state.job
    row = set_schedule(session=turn.session, job=job, cron=text[:100], actor=actor_of(turn.member.id))
    turn.end()
    listed = _listed(turn.session, job)
    upcoming = "、".join(listed["next_runs_text"]) or "—"
    turn.say(t.SCHEDULE_SET_DONE.format(name=listed["name"], cron=row.cron, desc=describe(row.cron), upcoming=upcoming))


SCHEDULE = Flow("schedule_set", ScheduleState, command="schedule", steps={"cron": Step(text=take_cron)})


@action("schedule.pause", command="schedule")
def schedule_pause(turn: Turn[None], *, job: str) -> None:
    pause_schedule(session=turn.session, job=job, actor=actor_of(turn.member.id))
    turn.say(t.SCHEDULE_PAUSED.format(name=_listed(turn.session, job)["name"]))


@action("schedule.resume", command="schedule")
def schedule_resume(turn: Turn[None], *, job: str) -> None:
    resume_schedule(session=turn.session, job=job, actor=actor_of(turn.member.id))
    listed = _listed(turn.session, job)
    turn.say(t.SCHEDULE_RESUMED.format(name=listed["name"], next=listed["next_run_text"]))


@action("schedule.run", command="schedule")
def schedule_run(turn: Turn[None], *, job: str) -> None:
    run = request_run_now(session=turn.session, job=job, actor=actor_of(turn.member.id), notify_chat_id=turn.user_id)
    turn.say(t.SCHEDULE_RUN_REQUESTED.format(name=run_label(job, run.period), period=run_period_label(run.period)))
