"""The quarterly brief (工作简报): data from oversight.briefdata, rendered with the brief
template to a GB/T 9704 PDF, an xlsx annex with the full ledger; a draft until signed off
(oversight/briefs.py), then delivered through the outbox to whom its 报/送/发 name and the group.

`run` is the worker's job ("brief", keyed (job, period)); `build_brief` is the offline
build behind `lianxi brief`. A period that already has a Brief row standing (not withdrawn)
is neither rebuilt nor sent again (the outbox dedupe keys make the sending idempotent on
their own too).
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import resource
import threading
import time as _time
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from jobs.charts import progress_chart_svg
from jobs.render import (
    AssetOnlyFetcher,
    RenderError,
    _env,
    docx_path,
    html_to_pdf,
    marked_html,
    render_html,
    sample_css,
)
from jobs.word import html_to_docx
from models import Brief, GroupBinding, Plan, make_engine, read_only, session_scope, shared_snapshot
from models.base import row_id
from oversight import runs
from oversight.briefdata import Period, brief_data, cn_date, jsonable, parse_period
from oversight.brieffacts import CLAUSE_TEXTS, handover_items, leader_clauses
from oversight.briefs import (
    BriefState,
    brief_id_of_period,
    brief_to_distribute,
    brief_to_render,
    mark_distributed,
    mark_rendered,
    not_to_send,
    notify_brief_withdrawn,
    plans_to_brief,
    queue_preview,
    redraft,
)
from oversight.dates import cn_datetime, local_day
from oversight.distribution import Attachment, brief_lines, copies, distribute, line_texts
from oversight.errors import PlanMissingError
from oversight.facts import Say
from oversight.files import write_atomic
from oversight.ledger import export_ledger
from oversight.meetings import completion_words
from oversight.outbox import enqueue_document, enqueue_text, split_text
from oversight.periods import ADHOC
from oversight.sample import chat_marked, sample_mark
from oversight.sentences import cite, names, quoted, whole, workdays_text
from oversight.targets import baseline_text, due_clause, target_sentence

logger = logging.getLogger(__name__)

TEMPLATE = "brief.html.j2"
MASTHEAD_LINE_CHARS = 28  # characters of 14 pt type the masthead's office + date line holds

# Every sentence of the brief and of its chat summary, one template per fact kind. Plain text:
# the template escapes it. A quantifier (各/均/没有) appears only in a kind its fact proves.
TEXTS: dict[str, str] = {
    "editor_note": "现将{label}{plan}工作推进情况汇总刊发。文中数据由系统根据各单位报送记录统计{as_of}，"
    # The full ledger is not a page of the brief: it is the xlsx sent with it (distribute_brief).
    # Problems and decisions are cited by the ledger's 编号, rights by name, reports by unit and day.
    # The ledger is the record as exported when the brief was compiled (export_ledger at the same moment),
    # not as of the period's end: said so, since a problem closed since then reads 已关闭 there (audit 4, 3).
    "括号内为所依据的记录（问题、议定事项为台账编号，如“11号问题”），完整台账（{ledger_at}导出）以电子表格随本期简报一并发送。",
    "editor_note_as_of": "，统计截至{moment}",
    "h_progress": "总体进展",
    "progress_lead": "截至{as_of}，{summary}。",
    # A batch's target with its timeline's deadline ({due}: targets.due_clause), as the target lines say
    # theirs: the batches and the plan's targets run to different days.
    "progress_item": "{name}目标{target}{measure}{due}，累计完成{done}{measure}，按进度应完成{expected}{measure}",
    "progress_item_noexp": "{name}目标{target}{measure}{due}，累计完成{done}{measure}",
    # A batch whose ledger lists no right (batch_progress: unloaded): nothing of it can be counted yet.
    "progress_item_unloaded": "{name}目标{target}{measure}{due}，台账尚未载入该批次矿业权",
    "progress_unloaded": "台账尚未载入各批次的矿业权，各批次完成情况暂无法统计。各批次目标为：{targets}。",
    "progress_unloaded_target": "{name}{target}{measure}{due}",
    "progress_zones": "整合重组一批已完成整合区{done}个（目标{target}个）。",
    "progress_zones_none": "整合重组一批尚未完成整合区（目标{target}个）。",
    # Each batch's own count, in its own measure (宗, 家, 个): a sum over batches would add mines to zones.
    "progress_new": "本期新完成{parts}。",
    "progress_new_part": "{name}{n}{measure}",
    "progress_new_none": "本期没有新完成的矿业权。",
    "progress_claims": "截至{as_of}，另有{n}宗矿业权的状态变更已报送、待联席会议办公室或主管部门确认，未计入以上完成数：{items}。",
    "progress_claim_item": "{unit}{on}报送{right}（{code}）{status}",
    "progress_targets": "对照实施方案总体目标（截至{as_of}）：",
    "progress_target": "{line}",
    "progress_table": "表{n}  各批次完成情况",
    "h_region": "停产矿山复工复产和探矿权转采矿权",
    "region_baseline": "方案确定的基数（截至7月底）：全区共有停产矿山{idle}个（剔除因开采条件限制不能恢复生产的矿山"
    "{excluded}个），其中停产煤矿{coal}个、停产非煤矿山{noncoal}个；全区有{unconverted}个探矿权尚未转采，其中煤炭探矿权"
    "{ucoal}个、非煤探矿权{unoncoal}个。",
    "region_task": "（{seq}）{name}：方案共涉及{seed}个{causes}；台账已登记{ledger}个，已完成{done}个。",
    "region_cause": "{name}{seed}个（台账{ledger}个，已完成{done}个）",
    "region_leagues_table": "表{n}  各盟市停产矿山复工复产和探矿权转采情况",
    "region_baseline_missing": "截至{as_of}，以下盟市未按期（{due}前）报送底数核实情况及工作措施台账：{names}。",
    "region_baseline_all": "各盟市均已按期（{due}前）报送底数核实情况及工作措施台账。",
    "progress_chart": "图1  各批次完成进度（红线为按进度应完成）",
    "progress_foot": "注：“按进度应完成”按各批次实施方案时间节点（至其完成期限）在{as_of}应达到的比例计算，"
    "不足一宗（个）的按一宗（个）计；"
    "未设时间节点的批次不计。",
    "progress_foot_unloaded": "台账尚未载入矿业权的批次，完成情况记“—”。",
    # The targets round to the nearest whole (oversight.targets._expected_figure), not up as batches do.
    "progress_foot_targets": "对照总体目标的按进度数值按各目标时间节点折算，取最接近的整数，占比保留一位小数。",
    "h_zones": "整合区和包联领导工作动态",
    "zones_table": "表{n}  各整合区本期动态",
    "zones_none": "本计划未划分整合区。",
    "zones_quiet": "本期没有进展报送的整合区：{names}。",
    "zones_all_quiet": "本期{n}个整合区均没有进展报送。",
    "zones_all_reported": "{n}个整合区本期均有进展报送。",
    # What 表2 counts (oversight.briefdata._zone_figures): a report filed on the zone or on a right in it
    # (a text naming a zone is not read), rights moved to a done status, problems open at the end.
    "zones_foot": "注：本期进展为本期报送时选定该整合区或区内矿业权的进展报送次数；状态变更为本期处置状态改为已整合、已关闭注销、"
    "已转采等完成状态的矿业权宗数；未关闭问题为截至{as_of}提出方尚未确认关闭的问题个数。",
    "h_zone_news": "整合区动态",
    # A contact's own words (本周…) quoted, as a brief quotes what a unit reported.
    "zone_news": "{seq}号{name}（{unit}，{on}）：“{text}”",
    "zone_news_none": "本期没有整合区报送进展。",
    "h_leaders": "包联领导工作情况",
    "leader_line": "{name}包联{zones}号整合区，{own_text}{area_text}，{open_text}。",
    "leader_latest": "最近一次报送（{on}）：“{text}”",
    "leaders_none": "本期未设包联领导。",
    "h_problems": "问题办理情况",
    # {open_part}: problems_lead_open, or empty when none is open (problems_none_open says so next).
    "problems_lead": "本期新增问题{new}个，办结{resolved}个{open_part}。",
    "problems_lead_none": "本期没有新增问题，也没有办结问题{open_part}。",
    "problems_lead_open": "；{end}未关闭{open}个{detail}",
    "problems_overdue": "逾期{n}个",
    "problems_disputed": "有争议待裁定{n}个",
    # 至今 only when the count runs to the moment the brief was computed (a period still running);
    # a period ended counts to its last day (briefdata: workdays_open), 截至期末.
    "problems_oldest": "最久未关闭的问题是{p}（{category}，责任单位{unit}，{raised}提出，{until}{days}）。",
    "oldest_until_open": "至今",
    "oldest_until_closed": "截至期末",
    "problems_oldest_more": "其次为{items}。",
    "problems_oldest_item": "{p}（{unit}，{days}）",
    "problems_none_open": "{end}没有未关闭的问题。",
    "problems_by_category": "表{n}  问题按类别统计",
    "problems_by_unit": "表{n}  问题按责任单位统计",
    "problems_foot": "注：新增指本期提出的问题；办结指{end}处于已办结状态（含待提出方确认的）、且于本期办结的问题（本期办结后又重新办理的不计，此前办结、本期确认关闭的不计）；{end}未关闭指截至{as_of}提出方尚未确认关闭的问题"
    "（含已办结待确认的）；逾期指{end}尚未办结且截至{as_of}已过办理期限的问题（已办结待确认的不计，办理期限当日结束前不算逾期）；责任单位按{end}归属统计。",
    "h_units": "各单位履职情况",
    "units_table": "表{n}  各单位履职情况",
    "units_foot": "注：报送次数为本期报送进展的次数；按时报送率＝有进展报送的报送周数÷应报送的报送周数（报送周为每周一至周日，"
    "跨期的周只计本期内日期，没有工作日的周不计，本期已结束的报送周共{weeks}个；单位自其联络员加入系统的首个工作日起计），"
    "不承担批次任务或尚无联络员加入系统的单位不计（记“—”）；办结问题指{end}处于已办结状态、且于本期由该单位办结的问题（个）；接收用时为问题交办（或转交）"
    "给该单位至该单位首次办理（接收、转交或退回）或办公室裁定的工作日数（多次的取中位数），尚未办理的计至统计时；"
    "转交次数为该单位本期将问题转交其他单位的次数。",
    "units_behind": "本期按时报送率不足一半的单位：{names}。",
    "units_handovers": "本期问题转交共{n}次：{items}。",
    "h_decisions": "上次会议议定事项落实情况",
    "decisions_lead": "{held}召开的{title}议定事项{n}项，截至{as_of}已完成{done}项{late_detail}，未完成{undone}项{detail}。",
    "decisions_overdue": "，其中逾期{n}项",
    "decisions_done_late": "（其中逾期完成{n}项）",
    "decisions_lead_all_done": "{held}召开的{title}议定事项{n}项，截至{as_of}均已完成{late_detail}。",
    "decisions_lead_empty": "{held}召开的{title}没有形成议定事项。",
    "decisions_none": "本期之前尚未召开联席会议，无议定事项。",
    "decisions_table": "表{n}  议定事项落实情况",
    "decision_open": "推进中（未到期）",  # open and its deadline not passed: not a failure yet
    "decision_open_undated": "推进中",
    "decision_overdue": "逾期未完成",
    "decision_major": "（重大）",
    "h_notices": "通报及情况说明",
    "notices_none": "本期未发布通报。",
    "notice_line": "{doc_no}《{title}》通报了{units}。",
    "notice_line_none": "{doc_no}《{title}》未通报单位。",
    "notice_finding": "{units}：{summary}。",
    "notice_explanation": "{unit}情况说明：{text}",
    "notice_no_explanation": "被通报单位尚未提交情况说明。",
    "notice_missing_explanations": "尚未提交情况说明的被通报单位：{units}。",
    "previous_notice_line": "上期通报{doc_no}《{title}》的情况说明：",
    "previous_no_explanation": "上期通报{doc_no}《{title}》的被通报单位未提交情况说明。",
    "h_agenda": "下次会议建议议题",
    "agenda_progress": "听取各成员单位本期工作进展汇报。",
    "agenda_behind": "研究{names}进度滞后问题。",
    # 逾期 as the problems foot defines it: not yet 办结 and past the deadline (未关闭 took in those resolved).
    "agenda_overdue": "督办逾期未办结的问题{n}个。",
    "agenda_disputed": "裁定有争议的问题{n}个。",
    "agenda_decisions": "督办上次会议逾期未完成的议定事项{n}项。",
    "agenda_next": "部署下一阶段工作。",
    "end_closed": "期末",
    "end_open": "目前",
    "summary": "【{title}】第{issue_no}期（{label}）\n"
    "进展：{progress}\n"
    "问题：{problems}{oldest}\n"
    "全文见所附PDF（另附可编辑的Word文档）；完整台账见所附xlsx附件。",
    "summary_as_of": "，截至{moment}",  # inside the label's brackets: （2026年第四季度，截至…）
    "summary_progress_item": "{name}{done}/{target}{measure}",
    "summary_progress_item_unloaded": "{name}（台账尚未载入）",
    "summary_progress_unloaded": "台账尚未载入各批次的矿业权",
    "summary_problems": "本期新增{new}个，办结{resolved}个；",
    "summary_problems_none": "本期没有新增和办结的问题；",
    "summary_open": "{end}未关闭{open}个，其中逾期{overdue}个。",
    "summary_open_none_overdue": "{end}未关闭{open}个，均未逾期。",
    "summary_open_none": "{end}没有未关闭的问题。",
    "summary_oldest": "最久未关闭：{p}（{unit}）。",
    "caption": "{title}第{issue_no}期（{label}）",
    "office_short": "联席会议办公室",
}


@dataclass
class BriefResult:
    """A built brief: its files, data and the summary sent with it; timings for the benchmark."""

    plan_id: int
    period: str
    issue_no: int
    pdf_path: Path
    docx_path: Path
    xlsx_path: Path
    data: dict[str, Any]
    html: str
    summary: str
    title: str
    timings: dict[str, float] = field(default_factory=dict)


# --- Text helpers -------------------------------------------------------------------------


def _num(value: float | int | None) -> str:
    """A table cell: whole numbers as they are, others to one decimal; none as —."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _expected(value: float | None) -> str:
    """An expected count of whole things, in whole things (按进度应完成9宗, never 8.5宗)."""
    return "—" if value is None else str(whole(value))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _day(iso: str | None) -> str:
    return cn_date(date.fromisoformat(iso)) if iso else "—"


def _as_of(data: dict[str, Any]) -> str:
    """截至 what: the period's last day, or the moment the brief was computed if the period runs on."""
    period = data["period"]
    if period.get("ended", True):
        return _day(period["last_day"])
    return cn_datetime(datetime.fromisoformat(data["compiled_at"]))


def _end(data: dict[str, Any]) -> str:
    return TEXTS["end_closed" if data["period"].get("ended", True) else "end_open"]


def _p(ids: list[int] | tuple[int, ...]) -> str:
    return cite("problem", list(ids))


# --- Sections -------------------------------------------------------------------------------


def chart_rows(progress: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The progress chart's input (see jobs.charts.progress_chart_svg) from the progress rows;
    a batch the ledger has not loaded has no bar (nothing of it can be counted)."""
    return [
        {
            "name": r["name"],
            "done": r["done"]["n"],
            "target": r["target"],
            "expected": r["expected"] if r["expected"] is not None else float("nan"),
        }
        for r in progress
        if not r.get("unloaded")
    ]


def _progress_section(data: dict[str, Any], say: Say, table_no: list[int], chart: Any = None) -> dict[str, Any]:
    """总体进展: the batches against their targets, the plan's targets, what is new and waiting.

    A batch whose ledger lists no right (unloaded) is said to be so, with no figure; while no
    batch is loaded the section says that once and has no table, chart or foot."""
    rows = data["progress"]
    as_of = _as_of(data)
    loaded = [r for r in rows if not r.get("unloaded")]
    paragraphs: list[Any] = []
    if rows and not loaded:
        targets = "、".join(
            TEXTS["progress_unloaded_target"].format(
                name=r["name"], target=r["target"], measure=r["measure"], due=due_clause(r.get("deadline"))
            )
            for r in rows
        )
        paragraphs.append(say("progress_unloaded", targets=targets, unloaded=[r["task_id"] for r in rows]))
    else:
        items = []
        for r in rows:
            if r.get("unloaded"):
                kind = "progress_item_unloaded"
            else:
                kind = "progress_item" if r["expected"] is not None else "progress_item_noexp"
            items.append(
                TEXTS[kind].format(
                    name=r["name"],
                    done=r["done"]["n"],
                    target=r["target"],
                    measure=r["measure"],
                    expected=_expected(r["expected"]),
                    due=due_clause(r.get("deadline")),
                )
            )
        paragraphs.append(
            say(
                "progress_lead",
                as_of=as_of,
                summary="；".join(items),
                batches=[(r["task_id"], r["done"]["n"], r["target"], _expected(r["expected"])) for r in loaded],
                unloaded=[r["task_id"] for r in rows if r.get("unloaded")],
            )
        )
    if loaded:
        # Right after the batches' line it sums up, each batch by name: under the zones' line that
        # follows the targets it read as the consolidation batch's figure (the demo: 9 of six batches).
        fresh = [r for r in loaded if r["done_in_period"]["n"]]
        if fresh:
            new_ids = {
                "n": sum(r["done_in_period"]["n"] for r in fresh),
                "ids": sorted(i for r in fresh for i in r["done_in_period"]["ids"])[:10],
            }
            parts = "、".join(
                TEXTS["progress_new_part"].format(name=r["name"], n=r["done_in_period"]["n"], measure=r["measure"])
                for r in fresh
            )
            batches = [(r["task_id"], r["done_in_period"]["n"]) for r in fresh]
            paragraphs.append(say("progress_new", {"right": new_ids}, n=new_ids["n"], parts=parts, batches=batches))
        else:
            paragraphs.append(say("progress_new_none", n=0))
    if data.get("targets"):
        paragraphs.append(say("progress_targets", as_of=as_of))
        for target in data["targets"]:
            # The rights behind the figure, and the zones its line names for a survivor not stated.
            behind: dict[str, Any] = {"right": target["records"]} if target["records"]["n"] else {}
            if target.get("zones"):
                behind["zone"] = target["zones"]
            paragraphs.append(
                say("progress_target", behind or None, key=target["key"], line=target_sentence(target, codes=False))
            )
    for r in loaded:
        if r.get("zones_target"):
            kind = "progress_zones" if r["zones_done"] else "progress_zones_none"
            done_zones = r.get("zone_ids_done") or []
            cited = {"zone": done_zones} if r["zones_done"] and done_zones else None
            paragraphs.append(say(kind, cited, done=r["zones_done"], target=r["zones_target"]))
    claims = data.get("pending_claims") or []
    if claims:
        listed = "；".join(
            TEXTS["progress_claim_item"].format(
                unit=c["unit"], right=c["right"], code=c["code"], status=c["status_label"], on=c["filed_on"]
            )
            for c in claims[:10]
        ) + ("等" if len(claims) > 10 else "")
        # One fact resting on the rights waiting (their ids, counted once each) like the brief's others.
        right_ids = sorted({int(c["right_id"]) for c in claims})
        paragraphs.append(
            say(
                "progress_claims",
                {"right": {"ids": right_ids, "n": len(right_ids)}},
                as_of=as_of,
                n=len(right_ids),
                items=listed,
            )
        )
    section: dict[str, Any] = {
        "heading": TEXTS["h_progress"],
        "paragraphs": paragraphs,
        "tables": [],
        "charts": [],
        "subsections": [],
        "_foot": None,
    }
    if not loaded:
        return section
    table_no[0] += 1
    dash = "—"
    section["tables"] = [
        {
            "caption": TEXTS["progress_table"].format(n=table_no[0]),
            "columns": ["批次", "目标", "累计完成", "本期完成", "按进度应完成", "完成率"],
            "rows": [
                [r["name"], r["target"], dash, dash, dash, dash]
                if r.get("unloaded")
                else [
                    r["name"],
                    r["target"],
                    r["done"]["n"],
                    r["done_in_period"]["n"],
                    _expected(r["expected"]),
                    _pct(r["done"]["n"] / r["target"] if r["target"] else None),
                ]
                for r in rows
            ],
            "numeric": [1, 2, 3, 4, 5],
        }
    ]
    foot = TEXTS["progress_foot"].format(as_of=as_of)
    if len(loaded) < len(rows):
        foot += TEXTS["progress_foot_unloaded"]
    if any(t.get("now") is not None and t.get("expected") is not None for t in data.get("targets") or []):
        foot += TEXTS["progress_foot_targets"]
    section["_foot"] = foot
    svg = chart if chart is not None else progress_chart_svg(chart_rows(rows), png=True)
    section["charts"] = [{"caption": TEXTS["progress_chart"], "svg": svg, "png": getattr(svg, "png", None)}]
    return section


def _region_section(data: dict[str, Any], say: Say, table_no: list[int]) -> dict[str, Any]:
    """Seed 003's baseline and each task's causes against the ledger, and the leagues' table."""
    region = data["region"]
    b = region["baseline"]
    paragraphs: list[Any] = [
        say(
            "region_baseline",
            idle=b.get("idle_mines"),
            excluded=b.get("excluded_cannot_resume"),
            coal=b.get("idle_coal"),
            noncoal=b.get("idle_noncoal"),
            unconverted=b.get("unconverted_exploration"),
            ucoal=b.get("unconverted_coal"),
            unoncoal=b.get("unconverted_noncoal"),
        )
    ]
    for task in region["breakdown"]:
        causes = "、".join(TEXTS["region_cause"].format(**c) for c in task["causes"])
        paragraphs.append(
            say(
                "region_task",
                seq="一二三四五六七八九十"[task["seq"] - 1] if 0 < task["seq"] <= 10 else task["seq"],
                name=task["name"],
                seed=task["seed"],
                causes=f"，其中{causes}" if causes else "",
                ledger=task["ledger"],
                done=task["done"],
            )
        )
    leagues = region["leagues"]
    late = [r["name"] for r in leagues if r["baseline_light"] == "red"]
    due = _day(leagues[0]["baseline_due"]) if leagues else ""
    if late:
        paragraphs.append(say("region_baseline_missing", as_of=_as_of(data), due=due, names="、".join(late)))
    elif leagues and all(r["baseline_light"] == "green" and r["baseline_filed"] for r in leagues):
        paragraphs.append(say("region_baseline_all", due=due))
    table_no[0] += 1
    table = {
        "caption": TEXTS["region_leagues_table"].format(n=table_no[0]),
        "columns": ["盟市", "停产矿山", "已复工复产", "未转采探矿权", "已转采", "底数核实台账"],
        "rows": [
            [r["name"], r["idle_mines"], r["restarted"], r["exploration"], r["converted"], baseline_text(r)]
            for r in leagues
        ],
        "numeric": [1, 2, 3, 4],
    }
    return {"heading": TEXTS["h_region"], "paragraphs": paragraphs, "tables": [table], "charts": [], "subsections": []}


def _zones_section(data: dict[str, Any], unit: Any, say: Say, table_no: list[int]) -> dict[str, Any]:
    zones, leaders = data["zones"]["zones"], data["zones"]["leaders"]
    if not zones:
        return {"heading": TEXTS["h_zones"], "paragraphs": [say("zones_none")]}
    quiet = [z for z in zones if not z["reports"]["n"]]
    if not quiet:
        # Cited as 表2 counts them: every zone's reports (one of each zone's named first), not one
        # a zone, which read "等19次进展报送" above a table summing to 31.
        firsts = [i for z in zones for i in z["reports"]["ids"][:1]]
        rest = [i for z in zones for i in z["reports"]["ids"][1:]]
        cited = {"ids": firsts + rest, "n": sum(z["reports"]["n"] for z in zones)}
        lead = say("zones_all_reported", {"report": cited}, n=len(zones))
    elif len(quiet) == len(zones):
        lead = say("zones_all_quiet", n=len(zones), zone_seqs=[z["seq"] for z in zones])
    else:
        lead = say("zones_quiet", names="、".join(f"{z['seq']}号" for z in quiet), zone_seqs=[z["seq"] for z in quiet])
    table_no[0] += 1
    table = {
        "caption": TEXTS["zones_table"].format(n=table_no[0]),
        "columns": ["整合区", "矿业权", "本期进展", "状态变更", "未关闭问题"],
        "rows": [
            [f"{z['seq']}号{z['name']}", z["rights"], z["reports"]["n"], z["moves"]["n"], z["open"]["n"]] for z in zones
        ],
        "numeric": [1, 2, 3, 4],
    }
    # The sentence names its report (the unit and the day): no citation after it.
    news: list[Any] = [
        say.text(
            "zone_news",
            {"report": [z["latest"]["id"]]},
            seq=z["seq"],
            name=z["name"],
            on=_day(z["latest"]["on"]),
            unit=unit(z["latest"]["unit_id"]),
            text=quoted(z["latest"]["text"]),
        )
        for z in zones
        if z.get("latest")
    ]
    subsections = [{"heading": TEXTS["h_zone_news"], "paragraphs": news or [say("zone_news_none")]}]
    if leaders:
        lines: list[Any] = []
        for ld in leaders:
            lines.append(
                say(
                    "leader_line",
                    {"problem": ld["open"]},
                    name=ld["name"],
                    zones="、".join(str(s) for s in ld["zone_seqs"]),
                    own=ld["own_reports"]["n"],
                    reports=ld["reports"]["n"],
                    moves=ld["moves"]["n"],
                    open=ld["open"]["n"],
                    end=_end(data),
                    **leader_clauses(say=say, leader=ld, end=_end(data)),
                )
            )
            if ld.get("latest"):
                lines.append(
                    say.text(
                        "leader_latest",
                        {"report": [ld["latest"]["id"]]},
                        on=_day(ld["latest"]["on"]),
                        text=quoted(ld["latest"]["text"]),
                    )
                )
        subsections.append({"heading": TEXTS["h_leaders"], "paragraphs": lines})
    else:
        subsections.append({"heading": TEXTS["h_leaders"], "paragraphs": [say("leaders_none")]})
    foot = TEXTS["zones_foot"].format(as_of=_as_of(data))
    return {"heading": TEXTS["h_zones"], "paragraphs": [lead, foot], "tables": [table], "subsections": subsections}


def _problems_section(data: dict[str, Any], unit: Any, say: Say, table_no: list[int]) -> dict[str, Any]:
    pr = data["problems"]
    t = pr["totals"]
    end, as_of = _end(data), _as_of(data)
    values = {
        "new": t["new"]["n"],
        "resolved": t["resolved"]["n"],
        "open": t["open"]["n"],
        "overdue": t["overdue"]["n"],
        "disputed": t["disputed"]["n"],
        "end": end,
    }
    # A zero is left out, not printed (其中逾期9个, not 其中逾期9个，有争议待裁定0个).
    detail = [
        TEXTS[k].format(n=values[v])
        for k, v in (("problems_overdue", "overdue"), ("problems_disputed", "disputed"))
        if values[v]
    ]
    values["detail"] = "，其中" + "、".join(detail) if detail else ""
    values["open_part"] = TEXTS["problems_lead_open"].format(**values) if values["open"] else ""
    kind = "problems_lead" if values["new"] or values["resolved"] else "problems_lead_none"
    paragraphs: list[Any] = [say(kind, {"problem": t["overdue"]}, **values)]
    oldest = pr["oldest_open"]
    if oldest:
        o = oldest[0]
        paragraphs.append(
            say(
                "problems_oldest",
                p=_p([o["id"]]),
                problem_id=o["id"],
                category=o["category"],
                unit=unit(o["owner_unit_id"]),
                raised=_day(o["raised_on"]),
                until=TEXTS["oldest_until_closed" if data["period"].get("ended", True) else "oldest_until_open"],
                days=workdays_text(o["workdays_open"]),
                workdays=o["workdays_open"],
            )
        )
        if len(oldest) > 1:
            items = "、".join(
                TEXTS["problems_oldest_item"].format(
                    p=_p([x["id"]]), unit=unit(x["owner_unit_id"]), days=workdays_text(x["workdays_open"])
                )
                for x in oldest[1:]
            )
            paragraphs.append(say("problems_oldest_more", items=items, problem_ids=[x["id"] for x in oldest[1:]]))
    else:
        paragraphs.append(say("problems_none_open", end=end, open=0))
    if not pr["by_category"] and not pr["by_unit"]:
        # No problem raised, resolved or open: the lead says so; two tables of zeros and the
        # foot defining their columns would say nothing more.
        return {"heading": TEXTS["h_problems"], "paragraphs": paragraphs, "tables": []}
    cols = ["新增", "办结", f"{end}未关闭", "其中逾期"]
    table_no[0] += 1
    by_cat: dict[str, Any] = {
        "caption": TEXTS["problems_by_category"].format(n=table_no[0]),
        "columns": ["类别", *cols],
        "rows": [
            [c["name"], c["new"]["n"], c["resolved"]["n"], c["open"]["n"], c["overdue"]["n"]] for c in pr["by_category"]
        ],
        "numeric": [1, 2, 3, 4],
    }
    by_cat["rows"].append(["合计", t["new"]["n"], t["resolved"]["n"], t["open"]["n"], t["overdue"]["n"]])
    table_no[0] += 1
    by_unit = {
        "caption": TEXTS["problems_by_unit"].format(n=table_no[0]),
        "columns": ["责任单位", *cols],
        "rows": [
            [unit(u["unit_id"]), u["new"]["n"], u["resolved"]["n"], u["open"]["n"], u["overdue"]["n"]]
            for u in pr["by_unit"]
        ],
        "numeric": [1, 2, 3, 4],
    }
    paragraphs.append(TEXTS["problems_foot"].format(as_of=as_of, end=end))
    return {"heading": TEXTS["h_problems"], "paragraphs": paragraphs, "tables": [by_cat, by_unit]}


def _units_section(data: dict[str, Any], say: Say, table_no: list[int]) -> dict[str, Any]:
    rows = data["units"]
    table_no[0] += 1
    table = {
        "caption": TEXTS["units_table"].format(n=table_no[0]),
        "columns": ["单位", "报送次数", "按时报送率", "办结问题", "接收用时", "转交次数"],
        "rows": [
            [
                u["name"],
                u["reports"]["n"],
                _pct(u["on_time_rate"]),
                u["handled"]["n"],
                _num(u["median_accept_workdays"]),
                u["handovers"]["n"],
            ]
            for u in rows
        ],
        "numeric": [1, 2, 3, 4, 5],
    }
    paragraphs: list[Any] = []
    behind = [u for u in rows if u["on_time_rate"] is not None and u["on_time_rate"] < 0.5]
    if behind:
        paragraphs.append(
            say("units_behind", names=names(u["name"] for u in behind), unit_ids=[u["unit_id"] for u in behind])
        )
    handed = [u for u in rows if u["handovers"]["n"]]
    if handed:
        cite_ = {
            "n": sum(u["handovers"]["n"] for u in handed),
            "ids": sorted({i for u in handed for i in u["handovers"]["ids"]})[:10],
        }
        paragraphs.append(
            say(
                "units_handovers",
                {"problem": {"n": len(cite_["ids"]), "ids": cite_["ids"]}},
                n=cite_["n"],
                items="、".join(handover_items(say=say, units=handed)),
                by_unit={u["unit_id"]: u["handovers"]["n"] for u in handed},
            )
        )
    paragraphs.append(TEXTS["units_foot"].format(weeks=data["period"]["weeks"], end=_end(data)))
    return {"heading": TEXTS["h_units"], "paragraphs": paragraphs, "tables": [table]}


def _decisions_section(data: dict[str, Any], unit: Any, say: Say, table_no: list[int]) -> dict[str, Any]:
    dec = data["decisions"]
    if dec["meeting"] is None:
        return {"heading": TEXTS["h_decisions"], "paragraphs": [say("decisions_none")]}
    m, rows = dec["meeting"], dec["decisions"]
    done = [d for d in rows if d["done"]]
    overdue = [d for d in rows if d["overdue"]]
    late = [d for d in done if d["done_late"]]
    values = {
        "title": m["title"] or "联席会议",
        "held": _day(m["held_on"]),
        "meeting_id": m["id"],
        "n": len(rows),
        "done": len(done),
        "undone": len(rows) - len(done),
        "overdue": len(overdue),
        "done_late": len(late),
        "as_of": _as_of(data),
        "detail": TEXTS["decisions_overdue"].format(n=len(overdue)) if overdue else "",  # no 其中逾期0项
        "late_detail": TEXTS["decisions_done_late"].format(n=len(late)) if late else "",
    }
    if not rows:
        kind = "decisions_lead_empty"
    elif len(done) == len(rows):
        kind = "decisions_lead_all_done"
    else:
        kind = "decisions_lead"
    # It rests on the matters it says are late: overdue, or done after their deadline.
    lead = say(kind, {"decision": [d["id"] for d in rows if d["overdue"] or d["done_late"]]}, **values)
    table_no[0] += 1

    def status(d: dict[str, Any]) -> str:
        if d["done"]:  # the row's own facts (briefdata: done_on, done_late, late_workdays), not recounted
            return completion_words(
                done_on=date.fromisoformat(d["done_on"]), late=d["done_late"], late_workdays=d["late_workdays"]
            )
        if d["overdue"]:
            return TEXTS["decision_overdue"]
        return TEXTS["decision_open" if d["due_on"] else "decision_open_undated"]

    table = {
        "caption": TEXTS["decisions_table"].format(n=table_no[0]),
        "columns": ["编号", "事项", "责任单位", "期限", "落实情况"],
        "rows": [
            [
                f"{d['id']}号",
                d["text"] + (TEXTS["decision_major"] if d["major"] else ""),
                unit(d["owner_unit_id"]) if d["owner_unit_id"] else "—",
                _day(d["due_on"]) if d["due_on"] else "—",
                status(d),
            ]
            for d in rows
        ],
        "numeric": [],
    }
    return {"heading": TEXTS["h_decisions"], "paragraphs": [lead], "tables": [table] if rows else []}


def _notices_section(data: dict[str, Any], unit: Any, say: Say) -> dict[str, Any]:
    notices = data["notices"]
    previous = data.get("previous_notices") or []
    paragraphs: list[Any] = [] if notices else [say("notices_none", n=0)]
    for n in previous:
        if n["explanations"]:
            paragraphs.append(say("previous_notice_line", notice_id=n["id"], doc_no=n["doc_no"], title=n["title"]))
            paragraphs.extend(
                say("notice_explanation", unit=unit(e["unit_id"]), unit_id=e["unit_id"], text=e["text"])
                for e in n["explanations"]
            )
        elif n["findings"]:
            paragraphs.append(say("previous_no_explanation", notice_id=n["id"], doc_no=n["doc_no"], title=n["title"]))
    for n in notices:
        named = list(dict.fromkeys(f["unit_id"] for f in n["findings"]))
        if named:
            paragraphs.append(
                say(
                    "notice_line",
                    notice_id=n["id"],
                    doc_no=n["doc_no"],
                    title=n["title"],
                    units=names(unit(u) for u in named),
                    unit_ids=named,
                )
            )
        else:
            paragraphs.append(say("notice_line_none", notice_id=n["id"], doc_no=n["doc_no"], title=n["title"]))
        # Units with the same finding are named together, in one sentence.
        grouped: dict[str, list[int]] = {}
        for f in n["findings"]:
            grouped.setdefault(f["summary"], []).append(f["unit_id"])
        paragraphs.extend(
            say("notice_finding", units=names(unit(u) for u in us), unit_ids=us, summary=summary)
            for summary, us in grouped.items()
        )
        paragraphs.extend(
            say("notice_explanation", unit=unit(e["unit_id"]), unit_id=e["unit_id"], text=e["text"])
            for e in n["explanations"]
        )
        explained = {e["unit_id"] for e in n["explanations"]}
        missing = [u for u in named if u not in explained]
        if missing and explained:
            paragraphs.append(
                say("notice_missing_explanations", units=names(unit(u) for u in missing), unit_ids=missing)
            )
        elif missing:
            paragraphs.append(say("notice_no_explanation", unit_ids=missing))
    return {"heading": TEXTS["h_notices"], "paragraphs": paragraphs}


def _agenda_section(data: dict[str, Any], say: Say) -> dict[str, Any]:
    task_names = {r["task_id"]: r["name"] for r in data["progress"]}
    lines: list[Any] = []
    for n, item in enumerate(data["agenda"], start=1):
        kind = item["kind"]
        if kind == "behind":
            fact = say.fact(
                "agenda_behind", names=names(task_names[t] for t in item["task_ids"]), task_ids=item["task_ids"]
            )
        elif kind in ("overdue", "disputed", "decisions"):
            noun = "decision" if kind == "decisions" else "problem"
            fact = say.fact(f"agenda_{kind}", {noun: item["cite"]}, n=item["cite"]["n"])
        else:
            fact = say.fact(f"agenda_{kind}")
        note = fact.note()
        # 1.听取…: the numeral runs into its item, as the minutes number theirs; a space after it was
        # stretched by the justified line (2.   研究…) (audit 4, 8).
        text = f"{n}.{fact.render(TEXTS)}"
        lines.append({"text": text, "note": note} if note else text)
    return {"heading": TEXTS["h_agenda"], "paragraphs": lines}


def brief_context(data: dict[str, Any], *, issue_no: int, issued_on: str, chart: Any = None) -> dict[str, Any]:
    """The brief template's context (see report_templates/brief.html.j2) from the brief's data;
    `facts` lists every fact the sentences were rendered from, in order (kind, text, values, ids).

    `chart`: the progress chart's SVG if it was drawn already (from chart_rows(data["progress"]))."""
    unit_names = data["unit_names"]

    def unit(unit_id: Any) -> str:
        return unit_names.get(str(unit_id), "—")

    labels = {noun: {int(k): v for k, v in named.items()} for noun, named in (data.get("labels") or {}).items()}
    say = Say({**TEXTS, **CLAUSE_TEXTS}, labels)
    table_no = [0]  # tables are numbered in the order the brief prints them
    progress = _progress_section(data, say, table_no, chart)
    foot = progress.pop("_foot")
    if foot:
        progress["paragraphs"].append(foot)
    region = [_region_section(data, say, table_no)] if data.get("region") else []
    zones = _zones_section(data, unit, say, table_no)
    problems = _problems_section(data, unit, say, table_no)
    units = _units_section(data, say, table_no)
    decisions = _decisions_section(data, unit, say, table_no)
    sections = [
        progress,
        *region,
        zones,
        problems,
        units,
        decisions,
        _notices_section(data, unit, say),
        _agenda_section(data, say),
    ]
    plan = data["plan"]
    ended = data["period"].get("ended", True)
    as_of = "" if ended else TEXTS["editor_note_as_of"].format(moment=_as_of(data))
    return {
        "title_lines": plan["title_lines"],
        "issue_no": issue_no,
        "office": _office_line(plan["office_name"], _day(issued_on)),
        "date_text": _day(issued_on),
        # The office's own 编者按 (written at sign-off, oversight.briefs) or the standard one.
        "editor_note": data.get("editor_note")
        or say.fact(
            "editor_note",
            label=data["period"]["label"],
            plan=plan["short_name"],
            as_of=as_of,
            ledger_at=cn_datetime(datetime.fromisoformat(data["compiled_at"])),
        ).render(TEXTS),
        "sections": sections,
        # Exactly whom it is delivered to (oversight.distribution), as fixed when it was built.
        "distribution": data.get("distribution") or {},
        # （共印N份）: the copies the foot block's lines stand for (oversight.distribution.copies).
        "copies": data.get("copies"),
        "facts": say.listed(),
    }


def _office_line(name: str, date_text: str) -> str:
    """The compiling office as the masthead can hold it on one line beside the date."""
    return name if len(name) + len(date_text) <= MASTHEAD_LINE_CHARS else TEXTS["office_short"]


def _summary_problems(t: dict[str, Any], *, end: str) -> str:
    """The summary's problem line: the quarter's new and resolved, then the open ones at its end,
    each zero said in words (本期没有新增和办结的问题；期末没有未关闭的问题。), never as 0个."""
    new, resolved, still, overdue = (t[k]["n"] for k in ("new", "resolved", "open", "overdue"))
    head = (
        TEXTS["summary_problems"].format(new=new, resolved=resolved)
        if new or resolved
        else TEXTS["summary_problems_none"]
    )
    if not still:
        return head + TEXTS["summary_open_none"].format(end=end)
    if not overdue:
        return head + TEXTS["summary_open_none_overdue"].format(end=end, open=still)
    return head + TEXTS["summary_open"].format(end=end, open=still, overdue=overdue)


def brief_summary(data: dict[str, Any], *, issue_no: int) -> str:
    """The short chat text sent with the PDF."""
    t = data["problems"]["totals"]
    rows = data["progress"]
    if rows and all(r.get("unloaded") for r in rows):
        progress = TEXTS["summary_progress_unloaded"]
    else:
        progress = "；".join(
            TEXTS["summary_progress_item_unloaded" if r.get("unloaded") else "summary_progress_item"].format(
                name=r["name"], done=r["done"]["n"], target=r["target"], measure=r.get("measure") or ""
            )
            for r in rows
        )
    oldest = ""
    if data["problems"]["oldest_open"]:
        o = data["problems"]["oldest_open"][0]
        oldest = TEXTS["summary_oldest"].format(
            p=_p([o["id"]]), unit=data["unit_names"].get(str(o["owner_unit_id"]), "—")
        )
    ended = data["period"].get("ended", True)
    label = data["period"]["label"] + ("" if ended else TEXTS["summary_as_of"].format(moment=_as_of(data)))
    return TEXTS["summary"].format(
        title="".join(data["plan"]["title_lines"]),
        issue_no=issue_no,
        label=label,
        progress=progress,
        problems=_summary_problems(t, end=_end(data)),
        oldest=oldest,
    )


# --- Building --------------------------------------------------------------------------------


def issue_number(*, session: Session, plan_id: int, period: Period) -> int:
    """The brief's 第N期: its own number if it was issued, else the next one of the period's year.
    A withdrawn brief (its meeting moved or called off) was never issued: its number is not taken,
    and one built again for its day is numbered as a new one."""
    existing = session.exec(select(Brief).where(Brief.plan_id == plan_id, Brief.period == period.key)).first()
    if existing is not None and existing.state != BriefState.WITHDRAWN:
        return existing.issue_no
    latest = session.exec(
        select(func.max(Brief.issue_no)).where(
            Brief.plan_id == plan_id,
            col(Brief.period).startswith(str(period.year)),
            Brief.state != BriefState.WITHDRAWN,
        )
    ).one()
    return int(latest or 0) + 1


def _conveners(plan: Plan) -> str:
    meeting = (plan.spec or {}).get("meeting") or {}
    titles = [c.get("title") or c.get("role") for c in meeting.get("conveners") or []]
    return "、".join(t for t in titles if t)


# --- The PDF in a second process ---------------------------------------------------------------

PDF_TIMEOUT_S = 600  # the region's brief takes about a second; a fork that hangs must not hang the worker


def _brief_html(data: dict[str, Any], *, issue_no: int, issued_on: str, chart: Any = None) -> str:
    return render_html(TEMPLATE, brief_context(data, issue_no=issue_no, issued_on=issued_on, chart=chart))


# C types WeasyPrint 70 asks cffi for on its first document, each parsed by pycparser on first
# use (~2 ms apiece, ~25 ms in all): parsed while the parent queries instead of during layout.
# Harmless if another WeasyPrint asks for other types: they are then parsed as they come.
_FFI_TYPES = (
    "PangoFcFontMap *",
    "char[]",
    "PangoRectangle *",
    "PangoLogAttr[]",
    "unsigned int *",
    "hb_tag_t[100]",
    "char[4]",
)


def _prime_ffi() -> None:
    try:
        from weasyprint.text.ffi import ffi

        for cdecl in _FFI_TYPES:
            ffi.typeof(cdecl)
    except Exception:
        logger.debug("could not prime cffi types", exc_info=True)


def _pdf_child(conn: Any, parent_end: Any, fetcher: AssetOnlyFetcher, pdf_path: Path) -> None:
    """The forked side: draw the chart while the parent queries, then build the HTML and lay out the PDF."""
    # Our copy of the parent's end would keep the pipe open if the parent died (killed worker):
    # closed, a dead parent reads as end-of-file below and this process ends too.
    parent_end.close()
    # Everything inherited stays as it is: never scanned by this process's collector (faster layout,
    # no copy-on-write of the parent's heap) and never finalised here (the parent's database
    # connections are not touched, not even closed). gc.freeze() is a list splice, not a walk.
    gc.freeze()
    # And no cycle collection at all: this process lives for one document and its memory goes
    # back with it. WeasyPrint's layout makes millions of short-lived objects, and the collector
    # passes they trigger cost ~10 % of the layout; the peak stays the same (~310 MB at region
    # scale, measured by bench/brief.py).
    gc.disable()
    try:
        t0 = _time.perf_counter()
        # While the parent runs the queries: compile the template, then draw the progress chart
        # as soon as its rows arrive. (Laying out a small document first to warm WeasyPrint up
        # was tried: it costs ~0.2 s of this process's time and saves ~0.05 s of the brief's.)
        _env().get_template(TEMPLATE)  # compiled into render_html's shared environment
        _prime_ffi()
        t1 = _time.perf_counter()
        drawn: tuple[list[dict[str, Any]], Any] | None = None  # (chart rows, SVG) drawn ahead
        chart_s = 0.0
        while True:
            try:
                job = conn.recv()
            except EOFError:
                return  # the parent has gone
            if job is None:
                return
            if "progress" not in job:
                break
            # The progress rows come first, while the parent runs the other queries: draw the chart now.
            c0 = _time.perf_counter()
            rows = chart_rows(job["progress"])
            drawn = (rows, progress_chart_svg(rows, png=True))
            chart_s = _time.perf_counter() - c0
        t2 = _time.perf_counter()
        chart = drawn[1] if drawn is not None and _same_rows(drawn[0], chart_rows(job["data"]["progress"])) else None
        html = _brief_html(job["data"], issue_no=job["issue_no"], issued_on=job["issued_on"], chart=chart)
        # The HTML goes back at once: the parent writes the Word copy from it while this lays out the PDF.
        conn.send({"html": html})
        t3 = _time.perf_counter()
        html_to_pdf(html, out=pdf_path, fetcher=fetcher, extra_css=job.get("extra_css"))
        t4 = _time.perf_counter()
        conn.send(
            {
                "log": fetcher.log,
                "timings": {
                    "template": t1 - t0,
                    "chart": chart_s,
                    "html": t3 - t2,
                    "pdf": t4 - t3,
                    **_usage("pdf_process"),
                },
            }
        )
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it as a RenderError
        conn.send({"error": traceback.format_exc()})
    finally:
        conn.close()


def _same_rows(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Equal chart rows (NaN, for a batch with no schedule, equal to NaN)."""

    def key(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(r["name"], r["done"], r["target"], None if math.isnan(r["expected"]) else r["expected"]) for r in rows]

    return key(a) == key(b)


class _PdfProcess:
    """The brief's HTML and PDF, built in a forked process while this one writes the xlsx annex.

    Forked at the start of a build, before the queries, so its set-up and the chart overlap them; it gets
    the data through a pipe, sends back the HTML and what its URL fetcher saw, and writes the
    PDF atomically itself. It never touches the database. Where fork is not available the
    work is done in this process, one step after the other.

    The worker calls this from a thread (asyncio.to_thread): the child runs only this thread's
    code, takes no lock the other threads use but logging's (which Python re-creates after a
    fork), and ends with the job; Python 3.12 warns about such forks, which is expected here.
    """

    def __init__(self, *, fetcher: AssetOnlyFetcher, pdf_path: Path) -> None:
        self.fetcher = fetcher
        self.pdf_path = pdf_path
        self._job: dict[str, Any] | None = None
        self._html: str | None = None
        self._answered = False  # the process sent its answer (the PDF or its error)
        self._process: Any = None
        self._conn: Any = None
        if "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            self._conn, child_conn = ctx.Pipe()
            self._process = ctx.Process(
                target=_pdf_child, args=(child_conn, self._conn, fetcher, pdf_path), name="brief-pdf", daemon=True
            )
            self._process.start()
            child_conn.close()

    def submit_progress(self, progress: list[dict[str, Any]]) -> None:
        """Hand over the progress rows ahead of the rest: the chart is drawn while the queries go on."""
        if self._conn is not None:
            try:
                self._conn.send({"progress": progress})
            except OSError:
                pass  # it failed already (drawing the chart) and hung up: result() reads why

    def submit(self, data: dict[str, Any], *, issue_no: int, issued_on: str, extra_css: str | None = None) -> None:
        """Hand over the brief's data; the HTML and PDF are built from here on."""
        self._job = {"data": data, "issue_no": issue_no, "issued_on": issued_on, "extra_css": extra_css}
        if self._conn is not None:
            try:
                self._conn.send(self._job)
            except OSError:
                pass  # it failed already (drawing the chart) and hung up: result() reads why

    def _reply(self) -> dict[str, Any]:
        try:
            if not self._conn.poll(PDF_TIMEOUT_S):
                raise RenderError(f"brief PDF process gave no answer in {PDF_TIMEOUT_S} s")
            reply = self._conn.recv()
        except EOFError as exc:
            raise RenderError(
                f"brief PDF process ended without an answer (exit code {self._process.exitcode})"
            ) from exc
        if "error" in reply:
            self._answered = True
            raise RenderError(f"brief PDF process failed:\n{reply['error']}")
        return reply

    def html(self) -> str:
        """The brief's HTML, as soon as it is built (the PDF is laid out from it meanwhile)."""
        assert self._job is not None
        if self._html is None:
            if self._conn is None:
                job = self._job
                self._html = _brief_html(job["data"], issue_no=job["issue_no"], issued_on=job["issued_on"])
            else:
                self._html = self._reply()["html"]
        return self._html

    def result(self) -> tuple[str, dict[str, float]]:
        """Wait for the PDF; the HTML and the child's timings. Raises RenderError if it failed."""
        html = self.html()
        if self._conn is None:
            assert self._job is not None  # html() above has asserted it too: start() came first
            t1 = _time.perf_counter()
            html_to_pdf(html, out=self.pdf_path, fetcher=self.fetcher, extra_css=self._job.get("extra_css"))
            return html, {"pdf": _time.perf_counter() - t1}
        reply = self._reply()
        self._answered = True
        self.fetcher.log.extend(reply["log"])
        return html, reply["timings"]

    def close(self) -> None:
        """Let the process end (told to stop if it never got the data) and reap it."""
        if self._process is None:
            return
        if self._job is None:
            try:
                self._conn.send(None)
            except OSError:
                pass  # it has ended already; join() below reaps it
        self._conn.close()
        if self._answered:
            # It has sent its answer and is only exiting (unmapping its memory: ~15 ms at region
            # scale): reaped by a thread instead of on the brief's time.
            threading.Thread(target=_reap, args=(self._process,), name="brief-pdf-reaper", daemon=True).start()
        else:
            _reap(self._process)


def _annex_child(conn: Any, parent_end: Any, url: str, plan_id: int, out: Path, now: datetime) -> None:
    """The forked side of _AnnexProcess: on a connection of its own, begin reading (told to the
    parent, which holds the snapshot until then), then write the annex."""
    parent_end.close()
    gc.freeze()  # the parent's objects (its engine and connections among them) stay untouched here
    engine = make_engine(url)
    try:
        with Session(read_only(engine)) as session:
            session.exec(select(Plan.id).where(Plan.id == plan_id)).first()  # the first read: the snapshot
            conn.send({"reading": True})
            t0 = _time.perf_counter()
            export_ledger(out, session=session, plan_id=plan_id, now=now)
            conn.send({"xlsx": _time.perf_counter() - t0, "usage": _usage("annex")})
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it as a RenderError
        conn.send({"error": traceback.format_exc()})
    finally:
        engine.dispose()
        conn.close()


class _AnnexProcess:
    """The brief's xlsx annex, written by a forked process of its own while this one runs the
    brief's queries and the PDF process lays out the PDF: at ten times the region the annex
    (~2.4 s, most of it Python writing the sheets' XML) took as long as the queries, after them.

    The other process reads what this session reads (models.shared_snapshot: on SQLite a read
    transaction is begun anew for that, the write lock held for the few milliseconds it takes the
    other process to begin reading too). Where that cannot be had (the session has written, an
    in-memory database) or fork is not available, the annex is written here, in `wait`."""

    def __init__(self, *, session: Session, plan_id: int, out: Path, now: datetime) -> None:
        self.session, self.plan_id, self.out, self.now = session, plan_id, out, now
        self._process: Any = None
        self._conn: Any = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        with shared_snapshot(session) as url:
            if url is None:
                return
            ctx = multiprocessing.get_context("fork")
            self._conn, child_conn = ctx.Pipe()
            self._process = ctx.Process(
                target=_annex_child,
                args=(child_conn, self._conn, url, plan_id, out, now),
                name="brief-annex",
                daemon=True,
            )
            self._process.start()
            child_conn.close()
            try:
                self._reply()  # it has begun reading: the snapshot may be let go
            except BaseException:
                self.close()
                raise

    def _reply(self) -> dict[str, Any]:
        try:
            if not self._conn.poll(PDF_TIMEOUT_S):
                raise RenderError(f"brief annex process gave no answer in {PDF_TIMEOUT_S} s")
            reply = self._conn.recv()
        except EOFError as exc:
            raise RenderError(
                f"brief annex process ended without an answer (exit code {self._process.exitcode})"
            ) from exc
        if "error" in reply:
            raise RenderError(f"brief annex process failed:\n{reply['error']}")
        return reply

    def wait(self) -> tuple[float, dict[str, float]]:
        """The annex written (here if there is no other process): the seconds its writing took, and
        its process's CPU and page faults (none if written here)."""
        if self._process is None:
            t0 = _time.perf_counter()
            export_ledger(self.out, session=self.session, plan_id=self.plan_id, now=self.now)
            return _time.perf_counter() - t0, {}
        reply = self._reply()
        return float(reply["xlsx"]), reply["usage"]

    def close(self) -> None:
        if self._process is None:
            return
        self._conn.close()
        _reap(self._process)
        self._process = None


def _usage(prefix: str) -> dict[str, float]:
    """This process's CPU seconds and minor page faults (a forked process's count from its fork:
    copy-on-write of inherited pages among them), as `prefix`_cpu and `prefix`_faults."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return {f"{prefix}_cpu": u.ru_utime + u.ru_stime, f"{prefix}_faults": float(u.ru_minflt)}


def _reap(process: Any) -> None:
    """Wait for a brief PDF process to end; terminate it if it does not."""
    process.join(timeout=30)
    if process.is_alive():
        logger.error("brief PDF process %s did not end; terminating it", process.pid)
        process.terminate()
        process.join()


def build_brief(
    *,
    session: Session,
    plan_id: int,
    period: str | Period,
    now: datetime,
    out_dir: Path,
    sample: str | None = None,
    word: bool = True,
) -> BriefResult:
    """Compile the brief's data and write its PDF, its Word copy and its xlsx annex under `out_dir`
    (nothing is recorded or sent). `sample`: mark every page as sample data. `word=False`: no
    Word copy here (the job writes it once the PDF has gone out, from `BriefResult.html`).

    The HTML and PDF are built in a second process while this one writes the annex and then,
    from the HTML the other process sends back first, the .docx (the worker has two cores; the
    annex needs the session, the PDF only the data).
    """
    p = period if isinstance(period, Period) else parse_period(period)
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    sample = sample or sample_mark(plan)  # a sample plan's brief is marked wherever it is stored
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = out_dir / f"{p.key}.pdf"
    docx_path = out_dir / f"{p.key}.docx"
    xlsx_path = out_dir / f"{p.key}-台账.xlsx"
    timings: dict[str, float] = {}
    t0, cpu0, faults0 = _time.perf_counter(), _time.process_time(), _usage("parent")["parent_faults"]
    # The annex first: its process begins reading before this one's queries, so that it writes
    # the sheets while they run; then the PDF process, forked after it.
    annex = _AnnexProcess(session=session, plan_id=plan_id, out=xlsx_path, now=now)
    renderer = None
    try:
        renderer = _PdfProcess(fetcher=AssetOnlyFetcher(), pdf_path=pdf_path)

        def progress_known(progress: list[dict[str, Any]]) -> None:
            timings["progress_at"] = _time.perf_counter() - t0
            renderer.submit_progress(progress)

        data = brief_data(session=session, plan_id=plan_id, period=p, now=now, on_progress=progress_known)
        data["plan"]["conveners"] = _conveners(plan)
        data["distribution_lines"] = brief_lines(session=session, plan_id=plan_id)
        data["distribution"] = line_texts(session=session, plan_id=plan_id, lines=data["distribution_lines"])
        data["copies"] = copies(data["distribution_lines"])
        issue_no = issue_number(session=session, plan_id=plan_id, period=p)
        data["issue_no"] = issue_no
        data["sample_mark"] = sample  # kept with the brief: its Word copy and re-renders are marked too
        issued_on = local_day(now).isoformat()
        t1 = _time.perf_counter()
        renderer.submit(data, issue_no=issue_no, issued_on=issued_on, extra_css=sample_css(sample) if sample else None)
        timings["parent_data_cpu"] = _time.process_time() - cpu0
        timings["xlsx_writing"], annex_usage = annex.wait()
        t2 = _time.perf_counter()
        # The Word copy from the HTML while the other process lays out the PDF (off its critical path).
        if word:
            html_to_docx(renderer.html(), out=docx_path, sample=sample)
        t2b = _time.perf_counter()
        html, child = renderer.result()
        t3 = _time.perf_counter()
    finally:
        if renderer is not None:
            renderer.close()
        annex.close()
    timings.update(data=t1 - t0, xlsx=t2 - t1, docx=t2b - t2, wait=t3 - t2b, **child, **annex_usage)
    # This process's CPU (its threads' too) and page faults from the start of the build.
    timings.update(parent_cpu=_time.process_time() - cpu0, parent_faults=_usage("parent")["parent_faults"] - faults0)
    title = "".join(data["plan"]["title_lines"])
    logger.info(
        "brief %s plan %s built: issue %d, %s (%.2fs data, %.2fs html + %.2fs pdf beside %.2fs xlsx, %.2fs in all)",
        p.key,
        plan.key,
        issue_no,
        pdf_path,
        t1 - t0,
        child.get("html", 0.0),
        child.get("pdf", 0.0),
        t2 - t1,
        t3 - t0,
    )
    return BriefResult(
        plan_id=plan_id,
        period=p.key,
        issue_no=issue_no,
        pdf_path=pdf_path,
        docx_path=docx_path,
        xlsx_path=xlsx_path,
        data=jsonable(data),
        html=html,
        summary=chat_marked(plan, brief_summary(data, issue_no=issue_no)),
        title=title,
        timings=timings,
    )


def briefs_dir(plan: Plan) -> Path:
    """Where a plan's briefs are kept: DATA_DIR/briefs/<plan key>/."""
    from config.settings import get_settings

    return Path(get_settings().DATA_DIR) / "briefs" / plan.key


def publish_brief(
    *, session: Session, plan_id: int, period: Period, now: datetime, built: BriefResult | None = None
) -> dict[str, Any]:
    """Build and record the period's brief once, as a draft the office previews (sent once).
    `built`: the brief already built (from a read transaction), so only the recording is left."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise PlanMissingError()
    brief = session.exec(select(Brief).where(Brief.plan_id == plan_id, Brief.period == period.key)).first()
    # None: to build. Withdrawn: its meeting left the day and the day's brief was asked for again
    # (the meeting came back to it): built anew from the record as it stands, in its row
    # (oversight.briefs.redraft).
    created = brief is None or brief.state == BriefState.WITHDRAWN
    if created and runs.is_withdrawn(session=session, job="brief", period=period.key):
        return _withdrawn(session=session, plan_id=plan_id, period=period, now=now, built=built)
    if brief is None or brief.state == BriefState.WITHDRAWN:
        # The PDF, the annex and the HTML on the critical path; the Word copy once the PDF is out.
        result = built or build_brief(
            session=session, plan_id=plan_id, period=period, now=now, out_dir=briefs_dir(plan), word=False
        )
        write_atomic(
            html_path(result.pdf_path), marked_html(result.html, result.data.get("sample_mark")).encode("utf-8")
        )
        data = {**result.data, "summary": result.summary, "title": result.title}
        if brief is None:
            brief = Brief(
                plan_id=plan_id,
                period=period.key,
                kind=period.kind,
                issue_no=result.issue_no,
                data=data,
                pdf_path=str(result.pdf_path),
                xlsx_path=str(result.xlsx_path),
                created_at=now,
            )
            session.add(brief)
            session.flush()
        else:
            docx_path(Path(result.pdf_path)).unlink(missing_ok=True)  # the withdrawn one's: written again below
            brief = redraft(
                session=session,
                brief=brief,
                issue_no=result.issue_no,
                data=data,
                pdf_path=result.pdf_path,
                xlsx_path=result.xlsx_path,
                now=now,
            )
    # A draft: only the office gets it, to preview; it goes out once signed (oversight.briefs).
    queued = queue_preview(session=session, brief=brief, now=now) if created else 0
    # The preview goes out now; its Word copy (needed when the brief is distributed) is written
    # after, off the PDF's path. Should the worker stop in between, the next run of this job or the
    # distribution writes it (ensure_word_copy).
    session.commit()
    ensure_word_copy(brief)
    logger.info(
        "brief %s plan %s: %s, draft sent to %d office chat(s)",
        period.key,
        plan.key,
        "built" if created else "already built",
        queued,
    )
    return {
        "plan_id": plan_id,
        "brief_id": brief.id,
        "issue_no": brief.issue_no,
        "created": created,
        "queued": queued,
        "pdf": brief.pdf_path,
    }


def _withdrawn(
    *, session: Session, plan_id: int, period: Period, now: datetime, built: BriefResult | None
) -> dict[str, Any]:
    """The meeting left the day (called off or moved) while its brief was being built: nothing is
    recorded or sent, the files built are removed (no record points to them, and a brief of a
    meeting that will not take place then must not turn up in the office's folder), and the office
    is told it was not sent if the meeting was called off (a move's own line tells of a brief only
    once one was recorded)."""
    if built is not None:
        for path in (built.pdf_path, built.xlsx_path):
            Path(path).unlink(missing_ok=True)
    told = 0
    if period.kind == ADHOC:
        told = notify_brief_withdrawn(session=session, plan_id=plan_id, day=period.last_day, now=now)
    session.commit()
    logger.info("brief %s plan %s: withdrawn while it was built; office told in %d chat(s)", period.key, plan_id, told)
    return {"plan_id": plan_id, "brief_id": None, "withdrawn": True, "queued": 0, "told": told}


def html_path(pdf: Path) -> Path:
    """Where a published brief's HTML is kept (its Word copy is written from it): beside its PDF."""
    return Path(pdf).with_suffix(".html")


def ensure_word_copy(brief: Brief) -> Path | None:
    """The brief's Word copy, written from its kept HTML if it is not there yet; None (logged) if
    neither is there."""
    pdf = Path(brief.pdf_path)
    word = docx_path(pdf)
    if word.exists():
        return word
    source = html_path(pdf)
    if not source.exists():
        logger.error("brief %s: no Word copy and no HTML to write it from (%s)", brief.id, source)
        return None
    t0 = _time.perf_counter()
    html_to_docx(source.read_text(encoding="utf-8"), out=word, sample=(brief.data or {}).get("sample_mark"))
    logger.info("brief %s: Word copy written in %.2fs", brief.id, _time.perf_counter() - t0)
    return word


def distribute_brief(*, session: Session, brief: Brief, now: datetime) -> dict[str, Any]:
    """Send a built brief to exactly the recipients its foot block names (报/送/发): the PDF, its
    Word copy and the xlsx annex (完整台账), with the chat summary; each once; and the PDF with the
    summary to the joint-meeting group. Called by the brief_distribute job, once the brief is signed."""
    plan = session.get(Plan, brief.plan_id)
    assert plan is not None
    title = brief.data.get("title") or plan.short_name or plan.name
    caption = chat_marked(
        plan, TEXTS["caption"].format(title=title, issue_no=brief.issue_no, label=parse_period(brief.period).label)
    )
    name = f"{title}第{brief.issue_no}期"
    pdf = Path(brief.pdf_path)
    ensure_word_copy(brief)
    files = [
        Attachment(pdf, f"{name}.pdf", caption),
        Attachment(docx_path(pdf), f"{name}.docx"),
        Attachment(Path(brief.xlsx_path), f"{name}（完整台账）.xlsx"),
    ]
    lines = brief.data.get("distribution_lines") or {}
    group = session.get(GroupBinding, brief.plan_id)
    if group is not None:  # the joint-meeting group reads the brief too (its PDF and the summary)
        prefix = f"brief:{brief.plan_id}:{brief.period}:group"
        enqueue_document(
            session=session,
            chat_id=group.chat_id,
            path=str(pdf),
            filename=f"{name}.pdf",
            caption=caption,
            dedupe_key=prefix,
            now=now,
        )
        for j, part in enumerate(split_text(brief.data.get("summary") or "")):
            enqueue_text(session=session, chat_id=group.chat_id, text=part, dedupe_key=f"{prefix}:{j}", now=now)
    return distribute(
        session=session,
        lines=lines,
        files=[f for f in files if f.path.name],
        text=brief.data.get("summary") or "",
        dedupe_prefix=f"brief:{brief.plan_id}:{brief.period}",
        now=now,
    )


def render_run(*, session: Session, period: str, now: datetime) -> dict[str, Any]:
    """Job brief_render (period brief-<id>-r<revision>): the draft again with the office's 编者按,
    sent to the office to preview, or a brief given a new number (oversight.briefs.renumber_unissued)
    with it, to whoever holds it. A run superseded by a later edit does nothing."""
    brief_id, revision = brief_id_of_period(period)
    brief = brief_to_render(session=session, brief_id=brief_id, revision=revision or 0)
    if brief is None:
        return {"brief_id": brief_id, "rendered": False}
    # The chat summary again too: a brief given a new number (renumber_unissued) names it there.
    plan = session.get(Plan, brief.plan_id)
    brief.data = {**brief.data, "summary": chat_marked(plan, brief_summary(brief.data, issue_no=brief.issue_no))}
    data = {**brief.data, "editor_note": brief.editor_note}
    old = Path(brief.pdf_path)
    pdf = old.with_name(f"{brief.period}-r{brief.revision}.pdf")
    renderer = _PdfProcess(fetcher=AssetOnlyFetcher(), pdf_path=pdf)
    try:
        mark = data.get("sample_mark")
        renderer.submit(
            data,
            issue_no=brief.issue_no,
            issued_on=local_day(brief.created_at).isoformat(),
            extra_css=sample_css(mark) if mark else None,
        )
        html_to_docx(renderer.html(), out=docx_path(pdf), sample=mark)
        renderer.result()
    finally:
        renderer.close()
    sent = mark_rendered(session=session, brief=brief, pdf_path=pdf, now=now)
    logger.info("brief %s re-rendered as revision %d, sent to %d office chat(s)", brief.id, brief.revision, sent)
    return {"brief_id": brief_id, "rendered": True, "revision": brief.revision, "sent": sent}


def distribute_run(*, session: Session, period: str, now: datetime) -> dict[str, Any]:
    """Job brief_distribute (period brief-<id>): a signed brief to its 报/送/发 and the joint-meeting group."""
    brief_id, _ = brief_id_of_period(period)
    brief = brief_to_distribute(session=session, brief_id=brief_id)
    if not_to_send(session=session, brief=brief):  # signed before its meeting moved or was called off
        told = notify_brief_withdrawn(
            session=session, plan_id=brief.plan_id, day=parse_period(brief.period).last_day, now=now
        )
        logger.info("brief %s not distributed: withdrawn (%s), its meeting moved or called off", brief.id, brief.state)
        return {"brief_id": brief_id, "withdrawn": True, "queued": 0, "told": told}
    sent = distribute_brief(session=session, brief=brief, now=now)
    mark_distributed(session=session, brief=brief, queued=sent["queued"], now=now)
    logger.info("brief %s distributed: %d message(s) queued", brief.id, sent["queued"])
    return {"brief_id": brief_id, **sent}


def run(*, session: Session, period: str, now: datetime) -> dict[str, Any]:
    """The worker's "brief" job: one brief per plan for `period` (an ad-hoc meeting's day: per plan
    meeting that day, oversight.briefs.plans_to_brief), idempotent per period."""
    p = parse_period(period)
    built = _build_missing(session, p, now)
    plans = plans_to_brief(session=session, period=p)
    if not plans and not built:
        logger.warning("brief %s: no plan loaded or none with a meeting that day, nothing to compile", p.key)
    wanted = {row_id(plan) for plan in plans}
    # A plan whose meeting left the day (moved or called off) while its brief was being built:
    # nothing of it is recorded, its files go, and the office is told if the meeting was called off.
    briefs = [
        _withdrawn(session=session, plan_id=plan_id, period=p, now=now, built=result)
        for plan_id, result in built.items()
        if plan_id not in wanted
    ]
    briefs += [
        publish_brief(session=session, plan_id=row_id(plan), period=p, now=now, built=built.get(row_id(plan)))
        for plan in plans
    ]
    return {"period": p.key, "briefs": briefs}


def _build_missing(session: Session, p: Period, now: datetime) -> dict[int, BriefResult]:
    """Each plan's missing brief for `p`, built in a read transaction of its own before the
    job's write transaction has begun: the render (seconds for a region) holds no lock, and the
    bot's writes never wait for it. The job then records the results in a short write."""
    if session.in_transaction():  # the caller has begun writing: build within its transaction
        return {}
    built: dict[int, BriefResult] = {}
    engine = session.get_bind()
    if not isinstance(engine, Engine):  # a session bound to one connection: build within it
        return {}
    with session_scope(read_only(engine)) as reading:
        for plan in plans_to_brief(session=reading, period=p):
            exists = reading.exec(
                select(Brief.id).where(
                    Brief.plan_id == plan.id, Brief.period == p.key, Brief.state != BriefState.WITHDRAWN
                )
            ).first()
            if exists is None:
                built[row_id(plan)] = build_brief(
                    session=reading, plan_id=row_id(plan), period=p, now=now, out_dir=briefs_dir(plan), word=False
                )
    return built
