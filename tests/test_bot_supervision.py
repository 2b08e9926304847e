"""督办 through the real bot on the local Bot API server: a problem past its deadline by more than
ten working days turns red; the unit gets the red notice and its numbered 督办单 (PDF text read
back); the office lists /duban and presses 催办 (logged, counted for the review, the unit told);
refusals — another member pressing the office's button, a 催办 of a closed item — answer in
Chinese and change nothing."""

from __future__ import annotations

from datetime import date, timedelta

from pypdf import PdfReader
from sqlmodel import Session, select

from jobs.supervision import run_supervision
from models import AuditLog, Member, Problem, SupervisionEvent, SupervisionOrder, session_scope, utcnow
from oversight.dates import local_day
from oversight.supervision import refresh, urge_counts
from oversight.workdays import add_workdays, is_workday
from tests.harness import button_data, buttons, running_bot
from tests.test_accountability import Cast

WAIT = 15.0


def urged_shown(engine, pid: int, shown: str) -> None:
    """The office's reply to 催办 as sent is its fact, recounted from the urge events and the outbox."""
    from oversight import supervision as S
    from tests.chatfacts import assert_urged_facts

    with session_scope(engine) as s:
        item = S.find_item(
            session=s, plan_id=s.get(Problem, pid).plan_id, kind="problem", item_id=pid, today=local_day(utcnow())
        )
        chat = S.urged_facts(session=s, item=item)
        assert shown == chat.message()
        assert_urged_facts(s, "problem", pid, chat.message(), chat.listed())


def test_an_urge_says_whom_it_reached(session: Session, banner_plan_id: int) -> None:
    """催办 of a unit with two contacts in chat says 已通知旗林草局的2名联络员; with none left it says
    the unit has no contact and nobody was told, never 已通知 — each recounted from the record."""
    from oversight import supervision as S
    from tests.chatfacts import assert_urged_facts

    now = utcnow()
    cast = Cast(session, banner_plan_id)
    second = cast.member("forestry", "contact")
    pid = cast.raise_(owner="forestry", when=now - timedelta(days=40))
    problem = session.get(Problem, pid)
    problem.due_on = _days_from_today(-3)
    session.add(problem)
    session.commit()
    said = []
    for step in ("two", "none"):
        if step == "none":
            for m in (cast["forestry"], second):
                m.active = False
                session.add(m)
            session.flush()
        item = S.urge(session=session, actor=cast.office, kind="problem", item_id=pid, now=utcnow())
        chat = S.urged_facts(session=session, item=item)
        assert_urged_facts(session, "problem", pid, chat.message(), chat.listed())
        said.append(chat.message())
    assert said[0].endswith("（第1次），已通知旗林草局的2名联络员。"), said
    assert said[1].endswith("（第2次）。旗林草局目前没有联络员加入，本次催办未能通知到人。"), said


async def test_red_order_then_urge_and_refusals(settings_env, engine, banner_plan_id, tmp_path):
    now = utcnow()
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        pid = cast.raise_(owner="forestry", when=now - timedelta(days=40))
        problem = s.get(Problem, pid)
        problem.due_on = _days_from_today(-11)  # eleven working days late today
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
        own = await h.say(f, "/duban", "红色1项")
        assert f"{pid}号问题" in own["text"] and "催办" not in buttons(own)
        await h.say(w, "/duban", "目前没有需要督办的事项")
        # The convener reads the list but has no 催办 button.
        c = h.server.user(convener, "成员")
        listed = await h.say(c, "/duban", "红色1项")
        assert "催办" not in buttons(listed)

        # The office: one button per item; pressing it logs the 催办 and tells the unit.
        await h.say(o, "/duban", "红色1项")
        card = await h.server.wait_for(o.id, lambda m: buttons(m) == ["催办"], timeout=WAIT)
        assert f"{pid}号问题" in card["text"]
        done = await h.press(o, card, "催办", "已催办")
        assert f"{pid}号问题" in done["text"] and "第1次" in done["text"]
        urged_shown(engine, pid, done["text"])
        told = await h.server.wait_for(f.id, "【催办】", timeout=WAIT)
        assert f"{pid}号问题" in told["text"] and "已逾期11个工作日" in told["text"]

        # The problem's own card carries the same button for the office (not for the unit).
        mine = await h.say(f, f"/problem {pid}", f"{pid}号问题")
        assert "催办" not in buttons(mine)
        shown = await h.say(o, f"/problem {pid}", f"{pid}号问题")
        assert buttons(shown)[-1] == "催办"
        again = await h.press(o, shown, "催办", "已催办")
        assert "第2次" in again["text"]
        urged_shown(engine, pid, again["text"])

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
        # Issued just now, its 办结时限 is five working days away.
        assert section["paragraphs"] == [
            "本期旗林草局被催办2次、收到红色督办单1份。",
            "本期发出红色督办单1份，尚未到办结时限。",
        ]


def _duban_facts(engine, member_id: int) -> tuple[list[dict], str]:
    from oversight.supervision import duban_summary

    with session_scope(engine) as s:
        member = s.get(Member, member_id)
        assert member is not None
        chat = duban_summary(session=s, member=member, today=local_day(utcnow())).summary
        return chat.listed(), chat.message()


def _due(engine, pid: int, workdays: int) -> None:
    """Problem `pid` due `workdays` working days from today (negative: that many days late)."""
    with session_scope(engine) as s:
        problem = s.get(Problem, pid)
        problem.due_on = _days_from_today(workdays)
        s.add(problem)


def _days_from_today(workdays: int) -> date:
    """`workdays` working days from today; late by that many working days when negative, counted
    from the last working day up to today (on a Saturday, 11 working days before the Friday): a
    weekend day adds no working day to a lateness, so counting back from it would leave one short."""
    today = local_day(utcnow())
    if workdays >= 0:
        return add_workdays(today, workdays)
    while not is_workday(today):
        today -= timedelta(days=1)
    return add_workdays(today, workdays)


async def test_duban_is_its_facts_counting_only_the_colours_some_item_has(settings_env, engine, banner_plan_id):
    """/duban before anything is under 督办 says so, to the office and to a unit in its own name;
    with 林草局's problems red and yellow and 水利局's blue, the office's count names the three
    colours, each unit's only its own; 林草局's yellow problem closed, nobody reads 黄色 again (no
    黄色0项); 22 more blue problems: twenty lines, the rest counted by 另有N项 and cited there, one
    催办 card per listed line. Every reply is its facts and a recount from supervisionmark agrees."""
    from tests.chatfacts import assert_duban_facts, kinds

    now = utcnow()
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        red = cast.raise_(owner="forestry", when=now - timedelta(days=40))
        yellow = cast.raise_(owner="forestry", when=now - timedelta(days=20))
        blue = cast.raise_(owner="water", when=now - timedelta(days=1))
        many = [cast.raise_(owner="water", when=now - timedelta(days=1)) for _ in range(22)]
        people = {k: (m.id, m.telegram_user_id) for k, m in (("forestry", cast["forestry"]), ("water", cast["water"]))}
        people |= {"office": (cast.office.id, cast.office.telegram_user_id)}
        s.commit()
    for pid in (red, yellow, blue, *many):
        _due(engine, pid, 30)  # not yet due soon: nothing under 督办

    async with running_bot(engine, banner_plan_id) as h:
        users = {k: (mid, h.server.user(tid, "成员")) for k, (mid, tid) in people.items()}

        async def duban(who: str, expect: str) -> tuple[dict, list[dict]]:
            mid, user = users[who]
            reply = await h.say(user, "/duban", expect)
            listed, message = _duban_facts(engine, mid)
            with session_scope(engine) as s:
                assert reply["text"] == message
                assert_duban_facts(s, mid, reply["text"], listed)
            return reply, listed

        with session_scope(engine) as s:
            refresh(session=s, plan_id=banner_plan_id, now=utcnow())
        reply, _ = await duban("office", "督办")
        assert reply["text"] == "目前没有需要督办的事项。"
        reply, _ = await duban("water", "督办")
        assert reply["text"] == "旗水利局目前没有需要督办的事项。"

        _due(engine, red, -11)
        _due(engine, yellow, -2)
        _due(engine, blue, 1)
        with session_scope(engine) as s:
            refresh(session=s, plan_id=banner_plan_id, now=utcnow())
        reply, listed = await duban("office", "督办事项共3项")
        lines = reply["text"].splitlines()
        assert lines[0] == "督办事项共3项：红色1项，黄色1项，蓝色1项。"
        assert lines[1].startswith(f"🔴 旗林草局：{red}号问题（") and lines[1].endswith("已逾期11个工作日")
        assert lines[2].startswith(f"🟡 旗林草局：{yellow}号问题（") and lines[2].endswith("已逾期2个工作日")
        assert lines[3].startswith(f"🔵 旗水利局：{blue}号问题（") and "逾期" not in lines[3]
        cards = [await h.server.wait_for(users["office"][1].id, f"{pid}号问题（", timeout=WAIT) for pid in (red, blue)]
        assert all(buttons(c) == ["催办"] for c in cards)
        own, _ = await duban("forestry", "督办事项共2项")
        assert own["text"].splitlines()[0] == "旗林草局督办事项共2项：红色1项，黄色1项。" and "蓝色" not in own["text"]
        assert "催办" not in buttons(own)
        theirs, _ = await duban("water", "督办事项共1项")
        assert theirs["text"].splitlines()[0] == "旗水利局督办事项共1项：蓝色1项。"

        # The yellow problem closed (its mark not yet ended by a refresh): no colour with no item.
        with session_scope(engine) as s:
            row = s.get(Problem, yellow)
            row.state = "closed"
            s.add(row)
        reply, _ = await duban("office", "督办事项共2项")
        assert reply["text"].splitlines()[0] == "督办事项共2项：红色1项，蓝色1项。" and "黄色" not in reply["text"]
        own, _ = await duban("forestry", "督办事项共1项")
        assert own["text"].splitlines()[0] == "旗林草局督办事项共1项：红色1项。"

        # More than twenty: twenty lines and cards, the rest counted and cited by 另有.
        for pid in many:
            _due(engine, pid, 2)
        with session_scope(engine) as s:
            refresh(session=s, plan_id=banner_plan_id, now=utcnow())
        reply, listed = await duban("office", "督办事项共24项")
        lines = reply["text"].splitlines()
        assert lines[0] == "督办事项共24项：红色1项，蓝色23项。" and lines[-1] == "……另有4项未列出。"
        assert kinds(listed).count("item") == 20 and len(lines) == 22
        cards = [await h.server.wait_for(users["office"][1].id, lambda m: buttons(m) == ["催办"]) for _ in range(20)]
        for card, line in zip(cards, lines[1:21], strict=True):  # each card the item of its line
            light, label = card["text"].split(" ", 1)
            assert line.startswith(f"{light} ") and f"：{label}，期限" in line, (card["text"], line)
