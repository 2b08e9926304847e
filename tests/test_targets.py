"""The plan-level targets measured from the record (issue 14): seed 000 一、工作目标 (≤65 mines;
large+medium ≥75 %; ≥3 green mines at region level or above; −15 mining, −19 exploration, −34
in all; 28 restarted) and seed 003 (1,383 idle mines, 1,302 unconverted exploration rights, 盘活一批
by the end of 2022), each with its figure now, the figure expected by now, and its rights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from models import Right, RightBatch, Task, Unit, Zone
from oversight.rights import move_right_status
from oversight.targets import format_targets, plan_targets, region_breakdown, region_by_league
from tests.conftest import REGION_PLAN, load_bundled_plan

MARCH = datetime(2026, 3, 1, 2, tzinfo=UTC)
JUNE = datetime(2026, 6, 1, 2, tzinfo=UTC)
# 2027-01-01 in Shanghai: 365 of the 1,825 days from 2026-01-01 to 2030-12-31 (十五五).
AS_OF = datetime(2027, 1, 1, 4, tzinfo=UTC)
SHARE = 365 / 1825


def _zone(session: Session, plan_id: int, seq: int) -> int:
    return session.exec(select(Zone.id).where(Zone.plan_id == plan_id, Zone.seq == seq)).one()


def _add(session: Session, plan_id: int, code: str, **kw) -> Right:
    right = Right(plan_id=plan_id, code=code, name=code, kind=kw.pop("kind", "mining"), **kw)
    session.add(right)
    session.flush()
    return right


def _move(session: Session, right: Right, status: str, when: datetime = JUNE) -> None:
    move_right_status(session=session, right_id=right.id, to_status=status, actor_member_id=None, actor="t", now=when)


def _by_key(rows: list[dict]) -> dict[str, dict]:
    return {r["key"]: r for r in rows}


def test_banner_targets_from_the_ledger(session: Session, banner_plan_id: int) -> None:
    p = banner_plan_id
    z7, z11 = _zone(session, p, 7), _zone(session, p, 11)  # 张佳花岗岩: 2 mining; 乌兰赤老: 2 mining + 1 deep
    # Each zone keeps the right its ledger row marks 整合后保留 (tests/test_zone_survivor.py: another one).
    a = _add(session, p, "A", zone_id=z7, size_class="medium", kept_in_zone=True)
    b = _add(session, p, "B", zone_id=z7, kept_in_zone=False)
    c = _add(session, p, "C", zone_id=z11, size_class="large", green_level="region", kept_in_zone=True)
    d = _add(session, p, "D", zone_id=z11)
    deep = _add(session, p, "D-深部", kind="deep", zone_id=z11)
    e = _add(session, p, "E", size_class="small")
    f = _add(session, p, "F")
    g = _add(session, p, "G", size_class="large", green_level="national")
    _add(session, p, "H", green_level="city")
    x = _add(session, p, "X", kind="exploration")
    for right in (a, b, c, d, deep):
        _move(session, right, "consolidated")
    _move(session, e, "closed")
    _move(session, f, "closed", MARCH)
    _move(session, f, "in_progress")  # registered closed by mistake, reopened: not reduced
    _move(session, g, "restarted")
    _move(session, x, "closed")
    session.commit()

    rows = _by_key(plan_targets(session=session, plan_id=p, as_of=AS_OF))
    assert list(rows) == [
        "reduce_mining",
        "reduce_exploration",
        "reduce_total",
        "max_mines",
        "min_large_medium_ratio",
        "restart",
        "green_mines",
    ]
    # −15 mining: E closed, and each zone's consolidated mining right not kept absorbed (B, D).
    rm = rows["reduce_mining"]
    assert (rm["value"], rm["now"], rm["records"]["codes"]) == (15, 3, ["E", "B", "D"])
    assert rm["expected"] == pytest.approx(15 * SHARE, abs=1e-3) and not rm["behind"]
    # −19 exploration: the deep right consolidated into zone 11 and X closed.
    assert rows["reduce_exploration"]["now"] == 2 and rows["reduce_exploration"]["records"]["codes"] == ["D-深部", "X"]
    assert rows["reduce_exploration"]["expected"] == pytest.approx(19 * SHARE, abs=1e-3)
    assert rows["reduce_exploration"]["behind"]  # 2 < 4 (3.8 to the nearest whole right)
    assert rows["reduce_total"]["now"] == 5 and rows["reduce_total"]["value"] == 34
    # ≤65 mines: the ledger holds 8 of the plan's 69 mining rights, too few for a total of mines.
    mm = rows["max_mines"]
    assert (mm["now"], mm["expected"], mm["behind"]) == (None, None, False)
    assert mm["unloaded"] == "台账载入采矿权8宗，少于实施方案基数69宗"
    # Standing mining rights: A, C, F, G, H (B, D absorbed, E closed); large or medium A, C, G.
    ratio = rows["min_large_medium_ratio"]
    assert ratio["now"] == pytest.approx(3 / 5, abs=1e-4) and ratio["records"]["codes"] == ["A", "C", "G"]
    # On 2026-01-01 nothing had moved: 8 mining rights standing (A–H), 3 large or medium.
    assert ratio["start_value"] == pytest.approx(3 / 8)
    assert ratio["expected"] == pytest.approx(3 / 8 + (0.75 - 3 / 8) * SHARE, abs=1e-3)
    # ≥3 green at region level or above: C (自治区级) and G (国家级); H is 盟市级.
    green = rows["green_mines"]
    assert green["now"] == 2 and green["records"]["codes"] == ["C", "G"]
    # 2.2 is 2 green mines to the nearest whole one: on track, not behind by a fifth of a mine.
    assert green["expected"] == pytest.approx(2 + (3 - 2) * SHARE, abs=1e-3) and not green["behind"]
    assert rows["restart"]["now"] == 1 and rows["restart"]["expected"] == pytest.approx(28 * SHARE, abs=1e-3)

    # As of March, only F's mistaken closure had happened.
    march = _by_key(plan_targets(session=session, plan_id=p, as_of=MARCH))
    assert march["reduce_mining"]["now"] == 1 and march["reduce_mining"]["records"]["codes"] == ["F"]

    text_ = format_targets(list(rows.values()))
    assert (
        "减少采矿权：目标15宗（2030年12月31日前），现为3宗，按进度应为3宗；关闭注销1宗，整合减少2宗：E、B、D。" in text_
    )
    assert "大中型矿山占比（按生产规模）：目标不低于75%（2030年12月31日前），现为60.0%" in text_
    assert "减少探矿权：目标19宗（2030年12月31日前），现为2宗，按进度应为4宗（滞后）" in text_
    assert (
        "全旗矿山总数：目标控制在65个以内（2030年12月31日前），台账载入采矿权8宗，少于实施方案基数69宗，现状暂无法计算；"
        "矿山总数待台账采矿权载入齐全后计算。"
    ) in text_
    assert "矿山复工达产：目标28个（2030年12月31日前），现为1个，按进度应为6个（滞后）" in text_
    assert "自治区级以上绿色矿山：目标3个（2030年12月31日前），现为2个，按进度应为2个；" in text_


def test_banner_targets_recomputed_in_sql(session: Session, banner_plan_id: int) -> None:
    """The figures are the database's: recounted here with plain SQL on the current statuses (zone 7
    states no survivor: its two consolidated rights count as one kept)."""
    p = banner_plan_id
    z7 = _zone(session, p, 7)
    rights = [
        _add(session, p, f"R{i}", zone_id=z7 if i < 2 else None, size_class="large" if i % 2 else "small")
        for i in range(6)
    ]
    for r in rights[:2]:
        _move(session, r, "consolidated")
    _move(session, rights[2], "closed")
    _move(session, rights[3], "restarted")
    session.commit()
    rows = _by_key(plan_targets(session=session, plan_id=p))

    def sql(query: str) -> int:
        return session.execute(text(query), {"p": p}).scalar_one()

    closed = sql("SELECT COUNT(*) FROM \"right\" WHERE plan_id = :p AND kind = 'mining' AND status = 'closed'")
    absorbed = sql(
        'SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM "right" WHERE plan_id = :p'
        " AND kind = 'mining' AND status = 'consolidated' AND zone_id IS NOT NULL GROUP BY zone_id) z"
    )
    assert rows["reduce_mining"]["now"] == closed + absorbed == 2
    standing = sql("SELECT COUNT(*) FROM \"right\" WHERE plan_id = :p AND kind = 'mining'") - closed - absorbed
    assert rows["max_mines"]["now"] is None and standing == 4  # 6 of 69 in the ledger: no total of mines
    restarted = sql("SELECT COUNT(*) FROM \"right\" WHERE plan_id = :p AND status = 'restarted'")
    assert rows["restart"]["now"] == restarted == 1


def test_region_targets_breakdown_and_first_batch(engine, session: Session) -> None:
    """Seed 003: 1,383 idle mines and 1,302 unconverted exploration rights are counts with no end
    date, so nothing is 'expected by now'; 三(二) asks for 盘活一批 by 2022-12-31."""
    p = load_bundled_plan(engine, REGION_PLAN)
    ordos = session.exec(select(Unit.id).where(Unit.plan_id == p, Unit.key == "ordos")).one()
    coal = session.exec(select(Task).where(Task.plan_id == p, Task.key == "coal_mines")).one()
    mines = [
        _add(session, p, f"M{i}", sector="coal", idle_cause=cause, locality_unit_id=ordos)
        for i, cause in enumerate(["construction", "goaf", "paperwork", "paperwork", "enterprise"])
    ]
    for m in mines:
        session.add(RightBatch(right_id=m.id, task_id=coal.id))
    session.flush()
    _move(session, mines[2], "restarted", datetime(2023, 2, 1, tzinfo=UTC))
    session.commit()

    before = _by_key(plan_targets(session=session, plan_id=p, as_of=datetime(2022, 11, 1, tzinfo=UTC)))
    assert before["restart_idle"]["value"] == 1383 and before["convert_exploration"]["value"] == 1302
    assert before["restart_idle"]["expected"] is None and not before["first_batch"]["behind"]
    after = _by_key(plan_targets(session=session, plan_id=p, as_of=datetime(2023, 3, 1, tzinfo=UTC)))
    assert after["restart_idle"]["now"] == 1
    # The only restart came in February 2023: none by the end of 2022, so the first batch is behind.
    assert after["first_batch"]["now"] == 0 and after["first_batch"]["behind"]
    assert "2022年12月31日前盘活一批矿业权" in format_targets(list(after.values()))

    task1 = next(
        t
        for t in region_breakdown(session=session, plan_id=p, as_of=datetime(2023, 3, 1, tzinfo=UTC))
        if t["key"] == "coal_mines"
    )
    assert (task1["seed"], task1["ledger"], task1["done"]) == (107, 5, 1)
    causes = {c["key"]: (c["seed"], c["ledger"], c["done"]) for c in task1["causes"]}
    assert causes == {"construction": (22, 1, 0), "goaf": (11, 1, 0), "paperwork": (20, 2, 1), "enterprise": (54, 1, 0)}
    leagues = {
        r["short"]: r for r in region_by_league(session=session, plan_id=p, as_of=datetime(2023, 3, 1, tzinfo=UTC))
    }
    assert len(leagues) == 12 and (leagues["鄂尔多斯市"]["idle_mines"], leagues["鄂尔多斯市"]["restarted"]) == (5, 1)
    assert leagues["包头市"]["idle_mines"] == 0
    assert date(2022, 12, 31).isoformat() == after["first_batch"]["deadline"]


def test_region_brief_prints_the_seeds_baseline_causes_and_leagues(engine, session: Session) -> None:
    """Seed 003 一: 1,383 idle mines (107 coal + 1,276 non-coal; 166 excluded), 1,302 unconverted
    exploration rights (160 + 1,142), each task's causes (22/11/20/54; 186/161/464/465; 20+21; 82;
    119; 1,060), each reconciled with the database; a league without its baseline ledger by
    2022-09-20 (三(三)) is red and named."""
    import re as _re

    from jobs.brief import _brief_html
    from models import Plan
    from oversight.briefdata import brief_data, parse_period

    p = load_bundled_plan(engine, REGION_PLAN)
    ordos = session.exec(select(Unit.id).where(Unit.plan_id == p, Unit.key == "ordos")).one()
    coal = session.exec(select(Task).where(Task.plan_id == p, Task.key == "coal_mines")).one()
    mine = _add(
        session, p, "M-1", sector="coal", idle_cause="goaf", locality_unit_id=ordos, baseline_on=date(2022, 9, 16)
    )
    session.add(RightBatch(right_id=mine.id, task_id=coal.id))
    session.commit()
    now = datetime(2022, 10, 8, 4, tzinfo=UTC)
    data = brief_data(session=session, plan_id=p, period=parse_period("2022Q3"), now=now)
    html = _brief_html(data, issue_no=1, issued_on="2022-10-08")
    body = _re.sub(r"<[^>]+>", "", html)
    body = _re.sub(r"\s+", "", body)
    spec = session.get(Plan, p).spec
    b = spec["baseline"]
    assert (
        f"全区共有停产矿山{b['idle_mines']}个（剔除因开采条件限制不能恢复生产的矿山{b['excluded_cannot_resume']}个），"
        f"其中停产煤矿{b['idle_coal']}个、停产非煤矿山{b['idle_noncoal']}个；全区有{b['unconverted_exploration']}个探矿权尚未转采，"
        f"其中煤炭探矿权{b['unconverted_coal']}个、非煤探矿权{b['unconverted_noncoal']}个" in body
    )
    assert (b["idle_mines"], b["excluded_cannot_resume"], b["unconverted_exploration"]) == (1383, 166, 1302)
    for task in session.exec(select(Task).where(Task.plan_id == p)).all():
        assert f"方案共涉及{task.target}个" in body, task.key
        for item in task.breakdown:
            assert f"{item['name']}{item['count']}个" in body, item
    assert "正在开展采空区灾害治理11个（台账1个，已完成0个）" in body
    assert [t.target for t in session.exec(select(Task).where(Task.plan_id == p).order_by(Task.seq)).all()] == [
        107,
        41,
        119,
        1276,
        82,
        1060,
    ]
    # 12 leagues in the table; 鄂尔多斯市 filed on 2022-09-16, the other 11 did not: red and named.
    assert "鄂尔多斯市人民政府1000已报送（2022年9月16日）" in body  # 1 idle, 0 restarted, 0 exploration, 0 converted
    named = _re.search(r"以下盟市未按期（2022年9月20日前）报送底数核实情况及工作措施台账：([^。]+)。", body)
    assert named is not None and len(named.group(1).split("、")) == 11 and "鄂尔多斯市" not in named.group(1)
    assert "包头市" in named.group(1)
    leagues = {r["short"]: r for r in region_by_league(session=session, plan_id=p, as_of=now)}
    assert leagues["鄂尔多斯市"]["baseline_light"] == "green" and leagues["包头市"]["baseline_light"] == "red"
    early = {
        r["short"]: r for r in region_by_league(session=session, plan_id=p, as_of=datetime(2022, 9, 15, tzinfo=UTC))
    }
    assert early["包头市"]["baseline_light"] == "yellow"  # five days before the deadline, not filed yet


def test_baseline_ledger_is_a_league_to_do_item_with_its_colour(engine, session: Session) -> None:
    """Seed 003 三(三): each league owes its 底数核实台账 by 2022-09-20; until a right there carries a
    底数核实日期 it is on the league's to-do list, red after the deadline, and on the office's list
    of every overdue item."""
    from models import Member, Role
    from oversight.lookups import format_todo, todo_for_unit, todo_overdue_all

    p = load_bundled_plan(engine, REGION_PLAN)
    ordos = session.exec(select(Unit).where(Unit.plan_id == p, Unit.key == "ordos")).one()
    baotou = session.exec(select(Unit).where(Unit.plan_id == p, Unit.key == "baotou")).one()
    natres = session.exec(select(Unit).where(Unit.plan_id == p, Unit.key == "natres")).one()
    _add(session, p, "M-2", locality_unit_id=ordos.id, baseline_on=date(2022, 9, 18))
    session.commit()
    before = todo_for_unit(session=session, unit_id=baotou.id, today=date(2022, 9, 19))
    assert [(i["kind"], i["light"]) for i in before] == [("baseline", "yellow")]
    late = format_todo(todo_for_unit(session=session, unit_id=baotou.id, today=date(2022, 9, 26)))
    assert "🔴 底数核实台账【待报送】" in late and "期限 2022年9月20日" in late and "已逾期" in late
    # Filed; what 鄂尔多斯市 still owes is its first batch (盘活一批, due at the end of 2022).
    assert [i["kind"] for i in todo_for_unit(session=session, unit_id=ordos.id, today=date(2022, 9, 26))] == [
        "first_batch"
    ]
    assert todo_for_unit(session=session, unit_id=natres.id, today=date(2022, 9, 26)) == []  # not a league
    office = Member(plan_id=p, unit_id=natres.id, role=Role.OFFICE, name="办公室")
    session.add(office)
    session.flush()
    overdue = todo_overdue_all(session=session, actor=office, today=date(2022, 9, 26))
    assert len([i for i in overdue if i["kind"] == "baseline"]) == 11
    assert "包头市人民政府" in format_todo(overdue, show_unit=True) and "鄂尔多斯市人民政府" not in format_todo(
        overdue, show_unit=True
    )


def test_first_batch_is_a_league_to_do_item_until_a_right_there_is_activated(engine, session: Session) -> None:
    """Seed 003 三(二): 盘活一批 by 2022-12-31 is each league's item while the ledger holds idle rights
    there and none of them restarted or converted: on its /todo, red after the deadline, among the
    office's overdue items, and gone once a right there is activated. A league whose ledger holds no
    right owes nothing the record could count."""
    from models import Member, Role
    from oversight.lookups import format_todo, todo_for_unit, todo_overdue_all
    from oversight.region_items import open_region_items

    p = load_bundled_plan(engine, REGION_PLAN)
    units = {u.key: u for u in session.exec(select(Unit).where(Unit.plan_id == p)).all()}
    ordos, hohhot, baotou = units["ordos"], units["hohhot"], units["baotou"]
    mine = _add(session, p, "M-1", locality_unit_id=ordos.id, baseline_on=date(2022, 9, 1))
    _add(session, p, "T-1", kind="exploration", locality_unit_id=hohhot.id, baseline_on=date(2022, 9, 2))
    session.commit()

    dec = date(2022, 12, 20)
    items = todo_for_unit(session=session, unit_id=ordos.id, today=dec)
    assert [(i["kind"], i["light"], i["due_on"]) for i in items] == [("first_batch", "green", date(2022, 12, 31))]
    assert "🟢 盘活一批矿业权【待盘活】" in format_todo(items)
    assert [i["kind"] for i in todo_for_unit(session=session, unit_id=baotou.id, today=dec)] == ["baseline"]

    jan = date(2023, 1, 9)
    late = format_todo(todo_for_unit(session=session, unit_id=ordos.id, today=jan))
    assert "🔴 盘活一批矿业权【待盘活】" in late and "期限 2022年12月31日" in late and "已逾期" in late
    office = Member(plan_id=p, unit_id=units["natres"].id, role=Role.OFFICE, name="办公室")
    session.add(office)
    session.flush()
    overdue = todo_overdue_all(session=session, actor=office, today=jan)
    batch = sorted(i["unit"] for i in overdue if i["kind"] == "first_batch")
    assert batch == sorted([ordos.name, hohhot.name])
    late = {i["unit"] for i in open_region_items(session=session, plan_id=p, today=jan) if i["due_on"] < jan}
    assert late >= {ordos.name, baotou.name}
    assert all(i["light"] != "red" for i in open_region_items(session=session, plan_id=p, today=date(2022, 9, 20)))

    _move(session, mine, "restarted", datetime(2023, 1, 5, 2, tzinfo=UTC))
    session.commit()
    assert todo_for_unit(session=session, unit_id=ordos.id, today=jan) == []
    # As of a day before the restart the item was still open: the record's day decides.
    before = open_region_items(session=session, plan_id=p, today=date(2023, 1, 4), unit_id=ordos.id)
    assert [i["kind"] for i in before] == ["first_batch"]
    assert open_region_items(session=session, plan_id=p, today=jan, kinds=["baseline"], unit_id=ordos.id) == []


def test_region_brief_says_every_league_filed_its_baseline_only_when_each_did_on_time(engine, session: Session) -> None:
    """Seed 003 三(三): when every league and city filed its 底数核实台账 by 2022-09-20 the brief says
    so in one sentence (region_baseline_all) and names none as late; one league filing a day late
    turns that sentence into the list of late leagues, and it names that one only."""
    import re as _re

    from jobs.brief import brief_context
    from oversight.briefdata import brief_data, parse_period

    p = load_bundled_plan(engine, REGION_PLAN)
    leagues = session.exec(select(Unit).where(Unit.plan_id == p, Unit.kind == "league").order_by(Unit.id)).all()
    assert len(leagues) == 12
    rights = [
        _add(session, p, f"B-{n}", locality_unit_id=u.id, baseline_on=date(2022, 9, 19)) for n, u in enumerate(leagues)
    ]
    session.commit()
    now = datetime(2022, 10, 8, 4, tzinfo=UTC)

    def facts() -> dict[str, dict]:
        data = brief_data(session=session, plan_id=p, period=parse_period("2022Q3"), now=now)
        return {f["kind"]: f for f in brief_context(data, issue_no=1, issued_on="2022-10-08", chart="<svg/>")["facts"]}

    on_time = facts()
    assert on_time["region_baseline_all"]["text"] == "各盟市均已按期（2022年9月20日前）报送底数核实情况及工作措施台账。"
    assert "region_baseline_missing" not in on_time
    rights[3].baseline_on = date(2022, 9, 21)  # a day past the deadline
    session.add(rights[3])
    session.commit()
    late = facts()
    assert "region_baseline_all" not in late
    named = _re.search(r"报送底数核实情况及工作措施台账：(.+)。$", late["region_baseline_missing"]["text"])
    assert named is not None and named.group(1) == leagues[3].name


def test_a_whole_unit_target_is_expected_and_judged_in_whole_units(session: Session, banner_plan_id: int) -> None:
    """自治区级以上绿色矿山 runs from the 2 green mines of 1 January 2026 (C, G) to 3 by 2030: the
    brief of 2026Q1 (day 90 of 1,825) expects 2.05 of them, 2 to the nearest whole mine, and 2 are
    green, so 按进度应为2个 and not 滞后 (main printed 3, the whole 2030 target, and 滞后 on 0.05 of
    a mine); 2028Q2 (day 912) expects 2.4997, still 2; 2028Q3 (day 1,004) expects 2.55, 3 and
    滞后; /progress on the same days says the same; the flag always agrees with the figure."""
    from jobs.brief import brief_context
    from oversight.briefdata import brief_data, parse_period
    from oversight.lookups import progress_summary

    p = banner_plan_id
    _add(session, p, "C", size_class="large", green_level="region")
    _add(session, p, "G", size_class="large", green_level="national")
    session.commit()
    head = "自治区级以上绿色矿山：目标3个（2030年12月31日前），现为2个，"
    cases = [
        ("2026Q1", datetime(2026, 4, 8, 2, tzinfo=UTC), 2 + 90 / 1825, "按进度应为2个；"),
        ("2028Q2", datetime(2028, 7, 8, 2, tzinfo=UTC), 2 + 912 / 1825, "按进度应为2个；"),
        ("2028Q3", datetime(2028, 10, 8, 2, tzinfo=UTC), 2 + 1004 / 1825, "按进度应为3个（滞后）；"),
    ]
    for period, now, expected, said in cases:
        data = brief_data(session=session, plan_id=p, period=parse_period(period), now=now)
        ctx = brief_context(data, issue_no=1, issued_on=now.date().isoformat(), chart="<svg/>")
        (line,) = [
            f["text"] for f in ctx["facts"] if f["kind"] == "progress_target" and f["values"]["key"] == "green_mines"
        ]
        assert line.startswith(head + said), (period, line)
        # /progress at noon of the day the brief looks at (the day after the quarter's end).
        day = parse_period(period).last_day + timedelta(days=1)
        chat = progress_summary(session=session, plan_id=p, as_of=datetime(day.year, day.month, day.day, 4, tzinfo=UTC))
        (fact,) = [f for f in chat.listed() if f["kind"] == "target" and f["values"]["key"] == "green_mines"]
        assert fact["values"]["expected"] == pytest.approx(expected, abs=1e-4), period
        assert fact["values"]["lagging"] is said.startswith("按进度应为3个"), period
        assert head + said in chat.message(), period
        session.rollback()


def _target_lines(session: Session, plan_id: int, now: datetime) -> tuple[dict[str, str], dict[str, dict]]:
    """The brief's target lines (its 2026Q4 sentences) and /progress's target facts, by key, at `now`."""
    from jobs.brief import brief_context
    from oversight.briefdata import brief_data, parse_period
    from oversight.lookups import progress_summary

    data = brief_data(session=session, plan_id=plan_id, period=parse_period("2026Q4"), now=now)
    ctx = brief_context(data, issue_no=1, issued_on=now.date().isoformat(), chart="<svg/>")
    brief = {f["values"]["key"]: f["text"] for f in ctx["facts"] if f["kind"] == "progress_target"}
    chat = progress_summary(session=session, plan_id=plan_id, as_of=now)
    facts = {f["values"]["key"]: f for f in chat.listed() if f["kind"] == "target"}
    assert facts.keys() == brief.keys()
    for key, line in brief.items():  # the same line in both, chat naming the rights behind it
        assert facts[key]["text"].startswith(line[:-1]), (facts[key], line)
    return brief, facts


def test_a_target_is_figured_from_the_ledger_and_says_so_while_the_ledger_is_empty(
    session: Session, banner_plan_id: int
) -> None:
    """A fresh deployment has the plan and no ledger: no target has a figure or a 滞后 (main said
    全旗矿山总数上限…现为69个 from the plan's baseline beside 台账中尚无存续的采矿权, and every target
    滞后), each says 台账尚未载入…，现状暂无法计算 and cites the plan's baseline as the plan's; with 68
    of the 69 mining rights loaded the total of mines still cannot be counted; with all 69 and one
    closed it is the ledger's 68, and the brief and /progress say the same line."""
    p = banner_plan_id
    now = datetime(2026, 12, 3, 4, tzinfo=UTC)
    brief, facts = _target_lines(session, p, now)
    assert len(brief) == 7
    for key, line in brief.items():
        assert "现状暂无法计算" in line and "现为" not in line and "滞后" not in line and "按进度" not in line, line
        assert facts[key]["values"]["lagging"] is False and facts[key]["values"]["now"] is None
        assert not facts[key]["ids"], key
    assert (
        brief["max_mines"]
        == "全旗矿山总数：目标控制在65个以内（2030年12月31日前），台账尚未载入采矿权，现状暂无法计算；实施方案基数采矿权69宗。"
    )
    assert brief["reduce_total"] == (
        "消减矿业权：目标34个（2030年12月31日前），台账尚未载入采矿权和探矿权，现状暂无法计算；"
        "实施方案基数采矿权69宗、探矿权49宗。"
    )
    assert brief["reduce_exploration"].startswith("减少探矿权：目标19宗（2030年12月31日前），台账尚未载入探矿权，")

    mines = [_add(session, p, f"M{i}") for i in range(68)]
    session.commit()
    brief, _ = _target_lines(session, p, now)
    assert brief["max_mines"] == (
        "全旗矿山总数：目标控制在65个以内（2030年12月31日前），台账载入采矿权68宗，少于实施方案基数69宗，现状暂无法计算；"
        "矿山总数待台账采矿权载入齐全后计算。"
    )
    # Mining rights loaded, exploration not: a mining target has its figure, the exploration ones wait.
    assert brief["reduce_mining"].startswith("减少采矿权：目标15宗（2030年12月31日前），现为0宗，按进度应为3宗（滞后）")
    assert "台账尚未载入探矿权，现状暂无法计算" in brief["reduce_exploration"]
    assert "台账尚未载入探矿权，现状暂无法计算" in brief["reduce_total"]

    mines.append(_add(session, p, "M68"))
    _add(session, p, "X", kind="exploration")
    _move(session, mines[0], "closed", MARCH)
    session.commit()
    brief, facts = _target_lines(session, p, now)
    # 1 January 2026: 69 standing; 3 December is day 336 of 1,825: 69 − 4 × 0.184 = 68.26, so 68.
    assert brief["max_mines"] == (
        "全旗矿山总数：目标控制在65个以内（2030年12月31日前），现为68个，按进度应在68个以内；台账载入采矿权69宗，已减少1宗。"
    )
    assert facts["max_mines"]["values"]["now"] == 68 and facts["max_mines"]["ids"] == {"right": [mines[0].id]}
    assert brief["reduce_total"].startswith("消减矿业权：目标34个（2030年12月31日前），现为1个，")
    # An exploration right converted holds a mining licence the ledger does not list yet: the total
    # leaves it out and says so (the audit read 现为67个 where the record held 68 licences).
    _move(session, session.exec(select(Right).where(Right.plan_id == p, Right.code == "X")).one(), "converted", MARCH)
    session.commit()
    brief, _ = _target_lines(session, p, now)
    assert brief["max_mines"].endswith(
        "台账载入采矿权69宗，已减少1宗，另有1宗探矿权已转采，待以采矿权登记入台账后计入。"
    )


def test_a_share_is_behind_only_as_its_line_prints_it(session: Session, banner_plan_id: int) -> None:
    """大中型矿山占比 runs from the share of 1 January 2026 to 75 % by 2030. With 50 of 100 mining
    rights large or medium, 3 January (day 2 of 1,825) expects 50.0274 %: the line prints 现为50.0%，
    按进度应为50.0% and is not 滞后 (main flagged it on the four-place value: 现为50.0%，按进度应为50.0%
    （滞后）); 9 January (day 8) expects 50.1096 %, printed 50.1 %, and it is 滞后. With 74 of 100, the
    brief of 2026Q1 (day 90) expects 74.0493 %, printed 74.0 % like the figure: not 滞后 in the brief
    or in /progress of that day."""
    from jobs.brief import brief_context
    from oversight.briefdata import brief_data, parse_period
    from oversight.lookups import progress_summary

    p = banner_plan_id
    key = "min_large_medium_ratio"
    head = "大中型矿山占比（按生产规模）：目标不低于75%（2030年12月31日前），"
    rights = [_add(session, p, f"M{i}", size_class="large" if i < 50 else "small") for i in range(100)]
    session.commit()

    def chat_line(day: date) -> dict:
        chat = progress_summary(session=session, plan_id=p, as_of=datetime(day.year, day.month, day.day, 4, tzinfo=UTC))
        (fact,) = [f for f in chat.listed() if f["kind"] == "target" and f["values"]["key"] == key]
        return fact

    jan3 = chat_line(date(2026, 1, 3))
    assert jan3["values"]["expected"] == pytest.approx(0.500274, abs=1e-6)
    assert jan3["text"].startswith(head + "现为50.0%，按进度应不低于50.0%；"), jan3["text"]
    assert jan3["values"]["lagging"] is False
    rows = _by_key(plan_targets(session=session, plan_id=p, as_of=datetime(2026, 1, 3, 4, tzinfo=UTC)))
    assert rows[key]["behind"] is False
    jan9 = chat_line(date(2026, 1, 9))
    assert jan9["text"].startswith(head + "现为50.0%，按进度应不低于50.1%（滞后）；"), jan9["text"]
    assert jan9["values"]["lagging"] is True

    for right in rights[50:74]:
        right.size_class = "medium"
        session.add(right)
    session.commit()
    now = datetime(2026, 4, 8, 2, tzinfo=UTC)
    data = brief_data(session=session, plan_id=p, period=parse_period("2026Q1"), now=now)
    ctx = brief_context(data, issue_no=1, issued_on=now.date().isoformat(), chart="<svg/>")
    (line,) = [f["text"] for f in ctx["facts"] if f["kind"] == "progress_target" and f["values"]["key"] == key]
    assert line.startswith(head + "现为74.0%，按进度应不低于74.0%；"), line
    april1 = chat_line(date(2026, 4, 1))
    assert april1["values"]["expected"] == pytest.approx(0.74 + 0.01 * 90 / 1825, abs=1e-4)
    assert april1["text"].startswith(head + "现为74.0%，按进度应不低于74.0%；") and april1["values"]["lagging"] is False
