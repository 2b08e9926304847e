"""Admins set the worker's schedules in chat; the convener calls an ad-hoc meeting."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlmodel import select

from jobs.worker import Worker
from models import JobSchedule, Meeting, Role, ScheduledRun, session_scope, utcnow
from oversight.dates import local_zone
from oversight.schedules import next_fire_time
from tests.harness import running_bot
from tests.test_worker import FAST, calls, stored_next_run, wait_for  # noqa: F401 (fixture)


async def test_cron_change_in_chat_reaches_the_running_worker_without_restart(engine, banner_plan_id, calls):  # noqa: F811 - pytest fixture imported above
    worker = Worker(engine=engine, worker_id="w-chat", **FAST)
    task = asyncio.create_task(worker.run_forever())
    await wait_for(lambda: worker.active)
    try:
        async with running_bot(engine, banner_plan_id) as h:
            admin = await h.join(9301, "管理员", "旗政府办公室", Role.ADMIN)
            listing = await h.say(admin, "/schedule", "定时任务")
            assert "每周报送提醒" in listing["text"] and "季度简报" in listing["text"]
            assert "每季度结束后第5个工作日" in listing["text"]
            ask = await h.press(admin, listing, "改时间·每日逾期督办", "新时间表达式")
            assert "0 8 * * *" in ask["text"]
            bad = await h.say(admin, "0 25 * * *", "不是有效")
            assert "小时" in bad["text"]
            done = await h.say(admin, "30 7 * * 2", "已将")
            assert "即日起按新时间执行" in done["text"]  # the running worker takes it up without a restart
            expected = next_fire_time("30 7 * * 2", utcnow())
            await wait_for(lambda: stored_next_run(engine, "daily_digest") == expected.timestamp())
            job = worker.scheduler.get_job("daily_digest")
            assert (job.next_run_time.hour, job.next_run_time.minute, job.next_run_time.weekday()) == (7, 30, 1)
            # Pause from chat (the first row is the quarterly brief): the worker's job stops.
            listing = await h.press(admin, await h.say(admin, "/schedule", "定时任务"), "暂停", "已暂停")
            assert "季度简报" in listing["text"]
            await wait_for(lambda: stored_next_run(engine, "brief") is None)
            # A contact cannot reach the schedule at all.
            contact = await h.join(9302, "联络员", "林草局", Role.CONTACT)
            no = await h.say(contact, "/schedule", "不能使用")
            assert no
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 5)
    with session_scope(engine) as s:
        row = s.exec(select(JobSchedule).where(JobSchedule.job == "daily_digest")).one()
        assert row.cron == "30 7 * * 2" and row.updated_by.startswith("member:")


async def test_convener_calls_an_adhoc_meeting_and_the_worker_is_asked_for_its_brief(engine, banner_plan_id):
    async with running_bot(engine, banner_plan_id) as h:
        convener = await h.join(9401, "召集人", "旗人民政府", Role.CONVENER)
        ask = await h.say(convener, "/meeting 研究查干此老整合区用地问题", "请发送会议日期和时间")
        assert "临时加开（研究查干此老整合区用地问题）" in ask["text"]
        day = datetime.now(local_zone()) + timedelta(days=1)
        card = await h.say(convener, f"{day.month}月{day.day}日 15:00", "议程")
        assert "临时加开联席会议（研究查干此老整合区用地问题）" in card["text"] and "15:00" in card["text"]
        contact = await h.join(9402, "联络员", "林草局", Role.CONTACT)
        await h.say(contact, "/meeting", "不能使用")
    with session_scope(engine) as s:
        meeting = s.exec(select(Meeting)).one()
        assert meeting.kind == "adhoc" and meeting.title == "临时加开联席会议（研究查干此老整合区用地问题）"
        assert meeting.state == "scheduled" and meeting.held_on == day.date()
        run = s.exec(select(ScheduledRun).where(ScheduledRun.job == "brief")).one()
        assert run.period == meeting.held_on.isoformat() and run.state == "pending"
