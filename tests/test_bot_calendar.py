"""In chat, through the real bot over HTTP: an admin adds a year from the pasted notice (shown back,
confirmed, stored), a broken notice is refused with its line named, and schedules are set in words
with the next three runs; an every-minute schedule is refused for a job that messages people."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import AuditLog, CalendarYear, JobSchedule, Role, RunWatcher, session_scope
from oversight.schedules import describe
from tests.harness import running_bot
from tests.test_holiday_notice import MADE_UP_2027
from tests.test_schedule_words import PHRASES


async def test_admin_adds_a_year_from_the_pasted_notice(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(9501, "管理员", "旗政府办公室", Role.ADMIN)
        opening = await h.say(admin, "/calendar", "请粘贴或转发")
        assert "软件包自带：2004–2026年" in opening["text"] and "2027年起没有节假日数据" in opening["text"]

        refused = await h.say(
            admin, MADE_UP_2027.replace("5月1日（周六）至5日（周三）", "5月5日（周三）至1日（周六）"), "未能读取"
        )
        assert "第5行“四、劳动节" in refused["text"] and "日期范围倒置：5月5日至5月1日" in refused["text"]

        confirm = await h.say(admin, MADE_UP_2027, "确认无误")  # the flow stayed open: pasted again
        done = await h.press(admin, confirm, "确认保存", "已保存2027年")
        assert "按新日历计算" in done["text"]

        shown = await h.say(admin, "/calendar 2027", "2027年节假日安排")
        assert "春节：2月6日（周六）至2月14日（周日）放假，共9天；2月20日（周六）上班。" in shown["text"]

        contact = await h.join(9502, "联络员", "林草局", Role.CONTACT)
        await h.say(contact, "/calendar", "不能使用")
    with session_scope(engine) as s:
        row = s.exec(select(CalendarYear)).one()
        assert row.year == 2027 and row.stored_by.startswith("member:")
        assert s.exec(select(AuditLog).where(AuditLog.action == "calendar.stored")).one().actor == row.stored_by


@pytest.mark.parametrize(("said", "expr", "shown", "upcoming"), PHRASES[:7], ids=[p[0] for p in PHRASES[:7]])
async def test_admin_sets_a_schedule_in_words(engine, banner_plan_id, said, expr, shown, upcoming):
    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(9601, "管理员", "旗政府办公室", Role.ADMIN)
        listing = await h.say(admin, "/schedule", "定时任务")
        await h.press(admin, listing, "改时间·每日逾期督办", "新时间")
        done = await h.say(admin, said, "已将")
        assert f"已将“每日逾期督办”改为：{shown}（{expr}）。" in done["text"]
        assert "接下来三次运行：" in done["text"] and done["text"].count("年") >= 3
    with session_scope(engine) as s:
        assert s.exec(select(JobSchedule).where(JobSchedule.job == "daily_digest")).one().cron == expr
    assert describe(expr) == shown


async def test_every_minute_is_refused_for_a_messaging_job_and_run_now_speaks_plainly(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        admin = await h.join(9701, "管理员", "旗政府办公室", Role.ADMIN)
        listing = await h.say(admin, "/schedule", "定时任务")
        await h.press(admin, listing, "改时间·每周报送提醒", "新时间")
        refused = await h.say(admin, "*/1 * * * *", "最多每小时")
        assert "“每周报送提醒”每次运行都会给各单位联络员发送消息" in refused["text"] and "每分钟" in refused["text"]
        listing = await h.say(admin, "/schedule", "定时任务")
        asked = await h.press(admin, listing, "立即运行", "已安排立即运行")
        assert "（临时一期）" in asked["text"] and "运行完成后会把结果发给您" in asked["text"]
        assert "adhoc" not in asked["text"]
    with session_scope(engine) as s:
        assert s.exec(select(JobSchedule).where(JobSchedule.job == "weekly_reminder")).one().cron == "0 9 * * 1"
        assert s.exec(select(RunWatcher)).one().chat_id == 9701
