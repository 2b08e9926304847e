"""Evidence in official text: each item a Chinese sentence from its kind's template, never a
Python or JSON representation; an event two bases of a finding rest on is printed once."""

from __future__ import annotations

import re

import pytest

from oversight.accountability import evaluate
from oversight.notices import draft_notice, notice_document
from oversight.problems import decline_problem, rule_problem
from oversight.review import build_review, review_document
from oversight.sentences import (
    UnknownFactError,
    cite,
    evidence_kinds,
    evidence_row,
    evidence_sentence,
    person_at_unit,
    whole,
)
from tests.chatfacts import chat_draft
from tests.test_accountability import AFTER_Q1, Cast, at

# What a program's data looks like when it leaks into a document.
RAW = re.compile(r"\{'|\"kind\":|\bNone\b|\bTrue\b|\bFalse\b|\[\[|'kind'|\bnan\b")


def assert_no_raw(text: str, where: str) -> None:
    m = RAW.search(text)
    assert m is None, f"{where}: raw data {m.group(0)!r} in …{text[max(0, m.start() - 60) : m.end() + 60]}…"


@pytest.fixture
def cast(session, banner_plan_id) -> Cast:
    return Cast(session, banner_plan_id)


def shifted_and_ruled_back(cast: Cast) -> int:
    """自然资源局 hands a problem to 林草局, gets it back, declines it; the office rules it back."""
    pid = cast.raise_("natres", at(3, 2))
    cast.hand(pid, "natres", "forestry", at(3, 2, 14), "涉及草原，应由林草局办理")
    cast.hand(pid, "forestry", "natres", at(3, 3), "用地在先，退回自然资源局")
    decline_problem(session=cast.s, problem_id=pid, actor=cast["natres"], reason="不属本局职责", now=at(3, 3, 15))
    rule_problem(
        session=cast.s,
        problem_id=pid,
        actor=cast.office,
        to_unit_id=cast.uid("natres"),
        reason="用地手续在先，由自然资源局牵头",
        now=at(3, 4),
    )
    cast.s.commit()
    return pid


def test_an_event_two_shifting_bases_rest_on_is_printed_once(cast: Cast) -> None:
    pid = shifted_and_ruled_back(cast)
    found = evaluate(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    f = next(f for f in found if f.unit == "旗自然资源局" and f.rule == "shifting")
    assert set(f.bases) == {"boomerang", "declined_ruled_back"}
    ids = [e["event_id"] for e in f.evidence]
    assert len(ids) == len(set(ids)) and len(ids) >= 3

    notice = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    doc = notice_document(session=cast.s, notice_id=notice.id, now=AFTER_Q1)
    table = next(t for t in doc["sections"][0]["tables"] if t["caption"].startswith("旗自然资源局：推诿扯皮"))
    records = [r[2] for r in table["rows"]]
    assert len(records) == len(set(records)) == len(ids)
    ruling = next(r for r in table["rows"] if "裁定" in r[2])
    assert ruling[0] == "2026年3月4日 10:00" and re.fullmatch(r"旗.+联络员", ruling[1])
    assert ruling[2] == f"裁定{pid}号问题由旗自然资源局负责，理由：用地手续在先，由自然资源局牵头。"
    back = next(r for r in table["rows"] if r[0] == "2026年3月3日 10:00")
    assert (
        back[1].startswith("旗林草局") and back[2] == f"将{pid}号问题转交旗自然资源局，理由：用地在先，退回自然资源局。"
    )
    shown = chat_draft(cast.s, notice.id)  # the overview, each finding's page, the body
    assert_no_raw("\n\n".join(shown), "draft in chat")
    block = next(p for p in shown if p.split("\n", 1)[0].endswith("】旗自然资源局：推诿扯皮"))
    assert block.count(f"裁定{pid}号问题由旗自然资源局负责") == 1
    for t in doc["sections"][0]["tables"]:
        for row in t["rows"]:
            assert_no_raw(" ".join(row), t["caption"])


def test_a_slow_accept_is_said_in_working_days_and_one_case_has_no_median(cast: Cast) -> None:
    """水利局 takes 9 working days to accept its only problem: 用时9个工作日, no 中位数 of one."""
    from oversight.problems import accept_problem

    pid = cast.raise_("water", at(1, 19))
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(2, 2))
    cast.s.commit()
    found = evaluate(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    f = next(f for f in found if f.unit == "旗水利局" and "slow_accept" in f.bases)
    item = next(e for e in f.evidence if e.get("kind") == "response_waits")
    line = evidence_sentence(item)
    assert line == f"{pid}号问题交办后10个工作日才作出响应（接收、转交或退回）。", line
    assert "中位数" not in line
    # Dated by the days it spans, from the handing-over to the acceptance (it read 截至2026年3月31日,
    # as if 水利局 had still not responded by then).
    assert evidence_row(item, "旗水利局") == ("2026年1月19日至2026年2月2日", "旗水利局", line)
    # The finding's summary (the notice's body) cites the problem as the figure does.
    # The body says the limit the wait went past (the plan's 5 working days).
    assert f"{pid}号问题交办后10个工作日才作出响应，超过5个工作日" in f.summary.split("；"), f.summary


def test_a_slow_accept_names_the_problems_waited_on(cast: Cast) -> None:
    """水利局 is handed three problems and takes 7, 7 and 8 working days on them: the figure cites
    each problem; when one of them comes back to it, its four waits are for three problems (涉及)."""
    from oversight.problems import accept_problem

    pids = [cast.raise_("water", at(1, 19)) for _ in range(3)]
    for pid, day in zip(pids, (28, 28, 29), strict=True):
        accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(1, day))
    cast.s.commit()

    def finding() -> tuple[str, str]:
        """The figure in the annex, and the summary the notice's body says."""
        found = evaluate(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
        f = next(f for f in found if f.unit == "旗水利局" and "slow_accept" in f.bases)
        summary = next(s for s in f.summary.split("；") if "作出响应" in s)
        return evidence_sentence(next(e for e in f.evidence if e.get("kind") == "response_waits")), summary

    cited = "、".join(f"{p}号" for p in pids) + "问题"
    assert finding() == (
        f"交办问题3次（{cited}），作出响应（接收、转交或退回）的用时为7个工作日2次、8个工作日1次，中位数为7个工作日。",
        f"交办问题3次（{cited}），作出响应的用时中位数为7个工作日，超过5个工作日",
    )
    cast.hand(pids[0], "water", "forestry", at(2, 2, 9))
    cast.hand(pids[0], "forestry", "water", at(2, 2, 10))
    accept_problem(session=cast.s, problem_id=pids[0], actor=cast["water"], now=at(2, 12))
    cast.s.commit()
    line, summary = finding()
    assert line.startswith(f"交办问题4次（涉及{cited}），"), line
    assert summary.startswith(f"交办问题4次（涉及{cited}），"), summary


def test_every_evidence_kind_has_a_sentence_and_an_unknown_kind_is_an_error() -> None:
    event = {
        "event_id": 1,
        "problem_id": 7,
        "actor": "张三",
        "actor_unit": "旗林草局",
        "from_unit": "旗林草局",
        "to_unit": "旗水利局",
        "at": "2026-01-08 09:05",
        "reason": "",
        "reason_accepted": None,
    }
    samples = {
        "task_progress": {
            "kind": "task_progress",
            "task": "强化整合重组一批",
            "measure": "宗",
            "target": 46,
            "done": 1,
            "expected": 8.5,
            "as_of": "2026-03-31",
        },
        "missed_week": {"kind": "missed_week", "week": "2026年第3周", "from": "2026-01-12", "to": "2026-01-18"},
        "idle_spell": {"kind": "idle_spell", "problem_id": 6, "workdays": 11, "since": "2026-03-02"},
        "overdue_problem": {"kind": "overdue_problem", "problem_id": 4, "text": "取水许可", "due_on": "2026-02-10"},
        "overdue_decision": {"kind": "overdue_decision", "decision_id": 2, "text": "草原审批", "due_on": "2026-03-13"},
        "response_waits": {"kind": "response_waits", "waits": [[3, 2], [9, 1]], "median": 3.0},
        "reopened_soon": {
            "kind": "reopened_soon",
            "problem_id": 5,
            "confirmed_at": "2026-02-09T06:17:00+00:00",
            "reopened_at": "2026-02-25T06:17:00+00:00",
            "days": 16,
        },
        "same_evidence_file": {"kind": "same_evidence_file", "item_id": 1, "other_item_ids": [2, 3]},
        "same_evidence_text": {"kind": "same_evidence_text", "item_id": 2, "other_item_ids": [1]},
        "region_deadline": {
            "kind": "region_deadline",
            "item": "baseline",
            "due_on": "2022-09-20",
            "as_of": "2022-10-01",
        },
    }
    for kind in evidence_kinds():
        item = {**event, "kind": kind.split(":", 1)[1]} if kind.startswith("event:") else samples[kind]
        line = evidence_sentence(item)
        assert line.endswith("。") and re.search(r"[\u4e00-\u9fff]", line), (kind, line)
        assert_no_raw(line, kind)
        assert not re.search(r"\d{4}-\d{2}-\d{2}|#\d", line), (kind, line)  # one date and citation form
    assert "按进度应完成9宗" in evidence_sentence(samples["task_progress"])
    assert evidence_sentence(samples["response_waits"]).endswith("中位数为3个工作日。")
    # Waits with no response yet are said so, never as responses that came.
    running = {**samples["response_waits"], "still_waiting": 1, "as_of": "2026-03-31"}
    assert evidence_sentence(running).endswith("中位数为3个工作日，其中1次截至2026年3月31日尚未作出响应。")
    one = {"kind": "response_waits", "waits": [[21, 1]], "median": 21.0, "still_waiting": 1, "as_of": "2026-03-31"}
    assert evidence_sentence(one) == "问题交办后21个工作日仍未作出响应（接收、转交或退回）。"
    assert (
        evidence_sentence(event | {"kind": "handed_over"})
        == "2026年1月8日 09:05，旗林草局的张三将7号问题转交旗水利局。"
    )
    # Who acted: the member at the unit (person_at_unit), whatever the unit's name ends in; the one known alone.
    bracketed = {"actor_unit": "旗应急管理局（矿山安全监管局）", "kind": "accepted"}
    assert evidence_row(event | bracketed)[1] == "旗应急管理局（矿山安全监管局）的张三"
    assert evidence_row(event | {"actor": "", "kind": "accepted"})[1] == "旗林草局"
    assert evidence_row(event | {"actor_unit": None, "kind": "accepted"})[1] == "张三"
    assert evidence_row(event | {"actor": None, "actor_unit": None, "kind": "accepted"})[1] == "系统"
    with pytest.raises(UnknownFactError):
        evidence_sentence({"kind": "something_new", "x": 1})
    with pytest.raises(UnknownFactError):
        evidence_sentence({**event, "kind": "teleported"})


def test_a_person_at_a_unit_has_one_form_for_every_unit_and_person() -> None:
    """旗林草局的高娜仁 and 旗应急管理局（矿山安全监管局）的周宏伟 alike (never a bracket in a bracket);
    a nameless member's label is the unit and role, never 旗林草局的林草局联络员; one alone; 系统."""
    cases = {
        ("旗林草局", "高娜仁"): "旗林草局的高娜仁",
        ("旗应急管理局（矿山安全监管局）", "周宏伟"): "旗应急管理局（矿山安全监管局）的周宏伟",
        ("旗林草局", "林草局联络员"): "旗林草局联络员",
        ("旗林草局", "林草局联络员乙"): "旗林草局联络员乙",
        ("旗林草局", "林草局第11位联络员"): "旗林草局第11位联络员",
        ("旗应急管理局（矿山安全监管局）", "应急管理局联络员"): "旗应急管理局（矿山安全监管局）联络员",
        ("旗人民政府", "旗人民政府包联领导"): "旗人民政府包联领导",
        ("旗林草局", "联络员"): "旗林草局联络员",
        ("旗水利局", "林草局联络员"): "旗水利局的林草局联络员",  # not its own unit's label
        ("旗林草局", "张林 副局长"): "旗林草局的张林 副局长",
        ("旗林草局", "旗林草局"): "旗林草局",
        ("旗林草局", ""): "旗林草局",
        ("旗应急管理局（矿山安全监管局）", None): "旗应急管理局（矿山安全监管局）",
        ("", "高娜仁"): "高娜仁",
        (None, None): "系统",
        ("旗林草局", "系统"): "系统",
    }
    for (unit, person), want in cases.items():
        assert person_at_unit(unit, person) == want, (unit, person)
        assert "）（" not in want and "（旗" not in want


def test_each_evidence_kind_reads_as_its_own_whole_sentence() -> None:
    """Every evidence item a notice or review prints, by kind, is exactly the sentence a clerk would
    write from its values: the problem events with and without the unit they went to, and the other
    items (a missed week, an overdue problem or agreed matter, the waits to accept, a problem back
    soon after closing, two items closed on the same evidence, a region deadline)."""
    event = {
        "event_id": 1,
        "problem_id": 7,
        "actor": "张三",
        "actor_unit": "旗林草局",
        "to_unit": "旗水利局",
        "at": "2026-01-08 09:05",
        "reason": "",
        "reason_accepted": None,
    }
    said = {
        "raised": "提出7号问题",
        "assigned": "将7号问题转请旗水利局办理",
        "accepted": "接收7号问题",
        "handed_over": "将7号问题转交旗水利局",
        "declined": "退回7号问题",
        "ruled": "裁定7号问题由旗水利局负责",
        "resolved": "办结7号问题",
        "confirmed": "确认7号问题已解决并关闭",
        "reopened": "将7号问题重新交付办理",
        "commented": "对7号问题作出备注",
    }
    for kind, what in said.items():
        assert evidence_sentence(event | {"kind": kind}) == f"2026年1月8日 09:05，旗林草局的张三{what}。", kind
    # An event whose unit is not known (a hand-over to a unit since removed): the verb without it.
    no_unit = {"assigned": "将7号问题转请办理", "handed_over": "转交7号问题", "ruled": "裁定7号问题的责任单位"}
    for kind, what in no_unit.items():
        item = event | {"kind": kind, "to_unit": None}
        assert evidence_sentence(item) == f"2026年1月8日 09:05，旗林草局的张三{what}。", kind
    # A reason, and the office's verdict on it, follow the predicate.
    declined = event | {"kind": "declined", "reason": "不属本局职责", "reason_accepted": False}
    assert evidence_row(declined) == (
        "2026年1月8日 09:05",
        "旗林草局的张三",
        "退回7号问题，理由：不属本局职责（理由经办公室认定不成立）。",
    )
    upheld = event | {"kind": "handed_over", "reason": "涉及取水许可", "reason_accepted": True}
    assert evidence_row(upheld)[2] == "将7号问题转交旗水利局，理由：涉及取水许可（理由经办公室认定成立）。"
    # A reason typed as a whole sentence ends where the clause after it begins: its own full stop
    # is not printed before the verdict's or the sentence's (理由：…。。 in the demo's notice).
    typed = declined | {"reason": " 该问题实质是牧户补偿纠纷，应由苏木镇牵头解决。 "}
    assert evidence_row(typed)[2] == (
        "退回7号问题，理由：该问题实质是牧户补偿纠纷，应由苏木镇牵头解决（理由经办公室认定不成立）。"
    )
    ruled = event | {"kind": "ruled", "reason": "环评审批属生态环境局职责。"}
    assert evidence_row(ruled)[2] == "裁定7号问题由旗水利局负责，理由：环评审批属生态环境局职责。"
    assert evidence_row(event | {"kind": "ruled", "reason": "。"})[2] == "裁定7号问题由旗水利局负责。"
    items = {
        "missed_week": (
            {"kind": "missed_week", "week": "2026年第3周", "from": "2026-01-12", "to": "2026-01-18"},
            "2026年第3周（2026年1月12日至2026年1月18日）未报送工作进展。",
        ),
        "idle_spell": (
            {"kind": "idle_spell", "problem_id": 6, "workdays": 11, "since": "2026-03-02"},
            "6号问题自2026年3月2日起连续11个工作日无办理动作。",
        ),
        "overdue_problem": (
            {"kind": "overdue_problem", "problem_id": 4, "text": "取水许可", "due_on": "2026-02-10"},
            "4号问题“取水许可”应于2026年2月10日前办结，逾期未办结。",
        ),
        "overdue_decision": (
            {"kind": "overdue_decision", "decision_id": 2, "text": "草原审批", "due_on": "2026-03-13"},
            "2号议定事项“草原审批”应于2026年3月13日前完成，逾期未完成。",
        ),
        "task_progress": (
            {
                "kind": "task_progress",
                "task": "强化整合重组一批",
                "measure": "宗",
                "target": 46,
                "done": 1,
                "expected": 8.5,
                "as_of": "2026-03-31",
            },
            "截至2026年3月31日，“强化整合重组一批”按进度应完成9宗，实际完成1宗。",
        ),
        "response_waits": (
            {"kind": "response_waits", "waits": [[3, 2], [9, 1]], "median": 3.0},
            "交办问题3次，作出响应（接收、转交或退回）的用时为3个工作日2次、9个工作日1次，中位数为3个工作日。",
        ),
        "response_waits_one": (
            {"kind": "response_waits", "waits": [[0, 1]], "median": 0.0},
            "问题交办后不足1个工作日即作出响应（接收、转交或退回）。",
        ),
        "reopened_soon": (
            {
                "kind": "reopened_soon",
                "problem_id": 5,
                "confirmed_at": "2026-02-09T06:17:00+00:00",
                "reopened_at": "2026-02-25T06:17:00+00:00",
                "days": 16,
            },
            "5号问题2026年2月9日确认关闭，2026年2月25日重新打开，相隔16天。",
        ),
        "reopened_soon_within_a_day": (
            {
                "kind": "reopened_soon",
                "problem_id": 5,
                "confirmed_at": "2026-02-09T15:30:00+00:00",
                "reopened_at": "2026-02-10T01:00:00+00:00",
                "days": 0,
            },
            "5号问题2026年2月9日确认关闭，不足1天即重新打开。",
        ),
        "same_evidence_file": (
            {"kind": "same_evidence_file", "item_id": 1, "other_item_ids": [2, 3]},
            "1号整改事项与2号、3号整改事项使用同一佐证文件销号。",
        ),
        "same_evidence_text": (
            {"kind": "same_evidence_text", "item_id": 2, "other_item_ids": [1]},
            "2号整改事项与1号整改事项使用相同的佐证说明销号。",
        ),
        "region_deadline": (
            {"kind": "region_deadline", "item": "baseline", "due_on": "2022-09-20", "as_of": "2022-10-01"},
            "截至2022年10月1日，未报送底数核实情况及工作措施台账（应于2022年9月20日前完成）。",
        ),
        "region_deadline_first_batch": (
            {"kind": "region_deadline", "item": "first_batch", "due_on": "2022-12-31", "as_of": "2023-01-05"},
            "截至2023年1月5日，台账所列本地区停产矿山、探矿权均未复工复产或转采，“盘活一批矿业权”未完成"
            "（应于2022年12月31日前完成）。",
        ),
    }
    when = {
        "missed_week": "2026年1月12日至2026年1月18日",
        "idle_spell": "2026年3月2日",
        "overdue_problem": "2026年2月10日",
        "overdue_decision": "2026年3月13日",
        # A figure or a state as of a day says so: 截至 (an event's row has its minute instead).
        "task_progress": "截至2026年3月31日",
        "region_deadline": "截至2022年10月1日",
        "region_deadline_first_batch": "截至2023年1月5日",
    }
    for kind, (item, sentence) in items.items():
        assert evidence_sentence(item) == sentence, kind
        # A row that is not an event is a fact about the finding's unit, dated by the record or —.
        line = "2026年第3周未报送工作进展。" if kind == "missed_week" else sentence
        assert evidence_row(item, "旗林草局") == (when.get(kind, "—"), "旗林草局", line), kind
        assert "" not in evidence_row(item), kind
    assert {k for k in evidence_kinds() if not k.startswith("event:")} <= set(items)
    assert {k.split(":", 1)[1] for k in evidence_kinds() if k.startswith("event:")} == set(said)


def test_citations_have_one_chinese_form_and_counts_are_whole() -> None:
    assert cite("problem", [11]) == "11号问题"
    assert cite("problem", [11, 12]) == "11号、12号问题"
    assert cite("problem", [11, 12], total=5) == "11号、12号等5个问题"
    assert cite("decision", [1, 2, 3, 4, 5, 6]) == "1号、2号、3号、4号、5号等6项议定事项"
    assert whole(8.5) == 9 and whole(2.0000001) == 2 and whole(0.3) == 1 and whole(0) == 0


def test_the_review_names_a_problem_reopened_soon_after_closing_in_a_sentence(cast: Cast) -> None:
    from oversight.problems import accept_problem, confirm_problem, reopen_problem, resolve_problem

    pid = cast.raise_("water", at(1, 19))
    accept_problem(session=cast.s, problem_id=pid, actor=cast["water"], now=at(1, 20))
    resolve_problem(session=cast.s, problem_id=pid, actor=cast["water"], evidence_text="已办结", now=at(1, 21))
    confirm_problem(session=cast.s, problem_id=pid, actor=cast["emergency"], now=at(1, 22))
    reopen_problem(session=cast.s, problem_id=pid, actor=cast["emergency"], reason="问题反弹", now=at(2, 6))
    cast.s.commit()
    review = build_review(session=cast.s, plan_id=cast.plan_id, period="2026H1", now=AFTER_Q1)
    doc = review_document(session=cast.s, plan_id=cast.plan_id, review=review, now=AFTER_Q1)
    flags = next(s for s in doc["sections"] if s["heading"] == "纸面销号核查")["paragraphs"]
    water = cast.units["water"].name
    assert flags == [
        f"{pid}号问题2026年1月22日确认关闭，2026年2月6日重新打开，相隔15天，涉嫌纸面销号（该问题由{water}办结）。"
    ]


def test_an_edited_body_is_printed_as_the_offices_sentences_and_never_as_data(cast: Cast) -> None:
    """The office rewrites the body of a draft naming 自然资源局 for shifting: the document's
    paragraphs and facts are the office's sentences exactly (office_text, one template "{text}"),
    each naming only the unit its finding rests on, and the draft text shows them without any
    program data; pasting a finding's data into the body is refused."""
    from oversight.errors import InvalidInputError
    from oversight.notices import edit_notice_text

    shifted_and_ruled_back(cast)
    notice = draft_notice(session=cast.s, plan_id=cast.plan_id, period="2026Q1", now=AFTER_Q1)
    body = "旗自然资源局在问题办理中推诿扯皮，经联席会议办公室裁定仍由其负责。\n请认真整改。"
    edit_notice_text(session=cast.s, notice_id=notice.id, actor=cast.office, body=body, now=AFTER_Q1)
    doc = notice_document(session=cast.s, notice_id=notice.id, now=AFTER_Q1)
    office = [f for f in doc["facts"] if f["kind"] == "office_text"]
    assert [f["text"] for f in office] == doc["paragraphs"] == body.splitlines()
    assert office[0]["ids"]["unit"] == [cast.uid("natres")] and office[0]["ids"]["event"]
    for f in office:
        assert_no_raw(f["text"], "office paragraph")
    assert_no_raw("\n\n".join(chat_draft(cast.s, notice.id)), "draft in chat")
    finding = doc["sections"][0]["tables"][0]
    with pytest.raises(InvalidInputError, match="程序数据"):
        edit_notice_text(session=cast.s, notice_id=notice.id, actor=cast.office, body=f"{finding!r}", now=AFTER_Q1)
    assert notice.body == body
