"""Notices (通报): the worker drafts the period's notice from the accountability findings;
the convener (or the office) drops findings or edits the wording; only the convener
approves; the approved notice is published by the worker (jobs.notices.publish_notice);
a named unit may file an explanation (情况说明) within `explanation_days` working days.

States: draft → approved → published; draft → dropped (a new draft may then be made).
Every change writes an audit row in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from models import (
    Attachment,
    AuditLog,
    Explanation,
    Member,
    Notice,
    NoticeFinding,
    Plan,
    Role,
    ScheduledRun,
    Unit,
)
from models.base import row_id
from oversight import labels, runs
from oversight.accountability import (
    RULE_LABELS,
    Finding,
    Rule,
    evaluate,
    finding_heading,
    parse_period,
    thresholds_of,
)
from oversight.attachments import is_unlinked
from oversight.audit import actor_of, audit, require_role
from oversight.dates import cn_date, cn_datetime, local_day, local_zone
from oversight.errors import (
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    OversightError,
    PermissionDeniedError,
    PlanMissingError,
)
from oversight.facts import Chat, Fact, Say, evidence_ids
from oversight.members import member_label, members_of_unit, members_with_role
from oversight.outbox import enqueue_text, queued_under
from oversight.plans import office_name
from oversight.sentences import annex_rows, evidence_sentence, names, ordered_evidence, person_at_unit
from oversight.workdays import add_workdays, estimate_mark

PUBLISH_JOB = "notice_publish"


class NoticeState:
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"
    DROPPED = "dropped"


STATE_LABELS = {
    NoticeState.DRAFT: "草稿",
    NoticeState.APPROVED: "已审定待印发",
    NoticeState.PUBLISHED: "已印发",
    NoticeState.DROPPED: "已放弃",
}

EDIT_ROLES = (Role.CONVENER, Role.OFFICE)
REVIEW_ROLES = (Role.CONVENER, Role.OFFICE, Role.ADMIN)  # who may read drafts in chat
TITLE_MAX = 100
BODY_MAX = 8000
EXPLANATION_MAX = 4000
MAX_ATTACHMENTS = 10


class NoticeError(OversightError):
    message = "通报操作失败。"


class NoticeExplanationClosedError(NoticeError):
    message = "情况说明的报送期限已过。"


# Every text a reader sees from this module (the notice wording itself is editable).
TEXTS: dict[str, str] = {
    "title": "关于{label}{subject}工作推进不力单位情况的通报",
    "title_none": "关于{label}{subject}工作推进情况的通报",
    # Only what the findings prove: how many units, which kinds (no "总体有序推进", no "部分单位").
    "opening": "{label}，依据联席会议工作记录，{subject}工作中有{n}个单位存在{kinds}问题。根据{basis}“对工作推进速度慢，"
    "问题解决不积极、不明显，推诿扯皮的部门，予以严肃通报”的要求，现将有关情况通报如下。",
    "opening_none": "{label}，经核查联席会议工作记录，{subject}工作本期没有需要通报的单位。",
    "rule_line": "{num}、{rule}。{items}。",
    "unit_item": "{unit}：{summary}",
    "closing": "请被通报单位高度重视，认真查找原因，切实抓好整改，并于本通报印发之日起{days}个工作日内向联席会议办公室"
    "报送书面情况说明。各成员单位要引以为戒，按照职责分工主动担当、密切配合，确保各项工作任务按期完成。",
    "addressees": "各成员单位",
    # The 报 line: the government, because these leagues / cities were found 问题解决不积极、不明显.
    "report_to": "{government}",
    # A paragraph of a body the office rewrote: its own statement, printed as written, kept in the
    # facts with who changed it and when, and the units it names (each resting on a kept finding).
    "office_text": "{text}",
    "explanation_filed": "【情况说明】{who}已就{doc_no}《{title}》报送情况说明：\n{text}",
}
_CN_NUM = "一二三四五六七八九十"


# --- Lookups --------------------------------------------------------------------------


def get_notice(*, session: Session, notice_id: int) -> Notice | None:
    """The notice with this id, or None."""
    return session.get(Notice, notice_id)


def notice_for_period(*, session: Session, plan_id: int, period: str) -> Notice | None:
    """The live (not dropped) notice of a period, if any."""
    return session.exec(
        select(Notice)
        .where(Notice.plan_id == plan_id, Notice.period == period, Notice.state != NoticeState.DROPPED)
        .order_by(col(Notice.id).desc())
    ).first()


def notice_findings(*, session: Session, notice_id: int, include_dropped: bool = True) -> list[NoticeFinding]:
    """A notice's findings in rule order, then unit."""
    stmt = select(NoticeFinding).where(NoticeFinding.notice_id == notice_id)
    if not include_dropped:
        stmt = stmt.where(col(NoticeFinding.dropped).is_(False))
    order = {r: i for i, r in enumerate(Rule.ALL)}
    return sorted(session.exec(stmt).all(), key=lambda f: (order.get(f.rule, 9), f.unit_id, f.id or 0))


def named_unit_ids(*, session: Session, notice_id: int) -> list[int]:
    """Units a notice names (findings not dropped)."""
    return sorted({f.unit_id for f in notice_findings(session=session, notice_id=notice_id, include_dropped=False)})


def recent_notices(*, session: Session, plan_id: int, limit: int = 8) -> list[Notice]:
    """A plan's latest notices that were not dropped, newest first."""
    return list(
        session.exec(
            select(Notice)
            .where(Notice.plan_id == plan_id, col(Notice.state) != NoticeState.DROPPED)
            .order_by(col(Notice.id).desc())
            .limit(limit)
        ).all()
    )


def notice_heading(notice: Notice) -> str:
    """A notice as a list names it, never by its record number: its document number once it has
    one, its title, period and state: 乌中联办通〔2026〕1号《…》（2026年第一季度，已印发）."""
    label = parse_period(notice.period).label
    return f"{notice.doc_no or ''}《{notice.title}》（{label}，{STATE_LABELS.get(notice.state, notice.state)}）"


def notice_name(notice: Notice) -> str:
    """A notice as a sentence or a button names it: its document number (乌中联办通〔2026〕1号), or
    before it has one its title, period and state: 《…》（2026年第一季度，草稿）."""
    return notice.doc_no or notice_heading(notice)


def notice_for_review(*, session: Session, member: Member, notice_id: int) -> Notice:
    """A notice of the member's plan that they may read as a draft (convener, office, admin)."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.plan_id != member.plan_id:
        raise NotFoundError("该通报不存在。")
    if member.role not in REVIEW_ROLES:
        raise PermissionDeniedError("只有召集人、办公室和管理员可以查看通报草稿。")
    return notice


def check_may_edit(*, session: Session, member: Member, notice_id: int) -> Notice:
    """The draft the member is about to edit, or why they may not (before they type the new text)."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.plan_id != member.plan_id or member.role not in EDIT_ROLES:
        raise PermissionDeniedError("只有召集人和办公室可以修改通报草稿。")
    if notice.state != NoticeState.DRAFT:
        raise InvalidStateError("该通报已不是草稿，不能修改。")
    return notice


def check_may_approve(*, session: Session, member: Member, notice_id: int, now: datetime) -> Notice:
    """Refuse now what approve_notice would refuse (the role, the state, nothing kept), before the
    convener is asked to confirm."""
    notice = _load(session, notice_id)
    _require(session, actor=member, notice=notice, roles=(Role.CONVENER,), what="审定印发通报", now=now)
    _require_draft(notice, "审定")
    if not named_unit_ids(session=session, notice_id=row_id(notice)):
        raise InvalidStateError("该通报没有保留任何通报事项，不能印发；如本期不需通报，请放弃该通报。")
    if body_is_edited(session=session, notice=notice):  # what goes out still rests on the kept findings
        kept = notice_findings(session=session, notice_id=row_id(notice), include_dropped=False)
        try:
            check_office_text(session=session, notice=notice, text=notice.body, findings=kept)
            check_office_text(session=session, notice=notice, text=notice.title, findings=kept, what="标题")
        except InvalidInputError as exc:
            raise InvalidStateError(f"{exc.message}（通报未印发）") from exc
    return notice


def explainable_notices(*, session: Session, member: Member, now: datetime) -> list[Notice]:
    """Published notices naming the member's unit whose explanation period is still open."""
    published = session.exec(
        select(Notice)
        .where(Notice.plan_id == member.plan_id, Notice.state == NoticeState.PUBLISHED)
        .order_by(col(Notice.id).desc())
    ).all()
    result = []
    for n in published:
        deadline = explanation_deadline(session=session, notice=n)
        if deadline and now <= deadline and member.unit_id in named_unit_ids(session=session, notice_id=row_id(n)):
            result.append(n)
    return result


# --- Wording -----------------------------------------------------------------------------


def _subject(plan: Plan) -> str:
    return plan.short_name or plan.name


def _basis(plan: Plan) -> str:
    return f"《{plan.name}》（{plan.doc_no}）" if plan.doc_no else f"《{plan.name}》"


def compose_title(*, plan: Plan, period: str, has_findings: bool = True) -> str:
    """The default title of a period's notice."""
    label = parse_period(period).label
    return TEXTS["title" if has_findings else "title_none"].format(label=label, subject=_subject(plan))


def _finding_ids(findings: Sequence[NoticeFinding]) -> dict[str, list[int]]:
    """A group of findings' ids: the units named, the findings themselves, what their evidence cites."""
    return {
        "unit": list(dict.fromkeys(f.unit_id for f in findings)),
        "finding": [row_id(f) for f in findings],
        **evidence_ids(item for f in findings for item in f.evidence or []),
    }


def body_facts(*, session: Session, plan: Plan, period: str, findings: Sequence[NoticeFinding]) -> Say:
    """The default body's facts in print order: the opening, each group of units with the same
    finding (unit_item) and its rule's line, the closing requirement; ids name the units, the
    findings and the records their evidence cites."""
    label = parse_period(period).label
    say = Say(TEXTS)
    live = [f for f in findings if not f.dropped]
    if not live:
        say.fact("opening_none", label=label, subject=_subject(plan))
        return say
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.plan_id == plan.id)).all()}
    rules = [r for r in Rule.ALL if any(f.rule == r for f in live)]
    say.fact(
        "opening",
        _finding_ids(live),
        label=label,
        subject=_subject(plan),
        basis=_basis(plan),
        n=len({f.unit_id for f in live}),
        # Quoted one after another: a label holds a 顿号 of its own (问题解决不积极、不明显).
        kinds="".join(f"“{RULE_LABELS[r]}”" for r in rules),
        rules=list(rules),
    )
    for i, rule in enumerate(rules):
        # Units with the same finding are named together: "甲局、乙局：8周未报送工作进展".
        grouped: dict[str, list[NoticeFinding]] = {}
        for f in live:
            if f.rule == rule:
                grouped.setdefault(f.summary, []).append(f)
        items = [
            say.text(
                "unit_item",
                _finding_ids(group),
                unit=names([units[f.unit_id].name if f.unit_id in units else "" for f in group]),
                summary=summary,
                rule=rule,
            )
            for summary, group in grouped.items()
        ]
        say.fact(
            "rule_line",
            _finding_ids([f for f in live if f.rule == rule]),
            num=_CN_NUM[i],
            rule=RULE_LABELS[rule],
            items="；".join(items),
        )
    say.fact("closing", _finding_ids(live), days=int(thresholds_of(plan)["explanation_days"]))
    return say


def compose_body(*, session: Session, plan: Plan, period: str, findings: Sequence[NoticeFinding]) -> str:
    """The default body: opening, one paragraph per rule naming the units, closing (lines), each
    rendered from its fact (see body_facts)."""
    say = body_facts(session=session, plan=plan, period=period, findings=findings)
    return "\n".join(f.render(TEXTS) for f in say.facts if f.kind != "unit_item")


# --- Permissions ----------------------------------------------------------------------------


def _require(
    session: Session, *, actor: Member, notice: Notice, roles: tuple[str, ...], what: str, now: datetime
) -> None:
    require_role(
        session,
        actor=actor,
        plan_id=notice.plan_id,
        roles=roles,
        what=what,
        object_type="notice",
        object_id=notice.id,
        now=now,
    )


def _load(session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id, with_for_update=True, populate_existing=True)
    if notice is None:
        raise NotFoundError("找不到该通报。")
    return notice


def _require_draft(notice: Notice, what: str) -> None:
    if notice.state != NoticeState.DRAFT:
        raise InvalidStateError(f"该通报{STATE_LABELS.get(notice.state, notice.state)}，不能再{what}。")


# --- Workflow --------------------------------------------------------------------------------


def draft_notice(
    *, session: Session, plan_id: int, period: str, now: datetime, findings: Sequence[Finding] | None = None
) -> Notice:
    """The period's draft notice from the accountability rules; a second call returns the
    existing notice (draft, approved or published) unless it was dropped. `findings`: the rules'
    findings evaluated beforehand (in a read transaction), so this write stays short."""
    plan = session.get(Plan, plan_id, with_for_update=True)  # serialises two drafting workers
    if plan is None:
        raise PlanMissingError()
    key = parse_period(period).key
    existing = notice_for_period(session=session, plan_id=plan_id, period=key)
    if existing is not None:
        return existing
    if findings is None:
        findings = evaluate(session=session, plan_id=plan_id, period=key, now=now)
    notice = Notice(
        plan_id=plan_id,
        period=key,
        state=NoticeState.DRAFT,
        created_at=now,
        title=compose_title(plan=plan, period=key, has_findings=bool(findings)),
    )
    session.add(notice)
    session.flush()
    rows = [
        NoticeFinding(notice_id=row_id(notice), unit_id=f.unit_id, rule=f.rule, summary=f.summary, evidence=f.evidence)
        for f in findings
    ]
    session.add_all(rows)
    session.flush()
    notice.body = compose_body(session=session, plan=plan, period=key, findings=rows)
    session.add(notice)
    audit(
        session=session,
        actor=actor_of(system="worker"),
        action="notice.drafted",
        object_type="notice",
        object_id=notice.id,
        at=now,
        detail={"plan_id": plan_id, "period": key, "findings": [[f.unit_id, f.rule] for f in rows]},
    )
    return notice


def _set_dropped(
    session: Session, *, finding_id: int, actor: Member, dropped: bool, now: datetime, reason: str = ""
) -> NoticeFinding:
    finding = session.get(NoticeFinding, finding_id)
    if finding is None:
        raise NotFoundError("找不到该通报事项。")
    notice = _load(session, finding.notice_id)
    what = "删除通报事项" if dropped else "恢复通报事项"
    _require(session, actor=actor, notice=notice, roles=EDIT_ROLES, what=what, now=now)
    _require_draft(notice, what)
    if finding.dropped == dropped:
        return finding
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    before = notice_findings(session=session, notice_id=row_id(notice))
    was_default = notice.body == compose_body(session=session, plan=plan, period=notice.period, findings=before)
    if not was_default and dropped:
        # The rewritten body is kept as written: it may not go on naming a unit (or a figure) whose
        # finding is being dropped.
        after = [f for f in before if not f.dropped and f.id != finding.id]
        _, stray, loose = office_text_faults(session=session, notice=notice, text=notice.body, findings=after)
        if stray or loose:
            said = "、".join([*stray, *(f"数字{n}" for n in loose)])
            raise InvalidStateError(f"正文已经修改，仍写有只以该事项为依据的{said}。请先修改正文，再删除该通报事项。")
    finding.dropped = dropped
    finding.drop_reason = reason if dropped else ""
    session.add(finding)
    session.flush()
    if was_default:  # a body someone has edited is kept as they wrote it
        after = notice_findings(session=session, notice_id=row_id(notice))
        notice.body = compose_body(session=session, plan=plan, period=notice.period, findings=after)
        session.add(notice)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="notice.finding_dropped" if dropped else "notice.finding_restored",
        object_type="notice",
        object_id=notice.id,
        at=now,
        detail={
            "finding_id": finding.id,
            "unit_id": finding.unit_id,
            "rule": finding.rule,
            "body_regenerated": was_default,
            **({"reason": reason} if dropped else {}),
        },
    )
    return finding


DROP_REASON_MIN, DROP_REASON_MAX = 4, 200


def check_drop_reason(reason: str | None) -> str:
    """Why a finding is dropped, one line; refused in Chinese if missing or too long."""
    value = " ".join((reason or "").split())
    if len(value) < DROP_REASON_MIN:
        raise InvalidInputError(f"删除理由不能少于{DROP_REASON_MIN}个字。")
    if len(value) > DROP_REASON_MAX:
        raise InvalidInputError(f"删除理由最多{DROP_REASON_MAX}个字，当前{len(value)}个字。")
    return value


def drop_finding(*, session: Session, finding_id: int, actor: Member, reason: str, now: datetime) -> NoticeFinding:
    """Take a finding out of the draft (convener or office) for a reason kept with it and in the
    audit log; the default wording follows."""
    why = check_drop_reason(reason)
    return _set_dropped(session, finding_id=finding_id, actor=actor, dropped=True, now=now, reason=why)


def finding_label(*, session: Session, finding: NoticeFinding) -> str:
    """A finding as a button names it: its unit and rule (水利局·推诿扯皮)."""
    unit = session.get(Unit, finding.unit_id)
    return f"{unit.name if unit else ''}·{RULE_LABELS.get(finding.rule, finding.rule)}"


def approval_summary(*, session: Session, notice_id: int) -> str:
    """What 审定印发 will publish, for the convener to confirm: the units named, what is kept and dropped."""
    notice = _load(session, notice_id)
    findings = notice_findings(session=session, notice_id=row_id(notice))
    units = {u.id: u.name for u in session.exec(select(Unit).where(Unit.plan_id == notice.plan_id)).all()}
    live = [f for f in findings if not f.dropped]
    named = "、".join(units.get(u, "") for u in named_unit_ids(session=session, notice_id=row_id(notice)))
    lines = [f"《{notice.title}》保留通报事项{len(live)}项，被通报单位：{named or '无'}。"]
    for f in findings:
        if f.dropped:
            lines.append(f"已删除：{finding_label(session=session, finding=f)}（理由：{f.drop_reason or '未说明'}）")
    return "\n".join(lines)


def restore_finding(*, session: Session, finding_id: int, actor: Member, now: datetime) -> NoticeFinding:
    """Put a dropped finding back into the draft."""
    return _set_dropped(session, finding_id=finding_id, actor=actor, dropped=False, now=now)


# What a document may never print (a Python or JSON representation pasted into the text).
RAW_DATA = re.compile(r"\{'|\"kind\":|'kind'|\bNone\b|\bTrue\b|\bFalse\b|\[\[")
FIGURE = re.compile(r"\d+(?:\.\d+)?")


def units_named(text: str, units: Sequence[Unit]) -> list[Unit]:
    """The units a text names, by full name or short name, in order of first mention (a longer
    name is matched first, so 旗自然资源局 is not also read as a unit called 资源局)."""
    found: dict[int, int] = {}
    rest = text
    for attr in ("name", "short"):
        for unit in sorted(units, key=lambda u: -len(getattr(u, attr) or "")):
            word = getattr(unit, attr) or ""
            if len(word) < 2 or word not in rest:
                continue
            found.setdefault(row_id(unit), rest.find(word))  # the masking keeps every position
            rest = rest.replace(word, "□" * len(word))
    by_id = {row_id(u): u for u in units}
    return [by_id[i] for i, _ in sorted(found.items(), key=lambda kv: kv[1])]


def office_text_faults(
    *, session: Session, notice: Notice, text: str, findings: Sequence[NoticeFinding]
) -> tuple[bool, list[str], list[str]]:
    """What an office text states beyond the draft's record: (program data in it, the units it names
    that the kept findings — or the default text and its 报 line — do not, its figures that are not
    one of the draft's own: the default body's counts, weeks, shares and days)."""
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    live = [f for f in findings if not f.dropped]
    say = body_facts(session=session, plan=plan, period=notice.period, findings=live)
    record = "\n".join(f.render(TEXTS) for f in say.facts)
    report = report_to_fact(session=session, notice_id=row_id(notice), findings=live)
    if report is not None:
        record += "\n" + report.render(TEXTS)
    record += "\n" + compose_title(plan=plan, period=notice.period, has_findings=bool(live))
    units = list(session.exec(select(Unit).where(Unit.plan_id == notice.plan_id)).all())
    allowed = {f.unit_id for f in live} | {row_id(u) for u in units_named(record, units)}
    stray = [u.name for u in units_named(text, units) if row_id(u) not in allowed]
    known = set(FIGURE.findall(record))
    loose = [n for n in dict.fromkeys(FIGURE.findall(text)) if n not in known]
    return bool(RAW_DATA.search(text)), stray, loose


def check_office_text(
    *, session: Session, notice: Notice, text: str, findings: Sequence[NoticeFinding], what: str = "正文"
) -> None:
    """An edited title or body states only what the draft's record holds (office_text_faults);
    refused in Chinese, naming what has no basis."""
    raw, stray, loose = office_text_faults(session=session, notice=notice, text=text, findings=findings)
    if raw:
        raise InvalidInputError(f"修改后的{what}含有程序数据，请删去后重新发送。")
    if stray:
        raise InvalidInputError(
            f"修改后的{what}点名了本期没有通报事项的单位：{names(stray)}。请删去，或先恢复该单位的通报事项。"
        )
    if loose:
        raise InvalidInputError(
            f"修改后的{what}中的数字{'、'.join(loose)}在本期通报事项的记录中找不到依据，请核对后重新发送。"
        )


def edit_notice_text(
    *,
    session: Session,
    notice_id: int,
    actor: Member,
    title: str | None = None,
    body: str | None = None,
    now: datetime,
) -> Notice:
    """Change the title and/or body of a draft (convener or office)."""
    notice = _load(session, notice_id)
    _require(session, actor=actor, notice=notice, roles=EDIT_ROLES, what="修改通报文字", now=now)
    _require_draft(notice, "修改")
    findings = notice_findings(session=session, notice_id=row_id(notice))
    changes: dict[str, Any] = {}
    if title is not None:
        value = " ".join(title.split())
        if not value or len(value) > TITLE_MAX:
            raise InvalidInputError(f"通报标题不能为空，且不超过{TITLE_MAX}字。")
        check_office_text(session=session, notice=notice, text=value, findings=findings, what="标题")
        changes["title"] = [notice.title, value]
        notice.title = value
    if body is not None:
        value = "\n".join(line.strip() for line in body.strip().splitlines() if line.strip())
        if not value or len(value) > BODY_MAX:
            raise InvalidInputError(f"通报正文不能为空，且不超过{BODY_MAX}字。")
        check_office_text(session=session, notice=notice, text=value, findings=findings)
        changes["body"] = [len(notice.body), len(value)]
        notice.body = value
    if not changes:
        raise InvalidInputError("请给出新的标题或正文。")
    session.add(notice)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="notice.edited",
        object_type="notice",
        object_id=notice.id,
        detail=changes,
        at=now,
    )
    return notice


def drop_notice(*, session: Session, notice_id: int, actor: Member, now: datetime, reason: str = "") -> Notice:
    """The convener decides not to publish this draft; a new draft may be made later."""
    notice = _load(session, notice_id)
    _require(session, actor=actor, notice=notice, roles=(Role.CONVENER,), what="放弃通报", now=now)
    _require_draft(notice, "放弃")
    notice.state = NoticeState.DROPPED
    session.add(notice)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="notice.dropped",
        object_type="notice",
        object_id=notice.id,
        detail={"reason": reason.strip()[:500]},
        at=now,
    )
    return notice


def next_doc_no(*, session: Session, plan: Plan, year: int) -> str:
    """The next notice number of the year: 乌中联办通〔2026〕N号."""
    prefix = ((plan.spec or {}).get("office") or {}).get("notice_prefix") or "通"
    head = f"{prefix}〔{year}〕"
    used = session.exec(
        select(Notice.doc_no).where(Notice.plan_id == plan.id, col(Notice.doc_no).startswith(head))
    ).all()
    numbers = [int(n[len(head) : -1]) for n in used if n.endswith("号") and n[len(head) : -1].isdigit()]
    return f"{head}{max(numbers, default=0) + 1}号"


def approve_notice(*, session: Session, notice_id: int, actor: Member, now: datetime) -> Notice:
    """The convener approves the draft: it gets its number and the worker is asked to
    publish it (job notice_publish, period notice-<id>). Nothing is sent before this."""
    notice = _load(session, notice_id)
    _require(session, actor=actor, notice=notice, roles=(Role.CONVENER,), what="审定印发通报", now=now)
    _require_draft(notice, "审定")
    if not named_unit_ids(session=session, notice_id=row_id(notice)):
        raise InvalidStateError("该通报没有保留任何通报事项，不能印发；如本期不需通报，请放弃该通报。")
    plan = session.get(Plan, notice.plan_id, with_for_update=True)  # one number per notice
    assert plan is not None
    notice.doc_no = next_doc_no(session=session, plan=plan, year=local_day(now).year)
    notice.state = NoticeState.APPROVED
    notice.approved_by_member_id = actor.id
    notice.approved_at = now
    session.add(notice)
    session.flush()
    runs.request_run(
        session=session, job=PUBLISH_JOB, period=publish_period(row_id(notice)), actor=actor_of(actor.id), now=now
    )
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="notice.approved",
        object_type="notice",
        object_id=notice.id,
        detail={"doc_no": notice.doc_no, "named_units": named_unit_ids(session=session, notice_id=row_id(notice))},
        at=now,
    )
    return notice


def publish_period(notice_id: int) -> str:
    """The run period of the job that publishes a notice."""
    return f"notice-{notice_id}"


PREVIEW_JOB = "notice_preview"


def request_preview(*, session: Session, notice_id: int, actor: Member, now: datetime) -> None:
    """Ask the worker for the draft as a PDF, as it stands now, sent to `actor` (job notice_preview,
    period notice-<id>-p<n>-m<member>)."""
    notice = _load(session, notice_id)
    _require(session, actor=actor, notice=notice, roles=EDIT_ROLES, what="预览通报草稿", now=now)
    _require_draft(notice, "预览")
    head = f"notice-{notice.id}-p"
    done = session.exec(
        select(func.count())
        .select_from(ScheduledRun)
        .where(ScheduledRun.job == PREVIEW_JOB, col(ScheduledRun.period).startswith(head))
    ).one()
    runs.request_run(
        session=session, job=PREVIEW_JOB, period=f"{head}{done + 1}-m{actor.id}", actor=actor_of(actor.id), now=now
    )


def preview_of_period(period: str) -> tuple[int, int]:
    """(notice id, member id) of a notice_preview run period."""
    parts = period.split("-")
    if len(parts) != 4 or parts[0] != "notice" or not parts[1].isdigit() or not parts[3][1:].isdigit():
        raise InvalidInputError(f"“{period}”不是通报预览任务的期别。")
    return int(parts[1]), int(parts[3][1:])


def notice_id_of_period(period: str) -> int:
    """The notice id in a notice_publish run period."""
    head, _, tail = period.partition("-")
    if head != "notice" or not tail.isdigit():
        raise InvalidInputError(f"“{period}”不是通报印发任务的期别（应为 notice-编号）。")
    return int(tail)


def mark_published(*, session: Session, notice_id: int, pdf_path: str, now: datetime) -> Notice:
    """Record that the approved notice went out (called by the publishing job)."""
    notice = _load(session, notice_id)
    if notice.state == NoticeState.PUBLISHED:
        return notice
    if notice.state != NoticeState.APPROVED:
        raise InvalidStateError("只有已审定的通报才能印发。")
    notice.state = NoticeState.PUBLISHED
    notice.published_at = now
    notice.pdf_path = pdf_path
    session.add(notice)
    audit(
        session=session,
        actor=actor_of(system="worker"),
        action="notice.published",
        object_type="notice",
        object_id=notice.id,
        detail={"doc_no": notice.doc_no, "pdf_path": pdf_path},
        at=now,
    )
    return notice


# --- Explanations (情况说明) -------------------------------------------------------------------


def explanation_deadline(*, session: Session, notice: Notice) -> datetime | None:
    """The last moment a named unit may explain: the end of the N-th working day after publication."""
    if notice.published_at is None:
        return None
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    days = int(thresholds_of(plan)["explanation_days"])
    last = add_workdays(local_day(notice.published_at), days)
    return datetime(last.year, last.month, last.day, 23, 59, 59, 999999, tzinfo=local_zone())


def file_explanation(
    *,
    session: Session,
    notice_id: int,
    actor: Member,
    text: str,
    attachment_ids: Sequence[int] = (),
    now: datetime,
) -> Explanation:
    """A contact of a named unit files the unit's explanation; the office and conveners are told."""
    notice = _load(session, notice_id)
    if notice.state != NoticeState.PUBLISHED:
        raise InvalidStateError("该通报尚未印发，不能报送情况说明。")
    named = named_unit_ids(session=session, notice_id=row_id(notice))
    if not actor.active or actor.plan_id != notice.plan_id or actor.role != Role.CONTACT or actor.unit_id not in named:
        message = "只有被通报单位的联络员可以报送情况说明。"
        audit(
            session=session,
            actor=actor_of(actor.id),
            action="notice.refused",
            object_type="notice",
            object_id=notice.id,
            detail={"what": "explanation", "message": message},
            at=now,
        )
        raise PermissionDeniedError(message)
    deadline = explanation_deadline(session=session, notice=notice)
    assert deadline is not None
    if now > deadline:
        plan = session.get(Plan, notice.plan_id)
        assert plan is not None  # a notice's plan_id is a foreign key
        message = (
            f"情况说明应于{cn_date(deadline)}{estimate_mark(local_day(deadline))}前报送（通报印发后"
            f"{int(thresholds_of(plan)['explanation_days'])}个工作日内），"
            "现已逾期，不能再报送。如有特殊情况请联系联席会议办公室。"
        )
        audit(
            session=session,
            actor=actor_of(actor.id),
            action="notice.refused",
            object_type="notice",
            object_id=notice.id,
            detail={"what": "explanation", "message": message},
            at=now,
        )
        raise NoticeExplanationClosedError(message)
    body = (text or "").strip()
    if not body and not attachment_ids:
        raise InvalidInputError("情况说明不能为空，请填写说明或上传材料。")
    if len(body) > EXPLANATION_MAX:
        raise InvalidInputError(f"情况说明最多{EXPLANATION_MAX}字，当前{len(body)}字。")
    if len(attachment_ids) > MAX_ATTACHMENTS:
        raise InvalidInputError(f"附件最多{MAX_ATTACHMENTS}个。")
    files: list[Attachment] = []
    for attachment_id in attachment_ids:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None:
            raise InvalidInputError("找不到所上传的附件，请重新上传。")
        if not is_unlinked(attachment):
            raise InvalidInputError(f"附件 {attachment.filename} 已用于其他记录。")
        files.append(attachment)
    explanation = Explanation(
        notice_id=row_id(notice), unit_id=actor.unit_id, member_id=row_id(actor), text=body, created_at=now
    )
    session.add(explanation)
    session.flush()
    for attachment in files:
        attachment.explanation_id = explanation.id
        session.add(attachment)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="notice.explanation_filed",
        object_type="notice",
        object_id=notice.id,
        detail={"explanation_id": explanation.id, "unit_id": actor.unit_id, "attachment_ids": [a.id for a in files]},
        at=now,
    )
    unit = session.get(Unit, actor.unit_id)
    message = TEXTS["explanation_filed"].format(
        doc_no=notice.doc_no,
        title=notice.title,
        who=person_at_unit(unit.name if unit else "", member_label(session=session, member=actor, unit=unit)),
        text=body or "（见附件）",
    )
    seen: set[int] = set()
    for m in members_with_role(session=session, plan_id=notice.plan_id, roles=(Role.OFFICE, Role.CONVENER)):
        if m.telegram_user_id is None or m.telegram_user_id in seen:
            continue
        seen.add(m.telegram_user_id)
        enqueue_text(
            session=session,
            chat_id=m.telegram_user_id,
            text=message[:4000],
            now=now,
            dedupe_key=f"explanation:{explanation.id}:{m.telegram_user_id}",
        )
    return explanation


def explanations_for_period(*, session: Session, plan_id: int, period: str) -> list[dict[str, Any]]:
    """Explanations filed to the notice(s) of `period`, oldest first; the next period's brief
    shows them (the 2026Q2 brief asks for period 2026Q1: see accountability.previous_period)."""
    rows = session.exec(
        select(Explanation, Notice, Unit)
        .join(Notice, col(Notice.id) == Explanation.notice_id)
        .join(Unit, col(Unit.id) == Explanation.unit_id)
        .where(Notice.plan_id == plan_id, Notice.period == parse_period(period).key)
        .order_by(col(Explanation.created_at), col(Explanation.id))
    ).all()
    out = []
    for explanation, notice, unit in rows:
        member = session.get(Member, explanation.member_id) if explanation.member_id else None
        files = session.exec(
            select(Attachment).where(Attachment.explanation_id == explanation.id).order_by(col(Attachment.id))
        ).all()
        out.append(
            {
                "id": explanation.id,
                "notice_id": notice.id,
                "doc_no": notice.doc_no,
                "notice_title": notice.title,
                "unit_id": unit.id,
                "unit": unit.name,
                "member": member_label(session=session, member=member) if member else "",
                "text": explanation.text,
                "filed_at": cn_datetime(explanation.created_at),
                "attachments": [{"id": a.id, "filename": a.filename, "sha256": a.sha256} for a in files],
            }
        )
    return out


# --- What the publishing job renders and sends ---------------------------------------------------


def _cn_date(moment: datetime) -> str:
    return cn_date(moment)


def office_mark_lines(name: str) -> list[str]:
    """The red issuing-office mark: "…工作联席会议办公室" becomes two lines ending in 文件."""
    tail = "工作联席会议办公室"
    if name.endswith(tail) and len(name) > len(tail):
        return [name[: -len(tail)], tail + "文件"]
    return [name + "文件"]


def notice_document(*, session: Session, notice_id: int, now: datetime) -> dict[str, Any]:
    """The notice as plain data in the shape report_templates/notice.html.j2 documents."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFoundError("找不到该通报。")
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    office = office_name(plan)
    units = {u.id: u.name for u in session.exec(select(Unit).where(Unit.plan_id == plan.id)).all()}
    tables = []
    for f in notice_findings(session=session, notice_id=row_id(notice), include_dropped=False):
        unit = units.get(f.unit_id, "")
        rows = annex_rows(f.evidence, unit)
        tables.append(
            {
                "caption": finding_heading(unit, f.rule),
                "columns": ["时间", "经办单位及人员", "记录"],
                "rows": rows,
            }
        )
    when = notice.approved_at or now
    return {
        "report_to": report_to(session=session, notice_id=row_id(notice)),
        "office_mark_lines": office_mark_lines(office),
        "doc_number": notice.doc_no,
        "title": notice.title,
        "addressees": TEXTS["addressees"],
        "paragraphs": [line for line in notice.body.splitlines() if line.strip()],
        "sections": [{"heading": "通报事项依据（联席会议工作记录）", "tables": tables}] if tables else [],
        "attachments": [],
        "office": office,
        "date_text": _cn_date(when),
        "cc": None,
        "printed_by": office,
        "printed_date": f"{_cn_date(when)}印发",
        # The body's facts (office_text ones when the office rewrote it) and the 报 line's.
        "facts": notice_facts(session=session, notice_id=row_id(notice)),
        "body_edited": body_is_edited(session=session, notice=notice),
    }


def report_to(*, session: Session, notice_id: int) -> str | None:
    """The notice's 报 line (seed 003 三(四)): the plan's government (自治区人民政府) when a retained
    finding names a league or city as 问题解决不积极、不明显 — a region the office reports upward —
    else None (no 报 line)."""
    fact = report_to_fact(session=session, notice_id=notice_id)
    return fact.render(TEXTS) if fact is not None else None


def report_to_fact(*, session: Session, notice_id: int, findings: Sequence[NoticeFinding] | None = None) -> Fact | None:
    """The 报 line's fact: the government, the regions whose 问题解决不积极、不明显 finding is its
    reason, and the ids (the regions, their findings, the government unit); None without one.
    `findings`: the kept findings to read (default: the notice's as stored)."""
    notice = _load(session, notice_id)
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.plan_id == notice.plan_id)).all()}
    if findings is None:
        findings = notice_findings(session=session, notice_id=notice_id, include_dropped=False)
    regions = [
        f
        for f in findings
        if not f.dropped and f.rule == Rule.NOT_SOLVING and f.unit_id in units and units[f.unit_id].kind == "league"
    ]
    government = next((u for u in units.values() if u.kind == "government"), None)
    if not regions or government is None:
        return None
    ids = _finding_ids(regions)
    return Say(TEXTS).fact(
        "report_to",
        {**ids, "unit": [*ids["unit"], row_id(government)]},
        government=government.name,
        regions=names([units[f.unit_id].name for f in regions]),
        rule=Rule.NOT_SOLVING,
    )


def body_is_edited(*, session: Session, notice: Notice) -> bool:
    """Whether the body is no longer the one the kept findings compose (the office rewrote it)."""
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    findings = notice_findings(session=session, notice_id=row_id(notice), include_dropped=False)
    default = compose_body(session=session, plan=plan, period=notice.period, findings=findings)
    return notice.body.strip() != default.strip()


def body_editor(*, session: Session, notice_id: int) -> tuple[Member | None, datetime | None]:
    """Who last rewrote the body and when (the notice.edited audit row that changed it)."""
    row = session.exec(
        select(AuditLog)
        .where(
            AuditLog.action == "notice.edited",
            AuditLog.object_type == "notice",
            AuditLog.object_id == str(notice_id),
        )
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    ).all()
    edit = next((r for r in row if "body" in (r.detail or {})), None)
    if edit is None:
        return None, None
    member_id = edit.actor.removeprefix("member:")
    member = session.get(Member, int(member_id)) if member_id.isdigit() else None
    return member, edit.at


def office_text_facts(*, session: Session, notice: Notice) -> Say:
    """The facts of a body the office rewrote: each paragraph is the office's own statement
    (kind office_text), printed as written, citing the notice, who changed it and when, and the
    units it names with their kept findings (and the records those rest on)."""
    findings = notice_findings(session=session, notice_id=row_id(notice), include_dropped=False)
    units = list(session.exec(select(Unit).where(Unit.plan_id == notice.plan_id)).all())
    editor, at = body_editor(session=session, notice_id=row_id(notice))
    say = Say(TEXTS)
    for paragraph in (line for line in notice.body.splitlines() if line.strip()):
        named = units_named(paragraph, units)
        resting = [f for f in findings if f.unit_id in {row_id(u) for u in named}]
        ids = _finding_ids(resting)
        say.fact(
            "office_text",
            {
                "notice": [row_id(notice)],
                **({"member": [row_id(editor)]} if editor is not None else {}),
                **ids,
                "unit": [row_id(u) for u in named],
            },
            text=paragraph,
            units=[u.name for u in named],
            edited_by=editor.name if editor is not None else "",
            edited_at=cn_datetime(at) if at is not None else "",
        )
    return say


def notice_facts(*, session: Session, notice_id: int) -> list[dict[str, Any]]:
    """The facts of the notice's body and of its 报 line, as listed dicts (kind, text, values,
    ids) — what tests check against the record: the default body's (from its retained
    findings), or, when the office rewrote it, one office_text fact per paragraph."""
    notice = _load(session, notice_id)
    plan = session.get(Plan, notice.plan_id)
    assert plan is not None
    if body_is_edited(session=session, notice=notice):
        facts = office_text_facts(session=session, notice=notice).listed()
    else:
        findings = notice_findings(session=session, notice_id=notice_id, include_dropped=False)
        facts = body_facts(session=session, plan=plan, period=notice.period, findings=findings).listed()
    fact = report_to_fact(session=session, notice_id=notice_id)
    return facts + ([fact.to_dict(TEXTS)] if fact is not None else [])


def notice_recipients(*, session: Session, notice_id: int) -> dict[int, list[Member]]:
    """Each named unit's active contacts (who get the PDF and may explain)."""
    return {
        u: members_of_unit(session=session, unit_id=u, roles=(Role.CONTACT,))
        for u in named_unit_ids(session=session, notice_id=notice_id)
    }


# --- The draft as the conveners read it in chat -------------------------------------------

DRAFT_NONE = "经核查，本期没有需要通报的单位。如无异议，可放弃本期通报。"
DRAFT_EVIDENCE = "   · {line}"
DRAFT_MORE = "   · ……另有{n}条记录"


# The draft in chat, for the convener to read on a phone: one overview (each named unit with its
# findings, one line each), then one page per finding with its evidence, paged with buttons.
OVERVIEW_TEXTS: dict[str, str] = {
    "head": "【通报草稿待审定】{title}",
    "counts": "{label}　{state}　通报事项{n}项（涉及{units}个单位）{dropped}",
    "counts_all_dropped": "{label}　{state}　{n}项通报事项均已删除",  # every finding dropped
    "counts_none": "{label}　{state}　本期没有通报事项",  # the rules found nothing
    "none": DRAFT_NONE,
    "units_head": "被通报单位及事项：",
    "unit": "{i}. {unit}：{rules}{dropped}",
    "unit_dropped": "{i}. {unit}：不再通报{dropped}",  # every finding of the unit dropped
    "report_to": "本通报点名{regions}问题解决不积极、不明显，印发时报{government}。",
    "foot": (
        f"点下方单位按钮逐项查看通报依据，可删除个别事项；“{labels.NOTICE_READ_BODY}”阅读通报正文。"
        "确认无误后审定印发，未经召集人审定，通报不会发出。"
    ),
    "foot_none": f"“{labels.NOTICE_READ_BODY}”阅读通报正文。未经召集人审定，通报不会发出。",
}
OVERVIEW_DROPPED = "，已删除{n}项"
OVERVIEW_UNIT_DROPPED = "（已删除“{rule}”，理由：{reason}）"
EDIT_FROM_CARD = "改标题、正文"  # the card's way into the bot's overview, where the edit buttons are
PAGE_HEAD = "【通报事项{i}/{n}】{heading}{dropped}"
PAGE_BASIS = "依据（联席会议工作记录）："
PAGE_EVIDENCE_MAX = 15
PAGE_FOOT = "删除该事项须说明理由，理由随通报记录保存。"
BODY_HEAD = "【通报正文】{title}"
# Rules as a button names them, short and whole.
RULE_SHORT: dict[str, str] = {Rule.SLOW: "推进慢", Rule.NOT_SOLVING: "解决问题不力", Rule.SHIFTING: "推诿扯皮"}


def _dropped_mark(f: NoticeFinding) -> str:
    if not f.dropped:
        return ""
    return f"（已删除，理由：{f.drop_reason}）" if f.drop_reason else "（已删除）"


def finding_button_label(*, session: Session, finding: NoticeFinding) -> str:
    """A finding as its page button names it, short and whole: 林草局·推诿扯皮."""
    unit = session.get(Unit, finding.unit_id)
    name = (unit.short or unit.name) if unit else ""
    return f"{name}·{RULE_SHORT.get(finding.rule, RULE_LABELS.get(finding.rule, finding.rule))}"


def overview_facts(*, session: Session, notice_id: int) -> Chat:
    """The draft as one short message of named facts: title, then period, state and counts (citing
    the findings kept and their units), each named unit with its findings' rules and those dropped
    (citing the unit and its findings), the 报 line's fact if it holds, and what to do."""
    notice = _load(session, notice_id)
    units = {u.id: u.name for u in session.exec(select(Unit).where(Unit.plan_id == notice.plan_id)).all()}
    findings = notice_findings(session=session, notice_id=notice_id)
    live = [f for f in findings if not f.dropped]
    gone = [f for f in findings if f.dropped]
    by_unit: dict[int, list[NoticeFinding]] = {}
    for f in findings:
        by_unit.setdefault(f.unit_id, []).append(f)
    say = Chat(OVERVIEW_TEXTS)
    say.fact("head", {"notice": [notice_id]}, title=notice.title)
    label, state = parse_period(notice.period).label, STATE_LABELS.get(notice.state, notice.state)
    if live:
        say.fact(
            "counts",
            {"finding": [row_id(f) for f in live], "unit": list(dict.fromkeys(f.unit_id for f in live))},
            n=len(live),
            units=len({f.unit_id for f in live}),
            dropped=OVERVIEW_DROPPED.format(n=len(gone)) if gone else "",
            n_dropped=len(gone),
            label=label,
            state=state,
        )
    elif gone:
        say.fact("counts_all_dropped", {"finding": [row_id(f) for f in gone]}, n=len(gone), label=label, state=state)
    else:
        say.fact("counts_none", n=0, label=label, state=state)
    say.section()
    if not findings:
        say.fact("none", n=0)
    else:
        say.fact("units_head")
        for i, (unit_id, rows) in enumerate(by_unit.items(), 1):
            kept = [RULE_LABELS.get(f.rule, f.rule) for f in rows if not f.dropped]
            dropped = "".join(
                OVERVIEW_UNIT_DROPPED.format(rule=RULE_LABELS.get(f.rule, f.rule), reason=f.drop_reason or "未说明")
                for f in rows
                if f.dropped
            )
            say.fact(
                "unit" if kept else "unit_dropped",
                {"unit": [unit_id], "finding": [row_id(f) for f in rows]},
                i=i,
                unit=units.get(unit_id, ""),
                rules="；".join(dict.fromkeys(kept)),  # a rule's own name may hold a 、
                dropped=dropped,
                rule_keys=[f.rule for f in rows if not f.dropped],
            )
    fact = report_to_fact(session=session, notice_id=notice_id)
    if fact is not None:
        say.section()
        say.fact("report_to", {k: list(v) for k, v in fact.ids.items() if k in ("unit", "finding")}, **fact.values)
    say.section()
    say.fact("foot" if live else "foot_none")
    return say


def draft_overview(*, session: Session, notice_id: int) -> str:
    """The draft's overview as the conveners read it in chat: the message of overview_facts."""
    return overview_facts(session=session, notice_id=notice_id).message()


def finding_page(*, session: Session, notice_id: int, finding_id: int) -> tuple[str, int | None, int | None]:
    """One finding as its own page: unit, rule, whether dropped, the summary and its evidence;
    with the previous and next finding's ids (None at either end)."""
    findings = notice_findings(session=session, notice_id=notice_id)
    ids = [row_id(f) for f in findings]
    if finding_id not in ids:
        raise NotFoundError("该通报中没有这一事项。")
    i = ids.index(finding_id)
    f = findings[i]
    unit = session.get(Unit, f.unit_id)
    head = PAGE_HEAD.format(
        i=i + 1,
        n=len(findings),
        heading=finding_heading(unit.name if unit else "", f.rule),
        dropped=_dropped_mark(f),
    )
    evidence = ordered_evidence(f.evidence)
    shown = evidence[:PAGE_EVIDENCE_MAX]
    lines = [PAGE_BASIS, *(DRAFT_EVIDENCE.format(line=evidence_sentence(e)) for e in shown)]
    if len(evidence) > len(shown):
        lines.append(DRAFT_MORE.format(n=len(evidence) - len(shown)) + "（见预览PDF）")
    text = "\n\n".join([head, f.summary, "\n".join(lines)] + ([] if f.dropped else [PAGE_FOOT]))
    return text, (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)


def draft_body_text(*, session: Session, notice_id: int) -> str:
    """The draft's title and body as one message."""
    notice = _load(session, notice_id)
    return BODY_HEAD.format(title=notice.title) + "\n\n" + notice.body


def review_buttons(*, session: Session, notice_id: int, user_id: int) -> list[list[dict[str, str]]]:
    """The convener's buttons under the draft's overview (opaque tokens): each finding's page
    (its unit and rule), the body, approve, abandon — as the bot's own overview has them."""
    from oversight.chatstate import mint_token

    def button(text: str, action: str, **args: int) -> dict[str, str]:
        return {
            "text": text,
            "token": mint_token(session=session, action=action, args={"nid": notice_id, **args}, user_id=user_id),
        }

    pages = [
        button(
            (labels.NOTICE_PAGE_DROPPED if f.dropped else labels.NOTICE_PAGE).format(
                label=finding_button_label(session=session, finding=f)
            ),
            "notice.page",
            finding=row_id(f),
        )
        for f in notice_findings(session=session, notice_id=notice_id)
    ]
    rows = [pages[i : i + 2] for i in range(0, len(pages), 2)]
    return [
        *rows,
        [button(labels.NOTICE_READ_BODY, "notice.body"), button(EDIT_FROM_CARD, "notice.open")],
        [button(labels.NOTICE_APPROVE, "notice.approve"), button(labels.NOTICE_ABANDON, "notice.abandon")],
    ]


# What the notice_draft run tells whoever pressed 立即运行 (oversight.facts.Chat): the draft's
# findings and the conveners it went to for review, cited; none of either is said in words.
DRAFTED_TEXTS: dict[str, str] = {
    "drafted": "通报草稿已起草（列入{n}项情况），已送{people}位召集人审定。",
    "drafted_none": "通报草稿已起草（本期没有需要通报的情况），已送{people}位召集人审定。",
    "drafted_nobody": "通报草稿已起草（列入{n}项情况），目前没有召集人加入，草稿未送审。",
    "drafted_none_nobody": "通报草稿已起草（本期没有需要通报的情况），目前没有召集人加入，草稿未送审。",
    "kept": "本期通报此前已起草，当前状态不再重发（{n}项情况）。",
    "kept_none": "本期通报此前已起草，当前状态不再重发（没有需要通报的情况）。",
}


def drafted_facts(*, session: Session, notice_id: int) -> Chat:
    """The run's line for one plan's notice: a draft counts and cites its findings (those not
    dropped) and the conveners its first page was queued to; a notice past draft is not sent again."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFoundError("找不到该通报。")
    live = [row_id(f) for f in notice_findings(session=session, notice_id=notice_id, include_dropped=False)]
    ids: dict[str, list[int]] = {"notice": [notice_id], **({"finding": live} if live else {})}
    say = Chat(DRAFTED_TEXTS)
    if notice.state != NoticeState.DRAFT:
        say.fact("kept" if live else "kept_none", ids, n=len(live))
        return say
    sent = queued_under(session=session, prefix=f"notice:{notice_id}:draft:0:")
    kind = "drafted" if live else "drafted_none"
    if sent:
        ids = {**ids, "message": [row_id(m) for m in sent]}
        say.fact(kind, ids, n=len(live), people=len({m.chat_id for m in sent}))
    else:
        say.fact(f"{kind}_nobody", ids, n=len(live), people=0)
    return say
