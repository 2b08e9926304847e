"""The brief's clauses that are facts of their own: a zone leader's three clauses and each unit's
share of the quarter's hand-overs, each computed from the brief's figures (oversight.briefdata),
with its kind chosen by the figure (a zero is said in words, never 0次) and the records it counts
cited, and recorded in the brief's facts (oversight.facts.Say) as the sentence they sit in is.
jobs/brief.py renders the sentences from them; the templates are here, beside the rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oversight.facts import Say

__all__ = ["CLAUSE_TEXTS", "handover_items", "leader_clauses"]

CLAUSE_TEXTS: dict[str, str] = {
    "leader_own": "本人报送进展{n}次",
    "leader_own_none": "本人未报送进展",
    "leader_area": "所包联整合区本期报送进展{n}次",
    "leader_area_none": "所包联整合区本期无进展报送",
    "leader_moves": "、矿业权状态变更{n}宗",
    "leader_open": "{end}未关闭问题{n}个",
    "leader_open_none": "{end}无未关闭问题",
    "units_handovers_item": "{unit}{n}次",
}


def leader_clauses(*, say: Say, leader: Mapping[str, Any], end: str) -> dict[str, str]:
    """A zone leader's clauses for the leader's line (own_text, with its comma, or empty; area_text,
    open_text): the reports they filed themselves, the reports and status changes of their zones,
    the problems open in them at the period's end (`end`: 期末, or 目前 for a period running on),
    each a fact citing the reports, rights or problems it counts; none says a zero as a number."""
    member = leader["member_id"]
    own, reports, moves, open_ = leader["own_reports"], leader["reports"], leader["moves"], leader["open"]
    # 本人未报送进展 only of a leader asked to report weekly (a contact): a 包联领导 is evaluated by
    # the zones' progress, not their own reports (oversight.measures.reports_weekly), and the clause
    # faulted them for what nobody asked.
    if own["n"]:
        own_text = say.text("leader_own", {"report": own}, n=own["n"], member_id=member) + "，"
    elif leader.get("reports_weekly", True):
        own_text = say.text("leader_own_none", n=0, member_id=member) + "，"
    else:
        own_text = ""
    area_text = (
        say.text("leader_area", {"report": reports}, n=reports["n"], member_id=member)
        if reports["n"]
        else say.text("leader_area_none", n=0, member_id=member)
    )
    if moves["n"]:
        area_text += say.text("leader_moves", {"right": moves}, n=moves["n"], member_id=member)
    open_text = (
        say.text("leader_open", {"problem": open_}, n=open_["n"], end=end, member_id=member)
        if open_["n"]
        else say.text("leader_open_none", n=0, end=end, member_id=member)
    )
    return {"own_text": own_text, "area_text": area_text, "open_text": open_text}


def handover_items(*, say: Say, units: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each unit's part of the quarter's hand-overs (旗林草局3次), in the units' order, for the units
    that handed a problem on: a fact citing the problems it handed over, counting its hand-overs."""
    return [
        say.text(
            "units_handovers_item",
            {"problem": u["handovers"]["ids"]},
            unit=u["name"],
            n=u["handovers"]["n"],
            unit_id=u["unit_id"],
        )
        for u in units
        if u["handovers"]["n"]
    ]
