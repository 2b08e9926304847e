"""Schedules as people say them: each phrase form read, shown back in the product's Chinese with its
next three runs (on the command line too); an every-minute schedule refused for a job that messages
people; the working-day forms follow the calendar and say 估算 beyond its data; 立即运行 reports back."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

import jobs.registry
from jobs.registry import RunContext, execute_run
from models import OutboxMessage, RunWatcher
from oversight.errors import ScheduleError
from oversight.holiday_notice import parse_notice, store_notice
from oversight.schedules import (
    WorkdayTrigger,
    describe,
    ensure_default_schedules,
    last_fire_time,
    list_schedules,
    next_fire_times,
    normalize_expr,
    request_run_now,
    set_schedule,
    trigger_for,
)
from tests.test_holiday_notice import MADE_UP_2027

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


NOW = sh(2026, 12, 1, 10, 0)  # a Tuesday

# (what an admin writes, the stored expression, how the product says it, the next three runs after NOW)
PHRASES = [
    ("每周五 15:00", "0 15 * * 5", "每周五 15:00", [sh(2026, 12, 4, 15), sh(2026, 12, 11, 15), sh(2026, 12, 18, 15)]),
    ("每周一上午9点", "0 9 * * 1", "每周一 09:00", [sh(2026, 12, 7, 9), sh(2026, 12, 14, 9), sh(2026, 12, 21, 9)]),
    (
        "每天 17:30",
        "30 17 * * *",
        "每天 17:30",
        [sh(2026, 12, 1, 17, 30), sh(2026, 12, 2, 17, 30), sh(2026, 12, 3, 17, 30)],
    ),
    (
        "工作日每天 8:30",
        "@workdays 08:30",
        "工作日每天 08:30",
        [sh(2026, 12, 2, 8, 30), sh(2026, 12, 3, 8, 30), sh(2026, 12, 4, 8, 30)],
    ),
    ("每月1日 9:00", "0 9 1 * *", "每月1日 09:00", [sh(2027, 1, 1, 9), sh(2027, 2, 1, 9), sh(2027, 3, 1, 9)]),
    (
        "每季度结束后第5个工作日 09:00",
        "@quarterly-wd5 09:00",
        "每季度结束后第5个工作日 09:00",
        [sh(2027, 1, 7, 9), sh(2027, 4, 7, 9), sh(2027, 7, 7, 9)],
    ),
    ("每周五下午三点", "0 15 * * 5", "每周五 15:00", [sh(2026, 12, 4, 15), sh(2026, 12, 11, 15), sh(2026, 12, 18, 15)]),
    (
        "0 9 10 1,7 *",
        "0 9 10 1,7 *",
        "每年1月、7月的10日 09:00",
        [sh(2027, 1, 10, 9), sh(2027, 7, 10, 9), sh(2028, 1, 10, 9)],
    ),
]


@pytest.mark.parametrize(("said", "expr", "shown", "upcoming"), PHRASES, ids=[p[0] for p in PHRASES])
def test_each_phrase_form(said: str, expr: str, shown: str, upcoming: list[datetime]) -> None:
    assert normalize_expr(said) == expr
    assert describe(said) == shown
    assert next_fire_times(said, NOW) == upcoming


@pytest.mark.parametrize(
    ("said", "expr"),
    [
        ("每周一至周五 8:30", "30 8 * * 1-5"),
        ("每周一、三、五 上午10点", "0 10 * * 1,3,5"),
        ("每星期二 14:00", "0 14 * * 2"),
        ("每天早上8点半", "30 8 * * *"),
        ("每天晚上8点", "0 20 * * *"),
        ("每月1号和15号上午十点", "0 10 1,15 * *"),
        ("每个工作日 17:00", "@workdays 17:00"),
        ("每季度第3个工作日 9:00", "@quarterly-wd3 09:00"),
        ("每2小时", "0 */2 * * *"),
    ],
)
def test_other_ways_of_saying_it(said: str, expr: str) -> None:
    assert normalize_expr(said) == expr


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("每周五", "请写明几点"),
        ("每天 25:00", "时间“25:00”不存在"),
        ("每月32日 9:00", "日期须在1–31之间"),
        ("每周五下午十五点半点", "无法识别"),
        ("明天看情况", "请写明几点"),
        ("每周八 9:00", "没有看懂"),
    ],
)
def test_phrases_that_cannot_be_a_schedule_are_refused_in_chinese(said: str, reason: str) -> None:
    with pytest.raises(ScheduleError) as info:
        normalize_expr(said)
    assert f"“{said}”无法识别为时间安排" in info.value.message and reason in info.value.message
    assert "每周五 15:00" in info.value.message  # and it says how to write one


@pytest.mark.parametrize("said", ["*/1 * * * *", "* * * * *", "每30分钟", "*/15 9-17 * * 1-5"])
def test_a_job_that_messages_people_runs_at_most_hourly(session: Session, said: str) -> None:
    ensure_default_schedules(session=session, now=NOW)
    with pytest.raises(ScheduleError) as info:
        set_schedule(session=session, job="weekly_reminder", cron=said, actor="member:1")
    message = info.value.message
    assert message.startswith("“每周报送提醒”每次运行都会给各单位联络员发送消息，最多每小时运行一次")
    assert "过于频繁" in message and "每周一 9:00" in message
    # Hourly is the limit, not beyond it.
    assert set_schedule(session=session, job="weekly_reminder", cron="每小时", actor="member:1").cron == "0 * * * *"


def test_working_day_triggers_follow_the_calendar_and_pickle() -> None:
    trigger = trigger_for("工作日每天 8:30")
    assert isinstance(trigger, WorkdayTrigger)
    # National Day 2026: 9-30 (Wed) then 10-08; the make-up Saturday 10-10 counts.
    fires = next_fire_times("@workdays 08:30", sh(2026, 9, 30, 9, 0), count=3)
    assert fires == [sh(2026, 10, 8, 8, 30), sh(2026, 10, 9, 8, 30), sh(2026, 10, 10, 8, 30)]
    assert last_fire_time(trigger, sh(2026, 10, 7, 12, 0)) == sh(2026, 9, 30, 8, 30)
    assert pickle.loads(pickle.dumps(trigger)).get_next_fire_time(None, sh(2026, 10, 1)) == sh(2026, 10, 8, 8, 30)
    cron = pickle.loads(pickle.dumps(trigger_for("每周五 15:00")))
    assert cron.get_next_fire_time(None, sh(2026, 12, 4, 15, 0)) == sh(2026, 12, 4, 15, 0)  # at the minute: now
    assert last_fire_time(cron, sh(2026, 12, 4, 14, 59)) == sh(2026, 11, 27, 15, 0)


def test_a_fire_time_beyond_the_calendar_is_marked_estimated_until_the_year_is_added(session: Session) -> None:
    ensure_default_schedules(session=session, now=NOW)
    rows = {r["job"]: r for r in list_schedules(session=session, now=NOW)}
    assert rows["brief"]["next_run_text"] == "2027年1月7日 09:00（估算）"
    assert rows["weekly_reminder"]["next_runs_text"][0] == "2026年12月7日 09:00"  # a plain weekday: no mark
    store_notice(session=session, parsed=parse_notice(MADE_UP_2027), actor="member:1")
    rows = {r["job"]: r for r in list_schedules(session=session, now=NOW)}
    assert rows["brief"]["next_run_text"] == "2027年1月8日 09:00"


def test_cli_sets_each_phrase_and_refuses_every_minute(settings_env, engine, monkeypatch) -> None:
    from lianxi.cli import out
    from lianxi.cli_worker import schedule_app

    monkeypatch.setattr(out, "_width", 240)
    app = typer.Typer()
    app.add_typer(schedule_app, name="schedule")
    runner = CliRunner()
    for said, expr, shown, _ in PHRASES:
        result = runner.invoke(app, ["schedule", "set", "daily_digest", said])
        assert result.exit_code == 0, result.output
        assert f"已设置 daily_digest：{shown}（表达式 {expr}）。" in result.output
        assert "接下来三次运行：" in result.output and result.output.count("、") >= 2
    refused = runner.invoke(app, ["schedule", "set", "daily_digest", "*/1 * * * *"])
    assert refused.exit_code == 2 and "最多每小时运行一次" in refused.output


def test_run_now_reports_its_result_to_whoever_asked(engine, session: Session, banner_plan_id: int) -> None:
    ensure_default_schedules(session=session, now=NOW)
    run = request_run_now(session=session, job="daily_digest", actor="member:1", now=NOW, notify_chat_id=4242)
    session.commit()
    assert session.exec(select(RunWatcher)).one().chat_id == 4242
    session.commit()  # SQLite: a reading session holds the write lock until it ends
    ctx = RunContext(engine=engine, worker_id="w1", clock=lambda: NOW)
    done = execute_run(ctx=ctx, job="daily_digest", period=run.period)
    assert done is not None and done.state == "done"
    [told] = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 4242)).all()
    assert told.text == "“每日逾期督办”（临时一期）已运行完毕：目前没有逾期事项，未发送督办消息。"
    assert "adhoc" not in told.text


def test_a_notice_draft_run_reports_its_findings_and_reviewers_in_words(
    engine, session: Session, banner_plan_id: int
) -> None:
    """立即运行 of the notice draft on a fresh deployment: the draft names nobody and no convener is in
    chat, so the reply says 本期没有需要通报的情况 and 草稿未送审 (never 列入0项, 已送0位); once a
    convener and the units' contacts joined long before and nobody reported, the next quarter's
    draft counts its findings and the one convener it went to — each recounted from the record."""
    from oversight.notices import drafted_facts
    from tests.chatfacts import assert_drafted_facts
    from tests.test_accountability import Cast

    def run_now(at: datetime, chat: int) -> tuple[str, str]:
        ensure_default_schedules(session=session, now=at)
        run = request_run_now(session=session, job="notice_draft", actor="member:1", now=at, notify_chat_id=chat)
        session.commit()
        done = execute_run(
            ctx=RunContext(engine=engine, worker_id="w1", clock=lambda: at), job="notice_draft", period=run.period
        )
        assert done is not None and done.state == "done"
        session.expire_all()
        [told] = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat)).all()
        notice_id = int(done.result["notices"][0]["notice_id"])
        chat_ = drafted_facts(session=session, notice_id=notice_id)
        assert told.text.endswith("已运行完毕：" + chat_.message()), (told.text, chat_.message())
        assert_drafted_facts(session, notice_id, chat_.message(), chat_.listed())
        return chat_.listed()[0]["kind"], chat_.message()

    kind, said = run_now(NOW, 4343)
    assert kind == "drafted_none_nobody", said
    Cast(session, banner_plan_id)
    kind, said = run_now(NOW + timedelta(days=100), 4344)
    assert kind == "drafted" and "已送1位召集人审定" in said, said


def test_a_weekly_reminder_run_names_who_owed_a_report_and_who_was_reminded(
    engine, session: Session, banner_plan_id: int
) -> None:
    """立即运行 of the weekly reminder on a fresh deployment: no unit owes a report yet, and the reply
    says so (never 各单位都已报送); with every unit's contact in chat and one report filed that week,
    it names the units that did not report and counts the reminders queued to their contacts —
    each recounted from the record."""
    from models import Report
    from oversight.schedules import weekly_run_facts
    from tests.chatfacts import assert_weekly_run_facts
    from tests.test_accountability import Cast

    def run_now(at: datetime, chat: int) -> tuple[str, str]:
        ensure_default_schedules(session=session, now=at)
        run = request_run_now(session=session, job="weekly_reminder", actor="member:1", now=at, notify_chat_id=chat)
        session.commit()
        ctx = RunContext(engine=engine, worker_id="w1", clock=lambda: at)
        done = execute_run(ctx=ctx, job="weekly_reminder", period=run.period)
        assert done is not None and done.state == "done"
        session.expire_all()
        [told] = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat)).all()
        said = weekly_run_facts(session=session, result=done.result)
        assert told.text.endswith("已运行完毕：" + said.message()), (told.text, said.message())
        assert_weekly_run_facts(session, done.result["week"], said.message(), said.listed())
        return said.listed()[0]["kind"], said.message()

    kind, said = run_now(NOW, 4545)
    assert kind == "none_due", said
    cast = Cast(session, banner_plan_id)
    later = NOW + timedelta(days=7)
    session.add(
        Report(
            plan_id=banner_plan_id,
            unit_id=cast.uid("water"),
            member_id=cast["water"].id,
            text="进展",
            created_at=later - timedelta(hours=2),
        )
    )
    session.commit()
    kind, said = run_now(later, 4546)
    assert kind == "missing" and "旗水利局" not in said and "条提醒" in said, said


def test_a_calendar_reminder_run_counts_the_admins_it_reached(engine, session: Session, banner_plan_id: int) -> None:
    """立即运行 of the calendar reminder in December with 2027 missing: with no admin in chat the reply
    says nobody was reminded (never 已提醒0位管理员); once an admin joined, 已提醒1位管理员 —
    recounted from the outbox and the member rows."""
    from models import Member, Role, Unit
    from oversight.schedules import calendar_run_facts
    from tests.chatfacts import assert_calendar_run_facts

    def run_now(at: datetime, chat: int) -> tuple[str, str]:
        ensure_default_schedules(session=session, now=at)
        run = request_run_now(session=session, job="calendar_reminder", actor="member:1", now=at, notify_chat_id=chat)
        session.commit()
        ctx = RunContext(engine=engine, worker_id="w1", clock=lambda: at)
        done = execute_run(ctx=ctx, job="calendar_reminder", period=run.period)
        assert done is not None and done.state == "done"
        session.expire_all()
        [told] = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat)).all()
        said = calendar_run_facts(session=session, result=done.result)
        assert told.text.endswith("已运行完毕：" + said.message()), (told.text, said.message())
        assert_calendar_run_facts(session, done.result["week"], said.message(), said.listed())
        return said.listed()[0]["kind"], said.message()

    kind, said = run_now(NOW, 4747)
    assert kind == "told_nobody" and "2027年" in said, said
    unit = session.exec(select(Unit).where(Unit.plan_id == banner_plan_id)).first()
    assert unit is not None
    session.add(Member(plan_id=banner_plan_id, telegram_user_id=4748, name="管理员", unit_id=unit.id, role=Role.ADMIN))
    session.commit()
    kind, said = run_now(NOW + timedelta(hours=1), 4749)
    assert kind == "told" and said.endswith("已提醒1位管理员。"), said


def _digest_run_now(engine, session: Session, at: datetime, chat: int) -> tuple[str, str]:
    """立即运行 of the daily digest at `at`, pressed in `chat`: the reply's fact kind and its whole
    text, checked to be the run's facts and recounted from the record (tests/chatfacts.py)."""
    from oversight.digest import digest_run_facts
    from tests.chatfacts import assert_digest_run_facts

    ensure_default_schedules(session=session, now=at)
    period = at.date().isoformat()
    run = request_run_now(
        session=session, job="daily_digest", actor="member:1", period=period, now=at, notify_chat_id=chat
    )
    session.commit()
    ctx = RunContext(engine=engine, worker_id="w1", clock=lambda: at)
    done = execute_run(ctx=ctx, job="daily_digest", period=run.period)
    assert done is not None and done.state == "done", done
    session.expire_all()
    [told] = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat)).all()
    said = digest_run_facts(session=session, result=done.result)
    assert told.text == f"“每日逾期督办”（{at.year}年{at.month}月{at.day}日）已运行完毕：" + said.message(), (
        told.text,
        said.message(),
    )
    assert_digest_run_facts(session, period, said.message(), said.listed())
    return said.listed()[0]["kind"], told.text


def test_a_daily_digest_run_counts_what_it_held_and_whom_it_reached(
    engine, session: Session, banner_plan_id: int
) -> None:
    """立即运行 of the daily digest, read whole: on a fresh deployment nothing is overdue and the
    reply says so; with 林草局's problem and 水利局's agreed matter overdue but nobody of the office
    in chat, it counts them (the problem by 个, never 件) and says the digest was not sent (never
    已向办公室发送0条督办消息); once the office member is in chat, the digest went to that one
    person — each recounted from the record."""
    from models import Member
    from tests.test_accountability import Cast
    from tests.test_chat_sentences import overdue_record

    kind, text = _digest_run_now(engine, session, sh(2026, 3, 18, 9), 4950)
    assert kind == "none" and text.endswith("已运行完毕：目前没有逾期事项，未发送督办消息。"), text
    cast = Cast(session, banner_plan_id)
    overdue_record(cast)
    office = session.get(Member, cast.office.id)
    assert office is not None
    office.active = False
    session.commit()
    kind, text = _digest_run_now(engine, session, sh(2026, 3, 19, 9), 4951)
    assert text.endswith("已运行完毕：逾期问题1个、逾期议定事项1项，办公室目前没有人员加入，督办消息未发出。"), text
    office.active = True
    session.commit()
    kind, text = _digest_run_now(engine, session, sh(2026, 3, 20, 9), 4952)
    assert text.endswith("已运行完毕：逾期问题1个、逾期议定事项1项，督办消息已发送给办公室1人。"), text


def test_a_daily_digest_run_on_a_day_with_only_supervised_items_counts_them(
    engine, session: Session, banner_plan_id: int
) -> None:
    """立即运行 of the daily digest on a day when nothing is overdue and 督办 still holds items: 林草局's
    problem, sent back twice (reopened) before its deadline, is red, and 水利局's, due in two working
    days, blue; the reply, read whole, says nothing is overdue, counts the two items under 督办 and
    cites them, never 逾期问题0个 — first with nobody of the office in chat (督办消息未发出), then
    with the office member in chat (sent to that one person); each recounted from the record."""
    from models import Member, Problem, ProblemEvent
    from oversight.workdays import add_workdays
    from tests.test_accountability import Cast

    cast = Cast(session, banner_plan_id)
    day = sh(2026, 3, 2, 9)  # a Monday
    red = cast.raise_("forestry", day - timedelta(hours=1))
    for _ in range(2):  # sent back twice by 应急管理局 (written as the supervision test writes them)
        session.add(ProblemEvent(problem_id=red, kind="reopened", actor_unit_id=cast.uid("emergency"), at=day))
    blue = cast.raise_("water", day - timedelta(hours=1), category="water_permit")
    due_soon = session.get(Problem, blue)
    assert due_soon is not None
    due_soon.due_on = add_workdays(day.date(), 2)
    session.add(due_soon)
    office = session.get(Member, cast.office.id)
    assert office is not None
    office.active = False
    session.commit()

    kind, text = _digest_run_now(engine, session, day, 4960)
    assert kind == "supervised_nobody", text
    assert text == (
        "“每日逾期督办”（2026年3月2日）已运行完毕：目前没有逾期事项，督办事项2项；"
        "办公室目前没有人员加入，督办消息未发出。"
    ), text
    office.active = True
    session.commit()
    kind, text = _digest_run_now(engine, session, sh(2026, 3, 3, 9), 4961)
    assert kind == "supervised", text
    assert (
        text == "“每日逾期督办”（2026年3月3日）已运行完毕：目前没有逾期事项，督办事项2项，督办消息已发送给办公室1人。"
    ), text


def test_a_brief_run_says_whom_the_draft_went_to(engine, session: Session, banner_plan_id: int, settings_env) -> None:
    """立即运行 of the brief: with nobody of the office in chat the reply says the draft was not sent
    (never 已向召集人和办公室发送0条消息: a draft goes to the office only); with one office member
    joined, the quarter's brief is not sent again and the next quarter's draft went to that one person —
    recounted from the outbox and the members."""
    from models import Member, Role, Unit
    from oversight.briefs import built_facts
    from tests.chatfacts import assert_built_facts

    def run_now(at: datetime, chat: int) -> str:
        ensure_default_schedules(session=session, now=at)
        run = request_run_now(session=session, job="brief", actor="member:1", now=at, notify_chat_id=chat)
        session.commit()
        ctx = RunContext(engine=engine, worker_id="w1", clock=lambda: at)
        done = execute_run(ctx=ctx, job="brief", period=run.period)
        assert done is not None and done.state == "done", done
        session.expire_all()
        told = [m for m in session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat)).all() if m.text]
        (b,) = done.result["briefs"]
        said = built_facts(session=session, brief_id=b["brief_id"], created=b["created"])
        assert told[0].text.endswith("已运行完毕：" + said.message()), (told[0].text, said.message())
        assert_built_facts(session, b["brief_id"], b["created"], said.message(), said.listed())
        return said.listed()[0]["kind"]

    assert run_now(NOW, 4848) == "built_nobody"
    unit = session.exec(select(Unit).where(Unit.plan_id == banner_plan_id)).first()
    assert unit is not None
    session.add(Member(plan_id=banner_plan_id, telegram_user_id=4849, name="办公室", unit_id=unit.id, role=Role.OFFICE))
    session.commit()
    # The quarter's brief is built already: not sent again (not even to the member who just joined).
    assert run_now(NOW + timedelta(hours=1), 4850) == "again"
    assert run_now(NOW + timedelta(days=100), 4851) == "built"


def test_a_dated_brief_run_is_named_a_work_brief_not_a_quarterly_one(
    engine, session: Session, banner_plan_id: int, settings_env
) -> None:
    """The brief job's run for a day (an ad-hoc meeting's, or one asked for by hand) makes a brief up
    to that day, not a quarter's: its reply and the refusal to run the day twice call it 工作简报,
    as the brief is titled, never “季度简报”（2026年12月1日）; a quarter's run stays 季度简报 and
    the other jobs keep their labels (oversight.schedules.run_label)."""
    from oversight.schedules import run_label

    day = NOW.date().isoformat()
    ensure_default_schedules(session=session, now=NOW)
    run = request_run_now(session=session, job="brief", actor="member:1", period=day, now=NOW, notify_chat_id=4950)
    session.commit()
    done = execute_run(ctx=RunContext(engine=engine, worker_id="w1", clock=lambda: NOW), job="brief", period=run.period)
    assert done is not None and done.state == "done", done
    session.expire_all()
    told = [m.text for m in session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 4950)).all() if m.text]
    assert told[0].startswith("“工作简报”（2026年12月1日）已运行完毕：第"), told
    with pytest.raises(ScheduleError) as refused:
        request_run_now(session=session, job="brief", actor="member:1", period=day, now=NOW + timedelta(minutes=5))
    assert refused.value.message.startswith("“工作简报”2026年12月1日已于"), refused.value.message
    assert "季度简报" not in told[0] + refused.value.message
    assert run_label("brief", "2026Q4") == "季度简报" and run_label("brief", "adhoc-20261201T100000") == "工作简报"
    assert run_label("brief", "2026H2") == "工作简报"
    assert run_label("daily_digest", day) == "每日逾期督办" and run_label("review", "2026H2") == "半年工作问效"


def test_a_failed_run_says_what_failed_and_what_happens_next(engine, session: Session, monkeypatch) -> None:
    def broken(*, session, period, now):
        raise ScheduleError("简报模板缺失。")

    monkeypatch.setitem(jobs.registry.JOBS, "brief", broken)
    ensure_default_schedules(session=session, now=NOW)
    run = request_run_now(session=session, job="brief", actor="member:1", now=NOW, notify_chat_id=77)
    session.commit()
    clock = [NOW]
    ctx = RunContext(engine=engine, worker_id="w1", clock=lambda: clock[0], max_attempts=2)
    execute_run(ctx=ctx, job="brief", period=run.period)
    clock[0] = NOW + timedelta(minutes=10)
    execute_run(ctx=ctx, job="brief", period=run.period)
    texts = [
        m.text
        for m in session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 77).order_by(OutboxMessage.id))
    ]
    assert texts[0].startswith(
        "“工作简报”（临时一期）这次没有运行成功：简报模板缺失。\n系统将在约5分钟后自动重试（已试1次，最多2次）"
    )
    assert texts[1].startswith(
        "“工作简报”（临时一期）运行失败，已停止自动重试：简报模板缺失。\n请按上面的提示处理后，在 /schedule 中再点“立即运行”"
    )
    assert len(texts) == 2
