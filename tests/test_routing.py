"""Region routing by sector and place (seed 003 一; issue 14): a problem's owner follows the task
of the right it concerns — coal safety licences and restart approvals to 能源局 (task 一),
non-coal ones to 应急管理厅 (task 四); enterprise, market and construction reasons to the league or
city where the right lies; the plan file's routing keys are kept and checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import Member, ProblemCategory, ProblemEvent, Right, RightBatch, Role, Task, Unit
from oversight.planfile import PlanFileError, parse_plan_text
from oversight.plans import plan_spec
from oversight.problems import raise_problem, suggest_owner
from tests.conftest import REGION_PLAN, load_bundled_plan


@pytest.fixture
def region(engine, session: Session) -> int:
    return load_bundled_plan(engine, REGION_PLAN)


def _unit(session: Session, plan_id: int, key: str) -> Unit:
    return session.exec(select(Unit).where(Unit.plan_id == plan_id, Unit.key == key)).one()


def _category(session: Session, plan_id: int, key: str) -> int:
    return session.exec(
        select(ProblemCategory.id).where(ProblemCategory.plan_id == plan_id, ProblemCategory.key == key)
    ).one()


def _right(
    session: Session, plan_id: int, code: str, *, sector: str = "", place: str | None = None, task: str | None = None
) -> Right:
    right = Right(
        plan_id=plan_id,
        code=code,
        name=code,
        kind="mining",
        sector=sector,
        locality_unit_id=_unit(session, plan_id, place).id if place else None,
    )
    session.add(right)
    session.flush()
    if task:
        task_id = session.exec(select(Task.id).where(Task.plan_id == plan_id, Task.key == task)).one()
        session.add(RightBatch(right_id=right.id, task_id=task_id))
        session.flush()
    return right


def _raise(session: Session, plan_id: int, category: str, right: Right | None) -> tuple[str, str]:
    actor = Member(
        plan_id=plan_id, unit_id=_unit(session, plan_id, "ordos").id, role=Role.CONTACT, name="鄂尔多斯联络员"
    )
    session.add(actor)
    session.flush()
    problem = raise_problem(
        session=session,
        plan_id=plan_id,
        actor=actor,
        text="停产原因待解决",
        category_id=_category(session, plan_id, category),
        right_id=right.id if right else None,
    )
    event = session.exec(
        select(ProblemEvent).where(ProblemEvent.problem_id == problem.id, ProblemEvent.kind == "assigned")
    ).one()
    return session.get(Unit, problem.owner_unit_id).name, event.reason


def test_coal_safety_licence_in_ordos_goes_to_the_energy_bureau(session: Session, region: int) -> None:
    coal = _right(session, region, "C-煤-1", sector="coal", place="ordos")
    owner, reason = _raise(session, region, "safety_licence", coal)
    # Seed 003 names a lead for each task, not a duty for each kind of paperwork: no 按职责分工 is claimed.
    assert owner == "自治区能源局" and reason == "煤炭矿山的安全生产许可证事项由自治区能源局办理"
    # The same blocker on a non-coal mine is 应急管理厅's (task 四).
    owner, _ = _raise(
        session, region, "safety_licence", _right(session, region, "C-非煤-1", sector="noncoal", place="ordos")
    )
    assert owner == "自治区应急管理厅"
    # A right whose sector the ledger leaves blank counts as its batch's: task (一) is coal.
    in_task_one = _right(session, region, "C-煤-2", task="coal_mines")
    assert _raise(session, region, "restart_approval", in_task_one)[0] == "自治区能源局"
    assert _raise(session, region, "restart_approval", None)[0] == "自治区应急管理厅"  # no right: the category's owner


def test_enterprise_and_market_reasons_go_to_the_league_or_city(session: Session, region: int) -> None:
    mine = _right(session, region, "C-煤-3", sector="coal", place="ordos")
    for category in ("litigation", "shareholders", "funding", "market", "construction"):
        owner, reason = _raise(session, region, category, mine)
        assert owner == "鄂尔多斯市人民政府", category
        assert reason.startswith("按属地，") and reason.endswith("由矿业权所在地鄂尔多斯市人民政府负责")
    assert (
        suggest_owner(
            session=session, plan_id=region, category_id=_category(session, region, "market"), right_id=mine.id
        ).key
        == "ordos"
    )
    # Where the right lies is not in the ledger: 自然资源厅 coordinates, as the plan file says.
    assert _raise(session, region, "funding", _right(session, region, "C-无地", sector="coal"))[0] == "自治区自然资源厅"


def test_routing_keys_are_kept_and_checked(session: Session, region: int) -> None:
    from models import Plan

    spec = plan_spec(session.get(Plan, region))
    cats = {c.key: c for c in spec.categories}
    assert cats["safety_licence"].owner_by_sector == {"coal": "energy"} and cats[
        "restart_approval"
    ].owner_by_sector == {"coal": "energy"}
    assert all(
        cats[k].local
        for k in (
            "litigation",
            "shareholders",
            "unpaid_fees",
            "bankruptcy",
            "funding",
            "violation",
            "market",
            "construction",
        )
    )
    text = Path(REGION_PLAN).read_text(encoding="utf-8")
    bad = text.replace(
        "owner_by_sector: {coal: energy}, limit_days: 20, group: paperwork}",
        "owner_by_sector: {oil: energy}, limit_days: 20, group: paperwork}",
        1,
    )
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(bad, key="x")
    assert caught.value.field == "categories[safety_licence].owner_by_sector" and "coal" in caught.value.message
    unknown = text.replace("owner_by_sector: {coal: energy}", "owner_by_sector: {coal: nosuch}", 1)
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(unknown, key="x")
    assert caught.value.field == "categories[safety_licence].owner_by_sector.coal"
    no_leagues = text.replace("leagues: *leagues", "leagues: []")
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(no_leagues, key="x")
    assert caught.value.field == "categories[litigation].local"
