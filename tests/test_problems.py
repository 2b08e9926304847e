"""Problems and their hand-offs, as scenarios: who raises, who passes it on, who rules,
who solves, and which chats hear about each step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models import (
    Attachment,
    AuditLog,
    Decision,
    Member,
    OutboxMessage,
    ProblemCategory,
    ProblemEvent,
    ProblemState,
    Role,
    Unit,
)
from oversight.errors import InvalidInputError, InvalidStateError, PermissionDeniedError
from oversight.lookups import format_progress, format_todo, todo_for_unit, todo_overdue_all
from oversight.problems import (
    accept_handover_reason,
    accept_problem,
    can,
    comment_problem,
    confirm_problem,
    decline_problem,
    format_problem,
    hand_over_problem,
    problem_history,
    raise_problem,
    reopen_problem,
    resolve_problem,
    rule_problem,
    suggest_owner,
)

T0 = datetime(2026, 5, 11, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


def step(n: int) -> datetime:
    """The n-th step of a scenario, an hour apart."""
    return T0 + timedelta(hours=n)


class People:
    """The cast: units of the 乌拉特中旗 plan and one or two members each."""

    def __init__(self, session: Session, plan_id: int) -> None:
        self.session = session
        self.plan_id = plan_id
        self.units = {u.key: u for u in session.exec(select(Unit).where(Unit.plan_id == plan_id)).all()}
        self.next_tg = 9000
        self.emergency_contact = self.member("emergency", Role.CONTACT, "应急王")  # raises
        self.emergency_other = self.member("emergency", Role.CONTACT, "应急赵")
        self.forestry = self.member("forestry", Role.CONTACT, "林草李")
        self.forestry_other = self.member("forestry", Role.CONTACT, "林草周")
        self.natres = self.member("natres", Role.CONTACT, "自然资源张")
        self.office = self.member("office", Role.OFFICE, "办公室刘")
        self.water = self.member("water", Role.CONTACT, "水利陈")
        self.convener = self.member("banner_gov", Role.CONVENER, "副旗长")
        session.commit()

    def member(self, unit_key: str, role: str, name: str) -> Member:
        self.next_tg += 1
        m = Member(
            plan_id=self.plan_id, telegram_user_id=self.next_tg, name=name, unit_id=self.units[unit_key].id, role=role
        )
        self.session.add(m)
        self.session.flush()
        return m

    def unit(self, key: str) -> Unit:
        return self.units[key]

    def category(self, key: str) -> ProblemCategory:
        return self.session.exec(
            select(ProblemCategory).where(ProblemCategory.plan_id == self.plan_id).where(ProblemCategory.key == key)
        ).one()


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> People:
    return People(session, banner_plan_id)


def outbox_chats(session: Session, since_id: int = 0) -> dict[int, list[str]]:
    """Queued texts by chat id, for rows after `since_id`."""
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.id > since_id).order_by(OutboxMessage.id)).all()
    chats: dict[int, list[str]] = {}
    for row in rows:
        chats.setdefault(row.chat_id, []).append(row.text)
    return chats


def last_outbox_id(session: Session) -> int:
    return session.exec(select(OutboxMessage.id).order_by(col(OutboxMessage.id).desc())).first() or 0


def tg(*members: Member) -> set[int]:
    return {m.telegram_user_id for m in members}


def raise_forest_blocker(cast: People, now: datetime = T0):
    return raise_problem(
        session=cast.session,
        plan_id=cast.plan_id,
        actor=cast.emergency_contact,
        text="常兴扎嘎乌苏铁矿整合区升级改造涉及征占用草原，审批未启动。",
        category_id=cast.category("forest_grass").id,
        now=now,
    )


# --------------------------------------------------------------------------- the scenario


def test_blocker_passed_around_ruled_back_to_forestry_resolved_and_confirmed(cast: People) -> None:
    s = cast.session
    forest = cast.category("forest_grass")

    # 应急王 flags a 林草征占用 blocker; the duty map suggests 林草局.
    assert suggest_owner(session=s, plan_id=cast.plan_id, category_id=forest.id).key == "forestry"
    mark = last_outbox_id(s)
    problem = raise_forest_blocker(cast)
    s.commit()
    assert problem.state == ProblemState.ASSIGNED
    assert problem.owner_unit_id == cast.unit("forestry").id
    chats = outbox_chats(s, mark)
    assert set(chats) == tg(cast.forestry, cast.forestry_other)  # the raiser is answered by the bot, not queued
    card = chats[cast.forestry.telegram_user_id][0]
    assert f"{problem.id}号问题【林草征占用】" in card and "操作按钮随后发送" in card
    assert "办理期限：2026年6月8日" in card  # 20 working days from Monday 2026-05-11

    # 林草局 hands it to 自然资源局: "it is a land-use question".
    mark = last_outbox_id(s)
    hand_over_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.forestry,
        to_unit_id=cast.unit("natres").id,
        reason="涉及用地预审，应由自然资源局办理",
        now=step(1),
    )
    s.commit()
    assert problem.state == ProblemState.ASSIGNED and problem.owner_unit_id == cast.unit("natres").id
    chats = outbox_chats(s, mark)
    assert set(chats) == tg(cast.natres, cast.emergency_contact, cast.emergency_other, cast.forestry_other)
    assert "转交理由：涉及用地预审" in chats[cast.natres.telegram_user_id][0]

    # 自然资源局 hands it straight back.
    mark = last_outbox_id(s)
    hand_over_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.natres,
        to_unit_id=cast.unit("forestry").id,
        reason="草原征占用审批属林草局职责",
        now=step(2),
    )
    s.commit()
    assert problem.owner_unit_id == cast.unit("forestry").id
    assert set(outbox_chats(s, mark)) == tg(
        cast.forestry, cast.forestry_other, cast.emergency_contact, cast.emergency_other
    )

    # The office rules it to 林草局, accepting 自然资源局's reason; the ruling is binding.
    handovers = s.exec(
        select(ProblemEvent)
        .where(ProblemEvent.problem_id == problem.id)
        .where(ProblemEvent.kind == "handed_over")
        .order_by(ProblemEvent.id)
    ).all()
    mark = last_outbox_id(s)
    rule_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.office,
        to_unit_id=cast.unit("forestry").id,
        reason="草原征占用审批属林草局职责（实施方案四）",
        accepted_handover_event_ids=[handovers[1].id],
        now=step(3),
    )
    s.commit()
    assert problem.state == ProblemState.ACCEPTED and problem.accepted_at == step(3)
    s.refresh(handovers[0])
    s.refresh(handovers[1])
    assert handovers[0].reason_accepted is None and handovers[1].reason_accepted is True
    chats = outbox_chats(s, mark)
    # The ruled unit, the raiser's side and every unit the problem passed through (自然资源局).
    assert set(chats) == tg(
        cast.forestry, cast.forestry_other, cast.emergency_contact, cast.emergency_other, cast.natres
    )
    assert "裁定为最终决定" in chats[cast.forestry.telegram_user_id][0]

    # 林草局 resolves with evidence; the raiser's unit is asked to confirm.
    mark = last_outbox_id(s)
    resolve_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.forestry,
        evidence_text="已受理草原征占用申请并批复（中林草批〔2026〕12号）",
        now=step(4),
    )
    s.commit()
    assert problem.state == ProblemState.RESOLVED and problem.resolved_at == step(4)
    chats = outbox_chats(s, mark)
    assert set(chats) == tg(cast.emergency_contact, cast.emergency_other, cast.forestry_other)
    assert "中林草批〔2026〕12号" in chats[cast.emergency_contact.telegram_user_id][0]

    # The raiser confirms: closed.
    mark = last_outbox_id(s)
    confirm_problem(session=s, problem_id=problem.id, actor=cast.emergency_contact, now=step(5))
    s.commit()
    assert problem.state == ProblemState.CLOSED and problem.closed_at == step(5)
    assert problem.last_action_at == step(5)
    assert set(outbox_chats(s, mark)) == tg(cast.forestry, cast.forestry_other, cast.emergency_other)

    history = problem_history(session=s, problem_id=problem.id)
    chain = [(h["kind"], h["actor"], h["actor_unit"], h["from_unit"], h["to_unit"]) for h in history]
    assert chain == [
        ("raised", "应急王", "旗应急管理局（矿山安全监管局）", "", ""),
        ("assigned", "应急王", "旗应急管理局（矿山安全监管局）", "", "旗林草局"),
        ("handed_over", "林草李", "旗林草局", "旗林草局", "旗自然资源局"),
        ("handed_over", "自然资源张", "旗自然资源局", "旗自然资源局", "旗林草局"),
        ("ruled", "办公室刘", "旗政府办公室", "旗林草局", "旗林草局"),
        ("accepted", "办公室刘", "旗政府办公室", "", "旗林草局"),
        ("resolved", "林草李", "旗林草局", "", "旗林草局"),
        ("confirmed", "应急王", "旗应急管理局（矿山安全监管局）", "", ""),
    ]
    assert [h["reason"] for h in history][2:5] == [
        "涉及用地预审，应由自然资源局办理",
        "草原征占用审批属林草局职责",
        "草原征占用审批属林草局职责（实施方案四）",
    ]
    assert history[0]["at_text"] == "2026-05-11 10:00"  # shown in Asia/Shanghai
    assert [h["label"] for h in history][:3] == ["提出", "交办", "转交"]

    # Every step left an audit row in the same transaction as its event.
    actions = [
        a.action
        for a in s.exec(
            select(AuditLog)
            .where(AuditLog.object_type == "problem")
            .where(AuditLog.object_id == str(problem.id))
            .order_by(AuditLog.id)
        ).all()
    ]
    assert actions == [
        "problem.raised",
        "problem.assigned",
        "problem.handed_over",
        "problem.handed_over",
        "problem.ruled",
        "problem.accepted",
        "problem.resolved",
        "problem.confirmed",
    ]

    text = format_problem(session=s, problem_id=problem.id)
    assert "旗林草局 → 旗自然资源局" in text and "（办公室认定转交理由成立）" in text and "已关闭" in text


# --------------------------------------------------------------------------- refusals


def test_contact_of_another_unit_cannot_accept(cast: People) -> None:
    problem = raise_forest_blocker(cast)
    cast.session.commit()
    assert not can("accept", session=cast.session, member=cast.water, problem=problem)
    with pytest.raises(PermissionDeniedError, match="只有当前责任单位（旗林草局）的联络员可以接收"):
        accept_problem(session=cast.session, problem_id=problem.id, actor=cast.water, now=step(1))
    assert problem.state == ProblemState.ASSIGNED
    refusal = cast.session.exec(select(AuditLog).where(AuditLog.action == "problem.refused")).one()
    assert refusal.actor == f"member:{cast.water.id}" and refusal.detail["action"] == "accept"


def test_old_owner_cannot_act_after_handing_over(cast: People) -> None:
    problem = raise_forest_blocker(cast)
    hand_over_problem(
        session=cast.session,
        problem_id=problem.id,
        actor=cast.forestry,
        to_unit_id=cast.unit("natres").id,
        reason="属用地问题",
        now=step(1),
    )
    with pytest.raises(PermissionDeniedError, match="旗自然资源局"):
        accept_problem(session=cast.session, problem_id=problem.id, actor=cast.forestry_other, now=step(2))
    assert can("accept", session=cast.session, member=cast.natres, problem=problem)


def test_raiser_cannot_rule(cast: People) -> None:
    problem = raise_forest_blocker(cast)
    decline_problem(
        session=cast.session, problem_id=problem.id, actor=cast.forestry, reason="不属于本局职责", now=step(1)
    )
    assert not can("rule", session=cast.session, member=cast.emergency_contact, problem=problem)
    assert can("rule", session=cast.session, member=cast.office, problem=problem)
    with pytest.raises(PermissionDeniedError, match="只有联席会议办公室可以裁定"):
        rule_problem(
            session=cast.session,
            problem_id=problem.id,
            actor=cast.emergency_contact,
            to_unit_id=cast.unit("natres").id,
            reason="我认为应由自然资源局办",
            now=step(2),
        )
    assert problem.state == ProblemState.DISPUTED


def test_office_cannot_resolve_for_the_owner(cast: People) -> None:
    problem = raise_forest_blocker(cast)
    accept_problem(session=cast.session, problem_id=problem.id, actor=cast.forestry, now=step(1))
    assert not can("resolve", session=cast.session, member=cast.office, problem=problem)
    with pytest.raises(PermissionDeniedError, match="只有当前责任单位"):
        resolve_problem(
            session=cast.session, problem_id=problem.id, actor=cast.office, evidence_text="已办结", now=step(2)
        )
    assert problem.state == ProblemState.ACCEPTED and problem.resolved_at is None


def test_only_the_raiser_side_confirms(cast: People) -> None:
    problem = raise_forest_blocker(cast)
    accept_problem(session=cast.session, problem_id=problem.id, actor=cast.forestry, now=step(1))
    resolve_problem(
        session=cast.session, problem_id=problem.id, actor=cast.forestry, evidence_text="已批复", now=step(2)
    )
    with pytest.raises(PermissionDeniedError, match="只有问题提出方"):
        confirm_problem(session=cast.session, problem_id=problem.id, actor=cast.forestry, now=step(3))
    # Another contact of the raiser's unit may confirm.
    confirm_problem(session=cast.session, problem_id=problem.id, actor=cast.emergency_other, now=step(3))
    assert problem.state == ProblemState.CLOSED


def test_accepted_problem_cannot_be_declined(cast: People) -> None:
    problem = raise_forest_blocker(cast)
    accept_problem(session=cast.session, problem_id=problem.id, actor=cast.forestry, now=step(1))
    with pytest.raises(InvalidStateError, match="该问题已被接收，不能再退回。"):
        decline_problem(
            session=cast.session, problem_id=problem.id, actor=cast.forestry_other, reason="不属于本局职责", now=step(2)
        )
    with pytest.raises(InvalidStateError, match="不能重复接收"):
        accept_problem(session=cast.session, problem_id=problem.id, actor=cast.forestry_other, now=step(2))
    assert not can("decline", session=cast.session, member=cast.forestry, problem=problem)
    assert can("hand_over", session=cast.session, member=cast.forestry, problem=problem)


def test_wrong_state_refusals(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    with pytest.raises(InvalidStateError, match="请先接收该问题"):
        resolve_problem(session=s, problem_id=problem.id, actor=cast.forestry, evidence_text="已办", now=step(1))
    with pytest.raises(InvalidStateError, match="尚未办结"):
        confirm_problem(session=s, problem_id=problem.id, actor=cast.emergency_contact, now=step(1))
    accept_problem(session=s, problem_id=problem.id, actor=cast.forestry, now=step(1))
    resolve_problem(session=s, problem_id=problem.id, actor=cast.forestry, evidence_text="已办", now=step(2))
    with pytest.raises(InvalidStateError, match="待提出方确认，不能裁定"):
        rule_problem(
            session=s,
            problem_id=problem.id,
            actor=cast.office,
            to_unit_id=cast.unit("natres").id,
            reason="改由自然资源局",
            now=step(3),
        )
    with pytest.raises(InvalidStateError, match="已办结"):
        hand_over_problem(
            session=s,
            problem_id=problem.id,
            actor=cast.forestry,
            to_unit_id=cast.unit("natres").id,
            reason="转自然资源局",
            now=step(3),
        )
    confirm_problem(session=s, problem_id=problem.id, actor=cast.emergency_contact, now=step(4))
    with pytest.raises(InvalidStateError, match="已关闭"):
        accept_problem(session=s, problem_id=problem.id, actor=cast.forestry, now=step(5))


def test_reasons_are_required(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    natres = cast.unit("natres").id
    for reason in ("", "  ", "好"):
        with pytest.raises(InvalidInputError, match="转交理由不能为空"):
            hand_over_problem(
                session=s, problem_id=problem.id, actor=cast.forestry, to_unit_id=natres, reason=reason, now=step(1)
            )
    with pytest.raises(InvalidInputError, match="退回理由不能为空"):
        decline_problem(session=s, problem_id=problem.id, actor=cast.forestry, reason="", now=step(1))
    with pytest.raises(InvalidInputError, match="不能转交给本单位"):
        hand_over_problem(
            session=s,
            problem_id=problem.id,
            actor=cast.forestry,
            to_unit_id=cast.unit("forestry").id,
            reason="转给自己试试",
            now=step(1),
        )
    assert problem.state == ProblemState.ASSIGNED
    assert s.exec(select(ProblemEvent).where(ProblemEvent.kind == "handed_over")).first() is None


def test_hand_over_outside_the_plan_is_refused(cast: People, session: Session) -> None:
    from tests.conftest import REGION_PLAN, load_bundled_plan

    region_plan = load_bundled_plan(session.get_bind(), REGION_PLAN)
    foreign = session.exec(select(Unit).where(Unit.plan_id == region_plan)).first()
    problem = raise_forest_blocker(cast)
    with pytest.raises(InvalidInputError, match="不属于本计划"):
        hand_over_problem(
            session=session,
            problem_id=problem.id,
            actor=cast.forestry,
            to_unit_id=foreign.id,
            reason="交自治区处理",
            now=step(1),
        )


def test_resolve_needs_evidence_and_takes_attachments(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    accept_problem(session=s, problem_id=problem.id, actor=cast.forestry, now=step(1))
    with pytest.raises(InvalidInputError, match="办结须提供办理结果说明或上传佐证材料"):
        resolve_problem(session=s, problem_id=problem.id, actor=cast.forestry, evidence_text="  ", now=step(2))
    scan = Attachment(filename="批复.pdf", mime_type="application/pdf", size=10, sha256="0" * 64, path="x/批复.pdf")
    s.add(scan)
    s.flush()
    resolve_problem(session=s, problem_id=problem.id, actor=cast.forestry, attachment_ids=[scan.id], now=step(2))
    s.refresh(scan)
    resolved = s.exec(select(ProblemEvent).where(ProblemEvent.kind == "resolved")).one()
    assert scan.problem_event_id == resolved.id
    *_, queued, sent_file = outbox_chats(s)[cast.emergency_contact.telegram_user_id]
    assert "附件：批复.pdf" in queued and sent_file == "1号问题的材料（1/1）：批复.pdf"  # the file itself follows


def test_problem_text_length_limits(cast: People) -> None:
    category = cast.category("forest_grass").id
    for text in ("", "   ", "堵" * 2001):
        with pytest.raises(InvalidInputError, match="问题描述"):
            raise_problem(
                session=cast.session,
                plan_id=cast.plan_id,
                actor=cast.emergency_contact,
                text=text,
                category_id=category,
                now=T0,
            )
    ok = raise_problem(
        session=cast.session,
        plan_id=cast.plan_id,
        actor=cast.emergency_contact,
        text="堵" * 2000,
        category_id=category,
        now=T0,
    )
    assert len(ok.text) == 2000


# --------------------------------------------------------------------------- deadlines, ruling, reopening


def test_due_date_counts_working_days_across_national_day_2026(cast: People) -> None:
    s = cast.session
    business = cast.category("business_licence")  # 10 working days
    assert business.limit_days == 10
    # 2026-09-30 09:00 in Shanghai. 10-01..10-07 are off, 10-10 (Saturday) is a make-up working day.
    problem = raise_problem(
        session=s,
        plan_id=cast.plan_id,
        actor=cast.emergency_contact,
        text="股权变更登记受阻",
        category_id=business.id,
        now=datetime(2026, 9, 30, 1, 0, tzinfo=UTC),
    )
    assert problem.due_on == date(2026, 10, 20)
    # The day is taken in Asia/Shanghai: 2026-10-09 17:00 UTC is already Saturday 10-10 there
    # (a make-up working day), so counting starts a day later than the UTC date suggests.
    late = raise_problem(
        session=s,
        plan_id=cast.plan_id,
        actor=cast.emergency_contact,
        text="股权变更登记受阻",
        category_id=business.id,
        now=datetime(2026, 10, 9, 17, 0, tzinfo=UTC),
    )
    assert late.due_on == date(2026, 10, 23)


def test_declined_problem_ruled_back_to_the_decliner_is_accepted_and_bound(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    mark = last_outbox_id(s)
    decline_problem(session=s, problem_id=problem.id, actor=cast.forestry, reason="不属于本局职责", now=step(1))
    assert problem.state == ProblemState.DISPUTED
    chats = outbox_chats(s, mark)
    assert cast.office.telegram_user_id in chats and "请裁定责任单位" in chats[cast.office.telegram_user_id][0]
    assert cast.emergency_contact.telegram_user_id in chats
    with pytest.raises(InvalidStateError, match="等待联席会议办公室裁定"):
        accept_problem(session=s, problem_id=problem.id, actor=cast.forestry, now=step(2))

    rule_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.office,
        to_unit_id=cast.unit("forestry").id,
        reason="草原征占用审批属林草局职责",
        now=step(2),
    )
    assert problem.state == ProblemState.ACCEPTED and problem.owner_unit_id == cast.unit("forestry").id
    # The ruling is binding: no passing it on again.
    with pytest.raises(InvalidStateError, match="已由联席会议办公室裁定由旗林草局办理"):
        hand_over_problem(
            session=s,
            problem_id=problem.id,
            actor=cast.forestry,
            to_unit_id=cast.unit("natres").id,
            reason="仍认为属自然资源局",
            now=step(3),
        )
    kinds = [h["kind"] for h in problem_history(session=s, problem_id=problem.id)]
    assert kinds == ["raised", "assigned", "declined", "ruled", "accepted"]


def test_three_hand_overs_without_acceptance_flag_the_office(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    moves = [
        (cast.forestry, "natres", "属用地问题"),
        (cast.natres, "water", "涉及取水许可"),
        (cast.water, "forestry", "应由林草局牵头"),
    ]
    flagged_after = []
    for n, (actor, to, why) in enumerate(moves, 1):
        mark = last_outbox_id(s)
        hand_over_problem(
            session=s, problem_id=problem.id, actor=actor, to_unit_id=cast.unit(to).id, reason=why, now=step(n)
        )
        office_texts = outbox_chats(s, mark).get(cast.office.telegram_user_id, [])
        flagged_after.append(any("连续转交3次" in t for t in office_texts))
    assert flagged_after == [False, False, True]
    assert s.exec(select(AuditLog).where(AuditLog.action == "problem.flagged_passed_on")).one().detail["passes"] == 3


def test_acceptance_resets_the_pass_on_count(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    hand_over_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.forestry,
        to_unit_id=cast.unit("natres").id,
        reason="属用地问题",
        now=step(1),
    )
    hand_over_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.natres,
        to_unit_id=cast.unit("water").id,
        reason="涉及取水许可",
        now=step(2),
    )
    accept_problem(session=s, problem_id=problem.id, actor=cast.water, now=step(3))
    # A hand-over after acceptance is allowed, and starts a new count.
    hand_over_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.water,
        to_unit_id=cast.unit("forestry").id,
        reason="取水许可已办，余下草原审批",
        now=step(4),
    )
    assert problem.state == ProblemState.ASSIGNED and problem.accepted_at is None
    assert s.exec(select(AuditLog).where(AuditLog.action == "problem.flagged_passed_on")).first() is None


def test_raiser_reopens_with_a_reason(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    accept_problem(session=s, problem_id=problem.id, actor=cast.forestry, now=step(1))
    resolve_problem(session=s, problem_id=problem.id, actor=cast.forestry, evidence_text="已批复", now=step(2))
    with pytest.raises(InvalidInputError, match="重新办理理由不能为空"):
        reopen_problem(session=s, problem_id=problem.id, actor=cast.emergency_contact, reason="", now=step(3))
    mark = last_outbox_id(s)
    reopen_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.emergency_contact,
        reason="批复只覆盖一半面积，企业仍无法开工",
        now=step(3),
    )
    assert problem.state == ProblemState.ACCEPTED and problem.resolved_at is None
    chats = outbox_chats(s, mark)
    assert "批复只覆盖一半面积" in chats[cast.forestry.telegram_user_id][0]
    # Solved again, confirmed, then reopened once more within the window after closing.
    resolve_problem(session=s, problem_id=problem.id, actor=cast.forestry, evidence_text="已补充批复", now=step(4))
    confirm_problem(session=s, problem_id=problem.id, actor=cast.emergency_contact, now=step(5))
    reopen_problem(
        session=s, problem_id=problem.id, actor=cast.emergency_contact, reason="现场核查仍未开工", now=step(6)
    )
    assert problem.state == ProblemState.ACCEPTED and problem.closed_at is None
    kinds = [h["kind"] for h in problem_history(session=s, problem_id=problem.id)]
    assert kinds.count("reopened") == 2


def test_closed_problem_cannot_be_reopened_after_the_window(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    accept_problem(session=s, problem_id=problem.id, actor=cast.forestry, now=step(1))
    resolve_problem(session=s, problem_id=problem.id, actor=cast.forestry, evidence_text="已批复", now=step(2))
    confirm_problem(session=s, problem_id=problem.id, actor=cast.emergency_contact, now=step(3))
    with pytest.raises(InvalidStateError, match="超过90天"):
        reopen_problem(
            session=s,
            problem_id=problem.id,
            actor=cast.emergency_contact,
            reason="又出现问题",
            now=step(3) + timedelta(days=91),
        )


def test_office_judges_a_hand_over_reason_and_the_unit_hears_of_it(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    hand_over_problem(
        session=s,
        problem_id=problem.id,
        actor=cast.forestry,
        to_unit_id=cast.unit("natres").id,
        reason="属用地问题",
        now=step(1),
    )
    event = s.exec(select(ProblemEvent).where(ProblemEvent.kind == "handed_over")).one()
    with pytest.raises(PermissionDeniedError):
        accept_handover_reason(session=s, event_id=event.id, actor=cast.natres, accepted=True, now=step(2))
    mark = last_outbox_id(s)
    accept_handover_reason(session=s, event_id=event.id, actor=cast.office, accepted=False, now=step(2))
    assert event.reason_accepted is False
    assert "转交理由不成立" in outbox_chats(s, mark)[cast.forestry.telegram_user_id][0]


def test_comment_is_recorded_but_is_not_action(cast: People) -> None:
    s = cast.session
    problem = raise_forest_blocker(cast)
    comment_problem(session=s, problem_id=problem.id, actor=cast.convener, text="请林草局本周内答复", now=step(1))
    assert problem.last_action_at == T0
    assert problem_history(session=s, problem_id=problem.id)[-1]["reason"] == "请林草局本周内答复"
    with pytest.raises(PermissionDeniedError):
        comment_problem(session=s, problem_id=problem.id, actor=cast.water, text="路过", now=step(2))


def test_buttons_go_only_to_the_unit_that_must_act(cast: People) -> None:
    s = cast.session

    def buttons(problem, member):  # the bot's hook: mint tokens per recipient
        return [[{"text": "接收", "token": f"accept-{problem.id}-{member.id}"}]]

    problem = raise_problem(
        session=s,
        plan_id=cast.plan_id,
        actor=cast.emergency_contact,
        text="草原审批未启动",
        category_id=cast.category("forest_grass").id,
        now=T0,
        buttons=buttons,
    )
    rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {r.chat_id: r.payload["buttons"][0][0]["token"] for r in rows} == {
        cast.forestry.telegram_user_id: f"accept-{problem.id}-{cast.forestry.id}",
        cast.forestry_other.telegram_user_id: f"accept-{problem.id}-{cast.forestry_other.id}",
    }
    assert "请用下方按钮接收" in rows[0].text


# --------------------------------------------------------------------------- /todo and /progress


def test_todo_lights_red_first(cast: People) -> None:
    s = cast.session
    forest = cast.category("forest_grass")  # 20 working days
    old = raise_forest_blocker(cast, now=datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    fresh = raise_forest_blocker(cast, now=datetime(2026, 5, 11, 2, 0, tzinfo=UTC))
    s.add(
        Decision(
            plan_id=cast.plan_id,
            text="林草局牵头研究草原占补平衡方案",
            owner_unit_id=cast.unit("forestry").id,
            due_on=date(2026, 5, 13),
        )
    )
    s.add(
        Decision(
            plan_id=cast.plan_id,
            text="已完成的事项",
            owner_unit_id=cast.unit("forestry").id,
            due_on=date(2026, 5, 1),
            state="done",
        )
    )
    s.commit()
    today = date(2026, 5, 11)
    items = todo_for_unit(session=s, unit_id=cast.unit("forestry").id, today=today)
    assert [(i["kind"], i["id"], i["light"]) for i in items] == [
        ("problem", old.id, "red"),
        ("decision", items[1]["id"], "yellow"),
        ("problem", fresh.id, "green"),
    ]
    assert forest.limit_days == 20 and old.due_on < today
    text = format_todo(items)
    lines = text.splitlines()
    assert lines[0] == "共3项：逾期1项，临期1项，正常1项。"
    # The problem as the users know it: its number in the documents' form, what it is about, who raised it and when.
    assert lines[1].startswith(
        f"🔴 {old.id}号问题【待接收】林草征占用，旗应急管理局（矿山安全监管局）于2026年4月1日提出：常兴扎嘎乌苏"
    )
    assert "已逾期" in lines[1] and "#" not in text
    assert lines[2].startswith("🟡 ") and "号议定事项" in lines[2] and lines[3].startswith("🟢")
    assert format_todo([]) == "暂无待办事项。"


def test_todo_shows_the_raiser_what_to_confirm_and_the_office_what_to_rule(cast: People) -> None:
    s = cast.session
    a = raise_forest_blocker(cast)
    accept_problem(session=s, problem_id=a.id, actor=cast.forestry, now=step(1))
    resolve_problem(session=s, problem_id=a.id, actor=cast.forestry, evidence_text="已批复", now=step(2))
    b = raise_forest_blocker(cast)
    decline_problem(session=s, problem_id=b.id, actor=cast.forestry, reason="不属于本局职责", now=step(1))
    emergency = todo_for_unit(session=s, unit_id=cast.unit("emergency").id, today=date(2026, 5, 11))
    assert [(i["id"], i["todo"]) for i in emergency] == [(a.id, "待确认办结")]
    office = todo_for_unit(session=s, unit_id=cast.unit("office").id, today=date(2026, 5, 11))
    assert [(i["id"], i["todo"]) for i in office] == [(b.id, "待裁定")]
    assert todo_for_unit(session=s, unit_id=cast.unit("forestry").id, today=date(2026, 5, 11)) == []


def test_overdue_for_all_units_is_for_those_who_oversee(cast: People) -> None:
    s = cast.session
    old = raise_forest_blocker(cast, now=datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    raise_forest_blocker(cast, now=datetime(2026, 5, 11, 2, 0, tzinfo=UTC))
    with pytest.raises(PermissionDeniedError):
        todo_overdue_all(session=s, actor=cast.forestry, today=date(2026, 5, 11))
    items = todo_overdue_all(session=s, actor=cast.convener, today=date(2026, 5, 11))
    assert [(i["id"], i["unit"]) for i in items] == [(old.id, "旗林草局")]
    supervisor = cast.member("natres", Role.SUPERVISOR, "督导组")
    assert todo_overdue_all(session=s, actor=supervisor, today=date(2026, 5, 11)) == items
    assert "旗林草局：" in format_todo(items, show_unit=True)


def test_format_progress() -> None:
    rows = [
        {"name": "强化整合重组一批", "target": 46, "done": 3, "expected": 10, "measure": "宗"},
        {"name": "复工达产一批", "target": 28, "done": 0, "expected": None, "measure": "个"},
    ]
    assert (
        format_progress(rows)
        == "强化整合重组一批：目标46宗，已完成3宗（按进度应完成10宗）\n复工达产一批：目标28个，尚未完成"
    )
    assert format_progress([]) == "本计划未设批次任务。"
    # Before the batch's timeline starts nothing is expected yet: no 应完成0宗.
    assert (
        format_progress([dict(rows[0], expected=0.0)])
        == "强化整合重组一批：目标46宗，已完成3宗（按进度尚未到完成时间）"
    )


def test_progress_expects_whole_rights_and_states_the_rounding() -> None:
    """Half a mine is not expected of anyone: 8.5 by the timeline reads 9, with the rule said once."""
    rows = [
        {"name": "强化整合重组一批", "target": 46, "done": 3, "expected": 8.5, "measure": "宗"},
        {"name": "加强升级改造一批", "target": 11, "done": 1, "expected": 2.0, "measure": "家"},
    ]
    assert format_progress(rows).splitlines() == [
        "强化整合重组一批：目标46宗，已完成3宗（按进度应完成9宗）",
        "加强升级改造一批：目标11家，已完成1家（按进度应完成2家）",
        "注：按进度应完成数按实施方案时间节点折算，不足一宗（个）的按一宗（个）计。",
    ]
