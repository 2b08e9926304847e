"""督办 in three colours on a real database: a problem turns blue, yellow, then red as working days
pass (the clock is each call's `now`), each change told once to the owning unit; red issues a
numbered 督办单 whose PDF reads back with its number, unit and item; numbers are never reused; a
closed item loses its colour; the daily digest counts items by colour."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from pypdf import PdfReader
from sqlmodel import Session, select

from jobs.reminders import send_daily_digest
from jobs.supervision import run_supervision
from models import OutboxMessage, Problem, SupervisionEvent, SupervisionOrder
from oversight import supervision as sv
from oversight.workdays import add_workdays, workdays_between
from tests.test_accountability import SH, Cast


def _at(day) -> datetime:  # 09:00 Beijing time on `day`
    return datetime.combine(day, time(9), tzinfo=SH)


def _pdf_text(path: str) -> str:
    return "".join("".join(page.extract_text().split()) for page in PdfReader(path).pages)


def _texts(s: Session, chat_id: int | None) -> list[str]:
    return [
        m.text
        for m in s.exec(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id, OutboxMessage.kind == "text")
        ).all()
    ]


def test_colour_definition():
    d = date(2026, 4, 15)  # a Wednesday
    assert sv.colour(due_on=d, today=date(2026, 4, 1), blue_days=3, red_days=10) is None
    assert sv.colour(due_on=d, today=date(2026, 4, 10), blue_days=3, red_days=10) == sv.BLUE  # Fri: 3 days left
    assert sv.colour(due_on=d, today=date(2026, 4, 9), blue_days=3, red_days=10) is None  # Thu: 4 days left
    assert sv.colour(due_on=d, today=d, blue_days=3, red_days=10) == sv.BLUE  # due today: not yet late
    assert sv.colour(due_on=d, today=date(2026, 4, 16), blue_days=3, red_days=10) == sv.YELLOW
    assert sv.colour(due_on=d, today=date(2026, 4, 29), blue_days=3, red_days=10) == sv.YELLOW  # 10 days late
    assert sv.colour(due_on=d, today=date(2026, 4, 30), blue_days=3, red_days=10) == sv.RED  # 11 days late
    assert sv.colour(due_on=d, today=date(2026, 4, 1), reopened=2, blue_days=3, red_days=10) == sv.RED


def test_problem_blue_yellow_red_with_its_order(engine, banner_plan_id, tmp_path):
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        start = _at(date(2026, 3, 2))
        pid = cast.raise_(owner="forestry", when=start)
        s.commit()
        due = s.get(Problem, pid).due_on
        forestry = cast["forestry"]
        office = cast.office

        # Four working days before the deadline: no colour; three: blue, told once.
        run_supervision(session=s, now=_at(add_workdays(due, -4)), data_dir=tmp_path)
        assert sv.find_item(session=s, plan_id=banner_plan_id, kind="problem", item_id=pid, today=due).colour == sv.BLUE
        assert not [t for t in _texts(s, forestry.telegram_user_id) if "督办" in t]
        for _ in range(2):
            run_supervision(session=s, now=_at(add_workdays(due, -3)), data_dir=tmp_path)
        told = [t for t in _texts(s, forestry.telegram_user_id) if "督办" in t]
        assert len(told) == 1 and "【督办提醒·蓝色】" in told[0] and f"{pid}号问题" in told[0]

        # The day after: yellow.
        run_supervision(session=s, now=_at(add_workdays(due, 1)), data_dir=tmp_path)
        told = [t for t in _texts(s, forestry.telegram_user_id) if "督办" in t]
        assert len(told) == 2 and "【督办·黄色】" in told[1] and "已逾期1个工作日" in told[1]

        # Eleven working days late: red, with a numbered order sent to the unit and the office.
        late = _at(add_workdays(due, 11))
        result = run_supervision(session=s, now=late, data_dir=tmp_path)
        s.commit()
        [order] = s.exec(select(SupervisionOrder)).all()
        assert order.doc_no == "乌中联办督〔2026〕1号" and result["orders"][0]["doc_no"] == order.doc_no
        told = [t for t in _texts(s, forestry.telegram_user_id) if "督办" in t]
        assert len(told) == 3 and "【督办·红色】" in told[2] and order.doc_no in told[2]
        # The chat writes the figure as the 督办单 does: 已逾期11个工作日, never 已逾期 11 个工作日.
        assert "已逾期11个工作日" in told[2]
        assert not [t for t in told if re.search(r"逾期 |\d 个工作日| \d+个工作日", t)], told
        text = _pdf_text(order.pdf_path)
        for part in (order.doc_no, "督办单", "旗林草局", f"{pid}号问题", "红色督办", "已逾期11个工作日"):
            assert part in text, part
        for chat in (forestry.telegram_user_id, office.telegram_user_id):
            docs = s.exec(
                select(OutboxMessage).where(OutboxMessage.chat_id == chat, OutboxMessage.kind == "document")
            ).all()
            assert sorted(d.payload["filename"].rsplit(".", 1)[1] for d in docs) == ["docx", "pdf"]
        colours = [
            (e.from_colour, e.to_colour)
            for e in s.exec(select(SupervisionEvent).where(SupervisionEvent.action == "colour")).all()
        ]
        assert colours == [("", "blue"), ("blue", "yellow"), ("yellow", "red")]

        # Run again: nothing new; the digest counts it as red.
        run_supervision(session=s, now=late, data_dir=tmp_path)
        assert len(s.exec(select(SupervisionOrder)).all()) == 1
        send_daily_digest(session=s, period=late.date().isoformat(), now=late)
        digest = [t for t in _texts(s, office.telegram_user_id) if t.startswith("【每日督办】")]
        assert digest and "督办事项：红色1项（发送 /duban 查看并催办）。" in digest[-1]

        # A second problem turned red later gets the next number, never the first one again.
        p2 = cast.raise_(owner="water", when=late, category="water_permit")
        s.commit()
        due2 = s.get(Problem, p2).due_on
        run_supervision(session=s, now=_at(add_workdays(due2, 12)), data_dir=tmp_path)
        numbers = [o.doc_no for o in s.exec(select(SupervisionOrder).order_by(SupervisionOrder.id)).all()]
        assert numbers == ["乌中联办督〔2026〕1号", "乌中联办督〔2026〕2号"]


def test_urge_refused_to_others_and_for_a_closed_item_and_reopened_twice_is_red(engine, banner_plan_id, tmp_path):
    import pytest

    from models import AuditLog, ProblemEvent
    from oversight.errors import InvalidStateError, PermissionDeniedError

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        start = _at(date(2026, 3, 2))
        pid = cast.raise_(owner="forestry", when=start)
        s.commit()
        for who in (cast.convener, cast["water"], cast["forestry"]):
            with pytest.raises(PermissionDeniedError, match="只有联席会议办公室可以催办"):
                sv.urge(session=s, actor=who, kind="problem", item_id=pid, now=start)
        assert s.exec(select(SupervisionEvent)).all() == []
        refused = s.exec(select(AuditLog).where(AuditLog.action == "supervision.refused")).all()
        assert len(refused) == 3

        # Reopened twice: red whatever the deadline, with its order.
        for _ in range(2):
            s.add(ProblemEvent(problem_id=pid, kind="reopened", actor_unit_id=cast.uid("emergency"), at=start))
        s.commit()
        run_supervision(session=s, now=start, data_dir=tmp_path)
        [order] = s.exec(select(SupervisionOrder)).all()
        assert order.data["why"] == "已退回重办2次" and "已退回重办2次" in _pdf_text(order.pdf_path)

        # Closed: nothing to urge, nothing logged; its colour ends.
        problem = s.get(Problem, pid)
        problem.state = "closed"
        s.add(problem)
        s.commit()
        with pytest.raises(InvalidStateError, match="已办结或已不在办理中"):
            sv.urge(session=s, actor=cast.office, kind="problem", item_id=pid, now=start)
        result = sv.refresh(session=s, plan_id=banner_plan_id, now=start)
        assert result["changes"] == [{"kind": "problem", "id": pid, "from": "red", "to": ""}]
        assert [e.action for e in s.exec(select(SupervisionEvent)).all()] == ["colour", "colour"]


def test_daily_digest_is_its_facts_and_its_heading_matches_its_items(engine, banner_plan_id, tmp_path):
    """A problem reopened twice before its deadline is red but not late: the digest is headed 督办事项
    and says why the red is red. When its deadline passes and another problem is late too, 逾期事项;
    a second problem reopened twice makes it 逾期及督办事项. Past thirty lines the 另有N项 line cites
    exactly the problems left out. Every line is checked against queries of the record."""
    from models import ProblemEvent
    from oversight.digest import digest_summary
    from tests.chatfacts import assert_digest_facts, cited

    def digest_on(s: Session, day) -> tuple[str, list[dict]]:
        now = _at(day)
        send_daily_digest(session=s, period=day.isoformat(), now=now)
        sent = [t for t in _texts(s, cast.office.telegram_user_id) if t.startswith(f"【每日督办】{day.year}年")]
        summary = digest_summary(session=s, plan_id=banner_plan_id, day=day)
        assert summary is not None and sent and sent[-1] == summary.message()
        listed = summary.listed()
        assert_digest_facts(s, banner_plan_id, day, sent[-1], listed)
        return sent[-1], listed

    def reopen_twice(s: Session, pid: int, when: datetime) -> None:
        for _ in range(2):
            s.add(ProblemEvent(problem_id=pid, kind="reopened", actor_unit_id=cast.uid("emergency"), at=when))
        s.commit()

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        start = date(2026, 3, 2)
        reopened = cast.raise_(owner="forestry", when=_at(start))
        s.commit()
        reopen_twice(s, reopened, _at(start))
        text, listed = digest_on(s, start)
        assert text.splitlines()[0] == "【每日督办】2026年3月2日 督办事项"
        assert "督办事项：红色1项（其中1项系两次以上退回重办）（发送 /duban 查看并催办）。" in text
        assert "逾期未办结" not in text and cited(listed, "colours", "problem") == {reopened}

        # Its deadline passes and a second problem, raised the same day, is late as well.
        late = cast.raise_(owner="water", when=_at(start), category="water_permit")
        s.commit()
        day = add_workdays(max(s.get(Problem, reopened).due_on, s.get(Problem, late).due_on), 2)
        text, listed = digest_on(s, day)
        assert text.splitlines()[0] == f"【每日督办】{day.year}年{day.month}月{day.day}日 逾期事项"
        assert "一、逾期未办结的问题（2个）" in text and "其中" not in text
        assert cited(listed, "problem", "problem") == {reopened, late}

        # Another one reopened twice before its deadline: overdue items and one only under 督办.
        fresh = cast.raise_(owner="natres", when=_at(day), category="water_permit")
        s.commit()
        reopen_twice(s, fresh, _at(day))
        day = add_workdays(day, 1)
        text, listed = digest_on(s, day)
        assert text.splitlines()[0].endswith(" 逾期及督办事项")
        assert "其中1项系两次以上退回重办" in text and fresh not in cited(listed, "problem", "problem")

        # Thirty-one more late problems: thirty lines, the rest cited by 另有N项.
        extra = []
        for i in range(31):
            p = Problem(
                plan_id=banner_plan_id,
                text=f"第{i + 1}宗用地手续未批",
                raised_by_unit_id=cast.uid("office"),
                owner_unit_id=cast.uid("eco"),
                due_on=date(2026, 3, 3),
            )
            s.add(p)
            s.flush()
            extra.append(int(p.id or 0))
        s.commit()
        day = add_workdays(day, 1)
        text, listed = digest_on(s, day)
        (more,) = [f for f in listed if f["kind"] == "more"]
        assert more["text"] == "……另有3项未列出，请在机器人中查看待办。" and len(more["ids"]["problem"]) == 3
        assert "一、逾期未办结的问题（33个）" in text


def _red_order(s: Session, cast: Cast, owner: str, text: str, tmp_path) -> tuple[int, SupervisionOrder, dict]:
    """A problem of `owner` with `text`, raised on 2 March and left 11 working days past its due
    day: red, with its 督办单 (pid, the order, its document)."""
    pid = cast.raise_(owner=owner, when=_at(date(2026, 3, 2)))
    problem = s.get(Problem, pid)
    problem.text = text
    s.commit()
    run_supervision(session=s, now=_at(add_workdays(problem.due_on, 11)), data_dir=tmp_path)
    s.commit()
    [order] = s.exec(select(SupervisionOrder)).all()
    return pid, order, sv.order_document(session=s, order=order)


def test_an_order_names_its_item_by_number_in_its_title_and_its_text_without_a_full_stop(
    engine, banner_plan_id, tmp_path
):
    """A problem written as a sentence (…的意见。) turns red: the 督办单's title is 关于督促办理N号问题的
    督办单, not the whole text with its full stop inside the title's brackets (the demo's 督办单 read
    关于督促办理8号问题（…是否影响国防设施的意见。）的督办单 over three lines); its body, its 督办事项 field
    and the chat message name it N号问题（…的意见） with no 。 before the closing bracket, and the
    field no longer repeats the noun (问题 8号问题（…）)."""
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        written = "铎宝花岗岩整合区拓展范围邻近军事管理区，需人武部出具是否影响国防设施的意见。"
        pid, order, doc = _red_order(s, cast, "forestry", written, tmp_path)
        label = f"{pid}号问题（铎宝花岗岩整合区拓展范围邻近军事管理区，需人武部出具是否影响国防设施的意见）"
        assert doc["title"] == f"关于督促办理{pid}号问题的督办单"
        assert doc["paragraphs"][0].startswith(f"{label}由你单位负责办理")
        assert ["督办事项", label] in doc["fields"]
        text = _pdf_text(order.pdf_path)
        assert f"关于督促办理{pid}号问题的督办单" in text and "。）" not in text, text
        told = [t for t in _texts(s, cast["forestry"].telegram_user_id) if "【督办·红色】" in t]
        assert len(told) == 1 and told[0].startswith(f"【督办·红色】{label}已逾期11个工作日"), told


def test_an_order_states_a_long_problem_whole_while_chat_shortens_it(engine, banner_plan_id, tmp_path):
    """The demo's 2号督办单 printed 5号问题（…并编制水土…）: the chat label's 40 characters, cut in the
    middle of 水土保持方案, in an official form. The order states the problem whole, in its body and
    its 督办事项 field, PDF included; the red-mark message in chat still shortens it."""
    long_text = (
        "乌兰西萤石整合区原取水许可即将到期，整合后需按新规模重新申请取水许可并编制水土保持方案，"
        "涉及水利、自然资源两个部门，请联席会议办公室协调明确办理顺序。"
    )
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        pid, order, doc = _red_order(s, cast, "water", long_text, tmp_path)
        whole = f"{pid}号问题（{long_text.rstrip('。')}）"
        assert doc["paragraphs"][0].startswith(f"{whole}由你单位负责办理"), doc["paragraphs"][0]
        assert ["督办事项", whole] in doc["fields"]
        text = _pdf_text(order.pdf_path)
        assert "编制水土保持方案" in text and "请联席会议办公室协调明确办理顺序）" in text and "…" not in text, text
        told = [t for t in _texts(s, cast["water"].telegram_user_id) if "【督办·红色】" in t]
        assert len(told) == 1 and "…" in told[0] and len(told[0]) < len(whole) + 40, told


def test_a_problem_closed_in_time_and_reopened_after_its_deadline_is_late_from_the_reopening(
    engine, banner_plan_id, tmp_path
):
    """The audit's 督办单 1号: 11号问题 due 2月11日, resolved on 2月6日 and confirmed on 2月9日, reopened
    on 2月25日, went red on 3月4日 as 已逾期11个工作日, five of them days it stood closed. Its days late
    now count from the reopening: on 3月4日 it is yellow, 2026年2月25日重新办理以来已逾期6个工作日; it goes
    red only when held more than 10 working days after the reopening, and its order says so."""
    from oversight.problems import accept_problem, confirm_problem, reopen_problem, resolve_problem

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        pid = cast.raise_(owner="market_reg", when=_at(date(2026, 1, 28)))
        problem = s.get(Problem, pid)
        problem.due_on = date(2026, 2, 11)
        s.add(problem)
        accept_problem(session=s, problem_id=pid, actor=cast["market_reg"], now=_at(date(2026, 1, 29)))
        resolve_problem(
            session=s, problem_id=pid, actor=cast["market_reg"], evidence_text="执照已核发", now=_at(date(2026, 2, 6))
        )
        confirm_problem(session=s, problem_id=pid, actor=cast["emergency"], now=_at(date(2026, 2, 9)))
        reopen_problem(
            session=s, problem_id=pid, actor=cast["emergency"], reason="出资比例不一致", now=_at(date(2026, 2, 25))
        )
        s.commit()
        item = sv.find_item(session=s, plan_id=banner_plan_id, kind="problem", item_id=pid, today=date(2026, 3, 4))
        assert item is not None and (item.colour, item.overdue_days) == (sv.YELLOW, 6)
        assert item.late == "2026年2月25日重新办理以来已逾期6个工作日"
        run_supervision(session=s, now=_at(date(2026, 3, 4)), data_dir=tmp_path)
        s.commit()
        assert s.exec(select(SupervisionOrder)).all() == []
        told = [t for t in _texts(s, cast["market_reg"].telegram_user_id) if "【督办·黄色】" in t]
        assert told and "已超过办理期限（2026年2月11日），2026年2月25日重新办理以来已逾期6个工作日" in told[-1], told
        # Eleven working days after the reopening: red, and the order says from when it counts.
        red_day = add_workdays(date(2026, 2, 25), 11)
        run_supervision(session=s, now=_at(red_day), data_dir=tmp_path)
        s.commit()
        [order] = s.exec(select(SupervisionOrder)).all()
        assert order.data["why"] == "2026年2月25日重新办理以来已逾期11个工作日", order.data
        assert "办理期限为2026年2月11日，2026年2月25日重新办理以来已逾期11个工作日" in _pdf_text(order.pdf_path)


def _docx_text(path: str) -> str:
    import docx

    from jobs.word import iter_block_text

    return "".join("".join(t.split()) for t in iter_block_text(docx.Document(path)))


def _docx_of(order: SupervisionOrder) -> str:
    return _docx_text(order.docx_path or "")


def test_an_order_says_how_late_once(engine, banner_plan_id, tmp_path):
    """The demo's 督办单 read 已逾期11个工作日（超过10个工作日）: the second figure restates that the first
    is past the red threshold. The body, the form's 逾期情况 (PDF and Word) and the red message in chat
    say 已逾期11个工作日 once; an order stored with the old wording renders the new one."""
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        pid, order, _ = _red_order(s, cast, "forestry", "林地手续办理", tmp_path)
        due = s.get(Problem, pid).due_on
        for text in (_pdf_text(order.pdf_path), _docx_of(order)):
            assert f"办理期限为{due.year}年{due.month}月{due.day}日，已逾期11个工作日" in text, text
            assert "逾期情况已逾期11个工作日" in text and "超过10个工作日" not in text, text
        told = [t for t in _texts(s, cast["forestry"].telegram_user_id) if "【督办·红色】" in t]
        assert len(told) == 1 and "已逾期11个工作日，现予红色督办" in told[0] and "超过" not in told[0], told
        order.data = {**order.data, "why": "已逾期11个工作日（超过10个工作日）"}
        doc = sv.order_document(session=s, order=order)
        assert ["逾期情况", "已逾期11个工作日"] in doc["fields"] and "超过" not in doc["paragraphs"][0], doc


def test_an_order_cites_no_basis_the_record_lacks(engine, banner_plan_id, tmp_path):
    """The demo's 督办单 read 根据联席会议工作机制，现予红色督办: seed 000 §五 sets up the 联席会议,
    联合督导, 包片包干 and 工作问效, none of them three-colour 督办, and no document of the office adopting
    one is on record (domain.md: practice the product follows). The sentence states the fact and
    the measure only, PDF and Word: …，已逾期11个工作日，现予红色督办。; one reopened twice reads
    …，已退回重办2次，现予红色督办。"""
    from models import ProblemEvent

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        pid, order, _ = _red_order(s, cast, "forestry", "林地手续办理", tmp_path)
        due = s.get(Problem, pid).due_on
        for text in (_pdf_text(order.pdf_path), _docx_of(order)):
            assert f"办理期限为{due.year}年{due.month}月{due.day}日，已逾期11个工作日，现予红色督办。" in text, text
            assert "根据" not in text and "工作机制" not in text, text
        # Reopened twice before its deadline: red for that, in the same sentence.
        start = _at(date(2026, 4, 1))
        p2 = cast.raise_(owner="water", when=start, category="water_permit")
        for _ in range(2):
            s.add(ProblemEvent(problem_id=p2, kind="reopened", actor_unit_id=cast.uid("emergency"), at=start))
        s.commit()
        run_supervision(session=s, now=start, data_dir=tmp_path)
        s.commit()
        second = s.exec(select(SupervisionOrder).where(SupervisionOrder.item_id == p2)).one()
        assert "已退回重办2次，现予红色督办。" in _pdf_text(second.pdf_path)


def test_an_orders_reminder_record_states_the_blue_and_yellow_stages_and_the_urges(engine, banner_plan_id, tmp_path):
    """The demo's 督办单 printed 催办记录 无 for 8号问题, whose unit had been sent 【督办提醒·蓝色】 on
    2月9日 and 【督办·黄色】 on 2月13日: only the office's 催办 were counted. The row states each stage
    the unit was told of, dated, and then the office's 催办 (or that there was none), in the PDF and
    the Word copy; the fact cites the supervision events and the messages it rests on."""
    from oversight.dates import local_day

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        pid = cast.raise_(owner="forestry", when=_at(date(2026, 3, 2)))
        s.commit()
        due = s.get(Problem, pid).due_on
        blue_day, yellow_day, red_day = add_workdays(due, -3), add_workdays(due, 1), add_workdays(due, 11)
        for day in (blue_day, yellow_day, red_day):
            run_supervision(session=s, now=_at(day), data_dir=tmp_path)
        s.commit()
        [order] = s.exec(select(SupervisionOrder)).all()
        stages = s.exec(
            select(SupervisionEvent)
            .where(SupervisionEvent.to_colour.in_(("blue", "yellow")))
            .order_by(SupervisionEvent.id)
        ).all()
        assert [(e.to_colour, local_day(e.at)) for e in stages] == [("blue", blue_day), ("yellow", yellow_day)]
        row = (
            f"催办记录{blue_day.year}年{blue_day.month}月{blue_day.day}日蓝色提醒，"
            f"{yellow_day.year}年{yellow_day.month}月{yellow_day.day}日黄色督办；办公室未另行催办"
        )
        for text in (_pdf_text(order.pdf_path), _docx_of(order)):
            assert row in text, text
            assert "催办记录无" not in text
        doc = sv.order_document(session=s, order=order)
        [fact] = doc["facts"]
        told = s.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("sup:"))).all()
        assert fact["ids"]["supervision"] == [e.id for e in stages]
        assert set(fact["ids"]["message"]) == {
            m.id for m in told if int(m.dedupe_key.split(":")[1]) in fact["ids"]["supervision"]
        }

        # A second problem, urged twice by the office while yellow: the row says so, with the days.
        p2 = cast.raise_(owner="water", when=_at(red_day), category="water_permit")
        s.commit()
        due2 = s.get(Problem, p2).due_on
        run_supervision(session=s, now=_at(add_workdays(due2, 1)), data_dir=tmp_path)
        urge_days = (add_workdays(due2, 2), add_workdays(due2, 4))
        for day in urge_days:
            sv.urge(session=s, actor=cast.office, kind="problem", item_id=p2, now=_at(day))
        red2 = add_workdays(due2, 11)
        run_supervision(session=s, now=_at(red2), data_dir=tmp_path)
        s.commit()
        second = s.exec(select(SupervisionOrder).where(SupervisionOrder.item_id == p2)).one()
        y = add_workdays(due2, 1)
        urged = "、".join(f"{d.year}年{d.month}月{d.day}日" for d in urge_days)
        # raised with its deadline less than three working days ahead: blue on the day it was raised
        # is not in this run; the first stage the worker saw is yellow.
        want = f"{y.year}年{y.month}月{y.day}日黄色督办；办公室催办2次（{urged}）"
        for text in (_pdf_text(second.pdf_path), _docx_of(second)):
            assert want in text, text


def test_an_order_with_no_stage_and_no_urge_says_so(engine, banner_plan_id, tmp_path):
    """A problem reopened twice is red before its deadline, with no blue or yellow stage and no 催办:
    the row says exactly that (never a bare 无), and an order says 已退回重办2次 as its reason."""
    from models import ProblemEvent

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        start = _at(date(2026, 3, 2))
        pid = cast.raise_(owner="forestry", when=start)
        for _ in range(2):
            s.add(ProblemEvent(problem_id=pid, kind="reopened", actor_unit_id=cast.uid("emergency"), at=start))
        s.commit()
        run_supervision(session=s, now=start, data_dir=tmp_path)
        s.commit()
        [order] = s.exec(select(SupervisionOrder)).all()
        for text in (_pdf_text(order.pdf_path), _docx_of(order)):
            assert "催办记录未经蓝色提醒、黄色督办，办公室未催办" in text, text
            assert "已退回重办2次，现予红色督办" in text, text


def test_a_stage_nobody_was_told_of_is_not_recorded_as_a_reminder(engine, banner_plan_id, tmp_path):
    """A unit whose only contact left before its item went blue and yellow was told nothing: the
    row dates the stages and says nobody could be told, as the outbox holds no message for them."""
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        pid = cast.raise_(owner="forestry", when=_at(date(2026, 3, 2)))
        contact = cast["forestry"]
        contact.active = False
        s.add(contact)
        s.commit()
        due = s.get(Problem, pid).due_on
        for day in (add_workdays(due, -3), add_workdays(due, 1), add_workdays(due, 11)):
            run_supervision(session=s, now=_at(day), data_dir=tmp_path)
        s.commit()
        [order] = s.exec(select(SupervisionOrder)).all()
        assert not s.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("sup:"))).all()
        text = _pdf_text(order.pdf_path)
        untold = "（该单位尚无联络员加入系统，未能通知到人）"
        assert text.count(untold) == 2 and f"蓝色提醒{untold}" in text and f"黄色督办{untold}" in text, text


def test_stage_counts_reads_only_the_periods_stage_messages(engine, banner_plan_id, tmp_path):
    """stage_counts read every outbox message keyed sup: (every plan's, since the first day) to tell
    which stages a contact was told of; it now asks for those queued from the period's start, when
    a stage in the period is queued at its moment. A problem of the half before goes blue and
    yellow in December, one of this half in March: the half's counts are the same, and the query
    that reads the messages is bounded by their created_at."""
    from sqlalchemy import event

    from oversight.measures import aware_utc
    from oversight.outbox import queued_under

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        old = cast.raise_(owner="water", when=_at(date(2025, 12, 1)), category="water_permit")
        new = cast.raise_(owner="forestry", when=_at(date(2026, 3, 2)))
        s.commit()
        for pid in (old, new):
            due = s.get(Problem, pid).due_on
            for day in (add_workdays(due, -3), add_workdays(due, 1)):
                run_supervision(session=s, now=_at(day), data_dir=tmp_path)
        s.commit()
        start, end = _at(date(2026, 1, 1)), _at(date(2026, 7, 1))
        every = queued_under(session=s, prefix=sv.STAGE_KEY)
        bounded = queued_under(session=s, prefix=sv.STAGE_KEY, since=start)
        assert [m.id for m in bounded] == [m.id for m in every if aware_utc(m.created_at) >= start]
        assert 0 < len(bounded) < len(every)  # the half before's stages were told too
        statements: list[tuple[str, object]] = []

        def seen(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", seen)
        try:
            counts = sv.stage_counts(session=s, plan_id=banner_plan_id, start=start, end=end)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        events = s.exec(
            select(SupervisionEvent).where(SupervisionEvent.item_id == new, SupervisionEvent.kind == "problem")
        ).all()
        assert counts == {
            cast.uid("forestry"): {
                "blue": [e.id for e in events if e.to_colour == "blue"],
                "yellow": [e.id for e in events if e.to_colour == "yellow"],
            }
        }
        [outbox] = [st for st, _ in statements if "FROM outboxmessage" in st]
        assert "outboxmessage.created_at >=" in outbox, outbox


def test_a_leagues_region_orders_are_met_or_missed_by_the_region_record(engine, session):
    """A league's region items get their 督办单 too (seed 003's deadlines): its 底数核实台账 is done on
    the earliest 底数核实日期 of a right there, its 盘活一批 on the day a right there restarted, so an
    order's outcome reads them: 包头市 dated its ledger three working days past the order's 办结时限
    (late), 鄂尔多斯市 restarted its mine within it (met), 呼和浩特市 has done neither (open)."""
    from models import Unit
    from oversight.rights import move_right_status
    from tests.conftest import REGION_PLAN, load_bundled_plan
    from tests.test_targets import _add

    p = load_bundled_plan(engine, REGION_PLAN)
    units = {u.key: u for u in session.exec(select(Unit).where(Unit.plan_id == p)).all()}
    baotou, ordos, hohhot = units["baotou"], units["ordos"], units["hohhot"]
    issued = _at(date(2022, 10, 10))  # a Monday after the National Day holiday
    limit = add_workdays(date(2022, 10, 10), 5)
    mine = _add(session, p, "M-1", locality_unit_id=ordos.id, baseline_on=date(2022, 9, 1))
    _add(session, p, "M-2", locality_unit_id=hohhot.id, baseline_on=date(2022, 9, 2))
    _add(session, p, "M-3", locality_unit_id=baotou.id, baseline_on=add_workdays(limit, 3))
    for seq, (kind, unit) in enumerate(
        (("baseline", baotou), ("first_batch", ordos), ("first_batch", hohhot)), start=1
    ):
        session.add(
            SupervisionOrder(
                plan_id=p, year=2022, seq=seq, doc_no=f"督〔2022〕{seq}号", kind=kind, item_id=unit.id,
                unit_id=unit.id, issued_at=issued,
            )
        )  # fmt: skip
    session.flush()
    move_right_status(
        session=session, right_id=mine.id, to_status="restarted", actor_member_id=None, actor="t",
        now=_at(add_workdays(date(2022, 10, 10), 2)),
    )  # fmt: skip
    session.commit()
    as_of = _at(date(2022, 11, 1))
    got = sv.order_outcomes(session=session, plan_id=p, start=_at(date(2022, 7, 1)), end=as_of, as_of=as_of)
    assert [(o.doc_no, o.state, o.closed_on, o.late_days) for o in got] == [
        ("督〔2022〕1号", sv.LATE, add_workdays(limit, 3), 3),
        ("督〔2022〕2号", sv.MET, add_workdays(date(2022, 10, 10), 2), 0),
        ("督〔2022〕3号", sv.OPEN, None, workdays_between(limit, date(2022, 11, 1))),
    ]
    assert [
        o.doc_no
        for o in sv.missed_orders(session=session, plan_id=p, start=_at(date(2022, 7, 1)), end=as_of, as_of=as_of)
    ] == [
        "督〔2022〕1号",
        "督〔2022〕3号",
    ]


def test_an_agreed_matters_order_is_met_by_the_offices_acceptance(engine, banner_plan_id):
    """An agreed matter (议定事项) is 办结 when the office accepts it (done_at): accepted two working days
    after its order's 办结时限 it is late by two; one only submitted is still open."""
    from models import Decision

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        issued = _at(date(2026, 3, 2))
        limit = add_workdays(date(2026, 3, 2), 5)
        done = Decision(
            plan_id=banner_plan_id, text="完成核查", owner_unit_id=cast.uid("water"), due_on=date(2026, 2, 1),
            state="done", done_at=_at(add_workdays(limit, 2)),
        )  # fmt: skip
        sent = Decision(
            plan_id=banner_plan_id, text="报送方案", owner_unit_id=cast.uid("forestry"), due_on=date(2026, 2, 1),
            state="submitted", submitted_at=_at(limit),
        )  # fmt: skip
        s.add_all([done, sent])
        s.flush()
        for seq, d in enumerate((done, sent), start=1):
            s.add(
                SupervisionOrder(
                    plan_id=banner_plan_id, year=2026, seq=seq, doc_no=f"督〔2026〕{seq}号", kind="decision",
                    item_id=d.id, unit_id=d.owner_unit_id, issued_at=issued,
                )
            )  # fmt: skip
        s.flush()
        as_of = _at(date(2026, 3, 31))
        got = sv.order_outcomes(session=s, plan_id=banner_plan_id, start=_at(date(2026, 1, 1)), end=as_of, as_of=as_of)
        assert [(o.state, o.late_days) for o in got] == [
            (sv.LATE, 2),
            (sv.OPEN, workdays_between(limit, date(2026, 3, 31))),
        ]


def test_the_office_is_told_once_when_an_orders_time_limit_passes_with_its_item_open(engine, banner_plan_id, tmp_path):
    """A 督办单's 办结时限 passed and nobody was told (audit B6): the worker's daily run tells the office,
    once, the day after the limit, naming the order, the unit and the item; nothing on the limit's
    own day, nothing again the next day, and nothing for an order whose item was resolved in time."""
    from oversight.problems import accept_problem, resolve_problem

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        kept = cast.raise_(owner="forestry", when=_at(date(2026, 3, 2)))
        done = cast.raise_(owner="water", when=_at(date(2026, 3, 2)), category="water_permit")
        s.commit()
        for day in sorted({add_workdays(s.get(Problem, p).due_on, 11) for p in (kept, done)}):
            run_supervision(session=s, now=_at(day), data_dir=tmp_path)
        s.commit()
        orders = {o.item_id: o for o in s.exec(select(SupervisionOrder)).all()}
        accept_problem(session=s, problem_id=done, actor=cast["water"], now=orders[done].issued_at)
        resolve_problem(
            session=s, problem_id=done, actor=cast["water"], evidence_text="已办结", now=orders[done].issued_at
        )
        s.commit()
        limit = sv.order_limit(orders[kept])
        office = cast.office.telegram_user_id

        def told() -> list[str]:
            return [t for t in _texts(s, office) if t.startswith("【督办单逾期】")]

        run_supervision(session=s, now=_at(limit), data_dir=tmp_path)
        assert told() == []
        after = add_workdays(limit, 1)
        result = run_supervision(session=s, now=_at(after), data_dir=tmp_path)
        s.commit()
        cn = f"{limit.year}年{limit.month}月{limit.day}日"
        today = f"{after.year}年{after.month}月{after.day}日"
        assert told() == [
            f"【督办单逾期】{orders[kept].doc_no}（旗林草局，{kept}号问题）办结时限为{cn}，截至{today}仍未办结，"
            "已逾期1个工作日，请跟进督办。"
        ], told()
        assert result["limits_passed"] == [orders[kept].id]
        run_supervision(session=s, now=_at(add_workdays(limit, 2)), data_dir=tmp_path)
        s.commit()
        assert len(told()) == 1
