"""督办 through the real bot on the local Bot API server: a problem past its deadline by more than
ten working days turns red; the unit gets the red notice and its numbered 督办单 (PDF text read
back); the office lists /duban and presses 催办 (logged, counted for the review, the unit told);
refusals — another member pressing the office's button, a 催办 of a closed item — answer in
Chinese and change nothing."""

from __future__ import annotations

from datetime import timedelta

from pypdf import PdfReader
from sqlmodel import Session, select

from jobs.supervision import run_supervision
from models import AuditLog, Problem, SupervisionEvent, SupervisionOrder, session_scope, utcnow
from oversight.dates import local_day
from oversight.supervision import urge_counts
from oversight.workdays import add_workdays
from tests.harness import button_data, buttons, running_bot
from tests.test_accountability import Cast

WAIT = 15.0


async def test_red_order_then_urge_and_refusals(settings_env, engine, banner_plan_id, tmp_path):
    now = utcnow()
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        pid = cast.raise_(owner="forestry", when=now - timedelta(days=40))
        problem = s.get(Problem, pid)
        problem.due_on = add_workdays(local_day(now), -11)  # eleven working days late today
        s.add(problem)
        s.commit()
        result = run_supervision(session=s, now=now, data_dir=tmp_path)
        s.commit()
        [order] = s.exec(select(SupervisionOrder)).all()
        ids = (cast["forestry"].telegram_user_id, cast["water"].telegram_user_id, cast.office.telegram_user_id)
        convener = cast.convener.telegram_user_id
    assert result["orders"][0]["doc_no"] == order.doc_no
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(order.pdf_path).pages)
    assert order.doc_no in text and "旗林草局" in text and f"{pid}号问题" in text and "红色督办" in text

    async with running_bot(engine, banner_plan_id) as h:
        f, w, o = (h.server.user(i, "成员") for i in ids)
        red = await h.server.wait_for(f.id, "【督办·红色】", timeout=WAIT)
        assert order.doc_no in red["text"] and f"{pid}号问题" in red["text"]

        # The unit sees its own red item, without a 催办 button; another unit sees none.
        own = await h.say(f, "/duban", "红色 1 项")
        assert f"{pid}号问题" in own["text"] and "催办" not in buttons(own)
        await h.say(w, "/duban", "目前没有需要督办的事项")
        # The convener reads the list but has no 催办 button.
        c = h.server.user(convener, "成员")
        listed = await h.say(c, "/duban", "红色 1 项")
        assert "催办" not in buttons(listed)

        # The office: one button per item; pressing it logs the 催办 and tells the unit.
        await h.say(o, "/duban", "红色 1 项")
        card = await h.server.wait_for(o.id, lambda m: buttons(m) == ["催办"], timeout=WAIT)
        assert f"{pid}号问题" in card["text"]
        done = await h.press(o, card, "催办", "已催办")
        assert f"{pid}号问题" in done["text"] and "第 1 次" in done["text"]
        told = await h.server.wait_for(f.id, "【催办】", timeout=WAIT)
        assert f"{pid}号问题" in told["text"] and "已逾期11个工作日" in told["text"]

        # The problem's own card carries the same button for the office (not for the unit).
        mine = await h.say(f, f"/problem {pid}", f"{pid}号问题")
        assert "催办" not in buttons(mine)
        shown = await h.say(o, f"/problem {pid}", f"{pid}号问题")
        assert buttons(shown)[-1] == "催办"
        again = await h.press(o, shown, "催办", "已催办")
        assert "第 2 次" in again["text"]

        # The office's button pressed by the unit's contact: not theirs, nothing logged.
        query = await f.press(card["message_id"], button_data(card, "催办"), check=False)
        assert "不是发给您的" in ((await h.server.wait_for_answer(query["id"]))["text"] or "")

        # The problem closed: the same button answers that there is nothing to urge.
        with session_scope(engine) as s:
            row = s.get(Problem, pid)
            row.state = "closed"
            s.add(row)
        query = await o.press(card["message_id"], button_data(card, "催办"), check=False)
        answer = await h.server.wait_for_answer(query["id"])
        stale = answer["text"] or (h.server.last(o.id) or {}).get("text", "")
        assert "已办结或已不在办理中" in stale, answer

    with session_scope(engine) as s:
        urges = s.exec(select(SupervisionEvent).where(SupervisionEvent.action == "urge")).all()
        assert len(urges) == 2
        assert [a.action for a in s.exec(select(AuditLog).where(AuditLog.action.startswith("supervision."))).all()] == [
            "supervision.order_issued",
            "supervision.urged",
            "supervision.urged",
        ]
        counts = urge_counts(
            session=s, plan_id=banner_plan_id, start=now - timedelta(days=1), end=utcnow() + timedelta(days=1)
        )
        assert counts == {urges[0].unit_id: 2}

        # The review counts the 催办 and the order against the unit.
        from oversight.periods import parse_period
        from oversight.review import build_review, review_document

        half = parse_period(f"{local_day(now).year}H{1 if local_day(now).month <= 6 else 2}").key
        review = build_review(session=s, plan_id=banner_plan_id, period=half, now=utcnow())
        assert [(r["unit"], r["urged"], r["orders"]) for r in review["supervision"]] == [("旗林草局", 2, 1)]
        doc = review_document(session=s, plan_id=banner_plan_id, review=review, now=utcnow())
        [section] = [x for x in doc["sections"] if x["heading"] == "督办与催办"]
        assert section["paragraphs"] == ["本期旗林草局被催办2次、收到红色督办单1份。"]
