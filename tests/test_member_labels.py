"""A member who joined without a name is called by unit and role wherever people read about them
(oversight.members.member_label): 旗应急管理局（矿山安全监管局）联络员 on a problem card, 旗林草局联络员乙
on a notice's explanation, 旗人民政府包联领导 in the brief and the review, the unit by the name every
document gives it (not 林草局, 旗政府, its short forms); never 成员4321, nor any digit of the record
number. Their record numbers here are 4321-4324, digits no date or count of the scenario has."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from jobs.brief import brief_context
from jobs.notices import publish_notice
from models import GroupBinding, Member, Problem, Role, Zone, ZoneLeader
from oversight.briefdata import brief_data
from oversight.members import member_label
from oversight.notices import approve_notice, draft_notice, explanations_for_period, file_explanation
from oversight.periods import parse_period
from oversight.plans import set_milestones
from oversight.problems import decline_problem, problem_card, rule_problem
from oversight.review import build_review, review_document
from tests.test_accountability import AFTER_Q1, JOINED, Cast, at

IDS = re.compile(r"432[1-4]|成员\d")


def nameless(cast: Cast, member_id: int, unit: str, role: str, joined_days: int = 0) -> Member:
    m = Member(
        id=member_id,
        plan_id=cast.plan_id,
        telegram_user_id=70000 + member_id,
        name="",
        unit_id=cast.uid(unit),
        role=role,
        joined_at=JOINED + timedelta(days=joined_days),
    )
    cast.s.add(m)
    cast.s.flush()
    return m


@pytest.fixture
def cast(session: Session, banner_plan_id: int) -> Cast:
    c = Cast(session, banner_plan_id)
    session.add(GroupBinding(plan_id=banner_plan_id, chat_id=-100777, title="联席会议群"))
    set_milestones(
        session=session, plan_id=banner_plan_id, key="upgrade", milestones=[(date(2026, 12, 31), 0.0)], actor="t"
    )
    # The cast's own contacts are named as people are; the nameless ones come beside them.
    c["forestry"].name, c["emergency"].name = "王林", "李梅"
    nameless(c, 4321, "forestry", Role.CONTACT)
    nameless(c, 4322, "forestry", Role.CONTACT, joined_days=3)
    c.people["raiser"] = nameless(c, 4323, "emergency", Role.CONTACT)
    leader = nameless(c, 4324, "banner_gov", Role.ZONE_LEADER)
    zone = session.exec(select(Zone).where(Zone.plan_id == banner_plan_id, Zone.seq == 1)).one()
    session.add(ZoneLeader(zone_id=zone.id, member_id=leader.id))
    for unit in c.units.values():
        c.report_weekly(unit.key)
    session.commit()
    return c


def test_a_nameless_member_is_called_by_unit_and_role_and_two_of_them_apart(cast: Cast) -> None:
    labels = [member_label(session=cast.s, member=cast.s.get(Member, i)) for i in (4321, 4322, 4323, 4324)]
    assert labels == [
        "旗林草局联络员甲",
        "旗林草局联络员乙",
        "旗应急管理局（矿山安全监管局）联络员",
        "旗人民政府包联领导",
    ]
    assert member_label(session=cast.s, member=cast["forestry"]) == "王林"


def test_the_problem_card_names_a_nameless_raiser_by_unit_and_role(cast: Cast) -> None:
    pid = cast.raise_("forestry", at(3, 2), by="raiser")
    card = problem_card(session=cast.s, problem=cast.s.get_one(Problem, pid))
    # The unit and the role (person_at_unit), never the unit twice nor a bracket in a bracket.
    assert "提出：旗应急管理局（矿山安全监管局）联络员，2026年3月2日" in card, card
    assert IDS.search(card) is None, card


def test_a_nameless_contacts_explanation_names_them_to_the_office(cast: Cast, tmp_path: Path) -> None:
    pid = cast.raise_("forestry", at(3, 2))
    decline_problem(session=cast.s, problem_id=pid, actor=cast["forestry"], reason="不是林草的事", now=at(3, 2, 15))
    rule_problem(
        session=cast.s,
        problem_id=pid,
        actor=cast.office,
        to_unit_id=cast.uid("forestry"),
        reason="属林草",
        now=at(3, 4),
    )
    notice = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    approve_notice(session=cast.s, notice_id=notice.id, actor=cast.convener, now=AFTER_Q1)
    publish_notice(session=cast.s, notice_id=notice.id, now=AFTER_Q1, data_dir=tmp_path)
    file_explanation(
        session=cast.s, notice_id=notice.id, actor=cast.s.get_one(Member, 4322), text="已完成审批。", now=at(4, 8)
    )
    cast.s.commit()
    from tests.test_notices import outbox

    told = [m.text for m in outbox(cast.s, cast.office.telegram_user_id) if "情况说明" in m.text]
    assert len(told) == 1 and told[0].startswith("【情况说明】旗林草局联络员乙已就"), told
    assert IDS.search(told[0]) is None, told[0]
    rows = explanations_for_period(session=cast.s, plan_id=cast.plan_id, period="2026Q1")
    assert [r["member"] for r in rows] == ["旗林草局联络员乙"]


def test_the_brief_and_the_review_name_a_nameless_zone_leader_by_unit_and_role(cast: Cast) -> None:
    data = brief_data(session=cast.s, plan_id=cast.plan_id, period=parse_period("2026Q1"), now=AFTER_Q1)
    ctx = brief_context(data, issue_no=1, issued_on="2026-04-08", chart="<svg/>")
    lines = [
        p if isinstance(p, str) else p["text"]
        for section in ctx["sections"]
        for sub in [section, *(section.get("subsections") or [])]
        for p in sub.get("paragraphs") or []
    ]
    led = [line for line in lines if "包联1号整合区" in line]
    assert led and led[0].startswith("旗人民政府包联领导包联1号整合区"), led
    assert not [line for line in lines if IDS.search(line)]

    after_h1 = at(7, 6)
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=after_h1)
    assert [r["name"] for r in review["zone_leaders"]] == ["旗人民政府包联领导"]
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=after_h1)
    text = "\n".join(str(cell) for cell in _strings(doc))
    assert "旗人民政府包联领导" in text and IDS.search(text) is None, IDS.search(text)


def _strings(value: object) -> list[str]:
    """Every string of a document's data that the template prints, ids and keys left out."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in ("facts", "ids") and not k.endswith("_id") for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []
