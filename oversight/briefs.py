"""A brief's sign-off (简报审签): nothing goes out before the office and the convener approve it.

The scheduled run builds the brief as a **draft** and sends the office its PDF to preview. The office
may write the 编者按 (each edit is re-rendered by the worker, job brief_render, and previewed again),
then approves it: the brief is **office_approved** and the conveners get the PDF to sign (签发); a
convener may instead return it to the office with a reason. Where the plan file says the office's
approval is enough (office.brief_signoff: office), the office's approval signs it. A **signed**
brief is distributed by the worker (job brief_distribute) to exactly whom its 报/送/发 lines name
and to the joint-meeting group; then it is **distributed**. Every step is an audit row; a draft
left waiting is reminded to whoever holds it, once a working day.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models import AuditLog, Brief, Meeting, Member, Plan, Role, RunState, row_id
from oversight import labels, runs
from oversight.audit import actor_of, audit, require_role
from oversight.chatstate import button_row
from oversight.dates import cn_date, cn_datetime, local_day
from oversight.errors import InvalidInputError, InvalidStateError, NotFoundError
from oversight.facts import Chat
from oversight.members import member_label, members_with_role
from oversight.outbox import enqueue_document, enqueue_text, queued_under
from oversight.periods import ADHOC, Period
from oversight.sample import chat_marked
from oversight.sentences import reason_clause
from oversight.workdays import workdays_between


class BriefState:
    DRAFT = "draft"
    OFFICE_APPROVED = "office_approved"
    SIGNED = "signed"
    DISTRIBUTED = "distributed"
    # An ad-hoc meeting's brief whose meeting left its day (moved or called off) before it was
    # distributed: final for that draft; a meeting that comes back to the day gets it redrafted.
    WITHDRAWN = "withdrawn"


STATE_LABELS = {
    BriefState.DRAFT: "送审稿（待办公室审核）",
    BriefState.OFFICE_APPROVED: "待召集人签发",
    BriefState.SIGNED: "已签发，正在分发",
    BriefState.DISTRIBUTED: "已签发并分发",
    BriefState.WITHDRAWN: "因会议改期或取消已撤回",
}

RENDER_JOB = "brief_render"
DISTRIBUTE_JOB = "brief_distribute"
NOTE_MAX = 400  # characters of the 编者按
REASON_MIN, REASON_MAX = 4, 300

# What the product says in these messages (plain text; never parsed as markup).
TEXTS = {
    "preview": "《{name}》送审稿已生成（{state}）。请审阅所附 PDF：可修改编者按；审核无误后点“审核通过”。{next}",
    "preview_next_convener": "审核通过后报召集人签发，签发后方分发。",
    "preview_next_office": "按计划文件规定，办公室审核通过即签发，随即分发。",
    "preview_note": "\n当前编者按：{note}",
    "preview_returned": "\n召集人退回意见：{reason}",
    "sign": "《{name}》已经联席会议办公室审核（{who}，{at}），请审阅所附 PDF 后签发。签发后分发至报、送、发所列单位及联席会议群。",
    "returned": "《{name}》被召集人{who}退回修改，理由：{reason}。修改后请重新审核。",
    "signed_office": "《{name}》已由召集人{who}签发（{at}），正在分发。",
    "remind_office": "提醒：《{name}》送审稿自{since}起待办公室审核，尚未分发。",
    "remind_convener": "提醒：《{name}》自{since}起待召集人签发，尚未分发。",
    "caption_draft": "《{name}》送审稿（第{rev}稿）",
}


def _load(session: Session, brief_id: int) -> Brief:
    brief = session.get(Brief, brief_id, with_for_update=True, populate_existing=True)
    if brief is None:
        raise NotFoundError("找不到该期简报。")
    return brief


def _require(
    session: Session, *, actor: Member, brief: Brief, roles: tuple[str, ...], what: str, now: datetime
) -> None:
    require_role(
        session,
        actor=actor,
        plan_id=brief.plan_id,
        roles=roles,
        what=what,
        object_type="brief",
        object_id=brief.id,
        now=now,
    )


def _require_state(brief: Brief, state: str, what: str) -> None:
    if brief.state != state:
        raise InvalidStateError(f"该期简报{STATE_LABELS.get(brief.state, brief.state)}，不能{what}。")


def brief_name(brief: Brief) -> str:
    """The brief as people name it: 乌拉特中旗…工作简报第1期."""
    title = (brief.data or {}).get("title") or ""
    return f"{title}第{brief.issue_no}期"


def signoff_by(*, session: Session, plan_id: int) -> str:
    """Who signs a brief off: "convener" (default) or "office" if the plan file says so."""
    plan = session.get(Plan, plan_id)
    value = ((plan.spec or {}).get("office") or {}).get("brief_signoff") if plan else None
    return "office" if value == "office" else "convener"


def brief_for_review(*, session: Session, member: Member, brief_id: int) -> Brief:
    """A brief the office or a convener of its plan may look at."""
    brief = session.get(Brief, brief_id)
    if brief is None or brief.plan_id != member.plan_id or member.role not in (Role.OFFICE, Role.CONVENER):
        raise NotFoundError("找不到这期简报，或您无权查看。")
    return brief


def status_text(*, session: Session, brief: Brief) -> str:
    """Where the brief stands, in one or two lines."""
    lines = [f"《{brief_name(brief)}》：{STATE_LABELS.get(brief.state, brief.state)}"]
    if brief.editor_note:
        lines.append(TEXTS["preview_note"].format(note=brief.editor_note).strip())
    for label, who_id, at in (
        ("办公室审核", brief.office_approved_by_member_id, brief.office_approved_at),
        ("签发", brief.signed_by_member_id, brief.signed_at),
    ):
        if who_id and at:
            who = session.get(Member, who_id)
            lines.append(f"{label}：{member_label(session=session, member=who) if who else ''}，{cn_datetime(at)}")
    return "\n".join(lines)


def _buttons(
    session: Session, *, user_id: int, brief: Brief, names: list[tuple[str, str]]
) -> list[list[dict[str, str]]]:
    return button_row(session=session, user_id=user_id, args={"bid": row_id(brief), "rev": brief.revision}, names=names)


def _chats(session: Session, plan_id: int, role: str) -> list[int]:
    return list(
        dict.fromkeys(
            m.telegram_user_id
            for m in members_with_role(session=session, plan_id=plan_id, roles=(role,))
            if m.telegram_user_id is not None
        )
    )


WITHDRAWN_NOTICE = "因{day}的会议已取消，为该会议编制的简报未发送。"
# The office's one line when the meeting a brief was made for moves to another day: what became of
# that brief, then what the new day has — a brief to be made, or the one of that day that serves.
MOVED_HEADS = {
    "withdrawn": "{title}已由{old}改至{new}召开，为原定会议编制的《{name}》已撤回，不再审核、签发；",
    "out": "{title}已由{old}改至{new}召开，为原定会议编制的《{name}》已分发，不再收回；",
    "part": "{title}已由{old}改至{new}召开，为原定会议编制的《{name}》已发出的不再收回，尚未发出的已停发；",
}
MOVED_TAILS = {
    "redo": "将按改期后的会议重新编制简报送审。",
    "another": "将按改期后的会议另编一期简报送审。",
    "serves": "{day}已有《{other}》（{state}），不再另编。",
}


def called_off(*, session: Session, brief: Brief) -> bool:
    """True for an ad-hoc meeting's brief whose meeting was called off: the plan has no meeting on
    its day that is not cancelled, and one that is. It is not approved, signed or distributed."""
    if brief.kind != "adhoc":
        return False
    day = date.fromisoformat(brief.period)
    states = set(
        session.exec(
            select(Meeting.state).where(
                Meeting.plan_id == brief.plan_id, Meeting.kind == "adhoc", Meeting.held_on == day
            )
        ).all()
    )
    return states == {"cancelled"}


def not_to_send(*, session: Session, brief: Brief) -> bool:
    """True for a brief that must not go out: withdrawn (its meeting moved or was called off), or
    of a meeting called off before briefs could be withdrawn (called_off)."""
    return brief.state == BriefState.WITHDRAWN or called_off(session=session, brief=brief)


def brief_of_day(*, session: Session, plan_id: int, day: date) -> Brief | None:
    """The plan's brief for an ad-hoc meeting's `day`, if one was built."""
    return session.exec(select(Brief).where(Brief.plan_id == plan_id, Brief.period == day.isoformat())).first()


def withdraw_for_meeting(
    *, session: Session, plan_id: int, day: date, actor: str, reason: str, now: datetime
) -> Brief | None:
    """The plan's brief for `day`, built for an ad-hoc meeting that has left that day (moved or
    called off) and not yet distributed, is withdrawn: it is not approved, signed or distributed,
    and its re-render and distribution runs are taken back. Returns it; None when there is none or
    it went out already (a distributed brief is history).

    The brief's row is locked before the runs are touched, as a distribution does (its brief, then
    its run): a distribution running now either committed first (the brief is distributed, left
    alone) or finds its run withdrawn when it records its end and leaves nothing."""
    found = brief_of_day(session=session, plan_id=plan_id, day=day)
    if found is None:
        return None
    brief = _load(session, row_id(found))
    if brief.state in (BriefState.DISTRIBUTED, BriefState.WITHDRAWN):
        return None
    before = brief.state
    brief.state = BriefState.WITHDRAWN
    session.add(brief)
    session.flush()
    for job, period in (
        (DISTRIBUTE_JOB, distribute_period(row_id(brief))),
        (RENDER_JOB, render_period(row_id(brief), brief.revision)),
    ):
        runs.withdraw_run(session=session, job=job, period=period, actor=actor, reason=reason, now=now)
    audit(
        session=session,
        actor=actor,
        action="brief.withdrawn",
        object_type="brief",
        object_id=brief.id,
        detail={"from": before, "reason": reason, "revision": brief.revision},
        at=now,
    )
    renumber_unissued(session=session, freed=brief, actor=actor, now=now)
    return brief


# The office's line when a later brief of the year takes the number a withdrawn one leaves.
RENUMBERED = {
    BriefState.DRAFT: "原第{freed}期简报已撤回，期号依次递补：《{old}》改为第{new}期，新的送审稿随后发送。",
    BriefState.OFFICE_APPROVED: "原第{freed}期简报已撤回，期号依次递补：《{old}》改为第{new}期，"
    "新的送签稿随后报召集人签发。",
}


def renumber_unissued(*, session: Session, freed: Brief, actor: str, now: datetime) -> list[Brief]:
    """The number of a brief withdrawn before it was signed is not burnt: the later briefs of its
    plan and year not yet signed (drafts, or approved by the office and waiting to be signed) each
    move down to close the gap, numbered after the last one signed, in their order. Each is
    re-rendered with its new number (job brief_render, a new revision: no button of the old copies
    applies, and what of them still waits in the outbox is not sent) and the office is told
    《…第5期》改为第4期. A brief signed (签发) keeps its number: what was signed is not changed, so a
    number withdrawn below a signed one stays unused. Returns the briefs renumbered."""
    from oversight.outbox import withdraw_pending

    year = freed.period[:4]
    rows = session.exec(
        select(Brief)
        .where(
            Brief.plan_id == freed.plan_id,
            col(Brief.period).startswith(year),
            Brief.state != BriefState.WITHDRAWN,
        )
        .order_by(col(Brief.issue_no), col(Brief.id))
    ).all()
    issued = [b.issue_no for b in rows if b.state in (BriefState.SIGNED, BriefState.DISTRIBUTED)]
    floor = max(issued, default=0)
    moved: list[Brief] = []
    for number, found in enumerate([b for b in rows if b.issue_no > floor], start=floor + 1):
        if found.issue_no == number:
            continue
        brief = _load(session, row_id(found))
        if brief.state not in (BriefState.DRAFT, BriefState.OFFICE_APPROVED):
            break  # signed meanwhile: it and those after it keep their numbers
        old_name, old_no = brief_name(brief), brief.issue_no
        brief.issue_no = number
        brief.data = {**(brief.data or {}), "issue_no": number}
        brief.revision += 1
        session.add(brief)
        session.flush()
        # The copies with the old number that still wait are not sent; the new ones follow the render.
        withdraw_pending(
            session=session,
            prefixes=[f"{kind}:{brief.id}:" for kind in ("briefdraft", "briefsign", "briefremind")],
            reason="期号调整",
        )
        runs.request_run(
            session=session, job=RENDER_JOB, period=render_period(row_id(brief), brief.revision), actor=actor, now=now
        )
        audit(
            session=session,
            actor=actor,
            action="brief.renumbered",
            object_type="brief",
            object_id=brief.id,
            detail={"from": old_no, "to": number, "freed": freed.issue_no, "revision": brief.revision},
            at=now,
        )
        text = RENUMBERED[brief.state].format(freed=freed.issue_no, old=old_name, new=number)
        _tell_office(session, brief.plan_id, text, f"briefrenumbered:{brief.id}:r{brief.revision}", now)
        moved.append(brief)
    return moved


def redraft(
    *,
    session: Session,
    brief: Brief,
    issue_no: int,
    data: dict[str, Any],
    pdf_path: Path,
    xlsx_path: Path,
    now: datetime,
) -> Brief:
    """A withdrawn brief built again for its day, the meeting having come back to it: a new draft
    from the record as it stands (its own figures, number and files; no 编者按 or sign-off of the
    withdrawn one), a new revision so that no button of the old copies applies."""
    if brief.state != BriefState.WITHDRAWN:
        raise InvalidStateError(f"该期简报{STATE_LABELS.get(brief.state, brief.state)}，不能重新编制。")
    brief.issue_no, brief.data, brief.pdf_path, brief.xlsx_path = issue_no, data, str(pdf_path), str(xlsx_path)
    brief.state, brief.editor_note, brief.created_at = BriefState.DRAFT, "", now
    brief.revision += 1
    brief.rendered_revision = brief.revision
    brief.office_approved_by_member_id = brief.office_approved_at = None
    brief.signed_by_member_id = brief.signed_at = brief.distributed_at = None
    session.add(brief)
    session.flush()
    audit(
        session=session,
        actor="system:worker",
        action="brief.redrafted",
        object_type="brief",
        object_id=brief.id,
        detail={"issue_no": issue_no, "revision": brief.revision},
        at=now,
    )
    return brief


def _tell_office(session: Session, plan_id: int, text: str, key: str, now: datetime) -> int:
    return sum(
        1
        for chat in _chats(session, plan_id, Role.OFFICE)
        if enqueue_text(session=session, chat_id=chat, text=text, dedupe_key=f"{key}:{chat}", now=now)
    )


def notify_brief_withdrawn(*, session: Session, plan_id: int, day: date, now: datetime) -> int:
    """Tell the plan's office, once, that the brief compiled for the meeting called off on `day` was
    not sent (the worker had begun it when the meeting was cancelled); how many chats. Said only when
    the plan had a meeting that day, called off."""
    cancelled = session.exec(
        select(Meeting.id)
        .where(
            Meeting.plan_id == plan_id, Meeting.kind == "adhoc", Meeting.held_on == day, Meeting.state == "cancelled"
        )
        .order_by(col(Meeting.id).desc())
    ).first()
    if cancelled is None:
        return 0
    text = WITHDRAWN_NOTICE.format(day=cn_date(day))
    # Once per meeting called off: a second meeting of the day, called off in turn, is told again.
    return _tell_office(session, plan_id, text, f"briefwithdrawn:{plan_id}:{day.isoformat()}:m{cancelled}", now)


def notify_brief_moved(
    *,
    session: Session,
    brief: Brief,
    title: str,
    old: datetime,
    new: datetime,
    stopped: int,
    serves: Brief | None,
    now: datetime,
) -> int:
    """Tell the plan's office in one line that the brief made for a meeting since moved from `old`
    to `new` is withdrawn (or, distributed already, stands, but for the `stopped` messages of it
    not yet sent), and that a brief for the new day follows or, `serves`, which brief of that day
    stands for it (ask_for_day); once per brief and revision. How many chats."""
    if brief.state != BriefState.DISTRIBUTED:
        head = "withdrawn"
    else:
        head = "part" if stopped else "out"
    if serves is not None:
        tail = MOVED_TAILS["serves"].format(
            day=cn_date(local_day(new)), other=brief_name(serves), state=STATE_LABELS[serves.state]
        )
    else:
        tail = MOVED_TAILS["redo" if head == "withdrawn" else "another"]
    text = MOVED_HEADS[head].format(title=title, old=cn_datetime(old), new=cn_datetime(new), name=brief_name(brief))
    return _tell_office(session, brief.plan_id, text + tail, f"briefmoved:{brief.id}:r{brief.revision}", now)


def ask_for_day(*, session: Session, plan_id: int, day: date, actor: str, reason: str, now: datetime) -> Brief | None:
    """Ask the worker for the plan's brief for an ad-hoc meeting on `day` (scheduled, called, or
    moved there). Returns None when a brief will be made; else the plan's brief of that day that
    stands for the meeting (another of its meetings that day has it, or it was distributed before
    the meeting left the day and came back: one brief per plan and day).

    A day whose run is done already (a meeting was there before and moved away or was called off,
    or another plan's meeting of the day had its brief) is asked again only when this plan's brief
    for it was withdrawn or never built (runs.request_again, `reason` on its transition row): the
    worker then builds it anew from the record as it stands (jobs.brief, redraft)."""
    from oversight.schedules import request_run_now

    period = day.isoformat()
    brief = brief_of_day(session=session, plan_id=plan_id, day=day)
    standing = brief if brief is not None and brief.state != BriefState.WITHDRAWN else None
    run = runs.get_run(session=session, job="brief", period=period)
    if run is None or run.state != RunState.DONE:
        request_run_now(session=session, job="brief", actor=actor, period=period, now=now)
        return standing
    if standing is None:
        runs.request_again(session=session, job="brief", period=period, actor=actor, reason=reason, now=now)
    return standing


def plans_to_brief(*, session: Session, period: Period) -> list[Plan]:
    """The plans a brief run for `period` makes a brief for: every plan, except on an ad-hoc
    meeting's day, which is the day of the plans whose ad-hoc meeting of that day stands (not called
    off); another plan, having no meeting then, gets no brief of it (a plan whose meeting moved away
    or was called off neither). A day no plan had an ad-hoc meeting on is a one-off asked for by
    hand (lianxi brief, /schedule): every plan."""
    plans = list(session.exec(select(Plan).order_by(col(Plan.id))).all())
    if period.kind != ADHOC:
        return plans
    states: dict[int, set[str]] = {}
    for plan_id, state in session.exec(
        select(Meeting.plan_id, Meeting.state).where(Meeting.kind == "adhoc", Meeting.held_on == period.last_day)
    ).all():
        states.setdefault(plan_id, set()).add(state)
    if not states:
        return plans
    return [p for p in plans if states.get(row_id(p), set()) - {"cancelled"}]


def queue_preview(*, session: Session, brief: Brief, now: datetime, returned: str = "") -> int:
    """Send the office the draft's current PDF with its buttons (once per revision); how many chats."""
    name = brief_name(brief)
    office_signs = signoff_by(session=session, plan_id=brief.plan_id) == "office"
    text = TEXTS["preview"].format(
        name=name,
        state=STATE_LABELS[BriefState.DRAFT],
        next=TEXTS["preview_next_office" if office_signs else "preview_next_convener"],
    )
    if brief.editor_note:
        text += TEXTS["preview_note"].format(note=brief.editor_note)
    if returned:
        text += TEXTS["preview_returned"].format(reason=returned)
    sent = 0
    key = f"briefdraft:{brief.id}:r{brief.revision}"
    for chat in _chats(session, brief.plan_id, Role.OFFICE):
        enqueue_document(
            session=session,
            chat_id=chat,
            path=brief.pdf_path,
            filename=f"{name}（送审稿）.pdf",
            caption=chat_marked(
                session.get(Plan, brief.plan_id), TEXTS["caption_draft"].format(name=name, rev=brief.revision + 1)
            ),
            dedupe_key=f"{key}:{chat}:pdf",
            now=now,
        )
        buttons = _buttons(
            session,
            user_id=chat,
            brief=brief,
            names=[(labels.BRIEF_NOTE, "brief.note"), (labels.BRIEF_APPROVE, "brief.approve")],
        )
        if enqueue_text(session=session, chat_id=chat, text=text, buttons=buttons, dedupe_key=f"{key}:{chat}", now=now):
            sent += 1
    return sent


def _queue_to_conveners(session: Session, *, brief: Brief, office: Member, now: datetime) -> int:
    name = brief_name(brief)
    text = TEXTS["sign"].format(name=name, who=member_label(session=session, member=office), at=cn_datetime(now))
    sent = 0
    key = f"briefsign:{brief.id}:r{brief.revision}"
    for chat in _chats(session, brief.plan_id, Role.CONVENER):
        enqueue_document(
            session=session,
            chat_id=chat,
            path=brief.pdf_path,
            filename=f"{name}（送签稿）.pdf",
            caption=chat_marked(session.get(Plan, brief.plan_id), f"《{name}》送签稿"),
            dedupe_key=f"{key}:{chat}:pdf",
            now=now,
        )
        buttons = _buttons(
            session,
            user_id=chat,
            brief=brief,
            names=[(labels.BRIEF_SIGN, "brief.sign"), (labels.BRIEF_RETURN, "brief.return")],
        )
        if enqueue_text(session=session, chat_id=chat, text=text, buttons=buttons, dedupe_key=f"{key}:{chat}", now=now):
            sent += 1
    return sent


def _check_revision(brief: Brief, revision: int | None) -> None:
    """A button pressed on an older preview, or before the latest edit is rendered, changes nothing."""
    if revision is not None and revision != brief.revision:
        raise InvalidStateError("这份送审稿已有更新的版本，请以最新收到的 PDF 为准。")
    if brief.rendered_revision != brief.revision:
        raise InvalidStateError("编者按修改后的新 PDF 正在生成，请收到新的送审稿后再操作。")


_STEPS = {
    # step: (roles, the state it needs, what a wrong role may not do, what the state does not allow)
    "note": ((Role.OFFICE,), BriefState.DRAFT, "修改简报编者按", "修改编者按"),
    "approve": ((Role.OFFICE,), BriefState.DRAFT, "审核简报", "审核"),
    "sign": ((Role.CONVENER,), BriefState.OFFICE_APPROVED, "签发简报", "签发"),
    "return": ((Role.CONVENER,), BriefState.OFFICE_APPROVED, "退回简报", "退回"),
}


# What a step on a withdrawn brief is told, by the reason it was withdrawn (its audit row's).
WITHDRAWN_REFUSALS = {
    "会议改期": "该期简报所为的会议已改期，简报已撤回，不再审核、签发；改期后的简报将另行送审。",
    "会议取消": "该期简报所为的会议已取消，不再审核、签发。",
    "": "该期简报已撤回，不再审核、签发。",
}


def _withdrawal_reason(session: Session, brief: Brief) -> str:
    detail = session.exec(
        select(AuditLog.detail)
        .where(
            AuditLog.object_type == "brief", AuditLog.object_id == str(brief.id), AuditLog.action == "brief.withdrawn"
        )
        .order_by(col(AuditLog.id).desc())
    ).first()
    return str((detail or {}).get("reason") or "")


def check_step(
    *, session: Session, brief_id: int, actor: Member, step: str, revision: int | None, now: datetime
) -> Brief:
    """Refuse now (in Chinese) what `step` would refuse later: the role, the brief's state, an old copy."""
    roles, state, what_role, what_state = _STEPS[step]
    brief = _load(session, brief_id)
    _require(session, actor=actor, brief=brief, roles=roles, what=what_role, now=now)
    if brief.state == BriefState.WITHDRAWN:
        raise InvalidStateError(WITHDRAWN_REFUSALS.get(_withdrawal_reason(session, brief), WITHDRAWN_REFUSALS[""]))
    _require_state(brief, state, what_state)
    _check_revision(brief, revision)
    if called_off(session=session, brief=brief):
        raise InvalidStateError("该期简报所为的会议已取消，不再审核、签发。")
    return brief


def set_editor_note(
    *, session: Session, brief_id: int, actor: Member, text: str, revision: int | None = None, now: datetime
) -> Brief:
    """The office writes the 编者按; the worker re-renders the PDF and sends the office the new draft."""
    brief = check_step(session=session, brief_id=brief_id, actor=actor, step="note", revision=revision, now=now)
    note = " ".join((text or "").split())
    if len(note) < 10:
        raise InvalidInputError("编者按不能少于10个字。")
    if len(note) > NOTE_MAX:
        raise InvalidInputError(f"编者按最多{NOTE_MAX}个字，当前{len(note)}个字。")
    before = brief.editor_note
    brief.editor_note = note
    brief.revision += 1
    session.add(brief)
    session.flush()
    runs.request_run(
        session=session,
        job=RENDER_JOB,
        period=render_period(row_id(brief), brief.revision),
        actor=actor_of(actor.id),
        now=now,
    )
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="brief.editor_note",
        object_type="brief",
        object_id=brief.id,
        detail={"before": before, "after": note, "revision": brief.revision},
        at=now,
    )
    return brief


def office_approve(
    *, session: Session, brief_id: int, actor: Member, revision: int | None = None, now: datetime
) -> Brief:
    """The office approves the draft: to the conveners to sign, or signed if the plan says the office's approval suffices."""
    brief = check_step(session=session, brief_id=brief_id, actor=actor, step="approve", revision=revision, now=now)
    brief.office_approved_by_member_id = actor.id
    brief.office_approved_at = now
    office_signs = signoff_by(session=session, plan_id=brief.plan_id) == "office"
    brief.state = BriefState.OFFICE_APPROVED
    session.add(brief)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="brief.office_approved",
        object_type="brief",
        object_id=brief.id,
        detail={"revision": brief.revision, "signs": "office" if office_signs else "convener"},
        at=now,
    )
    if office_signs:
        _sign(session, brief=brief, actor=actor, now=now)
    else:
        _queue_to_conveners(session, brief=brief, office=actor, now=now)
    session.flush()
    return brief


def _sign(session: Session, *, brief: Brief, actor: Member, now: datetime) -> None:
    brief.state = BriefState.SIGNED
    brief.signed_by_member_id = actor.id
    brief.signed_at = now
    session.add(brief)
    session.flush()
    runs.request_run(
        session=session, job=DISTRIBUTE_JOB, period=distribute_period(row_id(brief)), actor=actor_of(actor.id), now=now
    )
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="brief.signed",
        object_type="brief",
        object_id=brief.id,
        detail={"revision": brief.revision, "role": actor.role},
        at=now,
    )


def sign_brief(*, session: Session, brief_id: int, actor: Member, revision: int | None = None, now: datetime) -> Brief:
    """The convener signs (签发) the brief the office approved: the worker distributes it."""
    brief = check_step(session=session, brief_id=brief_id, actor=actor, step="sign", revision=revision, now=now)
    _sign(session, brief=brief, actor=actor, now=now)
    name = brief_name(brief)
    for chat in _chats(session, brief.plan_id, Role.OFFICE):
        enqueue_text(
            session=session,
            chat_id=chat,
            text=TEXTS["signed_office"].format(
                name=name, who=member_label(session=session, member=actor), at=cn_datetime(now)
            ),
            dedupe_key=f"briefsigned:{brief.id}:{chat}",
            now=now,
        )
    return brief


def return_brief(
    *, session: Session, brief_id: int, actor: Member, reason: str, revision: int | None = None, now: datetime
) -> Brief:
    """The convener sends the brief back to the office with a reason; the office gets it as a draft again."""
    brief = check_step(session=session, brief_id=brief_id, actor=actor, step="return", revision=revision, now=now)
    why = " ".join((reason or "").split())
    if len(why) < REASON_MIN:
        raise InvalidInputError(f"退回理由不能少于{REASON_MIN}个字。")
    if len(why) > REASON_MAX:
        raise InvalidInputError(f"退回理由最多{REASON_MAX}个字，当前{len(why)}个字。")
    brief.state = BriefState.DRAFT
    brief.office_approved_by_member_id = None
    brief.office_approved_at = None
    brief.revision += 1  # the buttons of the copies sent so far go stale
    brief.rendered_revision = brief.revision  # the same PDF: nothing to render again
    session.add(brief)
    session.flush()
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="brief.returned",
        object_type="brief",
        object_id=brief.id,
        detail={"reason": why, "revision": brief.revision},
        at=now,
    )
    name = brief_name(brief)
    for chat in _chats(session, brief.plan_id, Role.OFFICE):
        enqueue_text(
            session=session,
            chat_id=chat,
            text=TEXTS["returned"].format(
                name=name, who=member_label(session=session, member=actor), reason=reason_clause(why)
            ),
            dedupe_key=f"briefreturned:{brief.id}:r{brief.revision}:{chat}",
            now=now,
        )
    queue_preview(session=session, brief=brief, now=now, returned=why)
    return brief


# --- the worker's side ---------------------------------------------------------------------


def render_period(brief_id: int, revision: int) -> str:
    return f"brief-{brief_id}-r{revision}"


def distribute_period(brief_id: int) -> str:
    return f"brief-{brief_id}"


def brief_id_of_period(period: str) -> tuple[int, int | None]:
    """(brief id, revision or None) of a brief_render / brief_distribute run period."""
    head, _, tail = period.partition("-")
    number, _, rev = tail.partition("-r")
    if head != "brief" or not number.isdigit() or (rev and not rev.isdigit()):
        raise InvalidInputError(f"“{period}”不是简报任务的期别（应为 brief-编号）。")
    return int(number), int(rev) if rev else None


def brief_to_render(*, session: Session, brief_id: int, revision: int) -> Brief | None:
    """The brief a brief_render run should re-render (a draft with the office's 编者按, or one not yet
    signed given a new number, renumber_unissued), or None if a later edit superseded it."""
    brief = _load(session, brief_id)
    if brief.state not in (BriefState.DRAFT, BriefState.OFFICE_APPROVED) or brief.revision != revision:
        return None
    return brief


def mark_rendered(*, session: Session, brief: Brief, pdf_path: Path, now: datetime) -> int:
    """The re-rendered PDF is the brief now: a draft goes to the office to preview, one the office
    approved to the conveners to sign. Returns how many chats."""
    brief.pdf_path = str(pdf_path)
    brief.rendered_revision = brief.revision
    session.add(brief)
    session.flush()
    if brief.state == BriefState.OFFICE_APPROVED:
        office = session.get(Member, brief.office_approved_by_member_id) if brief.office_approved_by_member_id else None
        if office is not None:
            return _queue_to_conveners(session, brief=brief, office=office, now=now)
    return queue_preview(session=session, brief=brief, now=now)


def brief_to_distribute(*, session: Session, brief_id: int) -> Brief:
    """The signed brief a brief_distribute run sends (or finds withdrawn: not_to_send); refused for
    anything not signed."""
    brief = _load(session, brief_id)
    if brief.state not in (BriefState.SIGNED, BriefState.DISTRIBUTED, BriefState.WITHDRAWN):
        raise InvalidStateError(f"该期简报{STATE_LABELS.get(brief.state, brief.state)}，未签发，不能分发。")
    return brief


def mark_distributed(*, session: Session, brief: Brief, queued: int, now: datetime) -> None:
    if brief.state == BriefState.DISTRIBUTED:
        return
    brief.state = BriefState.DISTRIBUTED
    brief.distributed_at = now
    session.add(brief)
    audit(
        session=session,
        actor="system:worker",
        action="brief.distributed",
        object_type="brief",
        object_id=brief.id,
        detail={"queued": queued},
        at=now,
    )


def _since(session: Session, brief: Brief) -> datetime:
    """When the brief came to its present holder: built (or built again), returned or approved by the office."""
    last = session.exec(
        select(AuditLog.at)
        .where(AuditLog.object_type == "brief", AuditLog.object_id == str(brief.id))
        .where(col(AuditLog.action).in_(("brief.redrafted", "brief.returned", "brief.office_approved")))
        .order_by(col(AuditLog.at).desc())
    ).first()
    return last or brief.created_at


def remind_waiting(*, session: Session, now: datetime) -> int:
    """Remind the office of a draft, the conveners of a brief to sign, after one working day waiting;
    once per working day. Returns how many reminders were queued."""
    today: date = local_day(now)
    sent = 0
    waiting = session.exec(
        select(Brief)
        .where(col(Brief.state).in_((BriefState.DRAFT, BriefState.OFFICE_APPROVED)))
        .order_by(col(Brief.id))
    ).all()
    for brief in waiting:
        since = _since(session, brief)
        if workdays_between(local_day(since), today) < 1:
            continue
        draft = brief.state == BriefState.DRAFT
        text = TEXTS["remind_office" if draft else "remind_convener"].format(
            name=brief_name(brief), since=cn_date(since)
        )
        for chat in _chats(session, brief.plan_id, Role.OFFICE if draft else Role.CONVENER):
            sent += (
                enqueue_text(
                    session=session,
                    chat_id=chat,
                    text=text,
                    dedupe_key=f"briefremind:{brief.id}:{brief.state}:{today.isoformat()}:{chat}",
                    now=now,
                )
                is not None
            )
    return sent


def waiting_briefs(*, session: Session, member: Member) -> list[Brief]:
    """The briefs waiting for this member (office: drafts; convener: to sign), newest first."""
    state = {Role.OFFICE: BriefState.DRAFT, Role.CONVENER: BriefState.OFFICE_APPROVED}.get(member.role)
    if state is None:
        return []
    return list(
        session.exec(
            select(Brief).where(Brief.plan_id == member.plan_id, Brief.state == state).order_by(col(Brief.id).desc())
        ).all()
    )


__all__ = [
    "DISTRIBUTE_JOB",
    "RENDER_JOB",
    "STATE_LABELS",
    "TEXTS",
    "BriefState",
    "brief_for_review",
    "brief_id_of_period",
    "brief_name",
    "brief_to_distribute",
    "brief_to_render",
    "check_step",
    "distribute_period",
    "mark_distributed",
    "mark_rendered",
    "office_approve",
    "queue_preview",
    "remind_waiting",
    "render_period",
    "return_brief",
    "set_editor_note",
    "sign_brief",
    "signoff_by",
    "status_text",
    "waiting_briefs",
]


# What the brief run tells whoever pressed 立即运行 (oversight.facts.Chat): the draft built and the
# office members its preview went to, cited; a draft goes to the office only, until it is signed.
BUILT_TEXTS: dict[str, str] = {
    "built": "第{issue_no}期简报已生成，送审稿已发给办公室{n}人审阅，简报附后。",
    "built_nobody": "第{issue_no}期简报已生成，办公室目前没有人员加入，送审稿未发出，简报附后。",
    "again": "第{issue_no}期简报此前已生成，未重复发送，简报附后。",
    "withdrawn": "所为的会议已取消，本期简报未生成、未发送。",
}


def built_facts(*, session: Session, brief_id: int | None, created: bool) -> Chat:
    """The brief run's line for one plan: a new draft counts and cites the office members its
    preview was queued to (outbox rows briefdraft:<brief>:r<revision>:<chat>); one built before is
    not sent again; no brief (its meeting was called off) is said in words."""
    say = Chat(BUILT_TEXTS)
    brief = session.get(Brief, brief_id) if brief_id is not None else None
    if brief is None:
        say.fact("withdrawn")
        return say
    ids: dict[str, list[int]] = {"brief": [row_id(brief)]}
    if not created:
        say.fact("again", ids, issue_no=brief.issue_no)
        return say
    prefix = f"briefdraft:{brief.id}:r{brief.revision}:"
    sent = [m for m in queued_under(session=session, prefix=prefix) if not str(m.dedupe_key).endswith(":pdf")]
    chats = {m.chat_id for m in sent}
    office = members_with_role(session=session, plan_id=brief.plan_id, roles=(Role.OFFICE,))
    told = [m for m in office if m.telegram_user_id in chats]
    if told:
        ids = {**ids, "member": [row_id(m) for m in told], "message": [row_id(m) for m in sent]}
        say.fact("built", ids, issue_no=brief.issue_no, n=len(told))
    else:
        say.fact("built_nobody", ids, issue_no=brief.issue_no, n=0)
    return say
